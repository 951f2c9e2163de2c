"""The Active/Passive job model end to end: ticks at fixed times start WEX's chain jobs, a
real in-process worker runs them against the sandbox, and each run's end advances the chain
(Jira → GitHub → Vectorization → Jira again after the interval)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, open_pool, tenant_transaction
from app.orchestrator.tick import tick
from app.sandbox import SandboxDataset, SandboxServers
from app.services import Services, open_services
from app.settings_store import update_settings
from tests.pipeline import (
    add_sandbox_integrations,
    running_worker,
    sandbox_settings,
    scalar,
    tenant_id,
    wait_until,
)

SECOND = timedelta(seconds=1)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(sandbox_settings(tmp_path)) as opened:
        yield opened


@pytest.fixture
async def pool(fresh_db_url: str) -> AsyncIterator[AsyncConnectionPool[Connection]]:
    opened = await open_pool(fresh_db_url, max_size=4)
    try:
        yield opened
    finally:
        await opened.close()


def chain_rows(url: str, tenant: str = "WEX") -> dict[str, dict[str, Any]]:
    """The tenant's etl_jobs rows by job name."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT j.* FROM etl_jobs j JOIN tenants t ON t.id = j.tenant_id "
            "WHERE t.name = %s ORDER BY j.execution_order",
            (tenant,),
        ).fetchall()
    return {row["job_name"]: row for row in rows}


def statuses(url: str, tenant: str = "WEX") -> dict[str, str]:
    return {name: row["status"] for name, row in chain_rows(url, tenant).items()}


def run_row(url: str, run_id: int) -> dict[str, Any]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM etl_runs WHERE id = %s", (run_id,)).fetchone()
    assert row is not None
    return row


async def wait_run_ended(url: str, run_id: int, timeout: float = 120) -> str:
    await wait_until(
        lambda: run_row(url, run_id)["status"] not in ("running", "paused"),
        timeout,
        f"run {run_id} to end",
    )
    return str(run_row(url, run_id)["status"])


async def set_settings(pool: AsyncConnectionPool[Connection], tenant: int, **changes: Any) -> None:
    async with tenant_transaction(pool, tenant) as conn:
        await update_settings(conn, tenant, changes, actor="test")


def db_time(url: str) -> datetime:
    value = scalar(url, "SELECT now()")
    assert isinstance(value, datetime)
    return value


def log_messages(url: str, run_id: int) -> list[tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT message, actor FROM job_logs WHERE run_id = %s AND etl_job_id IS NOT NULL "
            "ORDER BY id",
            (run_id,),
        ).fetchall()
    return [(m, a) for m, a in rows]


