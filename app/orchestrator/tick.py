"""The scheduler's pass over every tenant: start the chain jobs whose time has come.

`tick(pool, now)` lists the active tenants as `sluice_system` (the one cross-tenant read),
then handles each tenant in its own tenant transaction: it locks the tenant's chain with
`FOR UPDATE SKIP LOCKED` and passes over a chain another transaction holds, so two
schedulers ticking at once never start the same job twice; it settles a job whose run
ended without advancing the chain, reconciles jobs with their integrations, and starts the
PENDING job that is due. A tenant with `orchestrator_enabled` false or `global_pause` true
is skipped. `now` decides what is due; the queue and run rows keep the database clock, and
so does the `next_run_at` a run's end writes (a fixed `now` must be comparable with it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, system_transaction, tenant_transaction
from app.orchestrator.chain import db_now, end_job_run, lock_chain, try_lock_chain, write_chain
from app.orchestrator.decisions import ChainError, choose_start, owns_run, reconcile
from app.orchestrator.journal import SYSTEM_ACTOR
from app.orchestrator.model import ChainJob, Schedule, Started
from app.orchestrator.start import start_job
from app.sqlstore import query
from app.sync import SyncError

log = structlog.get_logger("sluice.orchestrator")


@dataclass
class TickResult:
    """What one tick did, by tenant id."""

    now: datetime
    names: dict[int, str] = field(default_factory=dict)  # tenant id -> name
    started: list[Started] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # tenant id -> why
    errors: dict[int, str] = field(default_factory=dict)
    swept_jobs: int = 0


async def tick(pool: AsyncConnectionPool[Connection], now: datetime | None = None) -> TickResult:
    """One pass over every active tenant at `now` (default: the database clock)."""
    async with system_transaction(pool) as conn:
        cur = await conn.execute(query("control_sweep_stopped_runs"))
        swept = len(await cur.fetchall())
        cur = await conn.execute(query("chain_tenants"))
        tenants = list(await cur.fetchall())
        now = now or await db_now(conn)
    result = TickResult(now=now, swept_jobs=swept, names={t["id"]: t["name"] for t in tenants})
    for tenant in tenants:
        tenant_id = int(tenant["id"])
        schedule = Schedule.from_settings(tenant["settings"])
        if not schedule.scheduling:
            result.skipped[tenant_id] = "paused" if schedule.paused else "disabled"
            continue
        try:
            async with tenant_transaction(pool, tenant_id) as conn:
                started = await tick_tenant(conn, tenant_id, schedule, now)
        except psycopg.Error as exc:
            if exc.sqlstate is None:
                raise  # the database is unreachable: no tenant can be handled
            result.errors[tenant_id] = str(exc)
            log.error("tick failed for a tenant", tenant=tenant["name"], error=str(exc))
            continue
        except (SyncError, ChainError) as exc:
            result.errors[tenant_id] = str(exc)
            log.error("tick failed for a tenant", tenant=tenant["name"], error=str(exc))
            continue
        if started is None:
            result.skipped[tenant_id] = "busy"
        elif isinstance(started, Started):
            result.started.append(started)
            log.info(
                "chain job started",
                tenant=tenant["name"],
                job=started.job_name,
                run_id=started.run_id,
                resumed_from_run_id=started.resumed_from_run_id,
            )
    return result


async def tick_tenant(
    conn: Connection, tenant_id: int, schedule: Schedule, now: datetime
) -> Started | bool | None:
    """In the tenant's transaction: the started run, False when nothing was due, or None
    when another transaction holds the tenant's chain."""
    chain = await try_lock_chain(conn, tenant_id)
    if chain is None:
        return None
    chain = await settle_ended_runs(conn, tenant_id, chain, now)
    reconciled = reconcile(chain)
    await write_chain(conn, tenant_id, chain, reconciled)
    job = choose_start(reconciled, schedule, now)
    if job is None:
        return False
    return await start_job(
        conn, tenant_id, reconciled, job, now, trigger="schedule", actor=SYSTEM_ACTOR
    )


async def settle_ended_runs(
    conn: Connection, tenant_id: int, chain: Sequence[ChainJob], now: datetime
) -> list[ChainJob]:
    """A job still RUNNING (or PAUSED) whose run already ended gets its run's outcome."""
    stale = [
        j
        for j in chain
        if j.run_id is not None
        and owns_run(j, j.run_id)
        and j.run_status in ("finished", "failed", "cancelled", None)
    ]
    if not stale:
        return list(chain)
    for job in stale:
        assert job.run_id is not None
        outcome = job.run_status or "failed"
        error = None if job.run_status else f"run {job.run_id} no longer exists"
        await end_job_run(conn, tenant_id, job.id, job.run_id, outcome, now, error=error)
    return await lock_chain(conn, tenant_id)
