"""Pure decisions over one tenant's chain: given its jobs, its schedule and `now`, what changes.

The chain passes a turn along `execution_order`: exactly one job holds it (PENDING while it
waits, RUNNING while its run goes, PAUSED with a paused run). When the holder's run
finishes, the job is FINISHED and the next job that can run becomes PENDING at once; after
the last one, the first becomes PENDING one interval later. A failed run leaves the job
PENDING for a retry after the retry interval (the retry resumes the failed run's jobs);
after `max_retries` failed runs in a row the job is FAILED and the turn moves on, so one
broken integration cannot stop the others. A cancelled run leaves its job PENDING for the
next interval.

A job whose integration is missing or inactive (or that is switched off) is INACTIVE and
skipped; Vectorization runs only when another job can. An idle PAUSED job is skipped too.
Every function returns new `ChainJob` values and never mutates its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.orchestrator.model import (
    FAILED,
    FINISHED,
    INACTIVE,
    PAUSED,
    PENDING,
    READY,
    RUNNING,
    VECTORIZATION,
    ChainJob,
    Schedule,
)

Chain = Sequence[ChainJob]
_RESETTABLE = (READY, PENDING, FINISHED, FAILED)
_CYCLE_KEYS = ("wait", "failed_run_id", "resumed_from_run_id")


class ChainError(Exception):
    """A request the chain's state does not allow; the message says why and what to do."""


def _without(checkpoint: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in checkpoint.items() if k not in keys}


def _wait(reason: str, since: datetime) -> dict[str, str]:
    return {"reason": reason, "since": since.isoformat()}


def _linked(job: ChainJob) -> bool:
    return job.active and job.integration_id is not None and job.integration_active is True


def is_configured(job: ChainJob, chain: Chain) -> bool:
    """Whether the job can run at all: switched on, and its integration linked and active.
    Vectorization has no integration: it runs when another job of the chain can."""
    if not job.active:
        return False
    if job.provider == VECTORIZATION:
        return any(other.provider != VECTORIZATION and _linked(other) for other in chain)
    return _linked(job)


def has_live_run(job: ChainJob) -> bool:
    """RUNNING, or PAUSED with its run paused: the job's run is not over."""
    return job.status == RUNNING or (job.status == PAUSED and job.run_status == "paused")


def owns_run(job: ChainJob, run_id: int) -> bool:
    """Whether `run_id` is the job's run in progress (RUNNING, or PAUSED with that run),
    as opposed to an old run or an idle pause."""
    if job.run_id != run_id:
        return False
    return job.status == RUNNING or (job.status == PAUSED and "paused_from" not in job.checkpoint)


def holds_turn(job: ChainJob) -> bool:
    """Whether this job is the chain's current one."""
    return job.status == PENDING or has_live_run(job)


def can_take_turn(job: ChainJob, chain: Chain) -> bool:
    """A configured job that is not paused may become the chain's current one."""
    return is_configured(job, chain) and job.status not in (PAUSED, INACTIVE, RUNNING)


def due_at(job: ChainJob, schedule: Schedule) -> datetime | None:
    """When a PENDING job may start: its next_run_at, else an interval after its last
    start; None when it never ran (due at once)."""
    if job.next_run_at is not None:
        return job.next_run_at
    if job.last_run_started_at is not None:
        return job.last_run_started_at + schedule.interval
    return None


def is_due(job: ChainJob, schedule: Schedule, now: datetime) -> bool:
    """Whether a PENDING job's time has come."""
    when = due_at(job, schedule)
    return when is None or when <= now


def _replace_job(chain: Chain, job: ChainJob) -> list[ChainJob]:
    return [job if j.id == job.id else j for j in chain]


def _find(chain: Chain, job_id: int) -> ChainJob:
    for job in chain:
        if job.id == job_id:
            return job
    raise ChainError(f"chain job {job_id} does not exist for this tenant")


