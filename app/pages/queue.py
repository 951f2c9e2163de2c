"""The queue page: depth and oldest pending age by stage, the last hour's completions, and
the dead letters, which operators can send back to the queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from app.auth.roles import Role
from app.db import Connection
from app.pages.cards import STAGES
from app.pages.guard import PageCall, page
from app.pages.logs import positive_id
from app.pages.sparkline import sparkline
from app.sqlstore import query
from app.web import control
from app.web.problems import Problem, conflict, not_found

STATUSES = ("pending", "running", "paused", "failed", "completed", "cancelled")
DEAD_LETTERS_SHOWN = 100
MINUTES = 60
MAX_RETRY_IDS = DEAD_LETTERS_SHOWN


@dataclass(frozen=True)
class StageDepth:
    """One stage's queue jobs by status, and how long its oldest pending job has waited."""

    stage: str
    jobs: dict[str, int] = field(default_factory=dict)
    oldest_pending_s: float | None = None

    def count(self, status: str) -> int:
        return self.jobs.get(status, 0)


async def stage_depths(conn: Connection) -> list[StageDepth]:
    """The four stages (and any other job type found), in pipeline order."""
    cur = await conn.execute(query("queue_page_overview"))
    jobs: dict[str, dict[str, int]] = {stage: {} for stage in STAGES}
    oldest: dict[str, float] = {}
    for row in await cur.fetchall():
        jobs.setdefault(row["job_type"], {})[row["status"]] = int(row["jobs"])
        if row["oldest_pending_s"] is not None:
            oldest[row["job_type"]] = float(row["oldest_pending_s"])
    return [StageDepth(stage, counts, oldest.get(stage)) for stage, counts in jobs.items()]


def minute_series(rows: list[dict[str, Any]], now: datetime, minutes: int = MINUTES) -> list[int]:
    """Completions per minute for the `minutes` minutes up to `now`, oldest first."""
    last = now.replace(second=0, microsecond=0)
    first = last - timedelta(minutes=minutes - 1)
    by_minute = {row["minute"]: int(row["completed"]) for row in rows}
    return [by_minute.get(first + timedelta(minutes=i), 0) for i in range(minutes)]


async def queue_summary(conn: Connection, now: datetime) -> dict[str, Any]:
    """The part of the page that refreshes itself: depths, ages and throughput."""
    stages = await stage_depths(conn)
    cur = await conn.execute(query("queue_page_throughput"))
    series = minute_series(await cur.fetchall(), now)
    return {
        "stages": stages,
        "statuses": STATUSES,
        "spark": sparkline(series),
        "dead_letter_count": sum(s.count("failed") for s in stages),
    }


async def dead_letters(conn: Connection) -> dict[str, Any]:
    """The most recently failed queue jobs."""
    cur = await conn.execute(query("queue_page_dead_letters"), {"limit": DEAD_LETTERS_SHOWN + 1})
    rows = await cur.fetchall()
    return {"dead_letters": rows[:DEAD_LETTERS_SHOWN], "more_dead": len(rows) > DEAD_LETTERS_SHOWN}


def chosen_ids(call: PageCall) -> list[int]:
    """The dead letters a retry names: one row's button, else the ticked boxes."""
    only = call.form.get("only", "").strip()
    values = [only] if only else call.form_lists.get("selected", [])
    if len(values) > MAX_RETRY_IDS:
        raise Problem(422, f"retry at most {MAX_RETRY_IDS} queue jobs at once")
    ids = [positive_id(value) for value in values]
    if any(i is None for i in ids):
        raise Problem(422, "queue job ids are whole numbers: reload the page and try again")
    return sorted({i for i in ids if i is not None})


async def retry_dead_letters(
    conn: Connection, tenant_id: int, ids: list[int], actor: str
) -> list[int]:
    """Send the failed queue jobs back to the queue; the ids that are pending again."""
    cur = await conn.execute(query("queue_page_job_status"), {"ids": ids})
    status = {row["id"]: row["status"] for row in await cur.fetchall()}
    for job_id in ids:
        if job_id not in status:
            raise not_found("queue job", job_id)
        if status[job_id] != "failed":
            raise conflict(
                f"queue job {job_id} is {status[job_id]}: only failed jobs can be retried"
            )
    await control.retry_queue_jobs(conn, tenant_id, tuple(ids), actor)
    cur = await conn.execute(query("queue_page_job_status"), {"ids": ids})
    return sorted(row["id"] for row in await cur.fetchall() if row["status"] == "pending")


def retry_notice(ids: list[int], retried: list[int]) -> str:
    """What the retry did, in words."""
    done = f"{len(retried)} queue job{'s' if len(retried) != 1 else ''} back in the queue"
    if len(retried) == len(ids):
        return done
    return f"{done}; the others belong to a cancelled or paused run and stay failed"


@page()
async def queue_page(call: PageCall) -> Response:
    """GET /queue."""
    async with call.tenant() as conn:
        summary = await queue_summary(conn, call.now())
        letters = await dead_letters(conn)
    return call.page("queue.html", **summary, **letters, retry_error=None)


@page()
async def queue_summary_section(call: PageCall) -> Response:
    """GET /queue/summary: the depths and throughput, polled every few seconds."""
    async with call.tenant() as conn:
        summary = await queue_summary(conn, call.now())
    return call.fragment("_queue_summary.html", **summary)


@page()
async def dead_letters_section(call: PageCall) -> Response:
    """GET /queue/dead-letters: the dead letters table, reloaded on request."""
    async with call.tenant() as conn:
        letters = await dead_letters(conn)
    return call.fragment("_queue_dead_letters.html", **letters, retry_error=None)


@page(Role.OPERATOR)
async def retry_action(call: PageCall) -> Response:
    """POST /queue/retry: retry one dead letter (`only`) or the ticked ones (`selected`)."""
    ids = chosen_ids(call)
    if not ids:
        async with call.tenant() as conn:
            summary = await queue_summary(conn, call.now())
            letters = await dead_letters(conn)
        return call.page_or_fragment(
            "queue.html",
            "_queue_dead_letters.html",
            status=422,
            **summary,
            **letters,
            retry_error="Tick at least one dead letter to retry.",
        )
    async with call.tenant() as conn:
        retried = await retry_dead_letters(conn, call.user.tenant_id, ids, call.user.actor)
    async with call.tenant() as conn:
        letters = await dead_letters(conn)
    return call.after_action(
        "/queue",
        "_queue_dead_letters.html",
        **letters,
        retry_error=None,
        notice=retry_notice(ids, retried),
    )


ROUTES = [
    Route("/queue", queue_page, methods=["GET"], name="queue"),
    Route("/queue/summary", queue_summary_section, methods=["GET"], name="queue_summary"),
    Route("/queue/dead-letters", dead_letters_section, methods=["GET"], name="dead_letters"),
    Route("/queue/retry", retry_action, methods=["POST"], name="queue_retry"),
]
