"""Manual control of chain jobs and runs, for the web, the API and the CLI.

Each function runs in the caller's tenant transaction (`tenant_transaction(pool, tenant)`)
and records a job_logs line with its `actor` in that same transaction.

- `force_start`: the job starts now, whatever its interval (a job waiting to retry resumes
  its failed run); refused while another run of the chain is live.
- `pause_run` / `pause_job`: the run's queue jobs stop being claimed; a handler in flight
  finishes its current page and parks (see `parking`); the job is PAUSED. An idle job that
  is paused is skipped by the chain until resumed.
- `resume_run` / `resume_job`: paused queue jobs become claimable again and continue from
  their checkpoints; a run with nothing left ends at once.
- `cancel_run`: pending and paused queue jobs are cancelled, the run is cancelled, and its
  job waits for the next interval.
- `retry_failed`: dead-lettered queue jobs (of a run, or by id) run again with a fresh
  retry budget; a failed run they belong to is running again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.db import Connection
from app.orchestrator.chain import db_now, end_job_run, list_chain, lock_chain, write_chain
from app.orchestrator.decisions import (
    ChainError,
    has_live_run,
    mark_started,
    owns_run,
    pause_idle,
    prepare_force_start,
    reconcile,
    resume_idle,
)
from app.orchestrator.journal import record
from app.orchestrator.model import PAUSED, PENDING, RUNNING, ChainJob, Started
from app.orchestrator.start import close_run_if_done, start_job
from app.queue import ops
from app.queue.ops import JobFilter
from app.sqlstore import query


@dataclass(frozen=True)
class RunControl:
    """The outcome of a control action on a run."""

    run_id: int
    status: str
    queue_jobs: int  # queue jobs the action moved
    etl_job_id: int | None = None


async def force_start(
    conn: Connection, tenant_id: int, etl_job_id: int, actor: str, now: datetime | None = None
) -> Started:
    """Start the chain job now, ignoring its interval."""
    now = now or await db_now(conn)
    locked = await lock_chain(conn, tenant_id)
    chain, job = prepare_force_start(reconcile(locked), etl_job_id)
    await write_chain(conn, tenant_id, locked, chain)
    return await start_job(conn, tenant_id, chain, job, now, trigger="manual", actor=actor)


async def pause_run(
    conn: Connection, tenant_id: int, run_id: int, actor: str, now: datetime | None = None
) -> RunControl:
    """Stop a running run where it is; its job becomes PAUSED."""
    run = await _lock_run(conn, tenant_id, run_id, ("running",), "paused")
    paused = await ops.pause(conn, JobFilter(tenant_id=tenant_id, run_id=run_id))
    await _set_run_status(conn, tenant_id, run_id, "paused", now)
    await _set_job_for_run(conn, tenant_id, run, PAUSED)
    await record(
        conn,
        tenant_id,
        f"run {run_id} paused by {actor}: {paused} queue jobs paused; jobs in flight park "
        "after their current page",
        actor=actor,
        run_id=run_id,
        etl_job_id=run["etl_job_id"],
        context={"queue_jobs": paused},
    )
    return RunControl(run_id, "paused", paused, run["etl_job_id"])


async def resume_run(
    conn: Connection, tenant_id: int, run_id: int, actor: str, now: datetime | None = None
) -> RunControl:
    """Continue a paused run from its queue jobs' checkpoints."""
    run = await _lock_run(conn, tenant_id, run_id, ("paused",), "resumed")
    await _set_run_status(conn, tenant_id, run_id, "running", now)
    resumed = await ops.resume(conn, JobFilter(tenant_id=tenant_id, run_id=run_id))
    await _set_job_for_run(conn, tenant_id, run, RUNNING)
    await record(
        conn,
        tenant_id,
        f"run {run_id} resumed by {actor}: {resumed} queue jobs continue from their checkpoints",
        actor=actor,
        run_id=run_id,
        etl_job_id=run["etl_job_id"],
        context={"queue_jobs": resumed},
    )
    ended = await close_run_if_done(conn, tenant_id, run_id, now)
    status = ended["status"] if ended else "running"
    return RunControl(run_id, status, resumed, run["etl_job_id"])


async def cancel_run(
    conn: Connection, tenant_id: int, run_id: int, actor: str, now: datetime | None = None
) -> RunControl:
    """Cancel a running or paused run; its job waits for the next interval."""
    run = await _lock_run(conn, tenant_id, run_id, ("running", "paused"), "cancelled")
    cancelled = await ops.cancel(conn, JobFilter(tenant_id=tenant_id, run_id=run_id))
    error = f"cancelled by {actor}"
    await _set_run_status(conn, tenant_id, run_id, "cancelled", now, error)
    await record(
        conn,
        tenant_id,
        f"run {run_id} cancelled by {actor}: {cancelled} queue jobs cancelled",
        actor=actor,
        level="warning",
        run_id=run_id,
        etl_job_id=run["etl_job_id"],
        context={"queue_jobs": cancelled},
    )
    if run["etl_job_id"] is not None:
        await end_job_run(
            conn,
            tenant_id,
            int(run["etl_job_id"]),
            run_id,
            "cancelled",
            now,
            actor=actor,
            error=f"run {run_id} {error}",
        )
    return RunControl(run_id, "cancelled", cancelled, run["etl_job_id"])


