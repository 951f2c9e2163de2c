"""Two schedulers ticking at the same moment never start the same job twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, open_pool, tenant_transaction
from app.integrations.store import add_integration
from app.orchestrator.control import cancel_run
from app.orchestrator.tick import tick
from app.services import Services
from tests.integration.test_orchestrator_chain import db_time, services
from tests.pipeline import tenant_id

__all__ = ["services"]  # fixture
TENANTS = ("WEX", "Apple", "Google")


@pytest.fixture
async def pools(fresh_db_url: str) -> AsyncIterator[list[AsyncConnectionPool[Connection]]]:
    opened = [await open_pool(fresh_db_url, max_size=3, name=f"scheduler-{i}") for i in range(3)]
    try:
        yield opened
    finally:
        for pool in opened:
            await pool.close()


def running_runs(url: str) -> list[tuple[str, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT t.name, count(*) FROM etl_runs r JOIN tenants t ON t.id = r.tenant_id "
            "WHERE r.status = 'running' GROUP BY t.name ORDER BY t.name"
        ).fetchall()
    return [(name, int(n)) for name, n in rows]


async def test_concurrent_ticks_start_each_due_job_once(
    fresh_db_url: str, services: Services, pools: list[AsyncConnectionPool[Connection]]
) -> None:
    url = fresh_db_url
    ids = {name: await tenant_id(url, name) for name in TENANTS}
    for tid in ids.values():
        async with tenant_transaction(pools[0], tid) as conn:
            await add_integration(
                conn,
                services.cipher,
                tenant_id=tid,
                provider="jira",
                base_url="http://127.0.0.1:9",
                token="unused",
            )
    started_runs: list[int] = []
    busy = 0
    for _round in range(8):
        now = db_time(url)
        results = await asyncio.gather(*(tick(pools[i % 3], now) for i in range(6)))
        started = [s for result in results for s in result.started]
        busy += sum(1 for result in results for why in result.skipped.values() if why == "busy")
        assert sorted(s.tenant_id for s in started) == sorted(ids.values())
        assert not any(result.errors for result in results)
        assert running_runs(url) == [("Apple", 1), ("Google", 1), ("WEX", 1)]
        started_runs += [s.run_id for s in started]
        for s in started:  # end the round: cancel, and make the job due again at once
            async with tenant_transaction(pools[0], s.tenant_id) as conn:
                await cancel_run(conn, s.tenant_id, s.run_id, "test")
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE etl_jobs SET next_run_at = now() WHERE status = 'PENDING'")
    assert len(set(started_runs)) == len(started_runs) == 8 * 3
    assert busy > 0  # the ticks did overlap: some found a chain locked and passed it over
    with psycopg.connect(url) as conn:
        per_tenant = conn.execute(
            "SELECT count(*) FROM etl_runs GROUP BY tenant_id ORDER BY tenant_id"
        ).fetchall()
    assert per_tenant == [(8,), (8,), (8,)]
