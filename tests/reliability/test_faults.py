"""The fault suite: a sandbox that fails in every way a real API does, at once, and a
record whose schema drifted. The sync still loads exactly the sandbox's rows; the drifted
record fails only its own raw row, with an error naming the field and the record, seen
through the API and the raw data page."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from app.sandbox import SandboxDataset, SandboxServers
from app.sandbox.audit import expected_rows
from app.services import Services, open_services
from app.web.app import create_app
from tests.integration.test_web_harness import serve, session_client
from tests.pipeline import (
    add_sandbox_integrations,
    admin_viewer_token,
    running_worker,
    sandbox_settings,
    scalar,
    sync,
    wait_until,
)
from tests.reliability.processes import audit, finished

FAULT_ISSUES = int(os.environ.get("SLUICE_FAULT_ISSUES", "1000"))
CLIENT_TIMEOUT_S = 1.5
SLOW_S = 4.0  # slow responses arrive well after the client has given up on them
FAULTS = f"5xx=0.10,429=0.05,retry_after=1,slow=0.02:{SLOW_S},truncate=0.01,seed=23"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """The workers' clients, with an HTTP timeout shorter than the sandbox's slow answers."""
    async with open_services(sandbox_settings(tmp_path / "home")) as opened:
        opened.http.timeout = httpx.Timeout(CLIENT_TIMEOUT_S)
        yield opened


async def run_to_the_end(url: str, services: Services, timeout: float) -> None:
    async with running_worker(url, services, concurrency=8):
        await wait_until(lambda: finished(url), timeout, "the run to finish")


async def test_every_fault_at_once_still_loads_exactly_the_sandbox(
    fresh_db_url: str, services: Services
) -> None:
    assert SLOW_S > CLIENT_TIMEOUT_S
    data = SandboxDataset(issues=FAULT_ISSUES)
    with SandboxServers(data, faults=FAULTS) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox)
        await sync(fresh_db_url)
        await run_to_the_end(fresh_db_url, services, timeout=240 + FAULT_ISSUES / 10)
        injected = [
            sandbox.jira_app.state.faults.injected,
            sandbox.github_app.state.faults.injected,
        ]
    found = await audit(fresh_db_url)
    assert found.problems(expected_rows(data)) == []
    assert found.unresolved_links == 0
    for kind in ("5xx", "429", "slow", "truncate"):
        assert sum(i[kind] for i in injected) > 0, (kind, injected)
    # A truncated body failed its attempt, and the retry resumed from the checkpoint.
    assert (
        scalar(
            fresh_db_url,
            "SELECT count(*) FROM etl_job_queue WHERE error_details::text LIKE '%%malformed JSON%%'",
        )
        >= 1
    )


def quiet_issues(data: SandboxDataset, count: int) -> list[int]:
    """Issues no pull request names and without development data: their failure leaves
    every link resolvable."""
    named = {
        key
        for repo in data.repositories()
        for pull in data.pull_requests(repo.full_name)
        for key in pull.issue_keys
    }
    quiet = [
        i for i in range(data.issue_count) if not data.dev_status(i) and data.key_of(i) not in named
    ]
    return quiet[:count]


async def test_a_drifted_record_fails_only_its_raw_row_with_a_precise_error(
    fresh_db_url: str, services: Services
) -> None:
    url = fresh_db_url
    data = SandboxDataset(issues=200, repos=2, pull_requests=40)
    summary_index, created_index = quiet_issues(data, 2)
    values: dict[str, Any] = {
        "summary": {"text": "Login fails", "lang": "en"},
        "created": 1717171717,
    }
    drifted = {
        data.drift(summary_index, "summary", values["summary"]): "summary",
        data.drift(created_index, "created", values["created"]): "created",
    }
    with SandboxServers(data) as sandbox:
        await add_sandbox_integrations(url, services, sandbox)
        await sync(url)
        await run_to_the_end(url, services, timeout=180)
    found = await audit(url)
    assert found.problems(expected_rows(data, {summary_index, created_index}), failed_raw=2) == []
    assert found.unresolved_links == 0
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, entity_type, error_details FROM raw_extraction_data "
            "WHERE processing_status = 'failed' ORDER BY id"
        ).fetchall()
    errors = {details["record"]: (raw_id, entity, details) for raw_id, entity, details in rows}
    assert set(errors) == set(drifted)
    expected_errors = {
        "summary": {
            "field": "fields.summary",
            "error": "expected text, found an object with 2 keys",
        },
        "created": {
            "field": "fields.created",
            "error": "expected an ISO 8601 timestamp, found 1717171717",
        },
    }
    for key, field in drifted.items():
        _, entity, details = errors[key]
        assert entity == "jira_issue"
        assert details == {**expected_errors[field], "record": key, "entity_type": "jira_issue"}

    token, admin_email = await admin_viewer_token(url, "faults", password=PASSWORD)
    app = create_app(services.settings, database_url=url)
    async with serve(app) as client:
        api = client(token)
        listed = await api.get("/api/v1/raw", params={"processing_status": "failed"})
        assert listed.status_code == 200, listed.text
        by_key: dict[str, dict[str, Any]] = {
            i["error_details"]["record"]: i for i in listed.json()["items"]
        }
        assert set(by_key) == set(drifted)
        for key, field in drifted.items():
            assert by_key[key]["processing_status"] == "failed"
            assert by_key[key]["error_details"] == errors[key][2]
            detail = await api.get(f"/api/v1/raw/{by_key[key]['id']}")
            assert detail.status_code == 200, detail.text
            body = detail.json()
            assert body["error_details"] == errors[key][2]
            assert body["raw_data"]["key"] == key
            assert body["raw_data"]["fields"][field] == values[field]

        viewer = await session_client(client, admin_email, PASSWORD)
        page = await viewer.get("/raw", params={"processing_status": "failed"})
        assert page.status_code == 200, page.text
        for key, field in drifted.items():
            assert f'data-raw-id="{by_key[key]["id"]}"' in page.text
            message = expected_errors[field]["error"]
            assert f"fields.{field}: {message}" in page.text