async def retry_failed(
    conn: Connection,
    tenant_id: int,
    actor: str,
    *,
    run_id: int | None = None,
    job_ids: tuple[int, ...] | None = None,
    now: datetime | None = None,
) -> list[RunControl]:
    """Run dead-lettered queue jobs again (those of `run_id`, and/or `job_ids`)."""
    if run_id is None and not job_ids:
        raise ChainError("name a run or queue job ids to retry")
    now = now or await db_now(conn)
    cur = await conn.execute(
        query("control_retry_failed_jobs"),
        {
            "tenant_id": tenant_id,
            "run_id": run_id,
            "job_ids": list(job_ids) if job_ids else None,
        },
    )
    by_run: dict[int | None, int] = {}
    for row in await cur.fetchall():
        by_run[row["run_id"]] = by_run.get(row["run_id"], 0) + 1
    if not by_run:
        raise ChainError("no dead-lettered queue job matches: nothing to retry")
    await ops.notify(conn)
    results = []
    for failed_run, count in sorted(by_run.items(), key=lambda item: item[0] or 0):
        if failed_run is None:
            await record(
                conn, tenant_id, f"{count} failed queue jobs retried by {actor}", actor=actor
            )
            continue
        results.append(await _reopen_run(conn, tenant_id, failed_run, count, actor, now))
    return results


async def pause_job(
    conn: Connection, tenant_id: int, etl_job_id: int, actor: str, now: datetime | None = None
) -> ChainJob:
    """Pause a chain job: its live run is paused, or the idle job is skipped until resumed."""
    job = await _peek_job(conn, tenant_id, etl_job_id)
    if job.status == PAUSED:
        return job
    if job.status == RUNNING and job.run_id is not None:
        await pause_run(conn, tenant_id, job.run_id, actor, now)
    else:
        chain = await lock_chain(conn, tenant_id)
        await write_chain(conn, tenant_id, chain, pause_idle(chain, etl_job_id))
        await record(
            conn, tenant_id, f"{job.name} paused by {actor}", actor=actor, etl_job_id=etl_job_id
        )
    return await _peek_job(conn, tenant_id, etl_job_id)


async def resume_job(
    conn: Connection, tenant_id: int, etl_job_id: int, actor: str, now: datetime | None = None
) -> ChainJob:
    """Resume a paused chain job (its paused run, or the idle job)."""
    job = await _peek_job(conn, tenant_id, etl_job_id)
    if job.run_id is not None and job.status == PAUSED and job.run_status == "paused":
        await resume_run(conn, tenant_id, job.run_id, actor, now)
    else:
        chain = await lock_chain(conn, tenant_id)
        await write_chain(conn, tenant_id, chain, resume_idle(chain, etl_job_id))
        await record(
            conn, tenant_id, f"{job.name} resumed by {actor}", actor=actor, etl_job_id=etl_job_id
        )
    return await _peek_job(conn, tenant_id, etl_job_id)


async def _peek_job(conn: Connection, tenant_id: int, etl_job_id: int) -> ChainJob:
    for job in await list_chain(conn, tenant_id):
        if job.id == etl_job_id:
            return job
    raise ChainError(f"chain job {etl_job_id} does not exist for this tenant")


async def _lock_run(
    conn: Connection, tenant_id: int, run_id: int, allowed: tuple[str, ...], action: str
) -> dict[str, Any]:
    cur = await conn.execute(query("control_run_lock"), {"tenant_id": tenant_id, "run_id": run_id})
    row = await cur.fetchone()
    if row is None:
        raise ChainError(f"run {run_id} does not exist for this tenant")
    if row["status"] not in allowed:
        raise ChainError(
            f"run {run_id} is {row['status']}: only a {' or '.join(allowed)} run can be {action}"
        )
    return dict(row)


async def _set_run_status(
    conn: Connection,
    tenant_id: int,
    run_id: int,
    status: str,
    now: datetime | None,
    error: str | None = None,
) -> None:
    await conn.execute(
        query("control_run_set_status"),
        {
            "tenant_id": tenant_id,
            "run_id": run_id,
            "status": status,
            "now": now,
            "error_message": error,
        },
    )


async def _set_job_for_run(
    conn: Connection, tenant_id: int, run: dict[str, Any], status: str
) -> None:
    """The run's chain job follows a pause or a resume of the run it is running."""
    if run["etl_job_id"] is None:
        return
    chain = await lock_chain(conn, tenant_id)
    job = next((j for j in chain if j.id == run["etl_job_id"]), None)
    if job is None or not owns_run(job, int(run["id"])):
        return
    run_status = "paused" if status == PAUSED else "running"
    moved = replace(job, status=status, run_status=run_status)
    await write_chain(conn, tenant_id, chain, [moved if j.id == job.id else j for j in chain])


async def _reopen_run(
    conn: Connection, tenant_id: int, run_id: int, count: int, actor: str, now: datetime
) -> RunControl:
    """A failed run whose jobs are retried is running again; so is its chain job, when
    the job is still waiting for that run's retry."""
    run = await _lock_run(conn, tenant_id, run_id, ("running", "failed"), "retried")
    if run["status"] == "failed":
        await _set_run_status(conn, tenant_id, run_id, "running", None)
        chain = await lock_chain(conn, tenant_id)
        job = next((j for j in chain if j.id == run["etl_job_id"]), None)
        if (
            job is not None
            and job.status == PENDING
            and job.failed_run_id == run_id
            and not any(has_live_run(j) for j in chain)
        ):
            started = mark_started(job, run_id, now)
            await write_chain(
                conn, tenant_id, chain, [started if j.id == job.id else j for j in chain]
            )
    await record(
        conn,
        tenant_id,
        f"{count} failed queue jobs of run {run_id} retried by {actor}",
        actor=actor,
        run_id=run_id,
        etl_job_id=run["etl_job_id"],
        context={"queue_jobs": count},
    )
    return RunControl(run_id, "running", count, run["etl_job_id"])
