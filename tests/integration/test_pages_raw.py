"""The raw data pages: the filtered list, one record, and reprocessing from the dashboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from app.db import open_pool, tenant_transaction
from app.integrations.base import Page, RawRecord
from app.stages.extract import insert_raw_page
from tests.integration.test_web_harness import (
    ClientFactory,
    World,
    owner_rows,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert('owned')</script>"
ERROR = {
    "field": "fields.created",
    "record": "WEX-2",
    "error": "expected an ISO 8601 timestamp, found 12",
    "entity_type": "jira_issue",
}


async def _store(world: World, tenant: str, records: list[RawRecord]) -> list[int]:
    pool = await open_pool(world.url, max_size=1)
    try:
        async with tenant_transaction(pool, world.tenant_ids[tenant]) as conn:
            ids = world.ids[tenant]
            page = Page(records=records, checkpoint={}, request={})
            return await insert_raw_page(
                conn, world.tenant_ids[tenant], ids["integration_id"], ids["run_id"], page
            )
    finally:
        await pool.close()


def _fail(world: World, raw_id: int, details: dict[str, Any]) -> None:
    owner_rows(
        world.url,
        "UPDATE raw_extraction_data SET processing_status = 'failed', error_details = %s, "
        "processed_at = now() WHERE id = %s",
        (Jsonb(details), raw_id),
    )


@pytest.fixture(scope="module")
async def raw(world: World) -> dict[str, int]:
    """WEX: 55 projects, then an issue with a script in it, a failed issue, a pull request and
    a huge record; Apple: a failed issue and a repository."""
    projects = await _store(
        world, "WEX", [RawRecord("jira_project", f"P{n}", {"key": f"P{n}"}) for n in range(55)]
    )
    script, failed, pull, huge = await _store(
        world,
        "WEX",
        [
            RawRecord("jira_issue", "WEX-1", {"key": "WEX-1", "fields": {"summary": SCRIPT}}),
            RawRecord("jira_issue", "WEX-2", {"key": "WEX-2", "fields": {"created": 12}}),
            RawRecord("github_pull_request", "77", {"number": 77, "title": "Fix login"}),
            RawRecord("jira_issue", "WEX-3", {"key": "WEX-3", "blob": "x" * 250_000}),
        ],
    )
    _fail(world, failed, ERROR)
    apple_failed, apple_repo = await _store(
        world,
        "Apple",
        [
            RawRecord("jira_issue", "APL-1", {"key": "APL-1"}),
            RawRecord("github_repository", "1", {"full_name": "apple/secret"}),
        ],
    )
    _fail(world, apple_failed, {**ERROR, "record": "APL-1"})
    return {
        "script": script,
        "failed": failed,
        "pull": pull,
        "huge": huge,
        "oldest_project": projects[0],
        "newest_project": projects[-1],
        "apple_failed": apple_failed,
        "apple_repo": apple_repo,
    }


def _row_ids(text: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-raw-id="(\d+)"', text)}


def _transform_payloads(world: World, run_id: int) -> list[dict[str, Any]]:
    rows = owner_rows(
        world.url,
        "SELECT payload FROM etl_job_queue WHERE run_id = %s AND job_type = 'transform' "
        "ORDER BY id",
        (run_id,),
    )
    return [row[0] for row in rows]


def _transform_job_count(world: World) -> int:
    [(count,)] = owner_rows(
        world.url, "SELECT count(*) FROM etl_job_queue WHERE job_type = 'transform'"
    )
    return int(count)


async def test_the_list_filters_by_entity_status_and_integration(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    page = await viewer.get("/raw")
    assert page.status_code == 200 and "<h1>Raw data</h1>" in page.text
    for entity in ("jira_issue", "jira_status", "github_pull_request", "jira_project"):
        assert f'<option value="{entity}"' in page.text
    assert "github_repository" not in page.text  # Apple's entity type is not offered
    shown = _row_ids(page.text)
    assert {raw["script"], raw["failed"], raw["pull"], raw["huge"]} <= shown
    assert raw["apple_failed"] not in shown and raw["apple_repo"] not in shown

    issues = await viewer.get("/raw?entity_type=jira_issue")
    assert _row_ids(issues.text) == {raw["script"], raw["failed"], raw["huge"]}
    failed = await viewer.get("/raw?processing_status=failed")
    assert _row_ids(failed.text) == {raw["failed"]}
    assert "fields.created: expected an ISO 8601 timestamp, found 12" in failed.text
    integration = world.ids["WEX"]["integration_id"]
    by_integration = await viewer.get(f"/raw?integration_id={integration}&entity_type=jira_issue")
    assert _row_ids(by_integration.text) == {raw["script"], raw["failed"], raw["huge"]}
    other = world.ids["Apple"]["integration_id"]
    assert _row_ids((await viewer.get(f"/raw?integration_id={other}")).text) == set()

    fragment = await viewer.get(
        "/raw?entity_type=github_pull_request", headers={**HTMX, "HX-Target": "raw-results"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="raw-results"')
    assert _row_ids(fragment.text) == {raw["pull"]}
    assert "<h1>" not in fragment.text

    bad = await viewer.get("/raw?processing_status=exploded")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert "Choose one of: pending, transformed, loaded, failed." in bad.text


async def test_older_pages_follow_the_keyset(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    first = await viewer.get("/raw?entity_type=jira_project")
    ids = _row_ids(first.text)
    assert len(ids) == 50 and raw["newest_project"] in ids
    older = re.search(r'href="(/raw\?[^"]*cursor=\d+[^"]*)"', first.text)
    assert older is not None and "Older records" in first.text
    second = await viewer.get(older[1].replace("&amp;", "&"))
    rest = _row_ids(second.text)
    assert len(rest) == 5 and raw["oldest_project"] in rest and not rest & ids
    assert "Older records" not in second.text and "Newest records" in second.text


async def test_a_record_shows_escaped_pretty_json_and_its_error(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    page = await viewer.get(f"/raw/{raw['script']}")
    assert page.status_code == 200
    assert SCRIPT not in page.text
    body = re.search(r'<pre class="json"[^>]*data-testid="raw-json">(.*?)</pre>', page.text, re.S)
    assert body is not None
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in body[1]
    assert "\n  &#34;fields&#34;: {\n    &#34;summary&#34;" in body[1]  # indented
    assert "Reprocess this record" not in page.text  # a viewer has no controls

    failed = await viewer.get(f"/raw/{raw['failed']}")
    assert 'data-testid="raw-error"' in failed.text
    assert "<code>fields.created</code>" in failed.text
    assert "<dd>WEX-2</dd>" in failed.text
    assert "expected an ISO 8601 timestamp, found 12" in failed.text

    huge = await viewer.get(f"/raw/{raw['huge']}")
    assert "only its beginning is shown" in huge.text
    assert f'href="/api/v1/raw/{raw["huge"]}?pretty=true"' in huge.text
    assert len(huge.text) < 230_000


async def test_other_tenants_records_are_404(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    operator = await session_client(web, world.account("WEX", "operator").email)
    before = _transform_job_count(world)
    assert (await operator.get(f"/raw/{raw['apple_failed']}")).status_code == 404
    assert (await operator.get("/raw/999999999")).status_code == 404
    assert (await operator.post(f"/raw/{raw['apple_failed']}/reprocess")).status_code == 404
    assert _transform_job_count(world) == before


async def test_operators_reprocess_one_record(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    operator = await session_client(web, world.account("WEX", "operator").email)
    page = await operator.get(f"/raw/{raw['failed']}")
    assert "Reprocess this record" in page.text
    answer = await operator.post(f"/raw/{raw['failed']}/reprocess", headers=HTMX)
    assert answer.status_code == 200
    queued = re.search(
        r"Queued 1 raw record for transform in <a href=\"/runs/(\d+)\">", answer.text
    )
    assert queued is not None
    assert _transform_payloads(world, int(queued[1])) == [
        {"raw_ids": [raw["failed"]], "reprocess": True}
    ]

    plain = await operator.post(f"/raw/{raw['script']}/reprocess", follow_redirects=False)
    assert plain.status_code == 303
    target = plain.headers["location"]
    run_id = int(target.rsplit("=", 1)[1])
    assert target == f"/raw/{raw['script']}?queued_run={run_id}"
    assert _transform_payloads(world, run_id) == [{"raw_ids": [raw["script"]], "reprocess": True}]
    shown = await operator.get(target)
    assert f'Queued 1 raw record for transform in <a href="/runs/{run_id}">' in shown.text


async def test_operators_reprocess_a_selection_or_the_failed_rows(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    operator = await session_client(web, world.account("WEX", "operator").email)
    listing = await operator.get("/raw?entity_type=jira_issue")
    assert f'name="ids" value="{raw["script"]}"' in listing.text
    assert "Reprocess selected" in listing.text
    chosen = [raw["pull"], raw["script"]]
    answer = await operator.post(
        "/raw/reprocess",
        data={"ids": [str(i) for i in chosen], "scope": "selected"},
        headers=HTMX,
    )
    assert answer.status_code == 200, answer.text
    queued = re.search(
        r"Queued 2 raw records for transform in <a href=\"/runs/(\d+)\">", answer.text
    )
    assert queued is not None
    assert _transform_payloads(world, int(queued[1])) == [
        {"raw_ids": sorted(chosen), "reprocess": True}
    ]

    failed = await operator.post(
        "/raw/reprocess", data={"scope": "failed", "entity_type": "jira_issue"}, headers=HTMX
    )
    queued = re.search(r"in <a href=\"/runs/(\d+)\">", failed.text)
    assert queued is not None
    assert _transform_payloads(world, int(queued[1])) == [
        {"raw_ids": [raw["failed"]], "reprocess": True}
    ]

    plain = await operator.post(
        "/raw/reprocess",
        data={"ids": str(raw["pull"]), "scope": "selected", "entity_type": "jira_issue"},
        follow_redirects=False,
    )
    assert plain.status_code == 303
    assert re.fullmatch(r"/raw\?entity_type=jira_issue&queued_run=\d+", plain.headers["location"])
    shown = await operator.get(plain.headers["location"])
    assert "Queued 1 raw record for transform" in shown.text


async def test_bad_selections_say_why_and_queue_nothing(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    operator = await session_client(web, world.account("WEX", "operator").email)
    before = _transform_job_count(world)
    empty = await operator.post("/raw/reprocess", data={"scope": "selected"}, headers=HTMX)
    assert empty.status_code == 422
    assert "Select at least one raw record to reprocess." in empty.text
    assert 'class="flash flash-error"' in empty.text and "hx-retarget" not in empty.headers
    bad = await operator.post(
        "/raw/reprocess", data={"ids": ["12", "abc"], "scope": "selected"}, headers=HTMX
    )
    assert bad.status_code == 422 and "these are not: &#39;abc&#39;" in bad.text
    theirs = await operator.post(
        "/raw/reprocess",
        data={"ids": [str(raw["script"]), str(raw["apple_failed"])], "scope": "selected"},
        headers=HTMX,
    )
    assert theirs.status_code == 404
    assert f"Raw records {raw['apple_failed']} do not exist" in theirs.text
    none_failed = await operator.post(
        "/raw/reprocess", data={"scope": "failed", "entity_type": "jira_project"}, headers=HTMX
    )
    assert none_failed.status_code == 422 and "nothing to transform" in none_failed.text
    plain = await operator.post("/raw/reprocess", data={"scope": "selected"})
    assert plain.status_code == 422 and "<h1>Raw data</h1>" in plain.text
    assert "Select at least one raw record to reprocess." in plain.text
    assert _transform_job_count(world) == before


async def test_viewers_see_no_controls_and_cannot_reprocess(
    world: World, web: ClientFactory, raw: dict[str, int]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    listing = await viewer.get("/raw")
    assert 'name="ids"' not in listing.text and 'action="/raw/reprocess"' in listing.text
    assert "Reprocess selected" not in listing.text and "Reprocess all failed" not in listing.text
    before = _transform_job_count(world)
    refused = await viewer.post("/raw/reprocess", data={"ids": str(raw["script"])}, headers=HTMX)
    assert refused.status_code == 403 and "operator role" in refused.text
    one = await viewer.post(f"/raw/{raw['script']}/reprocess")
    assert one.status_code == 403
    operator = await session_client(web, world.account("WEX", "operator").email)
    del operator.headers["X-CSRF-Token"]
    forged = await operator.post(f"/raw/{raw['script']}/reprocess")
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert _transform_job_count(world) == before
