"""The job chain (etl_jobs): list, detail with recent runs, force start, pause, resume."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.auth.roles import Role
from app.db import Connection
from app.sqlstore import query
from app.web import control
from app.web.api_runs import RunOut
from app.web.pagination import Page, PageQuery, page_of
from app.web.routing import Call, Operation
from app.web.rows import row_or_404


class EtlJobOut(BaseModel):
    """A job of the tenant's chain (Jira → GitHub → Vectorization)."""

    id: int
    job_name: str
    provider: str
    integration_id: int | None
    execution_order: int
    status: str
    active: bool
    checkpoint_data: dict[str, Any]
    last_run_started_at: datetime | None
    last_success_at: datetime | None
    next_run_at: datetime | None
    retry_count: int
    error_message: str | None
    created_at: datetime
    updated_at: datetime


class EtlJobDetail(EtlJobOut):
    """A chain job with its five most recent runs."""

    recent_runs: list[RunOut]


async def job_detail(conn: Connection, job_id: int) -> EtlJobDetail:
    """A chain job of the tenant, or a 404."""
    row = await row_or_404(conn, "etl_job_detail", job_id, "job")
    cur = await conn.execute(query("etl_job_recent_runs"), {"id": job_id})
    runs = [RunOut.model_validate(r) for r in await cur.fetchall()]
    return EtlJobDetail.model_validate({**row, "recent_runs": runs})


async def list_jobs(call: Call) -> Page[EtlJobOut]:
    """GET /jobs: the chain in execution order."""
    q = call.query_as(PageQuery)
    async with call.tenant() as conn:
        cur = await conn.execute(query("etl_job_page"), q.page_params())
        rows = await cur.fetchall()
    return page_of(rows, q, EtlJobOut, key="execution_order")


async def get_job(call: Call) -> EtlJobDetail:
    """GET /jobs/{job_id}."""
    async with call.tenant() as conn:
        return await job_detail(conn, call.ids["job_id"])


JobAction = Callable[[Connection, int, int, str], Awaitable[Any]]


def _job_action(action: JobAction) -> Callable[[Call], Awaitable[EtlJobDetail]]:
    async def handler(call: Call) -> EtlJobDetail:
        job_id = call.ids["job_id"]
        async with call.tenant() as conn:
            await job_detail(conn, job_id)
            await action(conn, call.user.tenant_id, job_id, call.user.actor)
            return await job_detail(conn, job_id)

    handler.__doc__ = f"POST /jobs/{{job_id}}/{action.__name__}."
    return handler


def _action(name: str, action: JobAction, summary: str, status: int = 200) -> Operation:
    return Operation(
        "POST",
        f"/jobs/{{job_id}}/{name}",
        _job_action(action),
        f"{name.replace('-s', 'S')}Job",
        summary,
        "jobs",
        role=Role.OPERATOR,
        status=status,
        response=EtlJobDetail,
        errors=(409,),
    )


OPERATIONS = [
    Operation(
        "GET",
        "/jobs",
        list_jobs,
        "listJobs",
        "The job chain in execution order",
        "jobs",
        response=Page[EtlJobOut],
        query=PageQuery,
    ),
    Operation(
        "GET",
        "/jobs/{job_id}",
        get_job,
        "getJob",
        "One chain job with its recent runs",
        "jobs",
        response=EtlJobDetail,
    ),
    _action("force-start", control.force_start, "Start the job now (opens a run)", 202),
    _action(
        "pause", control.pause_job, "Pause the job: its live run, or the idle job until resumed"
    ),
    _action("resume", control.resume_job, "Resume a paused job"),
]
