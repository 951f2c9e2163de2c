"""Queue operations over one connection. Claim, complete, fail, heartbeat and rescue are
cross-tenant: call them on a connection acting as `sluice_system`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from app.db import Connection
from app.queue.model import (
    JOB_TYPES,
    QUEUE_CHANNEL,
    STATUSES,
    TIERS,
    ClaimedJob,
    NewJob,
    QueueError,
    tier_weights_json,
)
from app.sqlstore import query


async def enqueue(
    conn: Connection, jobs: Sequence[NewJob], now: datetime | None = None
) -> list[int]:
    """Insert many jobs in one statement; returns their ids in order. Commits with `conn`."""
    if not jobs:
        return []
    cur = await conn.execute(
        query("job_enqueue_many"),
        {
            "jobs": Jsonb(
                [
                    {
                        "tenant_id": j.tenant_id,
                        "run_id": j.run_id,
                        "etl_job_id": j.etl_job_id,
                        "integration_id": j.integration_id,
                        "job_type": j.job_type,
                        "entity_type": j.entity_type,
                        "payload": j.payload,
                        "priority": j.priority,
                        "scheduled_at": j.scheduled_at.isoformat() if j.scheduled_at else None,
                        "max_retries": j.max_retries,
                    }
                    for j in jobs
                ]
            ),
            "now": now,
        },
    )
    return [row["id"] for row in await cur.fetchall()]


@dataclass(frozen=True)
class ClaimScope:
    """Which jobs a worker serves: stages, and optionally one tenant or one tier."""

    job_types: tuple[str, ...] = JOB_TYPES
    tenant_id: int | None = None
    tier: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.job_types) - set(JOB_TYPES)
        if unknown or not self.job_types:
            raise QueueError(
                f"unknown stage(s) {', '.join(sorted(unknown)) or '(none)'}: "
                f"use {', '.join(JOB_TYPES)}"
            )
        if self.tier is not None and self.tier not in TIERS:
            raise QueueError(f"unknown tier {self.tier!r}: use one of {', '.join(TIERS)}")
        if self.tier is not None and self.tenant_id is not None:
            raise QueueError("a worker serves one tenant or one tier, not both")


async def claim_batch(
    conn: Connection,
    worker: str,
    limit: int,
    scope: ClaimScope = ClaimScope(),
    now: datetime | None = None,
) -> list[ClaimedJob]:
    """Claim up to `limit` ready jobs, fairly across tenants by tier weight."""
    if limit <= 0:
        return []
    cur = await conn.execute(
        query("job_claim"),
        {
            "worker": worker,
            "limit": limit,
            "job_types": list(scope.job_types),
            "tenant_id": scope.tenant_id,
            "tier": scope.tier,
            "tier_weights": tier_weights_json(),
            "now": now,
        },
    )
    return [ClaimedJob.from_row(row) for row in await cur.fetchall()]


def _keys(keys: Iterable[tuple[int, int]]) -> dict[str, list[int]]:
    pairs = list(keys)
    return {"tenant_ids": [t for t, _ in pairs], "ids": [i for _, i in pairs]}


async def complete_batch(
    conn: Connection, worker: str, keys: Iterable[tuple[int, int]], now: datetime | None = None
) -> int:
    """Mark jobs completed; only those this worker still holds. Returns how many."""
    cur = await conn.execute(
        query("job_complete_batch"), {**_keys(keys), "worker": worker, "now": now}
    )
    return len(await cur.fetchall())


async def complete_one(
    conn: Connection,
    worker: str,
    job: ClaimedJob,
    progress: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Mark one job completed inside the caller's transaction (the stage handoff)."""
    cur = await conn.execute(
        query("job_complete_one"),
        {
            "tenant_id": job.tenant_id,
            "id": job.id,
            "worker": worker,
            "progress": Jsonb(progress or {}),
            "now": now,
        },
    )
    return await cur.fetchone() is not None


@dataclass(frozen=True)
class FailOutcome:
    """Where a failed attempt left the job."""

    status: str  # "pending" (will retry) or "failed" (dead letter)
    retry_count: int
    scheduled_at: datetime


