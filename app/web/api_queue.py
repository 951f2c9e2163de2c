"""Queue jobs (etl_job_queue): list with filters, detail, retry, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.auth.roles import Role
from app.db import Connection
from app.queue import ops
from app.sqlstore import query
from app.web import control
from app.web.pagination import Page, PageQuery, RowId, page_of
from app.web.problems import conflict
from app.web.routing import Call, Operation
from app.web.rows import row_or_404

JobType = Literal["extract", "transform", "load", "vectorize"]
JobStatus = Literal["pending", "running", "completed", "failed", "cancelled", "paused"]


class QueueJobOut(BaseModel):
    """A queue job as listed (without its payload)."""

    id: int
    run_id: int | None
    etl_job_id: int | None
    integration_id: int | None
    job_type: JobType
    entity_type: str
    priority: int
    status: JobStatus
    scheduled_at: datetime
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    heartbeat_at: datetime | None
    locked_by: str | None
    progress: dict[str, Any]
    last_error: str | None
    retry_count: int
    max_retries: int


class QueueJobDetail(QueueJobOut):
    """A queue job with its payload and every attempt's error."""

    payload: dict[str, Any]
    error_details: list[Any]


class QueueListQuery(PageQuery):
    """Filters of the queue list (newest first)."""

    status: JobStatus | None = None
    job_type: JobType | None = None
    run_id: RowId | None = None
    entity_type: str | None = Field(None, max_length=100)


async def queue_job(conn: Connection, job_id: int) -> QueueJobDetail:
    """A queue job of the tenant, or a 404."""
    row = await row_or_404(conn, "queue_job_detail", job_id, "queue job")
    return QueueJobDetail.model_validate(row)


async def list_queue_jobs(call: Call) -> Page[QueueJobOut]:
    """GET /queue/jobs."""
    q = call.query_as(QueueListQuery)
    async with call.tenant() as conn:
        cur = await conn.execute(
            query("queue_job_page"),
            {
                **q.page_params(),
                "status": q.status,
                "job_type": q.job_type,
                "run_id": q.run_id,
                "entity_type": q.entity_type,
            },
        )
        rows = await cur.fetchall()
    return page_of(rows, q, QueueJobOut)


async def get_queue_job(call: Call) -> QueueJobDetail:
    """GET /queue/jobs/{queue_job_id}."""
    async with call.tenant() as conn:
        return await queue_job(conn, call.ids["queue_job_id"])


async def retry_queue_job(call: Call) -> QueueJobDetail:
    """POST /queue/jobs/{queue_job_id}/retry: a dead-lettered job runs again."""
    job_id, tenant_id = call.ids["queue_job_id"], call.user.tenant_id
    async with call.tenant() as conn:
        job = await queue_job(conn, job_id)
        if job.status != "failed":
            raise conflict(f"queue job {job_id} is {job.status}: only failed jobs can be retried")
        await control.retry_queue_jobs(conn, tenant_id, (job_id,), call.user.actor)
        return await queue_job(conn, job_id)


async def cancel_queue_job(call: Call) -> QueueJobDetail:
    """POST /queue/jobs/{queue_job_id}/cancel: a pending or paused job will not run."""
    job_id, tenant_id = call.ids["queue_job_id"], call.user.tenant_id
    async with call.tenant() as conn:
        job = await queue_job(conn, job_id)
        if job.status not in ("pending", "paused"):
            raise conflict(
                f"queue job {job_id} is {job.status}: only pending or paused jobs can be "
                "cancelled (a running job finishes its attempt; cancel its run to stop it)"
            )
        await ops.cancel(conn, ops.JobFilter(tenant_id=tenant_id, job_ids=(job_id,)))
        if job.run_id is not None:
            await control.close_run(conn, tenant_id, job.run_id)
        return await queue_job(conn, job_id)


OPERATIONS = [
    Operation(
        "GET",
        "/queue/jobs",
        list_queue_jobs,
        "listQueueJobs",
        "List queue jobs, newest first, by status, stage, run or entity",
        "queue",
        response=Page[QueueJobOut],
        query=QueueListQuery,
    ),
    Operation(
        "GET",
        "/queue/jobs/{queue_job_id}",
        get_queue_job,
        "getQueueJob",
        "One queue job with its payload and errors",
        "queue",
        response=QueueJobDetail,
    ),
    Operation(
        "POST",
        "/queue/jobs/{queue_job_id}/retry",
        retry_queue_job,
        "retryQueueJob",
        "Retry a dead-lettered job with a fresh retry budget (its failed run reopens)",
        "queue",
        role=Role.OPERATOR,
        response=QueueJobDetail,
        errors=(409,),
    ),
    Operation(
        "POST",
        "/queue/jobs/{queue_job_id}/cancel",
        cancel_queue_job,
        "cancelQueueJob",
        "Cancel a pending or paused job",
        "queue",
        role=Role.OPERATOR,
        response=QueueJobDetail,
        errors=(409,),
    ),
]
