"""The scheduler's housekeeping: stalled-job rescue and retention, as `sluice_system`.

Retention follows each tenant's `retention_days`: finished queue jobs (completed, failed,
cancelled) completed before the cutoff are deleted, and so are loaded raw rows extracted
before it that a newer version of the same record supersedes. The newest raw version of
every record is kept whatever its age, so `sluice reprocess` can always replay it; failed
and pending raw rows are kept too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from app.db import Connection, system_transaction
from app.orchestrator.chain import db_now
from app.queue import ops
from app.settings_store import typed_settings
from app.sqlstore import query

RETENTION_BATCH = 5000  # rows per delete statement (each in its own short transaction)


@dataclass(frozen=True)
class Purged:
    """What retention deleted for one tenant."""

    tenant_id: int
    cutoff: datetime
    queue_jobs: int
    raw_rows: int


async def rescue_stalled_jobs(
    pool: AsyncConnectionPool[Connection], timeout_seconds: float, now: datetime | None = None
) -> int:
    """Put back running queue jobs whose heartbeat is older than the timeout."""
    async with system_transaction(pool) as conn:
        return len(await ops.rescue_stalled(conn, timeout_seconds, now))


async def apply_retention(
    pool: AsyncConnectionPool[Connection],
    now: datetime | None = None,
    batch: int = RETENTION_BATCH,
) -> list[Purged]:
    """Delete what each tenant's retention no longer keeps; returns the counts."""
    async with system_transaction(pool) as conn:
        cur = await conn.execute(query("chain_tenants"))
        tenants = list(await cur.fetchall())
        now = now or await db_now(conn)
    results = []
    for tenant in tenants:
        days = int(typed_settings(tenant["settings"])["retention_days"])
        cutoff = now - timedelta(days=days)
        tenant_id = int(tenant["id"])
        queue_jobs = await _purge(pool, "retention_purge_queue", tenant_id, cutoff, batch)
        raw_rows = await _purge(pool, "retention_purge_raw", tenant_id, cutoff, batch)
        results.append(Purged(tenant_id, cutoff, queue_jobs, raw_rows))
    return results


async def _purge(
    pool: AsyncConnectionPool[Connection], name: str, tenant_id: int, cutoff: datetime, batch: int
) -> int:
    total = 0
    while True:
        async with system_transaction(pool) as conn:
            cur = await conn.execute(
                query(name), {"tenant_id": tenant_id, "cutoff": cutoff, "batch": batch}
            )
            deleted = cur.rowcount
        total += deleted
        if deleted < batch:
            return total