def _next_taker(chain: Chain, after_order: int | None) -> tuple[ChainJob | None, bool]:
    """The next job (by execution order) that can take the turn, and whether it wrapped."""
    takers = sorted((j for j in chain if can_take_turn(j, chain)), key=lambda j: j.order)
    if not takers:
        return None, False
    if after_order is None:
        return takers[0], False
    for job in takers:
        if job.order > after_order:
            return job, False
    return takers[0], True


def _give_turn(
    chain: Chain, taker: ChainJob, next_run_at: datetime | None, wait: dict[str, str] | None
) -> list[ChainJob]:
    checkpoint = _without(taker.checkpoint, *_CYCLE_KEYS, "paused_from")
    if wait is not None:
        checkpoint["wait"] = wait
    pending = replace(
        taker,
        status=PENDING,
        next_run_at=next_run_at,
        retry_count=0 if taker.status in (FAILED, FINISHED, READY) else taker.retry_count,
        checkpoint=checkpoint,
    )
    return _replace_job(chain, pending)


def pass_turn(
    chain: Chain, from_job: ChainJob, now: datetime, schedule: Schedule
) -> list[ChainJob]:
    """The turn moves from `from_job` to the next job: at once, or after an interval when
    the chain wraps around to its start."""
    taker, wrapped = _next_taker(chain, from_job.order)
    if taker is None:
        return list(chain)
    if wrapped:
        return _give_turn(chain, taker, now + schedule.interval, _wait("interval", now))
    return _give_turn(chain, taker, now, None)


def reconcile(chain: Chain) -> list[ChainJob]:
    """Jobs that cannot run become INACTIVE and ones that can again READY; a turn held by
    a job that became INACTIVE passes on with its timing, and a chain without a current
    job gets its first runnable one."""
    result = list(chain)
    lost: ChainJob | None = None
    for index, job in enumerate(chain):
        configured = is_configured(job, chain)
        if not configured and job.status in _RESETTABLE:
            if job.status == PENDING:
                lost = job
            result[index] = replace(
                job, status=INACTIVE, next_run_at=None, checkpoint=_without(job.checkpoint, "wait")
            )
        elif configured and job.status == INACTIVE:
            result[index] = replace(job, status=READY)
    if any(holds_turn(j) for j in result):
        return result
    taker, _ = _next_taker(result, lost.order if lost else None)
    if taker is None:
        return result
    if lost is not None:
        return _give_turn(result, taker, lost.next_run_at, lost.checkpoint.get("wait"))
    return _give_turn(result, taker, None, None)


def choose_start(chain: Chain, schedule: Schedule, now: datetime) -> ChainJob | None:
    """The PENDING job to start now, if any: none while a run of the chain is live, or
    while the tenant's scheduling is off or paused."""
    if not schedule.scheduling or any(has_live_run(j) for j in chain):
        return None
    for job in sorted(chain, key=lambda j: j.order):
        if job.status == PENDING and is_configured(job, chain) and is_due(job, schedule, now):
            return job
    return None


def mark_started(
    job: ChainJob, run_id: int, now: datetime, resumed_from_run_id: int | None = None
) -> ChainJob:
    """The job once its run is open."""
    checkpoint = _without(job.checkpoint, *_CYCLE_KEYS) | {"run_id": run_id}
    if resumed_from_run_id is not None:
        checkpoint["resumed_from_run_id"] = resumed_from_run_id
    return replace(
        job,
        status=RUNNING,
        last_run_started_at=now,
        next_run_at=None,
        checkpoint=checkpoint,
        run_status="running",
    )


def prepare_force_start(chain: Chain, job_id: int) -> tuple[list[ChainJob], ChainJob]:
    """A user starts `job_id` now: it takes the turn (another waiting job goes back to
    READY); refused while a run of the chain is live or when the job cannot run."""
    job = _find(chain, job_id)
    live = next((j for j in chain if has_live_run(j)), None)
    if live is not None:
        raise ChainError(
            f"{live.name} is {live.status.lower()} (run {live.run_id}): "
            "wait for it, or cancel its run, before starting another job"
        )
    if not is_configured(job, chain):
        raise ChainError(
            f"{job.name} cannot run: it has no active integration. "
            "Add or activate one in Integrations"
            if job.provider != VECTORIZATION
            else f"{job.name} cannot run: the tenant has no active integration"
        )
    result = [
        replace(
            j,
            status=READY,
            next_run_at=None,
            checkpoint=_without(j.checkpoint, *_CYCLE_KEYS),
        )
        if j.status == PENDING and j.id != job_id
        else j
        for j in chain
    ]
    return result, _find(result, job_id)


