"""Manual control while a real worker runs: force start, pause (the page in flight finishes
and parks), resume from the checkpoint, cancel; pause and resume of idle chain jobs; every
action recorded with its actor."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, tenant_transaction
from app.integrations.store import add_integration
from app.orchestrator.control import (
    cancel_run,
    force_start,
    pause_job,
    pause_run,
    resume_job,
    resume_run,
)
from app.orchestrator.decisions import ChainError
from app.orchestrator.tick import tick
from app.sandbox import SandboxDataset, SandboxServers
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
from tests.integration.test_orchestrator_retry import issue_rows
from tests.pipeline import add_sandbox_integrations, running_worker, scalar, tenant_id, wait_until

__all__ = ["pool", "services"]  # fixtures


def queue_counts(url: str, run_id: int) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM etl_job_queue WHERE run_id = %s GROUP BY status",
            (run_id,),
        ).fetchall()
    return {status: int(n) for status, n in rows}


def actions(url: str, *actors: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT actor, message FROM job_logs WHERE actor = ANY(%s) ORDER BY id", (list(actors),)
        ).fetchall()
    return [(a, m) for a, m in rows]


async def slow_jira(url: str, pool: AsyncConnectionPool[Connection], services: Services) -> int:
    """WEX with a Jira integration, small pages, and its Jira job waiting an hour."""
    wex = await tenant_id(url)
    await set_settings(pool, wex, extract_page_size=20)
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE etl_jobs SET next_run_at = now() + interval '1 hour' "
            "WHERE tenant_id = %s AND job_name = 'Jira'",
            (wex,),
        )
    return wex


async def test_force_start_pause_and_resume_while_a_worker_runs(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    data = SandboxDataset(issues=400, repos=1, pull_requests=5, projects=1)
    with SandboxServers(data, faults="slow=1.0:0.08") as sandbox:
        await add_sandbox_integrations(url, services, sandbox, providers=("jira",))
        wex = await slow_jira(url, pool, services)
        jira_id = chain_rows(url)["Jira"]["id"]
        assert (await tick(pool, db_time(url))).started == []  # waiting for its interval

        async with tenant_transaction(pool, wex) as conn:
            started = await force_start(conn, wex, jira_id, "alice@wex.com")
        run_id = started.run_id
        assert (started.job_name, started.trigger) == ("Jira", "manual")
        assert run_row(url, run_id)["triggered_by"] == "alice@wex.com"

        async with running_worker(url, services, concurrency=4):
            await wait_until(lambda: issue_rows(url)[0] >= 60, 60, "60 issues stored")
            async with tenant_transaction(pool, wex) as conn:
                paused = await pause_run(conn, wex, run_id, "bob@wex.com")
            assert paused.status == "paused"
            assert statuses(url)["Jira"] == "PAUSED"
            await wait_until(
                lambda: queue_counts(url, run_id).get("running", 0) == 0,
                30,
                "in-flight jobs to park",
            )
            parked = issue_rows(url)[0]
            await asyncio.sleep(1.5)
            counts = queue_counts(url, run_id)
            assert issue_rows(url)[0] == parked < 400  # nothing moves while paused
            assert "pending" not in counts and counts["paused"] >= 1
            checkpoint = scalar(
                url,
                "SELECT progress->'checkpoint' FROM etl_job_queue WHERE run_id = %s "
                "AND job_type = 'extract' AND entity_type = 'jira_issue'",
                (run_id,),
            )
            assert checkpoint
            assert (await tick(pool, db_time(url) + timedelta(hours=2))).started == []

            async with tenant_transaction(pool, wex) as conn:
                resumed = await resume_run(conn, wex, run_id, "carol@wex.com")
            assert (resumed.status, statuses(url)["Jira"]) == ("running", "RUNNING")
            assert await wait_run_ended(url, run_id) == "finished"

    assert issue_rows(url) == (400, 400)  # resumed at its checkpoint: no page stored twice
    assert statuses(url)["Jira"] == "FINISHED"
    assert [a for a, _ in actions(url, "alice@wex.com", "bob@wex.com", "carol@wex.com")] == [
        "alice@wex.com",
        "bob@wex.com",
        "carol@wex.com",
    ]
    messages = [m for _, m in actions(url, "alice@wex.com", "bob@wex.com", "carol@wex.com")]
    assert messages[0] == f"Jira run {run_id} started by alice@wex.com"
    assert messages[1].startswith(f"run {run_id} paused by bob@wex.com: ")
    assert messages[2].startswith(f"run {run_id} resumed by carol@wex.com: ")
    with psycopg.connect(url) as conn:
        parked_logs = conn.execute(
            "SELECT count(*) FROM job_logs WHERE run_id = %s AND message LIKE '%%paused after%%'",
            (run_id,),
        ).fetchone()
    assert parked_logs == (1,)


async def test_cancel_stops_the_run_and_the_job_waits_for_its_interval(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    data = SandboxDataset(issues=400, repos=1, pull_requests=5, projects=1)
    with SandboxServers(data, faults="slow=1.0:0.08") as sandbox:
        await add_sandbox_integrations(url, services, sandbox, providers=("jira",))
        wex = await slow_jira(url, pool, services)
        jira_id = chain_rows(url)["Jira"]["id"]
        async with tenant_transaction(pool, wex) as conn:
            run_id = (await force_start(conn, wex, jira_id, "erin@wex.com")).run_id
        async with running_worker(url, services, concurrency=4):
            await wait_until(lambda: issue_rows(url)[0] >= 40, 60, "40 issues stored")
            async with tenant_transaction(pool, wex) as conn:
                cancelled = await cancel_run(conn, wex, run_id, "erin@wex.com")
            assert cancelled.status == "cancelled"
            run = run_row(url, run_id)
            assert (run["status"], run["error_message"]) == (
                "cancelled",
                "cancelled by erin@wex.com",
            )
            jira = chain_rows(url)["Jira"]
            assert jira["status"] == "PENDING"
            assert jira["next_run_at"] == run["finished_at"] + timedelta(minutes=60)
            assert jira["error_message"] == f"run {run_id} cancelled by erin@wex.com"
            await wait_until(
                lambda: not {"running", "pending"} & set(queue_counts(url, run_id)),
                30,
                "the run's jobs to stop",
            )
            stopped = issue_rows(url)[0]
            await asyncio.sleep(1.0)
            assert issue_rows(url)[0] == stopped < 400
            assert (await tick(pool, db_time(url))).started == []  # waits for the interval

            async with tenant_transaction(pool, wex) as conn:
                with pytest.raises(ChainError, match=f"run {run_id} is cancelled"):
                    await resume_run(conn, wex, run_id, "erin@wex.com")
            async with tenant_transaction(pool, wex) as conn:
                again = await force_start(conn, wex, jira_id, "erin@wex.com")
            assert await wait_run_ended(url, again.run_id) == "finished"
    assert issue_rows(url)[1] == 400
    assert statuses(url)["Jira"] == "FINISHED"


async def test_idle_jobs_pause_and_resume_and_a_running_job_pauses_its_run(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await tenant_id(url)
    async with tenant_transaction(pool, wex) as conn:
        for provider in ("jira", "github"):
            await add_integration(
                conn,
                services.cipher,
                tenant_id=wex,
                provider=provider,
                base_url=f"http://127.0.0.1:9/{provider}",
                token="unused",
            )
    jobs = {name: row["id"] for name, row in chain_rows(url).items()}

    async with tenant_transaction(pool, wex) as conn:
        paused = await pause_job(conn, wex, jobs["Jira"], "ops@wex.com")
    assert paused.status == "PAUSED"
    assert statuses(url) == {"Jira": "PAUSED", "GitHub": "PENDING", "Vectorization": "READY"}

    [started] = (await tick(pool, db_time(url))).started  # the turn passed to GitHub
    assert started.job_name == "GitHub"
    async with tenant_transaction(pool, wex) as conn:
        with pytest.raises(ChainError, match=f"GitHub is running \\(run {started.run_id}\\)"):
            await force_start(conn, wex, jobs["Vectorization"], "ops@wex.com")
    async with tenant_transaction(pool, wex) as conn:
        github = await pause_job(conn, wex, jobs["GitHub"], "ops@wex.com")
    assert (github.status, run_row(url, started.run_id)["status"]) == ("PAUSED", "paused")
    assert set(queue_counts(url, started.run_id)) == {"paused"}

    async with tenant_transaction(pool, wex) as conn:
        github = await resume_job(conn, wex, jobs["GitHub"], "ops@wex.com")
        jira = await resume_job(conn, wex, jobs["Jira"], "ops@wex.com")
    assert (github.status, run_row(url, started.run_id)["status"]) == ("RUNNING", "running")
    assert set(queue_counts(url, started.run_id)) == {"pending"}
    assert jira.status == "READY"  # GitHub holds the turn

    async with tenant_transaction(pool, wex) as conn:
        with pytest.raises(ChainError, match="only a paused run can be resumed"):
            await resume_run(conn, wex, started.run_id, "ops@wex.com")
    assert [m for _, m in actions(url, "ops@wex.com")] == [
        "Jira paused by ops@wex.com",
        f"run {started.run_id} paused by ops@wex.com: 1 queue jobs paused; jobs in flight park "
        "after their current page",
        f"run {started.run_id} resumed by ops@wex.com: 1 queue jobs continue from their "
        "checkpoints",
        "Jira resumed by ops@wex.com",
    ]
