"""ETL runs: list, detail with queue counts, and control (pause, resume, cancel, retry)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from app.auth.roles import Role
from app.db import Connection
from app.sqlstore import query
from app.web import control
from app.web.pagination import Page, PageQuery, RowId, page_of
from app.web.routing import Call, Operation
from app.web.rows import row_or_404

RunStatus = Literal["running", "finished", "failed", "cancelled", "paused"]


class RunOut(BaseModel):
    """One run of a sync, a reprocess or an ingest."""

    id: int
    etl_job_id: int | None
    integration_id: int | None
    status: str
    trigger: str
    triggered_by: str | None
    started_at: datetime
    finished_at: datetime | None
    stats: dict[str, Any]
    error_message: str | None


class StageCount(BaseModel):
    """Queue jobs of a run in one stage and status, with the records they handled."""

    job_type: str
    status: str
    jobs: int
    records: int


class RunDetail(RunOut):
    """A run with its queue jobs counted by stage and status."""

    queue: list[StageCount]


class RunListQuery(PageQuery):
    """Filters of the run list (newest first)."""

    status: RunStatus | None = None
    etl_job_id: RowId | None = None
    integration_id: RowId | None = None


async def run_detail(conn: Connection, tenant_id: int, run_id: int) -> RunDetail:
    """A run of the tenant with its queue counts, or a 404."""
    row = await row_or_404(conn, "run_detail", run_id, "run")
    cur = await conn.execute(query("run_progress"), {"tenant_id": tenant_id, "run_id": run_id})
    counts = [StageCount.model_validate(r) for r in await cur.fetchall()]
    return RunDetail.model_validate({**row, "queue": counts})


async def list_runs(call: Call) -> Page[RunOut]:
    """GET /runs."""
    q = call.query_as(RunListQuery)
    async with call.tenant() as conn:
        cur = await conn.execute(
            query("run_page"),
            {
                **q.page_params(),
                "status": q.status,
                "etl_job_id": q.etl_job_id,
                "integration_id": q.integration_id,
            },
        )
        rows = await cur.fetchall()
    return page_of(rows, q, RunOut)


async def get_run(call: Call) -> RunDetail:
    """GET /runs/{run_id}."""
    async with call.tenant() as conn:
        return await run_detail(conn, call.user.tenant_id, call.ids["run_id"])


RunAction = Callable[[Connection, int, int, str], Awaitable[Any]]


def _run_action(action: RunAction) -> Callable[[Call], Awaitable[RunDetail]]:
    async def handler(call: Call) -> RunDetail:
        run_id, tenant_id = call.ids["run_id"], call.user.tenant_id
        async with call.tenant() as conn:
            await run_detail(conn, tenant_id, run_id)
            await action(conn, tenant_id, run_id, call.user.actor)
            return await run_detail(conn, tenant_id, run_id)

    handler.__doc__ = f"POST /runs/{{run_id}}/{action.__name__}."
    return handler


def _action(name: str, action: RunAction, summary: str) -> Operation:
    return Operation(
        "POST",
        f"/runs/{{run_id}}/{name}",
        _run_action(action),
        f"{name}Run",
        summary,
        "runs",
        role=Role.OPERATOR,
        response=RunDetail,
        errors=(409,),
    )


OPERATIONS = [
    Operation(
        "GET",
        "/runs",
        list_runs,
        "listRuns",
        "List runs, newest first",
        "runs",
        response=Page[RunOut],
        query=RunListQuery,
    ),
    Operation(
        "GET",
        "/runs/{run_id}",
        get_run,
        "getRun",
        "One run with its queue jobs counted by stage and status",
        "runs",
        response=RunDetail,
    ),
    _action("pause", control.pause_run, "Pause a run: its pending jobs wait, running ones park"),
    _action("resume", control.resume_run, "Resume a paused run"),
    _action("cancel", control.cancel_run, "Cancel a run and its open jobs"),
    _action("retry", control.retry_run, "Retry a run's failed jobs from their checkpoints"),
]
