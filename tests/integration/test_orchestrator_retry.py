"""A failed run: its job waits for the retry interval, and the retry takes over the failed
queue jobs, which resume at their checkpoints; `retry_failed` reruns dead letters at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, tenant_transaction
from app.orchestrator.control import retry_failed
from app.orchestrator.tick import tick
from app.sandbox import DEFAULT_TOKEN, SandboxDataset, SandboxServers
from app.sandbox.faults import FaultSpec
from app.services import Services
from tests.integration.test_orchestrator_chain import (
    chain_rows,
    db_time,
    pool,
    run_row,
    services,
    set_settings,
    statuses,
    wait_run_ended,
)
from tests.pipeline import add_sandbox_integrations, running_worker, scalar, tenant_id, wait_until

__all__ = ["pool", "services"]  # fixtures
SEARCH = "/rest/api/3/search/jql"


def execute(url: str, statement: str, *params: object) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type]


def issue_rows(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM raw_extraction_data "
            "WHERE entity_type = 'jira_issue'"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def test_a_failed_run_retries_after_the_retry_interval_from_its_checkpoint(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await tenant_id(url)
    data = SandboxDataset(issues=400, repos=1, pull_requests=5, projects=1)
    with SandboxServers(data, faults="slow=1.0:0.05") as sandbox:
        await add_sandbox_integrations(url, services, sandbox, providers=("jira",))
        await set_settings(pool, wex, orchestrator_retry_interval_minutes=1, extract_page_size=20)
        first = (await tick(pool, db_time(url))).started
        failed_run = first[0].run_id

        async with running_worker(url, services, concurrency=4):
            await wait_until(lambda: issue_rows(url)[0] >= 80, 60, "80 issues stored")
            # No retry left: the next failure dead-letters. (In a thread: the statement
            # waits for the page transaction of the worker running on this event loop.)
            await asyncio.to_thread(
                execute,
                url,
                "UPDATE etl_job_queue SET max_retries = 0 WHERE run_id = %s",
                failed_run,
            )
            sandbox.jira_app.state.faults.spec = FaultSpec(truncated=1.0)
            assert await wait_run_ended(url, failed_run) == "failed"
            sandbox.jira_app.state.faults.spec = FaultSpec()
            assert 80 <= issue_rows(url)[0] < 400

            jira = chain_rows(url)["Jira"]
            assert (jira["status"], jira["retry_count"]) == ("PENDING", 1)
            assert "malformed JSON" in jira["error_message"]
            failed_at = run_row(url, failed_run)["finished_at"]
            assert jira["next_run_at"] == failed_at + timedelta(minutes=1)
            checkpoint = jira["checkpoint_data"]
            assert checkpoint["failed_run_id"] == failed_run
            [dead] = checkpoint["last_run"]["failed"]
            assert dead["entity_type"] == "jira_issue" and dead["checkpoint"]  # where it stopped
            pages_at_failure = sandbox.jira_app.state.traffic.count(SEARCH)
            committed_at_failure = scalar(
                url,
                "SELECT (progress->>'pages')::int FROM etl_job_queue WHERE id = %s",
                (dead["id"],),
            )

            assert (await tick(pool, jira["next_run_at"] - timedelta(seconds=1))).started == []
            retry = (await tick(pool, jira["next_run_at"])).started
            assert [(s.job_name, s.resumed_from_run_id) for s in retry] == [("Jira", failed_run)]
            retry_run = retry[0].run_id
            assert run_row(url, retry_run)["stats"] == {
                "resumed_from_run_id": failed_run,
                "resumed_queue_jobs": [dead["id"]],
            }
            assert scalar(url, "SELECT run_id FROM etl_job_queue WHERE id = %s", (dead["id"],)) == (
                retry_run
            )
            assert await wait_run_ended(url, retry_run) == "finished"

    assert issue_rows(url) == (400, 400)  # resumed at the checkpoint: no page stored twice
    committed = scalar(
        url, "SELECT (progress->>'pages')::int FROM etl_job_queue WHERE id = %s", (dead["id"],)
    )
    pages_total = sandbox.jira_app.state.traffic.count(SEARCH)
    assert committed >= 20  # 400 issues, at most 20 a page
    assert pages_total - pages_at_failure == committed - committed_at_failure
    assert pages_total <= committed + 1  # only the page in flight at the failure again
    assert scalar(url, "SELECT count(*) FROM work_items") == 400
    jira = chain_rows(url)["Jira"]
    assert (jira["status"], jira["retry_count"], jira["error_message"]) == ("FINISHED", 0, None)
    assert jira["checkpoint_data"]["last_run"]["run_id"] == retry_run
    assert statuses(url)["Vectorization"] == "PENDING"  # GitHub has no integration: skipped
    assert run_row(url, failed_run)["status"] == "failed"  # the history keeps the failure


async def test_retry_failed_reruns_dead_letters_of_a_failed_run_after_a_fix(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await tenant_id(url)
    with SandboxServers(SandboxDataset(issues=50, repos=1, pull_requests=5)) as sandbox:
        ids = await add_sandbox_integrations(
            url, services, sandbox, token="not-the-token", providers=("jira",)
        )
        run_id = (await tick(pool, db_time(url))).started[0].run_id
        async with running_worker(url, services, concurrency=4):
            assert await wait_run_ended(url, run_id) == "failed"
            assert statuses(url)["Jira"] == "PENDING"
            assert "rejected the credentials" in chain_rows(url)["Jira"]["error_message"]
            await asyncio.to_thread(
                execute,
                url,
                "UPDATE integrations SET credentials = %s WHERE id = %s",
                services.cipher.encrypt(DEFAULT_TOKEN),
                ids["jira"],
            )
            async with tenant_transaction(pool, wex) as conn:
                [reopened] = await retry_failed(conn, wex, "dave@wex.com", run_id=run_id)
            assert (reopened.run_id, reopened.status, reopened.queue_jobs) == (run_id, "running", 2)
            assert statuses(url)["Jira"] == "RUNNING"
            assert await wait_run_ended(url, run_id) == "finished"
    assert statuses(url)["Jira"] == "FINISHED"
    assert scalar(url, "SELECT count(*) FROM work_items") == 50
    with psycopg.connect(url) as conn:
        actions = conn.execute(
            "SELECT message FROM job_logs WHERE actor = 'dave@wex.com' ORDER BY id"
        ).fetchall()
    assert actions == [(f"2 failed queue jobs of run {run_id} retried by dave@wex.com",)]
