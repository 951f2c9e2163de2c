"""The run page: one run's status, stages, queue jobs and log lines, live, with its controls.

The status section re-renders from the database on the run's live triggers (`run-<id>`
for progress, queue job and run events, `run-log-<id>` for its log lines, which also
carry every control action); log lines stream in at the bottom. The controls post to the
pipeline's run actions with `return=run`, which answer with this page's status section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import Route

from app.db import Connection
from app.pages.cards import LIVE_RUN, STAGES, RunCounts, StageCount, run_counts
from app.pages.guard import PageCall, page
from app.pages.logs import page_line
from app.sqlstore import query
from app.web.pagination import PageQuery
from app.web.problems import Problem
from app.web.rows import row_or_404

QUEUE_PAGE_SIZE = 50
LOG_TAIL = 200


@dataclass(frozen=True)
class StageRow:
    """One stage of the run as its table shows it."""

    name: str
    count: StageCount
    duration: timedelta | None


def _elapsed(start: datetime | None, end: datetime | None, now: datetime) -> timedelta | None:
    return None if start is None else (end or now) - start


def stage_rows(counts: RunCounts, now: datetime) -> list[StageRow]:
    """The four stages in order; a stage with open jobs has lasted until now so far."""
    rows = []
    for name in STAGES:
        count = counts.stage(name)
        end = count.completed_at if count.open == 0 else None
        rows.append(StageRow(name, count, _elapsed(count.started_at, end, now)))
    return rows


async def run_summary(conn: Connection, run_id: int, now: datetime) -> dict[str, Any]:
    """What the status section shows (404 for an unknown or another tenant's run)."""
    run = await row_or_404(conn, "run_page_summary", run_id, "run")
    counts = (await run_counts(conn, [run_id])).get(run_id) or RunCounts()
    return {
        "run": run,
        "counts": counts,
        "stages": stage_rows(counts, now),
        "duration": _elapsed(run["started_at"], run["finished_at"], now),
        "live": run["status"] in LIVE_RUN,
    }


def queue_cursor(call: PageCall) -> PageQuery:
    """The queue table's page (422 for a cursor that is not one of ours)."""
    try:
        return PageQuery(limit=QUEUE_PAGE_SIZE, cursor=call.request.query_params.get("cursor"))
    except ValidationError:
        raise Problem(422, "cursor is the queue table's next-page id: follow its link") from None


def attempts(job: dict[str, Any]) -> int:
    """Attempts a queue job has made: each failure counts one retry; a running or completed
    job adds the attempt in hand."""
    return int(job["retry_count"]) + (1 if job["status"] in ("running", "completed") else 0)


async def run_queue_jobs(conn: Connection, run_id: int, paging: PageQuery) -> dict[str, Any]:
    """One page of the run's queue jobs, newest first, and the next page's cursor."""
    cur = await conn.execute(
        query("queue_job_page"),
        {
            **paging.page_params(),
            "status": None,
            "job_type": None,
            "run_id": run_id,
            "entity_type": None,
        },
    )
    rows = [{**row, "attempts": attempts(row)} for row in await cur.fetchall()]
    more = len(rows) > paging.limit
    return {
        "queue_jobs": rows[: paging.limit],
        "queue_next": rows[paging.limit - 1]["id"] if more else None,
        "queue_first": paging.cursor is None,
    }


async def run_log_tail(conn: Connection, run_id: int) -> dict[str, Any]:
    """The run's newest log lines, newest last, and where its stream takes over."""
    cur = await conn.execute(query("log_run_tail"), {"run_id": run_id, "limit": LOG_TAIL})
    lines = [page_line(row) for row in await cur.fetchall()]
    newest = max((line["id"] for line in lines), default=0)
    return {
        "lines": lines,
        "lines_cut": len(lines) >= LOG_TAIL,
        "live_url": f"/live/run?run={run_id}&after={newest}",
    }


async def run_sections(call: PageCall, paging: PageQuery) -> dict[str, Any]:
    """Everything the page shows: status, a page of queue jobs, the log tail."""
    run_id = call.path_id("run_id")
    async with call.tenant() as conn:
        summary = await run_summary(conn, run_id, call.now())
        jobs = await run_queue_jobs(conn, run_id, paging)
        tail = await run_log_tail(conn, run_id)
    return {**summary, **jobs, **tail}


@page()
async def run_page(call: PageCall) -> Response:
    """GET /runs/{run_id}?cursor=: the whole page (the cursor pages the queue jobs)."""
    return call.page("run.html", **await run_sections(call, queue_cursor(call)))


@page()
async def run_live(call: PageCall) -> Response:
    """GET /runs/{run_id}/live: the sections with a fresh stream, after a `refresh` (when
    live events may have been missed)."""
    return call.fragment("_run_live.html", **await run_sections(call, queue_cursor(call)))


@page()
async def run_summary_section(call: PageCall) -> Response:
    """GET /runs/{run_id}/summary: the status section, re-fetched on the run's triggers."""
    async with call.tenant() as conn:
        summary = await run_summary(conn, call.path_id("run_id"), call.now())
    return call.fragment("_run_summary.html", **summary)


@page()
async def run_queue_section(call: PageCall) -> Response:
    """GET /runs/{run_id}/queue?cursor=: one page of the queue jobs table."""
    run_id = call.path_id("run_id")
    paging = queue_cursor(call)
    async with call.tenant() as conn:
        run = await row_or_404(conn, "run_page_summary", run_id, "run")
        jobs = await run_queue_jobs(conn, run_id, paging)
    return call.fragment("_run_queue.html", run=run, **jobs)


ROUTES = [
    Route("/runs/{run_id:int}", run_page, methods=["GET"], name="run"),
    Route("/runs/{run_id:int}/live", run_live, methods=["GET"], name="run_live"),
    Route("/runs/{run_id:int}/summary", run_summary_section, methods=["GET"], name="run_summary"),
    Route("/runs/{run_id:int}/queue", run_queue_section, methods=["GET"], name="run_queue"),
]
