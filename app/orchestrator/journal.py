"""job_logs lines and live events for what the orchestrator and its users do.

Both are written in the caller's transaction, so they exist exactly when the action
committed; log lines go through `app.events.job_log`, which also publishes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.db import Connection
from app.events import job_log, publish
from app.orchestrator.model import ChainJob

SYSTEM_ACTOR = "orchestrator"


async def record(
    conn: Connection,
    tenant_id: int,
    message: str,
    *,
    actor: str = SYSTEM_ACTOR,
    level: str = "info",
    run_id: int | None = None,
    etl_job_id: int | None = None,
    queue_job_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Write one job_logs row with its actor (committed, or rolled back, with the action)."""
    await job_log(
        conn,
        tenant_id,
        level,
        message,
        run_id=run_id,
        etl_job_id=etl_job_id,
        queue_job_id=queue_job_id,
        context=context,
        actor=actor,
    )


async def publish_jobs(conn: Connection, tenant_id: int, jobs: Sequence[ChainJob]) -> None:
    """One `etl_job` event per changed chain job, for the pipeline page's job cards."""
    for job in jobs:
        await publish(
            conn,
            tenant_id,
            "etl_job",
            etl_job_id=job.id,
            name=job.name,
            status=job.status,
            run_id=job.run_id,
            next_run_at=job.next_run_at.isoformat() if job.next_run_at else None,
            retry_count=job.retry_count,
        )
