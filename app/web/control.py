"""Job-chain control through the orchestrator, in the caller's tenant transaction.

A refusal from the orchestrator (e.g. resuming a run that is not paused, force-starting
while another run of the chain is live) becomes a 409 whose detail is its message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.db import Connection
from app.orchestrator import control as orchestrator
from app.orchestrator.decisions import ChainError
from app.orchestrator.start import close_run_if_done
from app.web.problems import conflict


@asynccontextmanager
async def _refusals_as_conflicts() -> AsyncIterator[None]:
    try:
        yield
    except ChainError as exc:
        raise conflict(str(exc)) from None


async def force_start(conn: Connection, tenant_id: int, job_id: int, actor: str) -> None:
    """Start a chain job now (opens a run)."""
    async with _refusals_as_conflicts():
        await orchestrator.force_start(conn, tenant_id, job_id, actor)


async def pause_job(conn: Connection, tenant_id: int, job_id: int, actor: str) -> None:
    """Pause a chain job (its live run, or the idle job)."""
    async with _refusals_as_conflicts():
        await orchestrator.pause_job(conn, tenant_id, job_id, actor)


async def resume_job(conn: Connection, tenant_id: int, job_id: int, actor: str) -> None:
    """Resume a paused chain job."""
    async with _refusals_as_conflicts():
        await orchestrator.resume_job(conn, tenant_id, job_id, actor)


async def pause_run(conn: Connection, tenant_id: int, run_id: int, actor: str) -> None:
    """Pause a running run."""
    async with _refusals_as_conflicts():
        await orchestrator.pause_run(conn, tenant_id, run_id, actor)


async def resume_run(conn: Connection, tenant_id: int, run_id: int, actor: str) -> None:
    """Resume a paused run."""
    async with _refusals_as_conflicts():
        await orchestrator.resume_run(conn, tenant_id, run_id, actor)


async def cancel_run(conn: Connection, tenant_id: int, run_id: int, actor: str) -> None:
    """Cancel a running or paused run."""
    async with _refusals_as_conflicts():
        await orchestrator.cancel_run(conn, tenant_id, run_id, actor)


async def retry_run(conn: Connection, tenant_id: int, run_id: int, actor: str) -> None:
    """Retry a run's dead-lettered queue jobs."""
    async with _refusals_as_conflicts():
        await orchestrator.retry_failed(conn, tenant_id, actor, run_id=run_id)


async def retry_queue_jobs(
    conn: Connection, tenant_id: int, job_ids: tuple[int, ...], actor: str
) -> None:
    """Retry dead-lettered queue jobs by id (their failed run runs again)."""
    async with _refusals_as_conflicts():
        await orchestrator.retry_failed(conn, tenant_id, actor, job_ids=job_ids)


async def close_run(conn: Connection, tenant_id: int, run_id: int) -> None:
    """End a run with nothing left open (after a cancelled queue job), advancing its chain."""
    await close_run_if_done(conn, tenant_id, run_id)
