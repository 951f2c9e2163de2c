"""`sluice scheduler` (procrastinate periodic tasks) and `sluice tick`: real processes start a
PENDING job, two schedulers start it once, a settings change ticks at once, retention and
rescue do what each tenant's settings say."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, open_pool, tenant_transaction
from app.integrations.store import add_integration
from app.orchestrator.maintenance import apply_retention, rescue_stalled_jobs
from app.services import Services
from app.settings_store import update_settings
from tests.conftest import ROOT, SluiceRunner
from tests.integration.test_orchestrator_chain import services, statuses
from tests.pipeline import scalar, tenant_id, wait_until
from workers.scheduler import Scheduler, SchedulerConfig

__all__ = ["services"]  # fixture
NEVER = "0 0 1 1 *"  # a yearly slot: no periodic tick during a test


@pytest.fixture
async def pool(fresh_db_url: str) -> AsyncIterator[AsyncConnectionPool[Connection]]:
    opened = await open_pool(fresh_db_url, max_size=3)
    try:
        yield opened
    finally:
        await opened.close()


async def jira_for(
    pool: AsyncConnectionPool[Connection], services: Services, url: str, tenant: str = "WEX"
) -> int:
    """A Jira integration nobody calls (no worker runs in these tests)."""
    tid = await tenant_id(url, tenant)
    async with tenant_transaction(pool, tid) as conn:
        await add_integration(
            conn,
            services.cipher,
            tenant_id=tid,
            provider="jira",
            base_url="http://127.0.0.1:9",
            token="unused",
        )
    return tid


def runs(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT t.name, j.job_name, r.trigger FROM etl_runs r "
            "JOIN tenants t ON t.id = r.tenant_id "
            "JOIN etl_jobs j ON j.tenant_id = r.tenant_id AND j.id = r.etl_job_id ORDER BY r.id"
        ).fetchall()
    return [(a, b, c) for a, b, c in rows]


def start_scheduler(url: str, home: Path, *args: str) -> subprocess.Popen[bytes]:
    """`sluice scheduler` in a subprocess, its log in home/scheduler.log."""
    home.mkdir(parents=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SLUICE_HOME": str(home),
        "SLUICE_SECRET_KEY": "t" * 40,
        "SLUICE_LOG_FORMAT": "json",
    }
    with (home / "scheduler.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "scheduler", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def test_two_scheduler_processes_start_a_pending_job_once_and_stop_cleanly(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection], tmp_path: Path
) -> None:
    url = fresh_db_url
    await jira_for(pool, services, url)
    procs = [start_scheduler(url, tmp_path / f"home{i}") for i in range(2)]
    try:
        # procrastinate defers the current minute's slot at start: no need to wait a minute
        await wait_until(lambda: runs(url) != [], 45, "a scheduler to start the Jira job")
        await wait_until(
            lambda: scalar(url, "SELECT count(*) FROM procrastinate_workers") == 2,
            20,
            "both schedulers to register",
        )
        await asyncio.sleep(2)
        assert runs(url) == [("WEX", "Jira", "schedule")]
        assert statuses(url)["Jira"] == "RUNNING"
        with psycopg.connect(url) as conn:
            slots = conn.execute(
                "SELECT count(*), count(DISTINCT defer_timestamp) FROM procrastinate_periodic_defers "
                "WHERE task_name = 'sluice.orchestrator_tick'"
            ).fetchone()
        assert slots is not None and slots[0] == slots[1] >= 1  # each slot deferred once
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc in procs]
    errors = [(tmp_path / f"home{i}" / "scheduler.log").read_text() for i in range(2)]
    assert codes == [0, 0], errors
    assert all('"scheduler stopped"' in err for err in errors), errors
    assert scalar(url, "SELECT count(*) FROM procrastinate_workers") == 0


async def test_a_settings_change_makes_a_running_scheduler_tick_at_once(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await jira_for(pool, services, url)
    async with tenant_transaction(pool, wex) as conn:
        await update_settings(conn, wex, {"orchestrator_enabled": False}, "ann")
    scheduler = Scheduler(
        url, SchedulerConfig(tick_cron=NEVER, rescue_cron=NEVER, retention_cron=NEVER)
    )
    task = asyncio.create_task(scheduler.run())
    try:
        await wait_until(
            lambda: scalar(url, "SELECT count(*) FROM procrastinate_workers") == 1,
            20,
            "the scheduler to start",
        )
        await asyncio.sleep(0.5)
        assert runs(url) == [] and scheduler.ticks == 0
        async with tenant_transaction(pool, wex) as conn:
            await update_settings(conn, wex, {"orchestrator_enabled": True}, "ann")
        await wait_until(lambda: runs(url) != [], 10, "the tick after the change")
        assert runs(url) == [("WEX", "Jira", "schedule")] and scheduler.ticks == 1
    finally:
        scheduler.stop()
        await asyncio.wait_for(task, 30)


async def test_sluice_tick_starts_what_is_due_at_the_given_time(
    fresh_db_url: str,
    services: Services,
    pool: AsyncConnectionPool[Connection],
    run_sluice: SluiceRunner,
) -> None:
    url = fresh_db_url
    await jira_for(pool, services, url)
    first = await asyncio.to_thread(
        run_sluice, "tick", "--now", "2030-01-01T00:00:00", database_url=url
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["WEX: started Jira (run 1)"]
    again = await asyncio.to_thread(
        run_sluice, "tick", "--now", "2030-01-01T00:01:00+00:00", "--json", database_url=url
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {
        "now": "2030-01-01T00:01:00+00:00",
        "started": [],
        "skipped": {},
        "errors": {},
    }
    started_at = scalar(
        url,
        "SELECT j.last_run_started_at FROM etl_jobs j JOIN tenants t ON t.id = j.tenant_id "
        "WHERE t.name = 'WEX' AND j.job_name = 'Jira'",
    )
    assert started_at == datetime(2030, 1, 1, tzinfo=UTC)
    bad = await asyncio.to_thread(run_sluice, "tick", "--now", "yesterday", database_url=url)
    assert bad.returncode == 2 and "'yesterday' is not a time like" in bad.stderr


async def test_retention_follows_each_tenants_setting_and_keeps_the_newest_raw_version(
    fresh_db_url: str, services: Services, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await jira_for(pool, services, url)
    apple = await jira_for(pool, services, url, "Apple")
    async with tenant_transaction(pool, wex) as conn:
        await update_settings(conn, wex, {"retention_days": 7}, "ann")
    now = datetime(2026, 3, 31, tzinfo=UTC)
    old, recent = now - timedelta(days=10), now - timedelta(days=3)
    with psycopg.connect(url) as conn:
        for tid in (wex, apple):
            integration = conn.execute(
                "SELECT id FROM integrations WHERE tenant_id = %s", (tid,)
            ).fetchone()
            assert integration is not None
            for status, completed in [
                ("completed", old),
                ("failed", old),
                ("cancelled", old),
                ("completed", recent),
                ("pending", None),
            ]:
                conn.execute(
                    "INSERT INTO etl_job_queue (tenant_id, job_type, status, completed_at) "
                    "VALUES (%s, 'load', %s, %s)",
                    (tid, status, completed),
                )
            for key, status, created in [
                ("A-1", "loaded", old),  # superseded by the newer A-1 below: purged
                ("A-1", "loaded", recent),
                ("B-1", "loaded", old),  # the only version of B-1: kept for replay
                ("C-1", "failed", old),  # superseded but failed: kept
                ("C-1", "loaded", recent),
            ]:
                conn.execute(
                    "INSERT INTO raw_extraction_data (tenant_id, integration_id, entity_type, "
                    "external_id, raw_data, processing_status, created_at) "
                    "VALUES (%s, %s, 'jira_issue', %s, %s, %s, %s)",
                    (tid, integration[0], key, Jsonb({}), status, created),
                )
    purged = {p.tenant_id: p for p in await apply_retention(pool, now, batch=1)}
    assert (purged[wex].queue_jobs, purged[wex].raw_rows) == (3, 1)
    assert purged[wex].cutoff == now - timedelta(days=7)
    assert (purged[apple].queue_jobs, purged[apple].raw_rows) == (0, 0)  # 30 days for Apple
    with psycopg.connect(url) as conn:
        left = conn.execute(
            "SELECT external_id, processing_status, created_at FROM raw_extraction_data "
            "WHERE tenant_id = %s ORDER BY id",
            (wex,),
        ).fetchall()
        queue = conn.execute(
            "SELECT status FROM etl_job_queue WHERE tenant_id = %s ORDER BY id", (wex,)
        ).fetchall()
    assert left == [
        ("A-1", "loaded", recent),
        ("B-1", "loaded", old),
        ("C-1", "failed", old),
        ("C-1", "loaded", recent),
    ]
    assert queue == [("completed",), ("pending",)]


async def test_the_scheduler_rescues_queue_jobs_of_a_silent_worker(
    fresh_db_url: str, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await tenant_id(url)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO etl_job_queue (tenant_id, job_type, status, heartbeat_at, locked_by) "
            "VALUES (%s, 'load', 'running', now() - interval '5 minutes', 'gone:1'), "
            "(%s, 'load', 'running', now(), 'alive:1')",
            (wex, wex),
        )
    assert await rescue_stalled_jobs(pool, 60) == 1
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT locked_by IS NULL, status, retry_count FROM etl_job_queue ORDER BY id"
        ).fetchall()
    assert rows == [(True, "pending", 1), (False, "running", 0)]
