"""The check a running handler makes between two pages: has its run been paused or cancelled?

A page's transaction calls `park_if_run_stopped` after writing the page and its checkpoint.
When the run was paused, the queue job goes back to `paused` in that same transaction (its
checkpoint kept, no attempt counted) and resumes from it when the run is resumed; when the
run was cancelled, the job is `cancelled`. The handler then returns without fetching more.
"""

from __future__ import annotations

import structlog

from app.db import Connection
from app.events import job_log
from app.queue.context import JobContext
from app.sqlstore import query

log = structlog.get_logger("sluice.orchestrator")


async def park_if_run_stopped(conn: Connection, ctx: JobContext) -> bool:
    """In the page's transaction: True when the job was parked and the handler must return."""
    job = ctx.job
    if job.run_id is None:
        return False
    cur = await conn.execute(
        query("control_job_park"),
        {"tenant_id": job.tenant_id, "id": job.id, "worker": ctx.worker},
    )
    row = await cur.fetchone()
    if row is None:
        return False
    ctx.completed = True  # the job has left `running`: the worker must not complete it
    how = "paused" if row["status"] == "paused" else "cancelled"
    await job_log(
        conn,
        job.tenant_id,
        "info",
        f"{job.job_type} job {job.id} {how} after its current page (its run was {how})",
        run_id=job.run_id,
        queue_job_id=job.id,
        context={"checkpoint": ctx.progress.get("checkpoint")},
    )
    log.info("job parked after its page", run_id=job.run_id, status=row["status"])
    return True