async def test_the_chain_runs_jira_then_github_then_vectorization_then_jira_again(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await tenant_id(url)
    with SandboxServers(SandboxDataset(issues=60, repos=1, pull_requests=10)) as sandbox:
        await add_sandbox_integrations(url, services, sandbox)
        await set_settings(pool, wex, orchestrator_interval_minutes=1)
        t0 = db_time(url)

        first = await tick(pool, t0)
        assert [(s.job_name, s.trigger) for s in first.started] == [("Jira", "schedule")]
        assert first.skipped == {} and first.errors == {}
        jira_run = first.started[0].run_id
        assert statuses(url) == {"Jira": "RUNNING", "GitHub": "READY", "Vectorization": "READY"}
        assert chain_rows(url)["Jira"]["last_run_started_at"] == t0
        assert (await tick(pool, t0)).started == []  # already running: nothing doubles

        async with running_worker(url, services, concurrency=4):
            assert await wait_run_ended(url, jira_run) == "finished"
            rows = chain_rows(url)
            assert statuses(url) == {
                "Jira": "FINISHED",
                "GitHub": "PENDING",
                "Vectorization": "READY",
            }
            assert rows["Jira"]["last_success_at"] == run_row(url, jira_run)["finished_at"]
            assert rows["Jira"]["checkpoint_data"]["last_run"]["jobs"]["completed"] > 0
            github_due = rows["GitHub"]["next_run_at"]
            assert github_due == rows["Jira"]["last_success_at"]  # the next job is due at once
            assert (await tick(pool, github_due - SECOND)).started == []

            github = (await tick(pool, github_due)).started
            assert [s.job_name for s in github] == ["GitHub"]
            assert await wait_run_ended(url, github[0].run_id) == "finished"
            assert statuses(url) == {
                "Jira": "FINISHED",
                "GitHub": "FINISHED",
                "Vectorization": "PENDING",
            }

            vectors = (await tick(pool, chain_rows(url)["Vectorization"]["next_run_at"])).started
            assert [s.job_name for s in vectors] == ["Vectorization"]
            assert run_row(url, vectors[0].run_id)["stats"] == {
                "work_items": 60,
                "prs": 10,
                "since": None,
            }
            assert await wait_run_ended(url, vectors[0].run_id) == "finished"
            rows = chain_rows(url)
            assert statuses(url) == {
                "Jira": "PENDING",
                "GitHub": "FINISHED",
                "Vectorization": "FINISHED",
            }
            chain_end = rows["Vectorization"]["last_success_at"]
            assert rows["Jira"]["next_run_at"] == chain_end + timedelta(minutes=1)
            assert rows["Jira"]["checkpoint_data"]["wait"]["reason"] == "interval"

            assert (await tick(pool, chain_end + timedelta(seconds=59))).started == []
            again = (await tick(pool, chain_end + timedelta(minutes=1))).started
            assert [s.job_name for s in again] == ["Jira"]
            assert await wait_run_ended(url, again[0].run_id) == "finished"
            assert statuses(url)["GitHub"] == "PENDING"

    with psycopg.connect(url) as conn:
        runs = conn.execute(
            "SELECT j.job_name, r.status, r.trigger, r.triggered_by FROM etl_runs r "
            "JOIN etl_jobs j ON j.tenant_id = r.tenant_id AND j.id = r.etl_job_id ORDER BY r.id"
        ).fetchall()
        vectorized = conn.execute(
            "SELECT sum(jsonb_array_length(payload->'work_item_ids')), "
            "sum(jsonb_array_length(payload->'pr_ids')) FROM etl_job_queue "
            "WHERE run_id = %s",
            (vectors[0].run_id,),
        ).fetchone()
    assert runs == [
        ("Jira", "finished", "schedule", "orchestrator"),
        ("GitHub", "finished", "schedule", "orchestrator"),
        ("Vectorization", "finished", "schedule", "orchestrator"),
        ("Jira", "finished", "schedule", "orchestrator"),
    ]
    assert vectorized == (60, 10)
    assert scalar(url, "SELECT count(*) FROM work_items") == 60
    assert scalar(url, "SELECT count(*) FROM prs") == 10
    assert log_messages(url, jira_run) == [
        (f"Jira run {jira_run} started by orchestrator", "orchestrator"),
        (f"run {jira_run} finished", None),
        (f"Jira run {jira_run} finished; GitHub is next", "orchestrator"),
    ]


async def test_a_tenant_without_integrations_is_left_alone_and_disabled_tenants_are_skipped(
    fresh_db_url: str, pool: AsyncConnectionPool[Connection]
) -> None:
    apple = await tenant_id(fresh_db_url, "Apple")
    await set_settings(pool, apple, orchestrator_enabled=False)
    result = await tick(pool, db_time(fresh_db_url))
    assert result.started == [] and result.errors == {}
    assert result.skipped == {apple: "disabled"}
    assert statuses(fresh_db_url, "WEX") == {
        "Jira": "INACTIVE",
        "GitHub": "INACTIVE",
        "Vectorization": "INACTIVE",
    }
    assert statuses(fresh_db_url, "Apple") == {
        "Jira": "PENDING",
        "GitHub": "READY",
        "Vectorization": "READY",
    }
    assert scalar(fresh_db_url, "SELECT count(*) FROM etl_runs") == 0