def after_run(
    chain: Chain,
    job_id: int,
    outcome: str,
    now: datetime,
    schedule: Schedule,
    *,
    run_id: int,
    summary: dict[str, Any],
    error: str | None = None,
) -> list[ChainJob]:
    """The chain after the job's run ended `finished`, `failed` or `cancelled`."""
    job = _find(chain, job_id)
    checkpoint = _without(job.checkpoint, *_CYCLE_KEYS) | {"run_id": run_id, "last_run": summary}
    if outcome == "finished":
        done = replace(
            job,
            status=FINISHED,
            last_success_at=now,
            retry_count=0,
            error_message=None,
            next_run_at=None,
            checkpoint=checkpoint,
            run_status=outcome,
        )
        return pass_turn(_replace_job(chain, done), done, now, schedule)
    if outcome == "failed":
        retries = job.retry_count + 1
        if retries > schedule.max_retries:
            failed = replace(
                job,
                status=FAILED,
                retry_count=retries,
                error_message=error,
                next_run_at=None,
                checkpoint=checkpoint,
                run_status=outcome,
            )
            return pass_turn(_replace_job(chain, failed), failed, now, schedule)
        waiting = replace(
            job,
            status=PENDING,
            retry_count=retries,
            error_message=error,
            next_run_at=now + schedule.retry_interval,
            checkpoint=checkpoint | {"failed_run_id": run_id, "wait": _wait("retry", now)},
            run_status=outcome,
        )
        return _replace_job(chain, waiting)
    if outcome == "cancelled":
        waiting = replace(
            job,
            status=PENDING,
            error_message=error,
            next_run_at=now + schedule.interval,
            checkpoint=checkpoint | {"wait": _wait("interval", now)},
            run_status=outcome,
        )
        return _replace_job(chain, waiting)
    raise ValueError(f"unknown run outcome {outcome!r}")


def pause_idle(chain: Chain, job_id: int) -> list[ChainJob]:
    """Pause a job without a live run: it is skipped until resumed; if it was the waiting
    job, the turn passes on with its timing."""
    job = _find(chain, job_id)
    if has_live_run(job):
        raise ChainError(f"{job.name} has a live run {job.run_id}: pause the run instead")
    if job.status == PAUSED:
        return list(chain)
    paused = replace(
        job,
        status=PAUSED,
        next_run_at=None,
        checkpoint=_without(job.checkpoint, "wait") | {"paused_from": job.status},
    )
    result = _replace_job(chain, paused)
    if job.status != PENDING:
        return result
    taker, _ = _next_taker(result, job.order)
    if taker is None:
        return result
    return _give_turn(result, taker, job.next_run_at, job.checkpoint.get("wait"))


def resume_idle(chain: Chain, job_id: int) -> list[ChainJob]:
    """Resume an idle paused job: READY, or the current job (due at once) when the chain
    has none."""
    job = _find(chain, job_id)
    if job.status != PAUSED or has_live_run(job):
        raise ChainError(f"{job.name} is {job.status.lower()}, not paused")
    ready = replace(job, status=READY, checkpoint=_without(job.checkpoint, "paused_from"))
    result = _replace_job(chain, ready)
    if any(holds_turn(j) for j in result) or not can_take_turn(ready, result):
        return reconcile(result)
    return _give_turn(result, ready, None, None)


def changed_jobs(before: Chain, after: Chain) -> list[ChainJob]:
    """The jobs whose row must be written."""
    old = {j.id: j for j in before}
    return [j for j in after if old.get(j.id) != j]