async def fail(
    conn: Connection,
    worker: str,
    job: ClaimedJob,
    error: str,
    *,
    permanent: bool,
    delay_seconds: float,
    now: datetime | None = None,
) -> FailOutcome | None:
    """Record a failed attempt: retry after `delay_seconds`, or dead-letter the job."""
    cur = await conn.execute(
        query("job_fail"),
        {
            "tenant_id": job.tenant_id,
            "id": job.id,
            "worker": worker,
            "error": error[:4000],
            "permanent": permanent,
            "delay_seconds": delay_seconds,
            "now": now,
        },
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return FailOutcome(row["status"], row["retry_count"], row["scheduled_at"])


async def heartbeat(
    conn: Connection, worker: str, keys: Iterable[tuple[int, int]], now: datetime | None = None
) -> None:
    """Refresh the heartbeat of every job this worker runs, in one statement."""
    await conn.execute(query("job_heartbeat"), {**_keys(keys), "worker": worker, "now": now})


async def release(conn: Connection, worker: str, keys: Iterable[tuple[int, int]]) -> int:
    """Give jobs back to the queue without counting an attempt (graceful shutdown)."""
    cur = await conn.execute(query("job_release"), {**_keys(keys), "worker": worker})
    released = len(await cur.fetchall())
    if released:
        await notify(conn)
    return released


async def rescue_stalled(
    conn: Connection, timeout_seconds: float, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Put back running jobs whose heartbeat is older than the timeout (counts an attempt)."""
    cur = await conn.execute(
        query("job_rescue_stalled"), {"timeout_seconds": timeout_seconds, "now": now}
    )
    rows = list(await cur.fetchall())
    if any(row["status"] == "pending" for row in rows):
        await notify(conn)
    return rows


async def rescue_orphaned(
    conn: Connection, grace_seconds: float = 0.0, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Put back running jobs whose worker no longer holds its presence lock (its process or
    its database session is gone); counts an attempt, like a lost heartbeat."""
    cur = await conn.execute(
        query("job_rescue_orphaned"), {"grace_seconds": grace_seconds, "now": now}
    )
    rows = list(await cur.fetchall())
    if any(row["status"] == "pending" for row in rows):
        await notify(conn)
    return rows


async def hold_presence(conn: Connection, worker: str) -> bool:
    """Take the worker's presence lock for the life of this session (on the connection it
    claims with); False when another session holds the same key."""
    cur = await conn.execute(query("worker_presence_lock"), {"worker": worker})
    row = await cur.fetchone()
    return bool(row and row["held"])


@dataclass(frozen=True)
class JobFilter:
    """Selects jobs for a control action; None means any."""

    tenant_id: int | None = None
    job_type: str | None = None
    run_id: int | None = None
    job_ids: tuple[int, ...] | None = None

    def params(self) -> dict[str, Any]:
        if self.job_type is not None and self.job_type not in JOB_TYPES:
            raise QueueError(f"unknown job type {self.job_type!r}")
        return {
            "tenant_id": self.tenant_id,
            "job_type": self.job_type,
            "run_id": self.run_id,
            "job_ids": list(self.job_ids) if self.job_ids is not None else None,
        }


async def _move(
    conn: Connection,
    selection: JobFilter,
    from_statuses: Sequence[str],
    to_status: str,
    *,
    reset_retries: bool = False,
    now: datetime | None = None,
) -> int:
    assert to_status in STATUSES
    cur = await conn.execute(
        query("job_set_status"),
        {
            **selection.params(),
            "from_statuses": list(from_statuses),
            "to_status": to_status,
            "reset_retries": reset_retries,
            "now": now,
        },
    )
    moved = len(await cur.fetchall())
    if moved and to_status == "pending":
        await notify(conn)
    return moved


async def pause(conn: Connection, selection: JobFilter = JobFilter()) -> int:
    """Pending jobs matching the filter stop being claimed (running ones finish)."""
    return await _move(conn, selection, ["pending"], "paused")


async def resume(conn: Connection, selection: JobFilter = JobFilter()) -> int:
    """Paused jobs matching the filter become claimable again."""
    return await _move(conn, selection, ["paused"], "pending")


async def cancel(conn: Connection, selection: JobFilter = JobFilter()) -> int:
    """Pending and paused jobs matching the filter are cancelled."""
    return await _move(conn, selection, ["pending", "paused"], "cancelled")


async def requeue(conn: Connection, selection: JobFilter = JobFilter()) -> int:
    """Dead-lettered or cancelled jobs go back to pending with a fresh retry budget."""
    return await _move(conn, selection, ["failed", "cancelled"], "pending", reset_retries=True)


async def update_progress(
    conn: Connection,
    worker: str,
    job: ClaimedJob,
    progress: dict[str, Any],
    now: datetime | None = None,
) -> bool:
    """Merge counters into a running job's progress (also refreshes its heartbeat).
    Returns False when the worker no longer holds the job."""
    cur = await conn.execute(
        query("job_progress_update"),
        {
            "tenant_id": job.tenant_id,
            "id": job.id,
            "worker": worker,
            "progress": Jsonb(progress),
            "now": now,
        },
    )
    return await cur.fetchone() is not None


async def purge_finished(conn: Connection, cutoff: datetime, batch: int = 5000) -> int:
    """Retention: delete finished jobs completed before `cutoff`; returns how many."""
    total = 0
    while True:
        cur = await conn.execute(query("job_purge_finished"), {"cutoff": cutoff, "batch": batch})
        total += cur.rowcount
        if cur.rowcount < batch:
            return total


async def notify(conn: Connection, payload: str = "") -> None:
    """Wake idle workers (delivered when the surrounding transaction commits)."""
    await conn.execute(query("queue_notify"), {"payload": payload})


__all__ = ["QUEUE_CHANNEL"]
