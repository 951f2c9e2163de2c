"""From the sandbox to loaded, linked and measured data: counts, links, flow metrics,
idempotent reloads, poisoned records and replay after a mapping change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.sandbox import SandboxDataset, SandboxServers
from app.sandbox.audit import FINAL_TABLES
from app.services import Services, open_services
from migrations.seeding import STATUS_MAPPINGS, WORKFLOW_STEPS
from tests.conftest import SluiceRunner
from tests.pipeline import (
    add_sandbox_integrations,
    open_jobs,
    running_worker,
    scalar,
    sync,
    wait_until,
)
from tests.pipeline import sandbox_settings as make_settings

STAGES = ("extract", "transform", "load")
CATEGORY_STEPS = {"new": "to_do", "indeterminate": "in_progress", "done": "done"}


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(make_settings(tmp_path)) as opened:
        yield opened


async def run_pipeline(url: str, services: Services, timeout: float = 180) -> None:
    async with running_worker(url, services, stages=STAGES, concurrency=4):
        await wait_until(lambda: open_jobs(url, STAGES) == 0, timeout, "the pipeline to drain")


def jira_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def expected_times(data: SandboxDataset, mapping: dict[str, str]) -> dict[str, tuple[Any, Any]]:
    """Cycle and lead time per issue key, computed here from the sandbox's own history."""
    steps = dict(WORKFLOW_STEPS)
    categories = {s.name: s.category for s in data.statuses()}

    def step(status: str) -> tuple[str, str]:
        if status in mapping:
            return mapping[status], steps[mapping[status]]
        return status, CATEGORY_STEPS[categories[status]]

    result = {}
    for i in range(data.issue_count):
        issue = data.issue(i)
        created = jira_time(issue.fields["created"])
        moves = [
            (jira_time(h["created"]), item["fromString"], item["toString"])
            for h in issue.histories
            for item in h["items"]
            if item["field"] == "status"
        ]
        moves.sort(key=lambda m: m[0])
        first = moves[0][1] if moves else issue.status.name
        entered = [(created, step(first))] + [(t, step(to)) for t, _, to in moves]
        first_start = last_done = None
        previous = None
        for when, (name, category) in entered:
            if name != previous:
                if category == "in_progress" and first_start is None:
                    first_start = when
                if category == "done":
                    last_done = when
            previous = name
        done_now = step(issue.status.name)[1] == "done"
        lead = int((last_done - created).total_seconds()) if done_now and last_done else None
        cycle = (
            int((last_done - first_start).total_seconds())
            if done_now and last_done and first_start
            else None
        )
        result[issue.key] = (cycle, lead)
    return result


