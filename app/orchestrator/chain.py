"""Reading, locking and writing a tenant's chain, and the chain's step when a run ends.

Every function runs in the caller's transaction, as the tenant (`sluice_app` with
`app.tenant_id`) or as `sluice_system`: the queries name the tenant explicitly. Lock order
is always a run row first, then the chain rows (in execution order), as in the worker's
transaction that ends a run; the scheduler's tick only ever skips locked chains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog
from psycopg.types.json import Jsonb

from app.db import Connection
from app.orchestrator.decisions import after_run, changed_jobs, holds_turn, owns_run
from app.orchestrator.journal import SYSTEM_ACTOR, publish_jobs, record
from app.orchestrator.model import FAILED, PENDING, ChainJob, Schedule
from app.settings_store import get_settings
from app.sqlstore import query

log = structlog.get_logger("sluice.orchestrator")
RUN_OUTCOMES = ("finished", "failed", "cancelled")


async def db_now(conn: Connection) -> datetime:
    """The database clock (the transaction's start), which run and queue times use."""
    cur = await conn.execute(query("chain_db_now"))
    row = await cur.fetchone()
    assert row is not None
    now: datetime = row["now"]
    return now


async def load_schedule(conn: Connection, tenant_id: int) -> Schedule:
    """The tenant's scheduling settings, read now (a change applies at the next decision)."""
    return Schedule.from_settings(await get_settings(conn, tenant_id))


async def list_chain(conn: Connection, tenant_id: int) -> list[ChainJob]:
    """The tenant's chain in execution order, without locking (for pages and checks)."""
    cur = await conn.execute(query("chain_list"), {"tenant_id": tenant_id})
    return [ChainJob.from_row(row) for row in await cur.fetchall()]


async def lock_chain(conn: Connection, tenant_id: int) -> list[ChainJob]:
    """The tenant's chain, locked until the transaction ends (waits for other holders)."""
    cur = await conn.execute(query("chain_lock"), {"tenant_id": tenant_id})
    return [ChainJob.from_row(row) for row in await cur.fetchall()]


async def try_lock_chain(conn: Connection, tenant_id: int) -> list[ChainJob] | None:
    """The tenant's chain, locked; None when another scheduler is handling it now."""
    cur = await conn.execute(query("chain_try_turn"), {"tenant_id": tenant_id})
    turn = await cur.fetchone()
    if turn is None or not turn["acquired"]:
        return None
    return await lock_chain(conn, tenant_id)


async def write_chain(
    conn: Connection, tenant_id: int, before: Sequence[ChainJob], after: Sequence[ChainJob]
) -> list[ChainJob]:
    """Write the jobs that changed; returns them."""
    changed = changed_jobs(before, after)
    for job in changed:
        await conn.execute(
            query("chain_job_update"),
            {
                "tenant_id": tenant_id,
                "id": job.id,
                "status": job.status,
                "next_run_at": job.next_run_at,
                "last_run_started_at": job.last_run_started_at,
                "last_success_at": job.last_success_at,
                "retry_count": job.retry_count,
                "error_message": job.error_message,
                "checkpoint": Jsonb(job.checkpoint),
            },
        )
    await publish_jobs(conn, tenant_id, changed)
    return changed


async def run_summary(
    conn: Connection, tenant_id: int, run_id: int, now: datetime
) -> tuple[dict[str, Any], str | None]:
    """What the run did (jobs by status, failed jobs with their checkpoints) and its error."""
    cur = await conn.execute(query("chain_run_summary"), {"tenant_id": tenant_id, "run_id": run_id})
    row = await cur.fetchone()
    if row is None:
        return {"run_id": run_id, "status": "missing", "at": now.isoformat()}, "the run is missing"
    summary = {
        "run_id": run_id,
        "status": row["status"],
        "at": now.isoformat(),
        "jobs": row["jobs"],
        "failed": row["failed"],
    }
    return summary, row["error_message"]


async def advance_chain(
    conn: Connection, tenant_id: int, run: Mapping[str, Any], now: datetime | None = None
) -> list[ChainJob]:
    """The chain's step for a run that just ended, in the transaction that ended it.

    `run` is the row `finish_run_if_done` returns (id, status, etl_job_id). A run without a
    chain job, or one that is no longer its job's live run, changes nothing, so calling this
    twice for the same run is harmless. Returns the jobs that changed."""
    job_id = run.get("etl_job_id")
    if job_id is None or run.get("status") not in RUN_OUTCOMES:
        return []
    return await end_job_run(conn, tenant_id, int(job_id), int(run["id"]), str(run["status"]), now)


async def end_job_run(
    conn: Connection,
    tenant_id: int,
    job_id: int,
    run_id: int,
    outcome: str,
    now: datetime | None = None,
    *,
    actor: str = SYSTEM_ACTOR,
    error: str | None = None,
) -> list[ChainJob]:
    """Apply a run's end (`finished`, `failed`, `cancelled`) to its job and the chain."""
    now = now or await db_now(conn)
    schedule = await load_schedule(conn, tenant_id)
    chain = await lock_chain(conn, tenant_id)
    job = next((j for j in chain if j.id == job_id), None)
    if job is None or not owns_run(job, run_id):
        log.debug("run end leaves the chain alone", tenant_id=tenant_id, run_id=run_id)
        return []
    summary, run_error = await run_summary(conn, tenant_id, run_id, now)
    after = after_run(
        chain,
        job_id,
        outcome,
        now,
        schedule,
        run_id=run_id,
        summary=summary,
        error=error or run_error,
    )
    changed = await write_chain(conn, tenant_id, chain, after)
    await record(
        conn,
        tenant_id,
        describe_run_end(job, after, outcome, run_id),
        actor=actor,
        level="info" if outcome == "finished" else "warning",
        run_id=run_id,
        etl_job_id=job_id,
        context={"outcome": outcome, "jobs": summary.get("jobs", {})},
    )
    log.info("chain advanced", tenant_id=tenant_id, job=job.name, run_id=run_id, outcome=outcome)
    return changed


def describe_run_end(job: ChainJob, after: Sequence[ChainJob], outcome: str, run_id: int) -> str:
    """One line for job_logs: what ended and what the chain does next."""
    now_job = next(j for j in after if j.id == job.id)
    head = f"{job.name} run {run_id} {outcome}"
    if outcome == "failed" and now_job.error_message:
        head += f": {now_job.error_message}"
    if now_job.status == PENDING and outcome == "failed":
        return f"{head}; retry {now_job.retry_count} at {_at(now_job.next_run_at)}"
    if now_job.status == PENDING:
        return f"{head}; {job.name} waits until {_at(now_job.next_run_at)}"
    if now_job.status == FAILED:
        head += f"; set aside after {now_job.retry_count} failed runs"
    nxt = next((j for j in after if j.id != job.id and holds_turn(j)), None)
    if nxt is None:
        return head
    if nxt.order < job.order:
        return f"{head}; the chain restarts with {nxt.name} at {_at(nxt.next_run_at)}"
    return f"{head}; {nxt.name} is next"


def _at(when: datetime | None) -> str:
    return when.isoformat(timespec="seconds") if when else "once due"
