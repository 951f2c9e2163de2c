"""Dynamic per-tenant settings: validated writes with their author, a NOTIFY on commit, and
a running worker that applies a change without a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, connect, open_pool, tenant_transaction
from app.queue import ops
from app.queue.model import NewJob
from app.queue.ops import ClaimScope
from app.settings_store import (
    SETTINGS,
    SETTINGS_CHANNEL,
    SettingsChange,
    SettingsError,
    SettingsWatcher,
    get_settings,
    list_settings,
    update_settings,
)
from tests.conftest import as_tenant, tenant_ids
from tests.pipeline import scalar, tenant_id, wait_until
from tests.queue_handlers import registry
from workers.stage_worker import StageWorker, WorkerConfig


@pytest.fixture
async def pool(fresh_db_url: str) -> AsyncIterator[AsyncConnectionPool[Connection]]:
    opened = await open_pool(fresh_db_url, max_size=3)
    try:
        yield opened
    finally:
        await opened.close()


async def test_settings_are_read_typed_and_changed_with_their_author(db: Connection) -> None:
    tenants = await tenant_ids(db)
    wex, apple = tenants["WEX"], tenants["Apple"]
    await as_tenant(db, wex)
    before = await get_settings(db, wex)
    assert before["orchestrator_interval_minutes"] == 60 and before["global_pause"] is False

    after = await update_settings(
        db, wex, {"max_retries": "3", "global_pause": "on", "retention_days": 30}, "ann@wex.com"
    )
    assert after == {**before, "max_retries": 3, "global_pause": True}
    assert await get_settings(db, wex) == after
    cur = await db.execute(
        "SELECT setting_key, setting_value, updated_by FROM system_settings "
        "WHERE updated_by IS NOT NULL ORDER BY setting_key"
    )
    # retention_days did not change, so its row keeps no author
    assert await cur.fetchall() == [
        {"setting_key": "global_pause", "setting_value": True, "updated_by": "ann@wex.com"},
        {"setting_key": "max_retries", "setting_value": 3, "updated_by": "ann@wex.com"},
    ]
    cur = await db.execute("SELECT message, actor FROM job_logs ORDER BY id DESC LIMIT 1")
    assert await cur.fetchone() == {
        "message": "settings changed by ann@wex.com: global_pause False → True, max_retries 5 → 3",
        "actor": "ann@wex.com",
    }
    rows = {row["key"]: row for row in await list_settings(db, wex)}
    assert rows["max_retries"]["value"] == 3 and rows["max_retries"]["maximum"] == 20
    assert rows["max_retries"]["updated_by"] == "ann@wex.com"

    await as_tenant(db, apple)
    assert (await get_settings(db, apple))["max_retries"] == 5  # another tenant's row untouched


async def test_an_invalid_change_writes_nothing(db: Connection) -> None:
    wex = (await tenant_ids(db))["WEX"]
    await as_tenant(db, wex)
    with pytest.raises(SettingsError) as caught:
        await update_settings(db, wex, {"max_retries": 2, "worker_concurrency": "x"}, "ann")
    assert str(caught.value) == "worker_concurrency must be an integer from 1 to 256, got 'x'"
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        await update_settings(db, wex, {"colour": "blue"}, "ann")
    assert (await get_settings(db, wex))["max_retries"] == 5


async def test_a_new_interval_re_times_the_job_waiting_on_it(db: Connection) -> None:
    wex = (await tenant_ids(db))["WEX"]
    await as_tenant(db, wex)
    cur = await db.execute(
        "UPDATE etl_jobs SET status = 'PENDING', next_run_at = '2026-03-02T10:00:00Z', "
        "checkpoint_data = jsonb_build_object('wait', jsonb_build_object("
        "'reason', 'interval', 'since', '2026-03-02T09:00:00+00:00')) "
        "WHERE job_name = 'Jira' RETURNING next_run_at"
    )
    old = (await cur.fetchone() or {})["next_run_at"]
    await update_settings(db, wex, {"orchestrator_interval_minutes": 5}, "ann")
    cur = await db.execute("SELECT next_run_at FROM etl_jobs WHERE job_name = 'Jira'")
    assert (await cur.fetchone() or {})["next_run_at"] == old - timedelta(minutes=55)


async def test_a_committed_change_is_announced_on_the_settings_channel(
    fresh_db_url: str, pool: AsyncConnectionPool[Connection]
) -> None:
    wex = await tenant_id(fresh_db_url)
    listener = await connect(fresh_db_url, autocommit=True)
    async with listener:
        await listener.execute(f"LISTEN {SETTINGS_CHANNEL}")
        with pytest.raises(RuntimeError):  # rolled back: nothing is announced
            async with tenant_transaction(pool, wex) as conn:
                await update_settings(conn, wex, {"load_batch_size": 200}, "ann")
                raise RuntimeError("roll back")
        async with tenant_transaction(pool, wex) as conn:
            await update_settings(conn, wex, {"transform_batch_size": 250}, "ann")
        async with tenant_transaction(pool, wex) as conn:  # same value: no change, no notice
            await update_settings(conn, wex, {"transform_batch_size": 250}, "ann")
        notes = [json.loads(note.payload) async for note in listener.notifies(timeout=1.0)]
    assert notes == [{"tenant_id": wex, "keys": ["transform_batch_size"]}]


async def test_the_watcher_delivers_a_tenants_changes_with_their_values(
    fresh_db_url: str, pool: AsyncConnectionPool[Connection]
) -> None:
    wex, apple = await tenant_id(fresh_db_url), await tenant_id(fresh_db_url, "Apple")
    seen: list[SettingsChange] = []
    watcher = SettingsWatcher(fresh_db_url, seen.append, tenant_id=wex)
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.ready.wait(), 10)
        async with tenant_transaction(pool, apple) as conn:
            await update_settings(conn, apple, {"max_retries": 1}, "other")
        async with tenant_transaction(pool, wex) as conn:
            await update_settings(conn, wex, {"max_retries": 2}, "ann")
        await wait_until(lambda: len(seen) == 2, 10, "the change to arrive")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert (seen[0].tenant_id, seen[0].keys) == (wex, tuple(SETTINGS))  # delivered at start
    assert seen[0].values["max_retries"] == 5
    assert (seen[1].tenant_id, seen[1].keys, seen[1].values["max_retries"]) == (
        wex,
        ("max_retries",),
        2,
    )


def running_jobs(url: str) -> int:
    return int(scalar(url, "SELECT count(*) FROM etl_job_queue WHERE status = 'running'"))


async def test_a_settings_change_reaches_a_running_worker_without_a_restart(
    fresh_db_url: str, pool: AsyncConnectionPool[Connection]
) -> None:
    url = fresh_db_url
    wex = await tenant_id(url)
    async with tenant_transaction(pool, wex) as conn:
        await update_settings(conn, wex, {"worker_concurrency": 1}, "ann")
        await ops.enqueue(
            conn,
            [NewJob(tenant_id=wex, job_type="transform", payload={"sleep": 2}) for _ in range(12)],
        )
    config = WorkerConfig(
        scope=ClaimScope(tenant_id=wex), concurrency=6, poll_interval=0.2, shutdown_grace=0.2
    )
    worker = StageWorker(url, registry(), config)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    try:
        await wait_until(lambda: running_jobs(url) == 1, 10, "the first job to run")
        await asyncio.sleep(0.5)
        assert running_jobs(url) == 1 and worker.concurrency == 1

        async with tenant_transaction(pool, wex) as conn:
            await update_settings(conn, wex, {"worker_concurrency": 4}, "ann")
        await wait_until(lambda: running_jobs(url) == 4, 5, "four jobs at once")
        assert worker.concurrency == 4

        async with tenant_transaction(pool, wex) as conn:
            await update_settings(conn, wex, {"worker_concurrency": 50}, "ann")
        await wait_until(lambda: running_jobs(url) == 6, 5, "the worker's own limit")
        assert worker.concurrency == 6  # never above what the process was started with
    finally:
        worker.stop()
        await task
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM etl_job_queue WHERE status = 'running'").fetchone()
    assert row == (0,)