def stored_times(url: str) -> dict[str, tuple[Any, Any]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT key, cycle_time_seconds, lead_time_seconds FROM work_items")
        return {key: (cycle, lead) for key, cycle, lead in rows.fetchall()}


def table_counts(url: str) -> dict[str, int]:
    tables = [t for t in FINAL_TABLES if t != "work_item_pr_links"]
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def stored_links(url: str) -> dict[str, set[tuple[str, str, int]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT source, work_item_key, repository_full_name, pr_number, "
            "work_item_id IS NOT NULL AND pr_id IS NOT NULL FROM work_item_pr_links"
        )
        links: dict[str, set[tuple[str, str, int]]] = {"dev_status": set(), "pattern": set()}
        for source, key, repo, number, resolved in rows.fetchall():
            assert resolved, (source, key, repo, number)
            links[source].add((key, repo, number))
    return links


def versions(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT id, xmin::text FROM {t} ORDER BY id").fetchall()
            for t in (
                "work_items",
                "changelogs",
                "prs",
                "prs_commits",
                "prs_reviews",
                "prs_comments",
                "work_item_pr_links",
                "projects",
                "statuses",
            )
        }


async def test_full_pipeline_counts_links_metrics_and_idempotent_reload(
    fresh_db_url: str, services: Services, run_sluice: SluiceRunner
) -> None:
    data = SandboxDataset(issues=400, repos=3, pull_requests=90)
    with SandboxServers(data) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox)
        await sync(fresh_db_url)
        await run_pipeline(fresh_db_url, services)
        requests_after_sync = sandbox.jira_app.state.traffic.total

        pulls = [p for r in data.repositories() for p in data.pull_requests(r.full_name)]
        status_moves = sum(
            1
            for i in range(400)
            for h in data.issue(i).histories
            for item in h["items"]
            if item["field"] == "status"
        )
        thread_comments = sum(len(t["comments"]) for p in pulls for t in data.review_threads(p))
        assert table_counts(fresh_db_url) == {
            "work_items": 400,
            "changelogs": status_moves,
            "projects": len(data.projects()),
            "statuses": len(data.statuses()),
            "wits": len(data.issue_types()),
            "repositories": 3,
            "prs": 90,
            "prs_reviews": sum(p.review_count for p in pulls),
            "prs_commits": sum(p.commit_count for p in pulls),
            "prs_comments": sum(p.comment_count for p in pulls) + thread_comments,
        }
        assert (
            scalar(
                fresh_db_url,
                "SELECT count(*) FROM raw_extraction_data WHERE processing_status <> 'loaded'",
            )
            == 0
        )

        keys = {data.issue(i).key for i in range(400)}
        expected_dev = {
            (data.issue(i).key, p.repository, p.number)
            for i in range(400)
            for p in data.dev_status(i)
        }
        expected_pattern = {
            (key, p.repository, p.number) for p in pulls for key in p.issue_keys if key in keys
        }
        links = stored_links(fresh_db_url)
        assert links["dev_status"] == expected_dev and expected_dev
        assert links["pattern"] == expected_pattern and expected_pattern

        expected = expected_times(data, dict(STATUS_MAPPINGS))
        assert stored_times(fresh_db_url) == expected
        assert sum(1 for cycle, _ in expected.values() if cycle) > 50

        before = versions(fresh_db_url)
        replay = await asyncio.to_thread(
            run_sluice,
            "reprocess",
            "--tenant",
            "WEX",
            "--inline",
            database_url=fresh_db_url,
            env={"SLUICE_SECRET_KEY": "t" * 40},
        )
        assert replay.returncode == 0, replay.stderr
        assert versions(fresh_db_url) == before  # a second identical load changes no row
        assert sandbox.jira_app.state.traffic.total == requests_after_sync


async def test_pattern_links_appear_when_projects_load_after_their_pull_requests(
    fresh_db_url: str, services: Services
) -> None:
    data = SandboxDataset(issues=200, repos=2, pull_requests=60)
    with SandboxServers(data) as sandbox:
        ids = await add_sandbox_integrations(fresh_db_url, services, sandbox)
        await sync(fresh_db_url, integration_id=ids["github"])
        await run_pipeline(fresh_db_url, services)
        assert stored_links(fresh_db_url)["pattern"] == set()  # no project key is known yet
        await sync(fresh_db_url, integration_id=ids["jira"])
        await run_pipeline(fresh_db_url, services)
    keys = {data.key_of(i) for i in range(200)}
    pulls = [p for r in data.repositories() for p in data.pull_requests(r.full_name)]
    expected = {(k, p.repository, p.number) for p in pulls for k in p.issue_keys if k in keys}
    # The projects' load transformed the pull requests again (from their raw rows).
    assert stored_links(fresh_db_url)["pattern"] == expected and expected


async def test_mapping_change_and_reprocess_update_metrics_without_http(
    fresh_db_url: str, services: Services, run_sluice: SluiceRunner
) -> None:
    data = SandboxDataset(issues=300, repos=1, pull_requests=10)
    with SandboxServers(data) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("jira",))
        await sync(fresh_db_url)
        await run_pipeline(fresh_db_url, services)
        calls = sandbox.jira_app.state.traffic.total
        before = stored_times(fresh_db_url)
        with psycopg.connect(fresh_db_url) as conn:  # QA now counts as done
            conn.execute(
                "UPDATE statuses_mappings m SET workflow_id = w.id FROM workflows w, tenants t "
                "WHERE t.name = 'WEX' AND m.tenant_id = t.id AND w.tenant_id = t.id "
                "AND w.step_name = 'Done' AND m.status_from = 'QA'"
            )
        result = await asyncio.to_thread(
            run_sluice,
            "reprocess",
            "--tenant",
            "WEX",
            "--entity",
            "jira_issue",
            "--inline",
            database_url=fresh_db_url,
            env={"SLUICE_SECRET_KEY": "t" * 40},
        )
        assert result.returncode == 0, result.stderr
        assert sandbox.jira_app.state.traffic.total == calls  # no request reached Jira
    mapping = dict(STATUS_MAPPINGS) | {"QA": "Done"}
    after = stored_times(fresh_db_url)
    assert after == expected_times(data, mapping)
    assert sum(1 for key in after if after[key] != before[key]) > 10


async def test_a_poisoned_record_fails_only_its_raw_row(
    fresh_db_url: str, services: Services
) -> None:
    with SandboxServers(SandboxDataset(issues=120, repos=1, pull_requests=4)) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("jira",))
        await sync(fresh_db_url)
        async with running_worker(fresh_db_url, services, stages=("extract",), concurrency=2):
            await wait_until(lambda: open_jobs(fresh_db_url, ("extract",)) == 0, 60, "extraction")
        with psycopg.connect(fresh_db_url) as conn:
            poisoned = conn.execute(
                "UPDATE raw_extraction_data SET raw_data = jsonb_set(raw_data, "
                "'{fields,created}', '12345') WHERE id = (SELECT min(id) FROM raw_extraction_data "
                "WHERE entity_type = 'jira_issue') RETURNING external_id"
            ).fetchone()
        assert poisoned is not None
        await run_pipeline(fresh_db_url, services)
    with psycopg.connect(fresh_db_url) as conn:
        failed = conn.execute(
            "SELECT external_id, error_details FROM raw_extraction_data "
            "WHERE processing_status = 'failed'"
        ).fetchall()
        items = conn.execute("SELECT count(*) FROM work_items").fetchone()
    assert len(failed) == 1 and failed[0][0] == poisoned[0]
    details = failed[0][1]
    assert details["field"] == "fields.created" and details["record"] == poisoned[0]
    assert "expected" in details["error"] and "12345" in details["error"]
    assert items == (119,)
    assert scalar(fresh_db_url, "SELECT count(*) FROM etl_job_queue WHERE status = 'failed'") == 0
