"""The pipeline page: the tenant's job chain as live cards with their controls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.routing import Route

from app.auth.roles import Role
from app.db import Connection
from app.pages.cards import job_cards
from app.pages.guard import PageCall, page
from app.pages.runs import run_summary
from app.web import control
from app.web.problems import Problem, not_found
from app.web.rows import row_or_404

JobAction = Callable[[Connection, int, int, str], Awaitable[object]]

JOB_ACTIONS: dict[str, tuple[JobAction, str]] = {
    "force-start": (control.force_start, "started"),
    "pause": (control.pause_job, "paused"),
    "resume": (control.resume_job, "resumed"),
}
RUN_ACTIONS: dict[str, tuple[JobAction, str]] = {
    "pause": (control.pause_run, "paused"),
    "resume": (control.resume_run, "resumed"),
    "cancel": (control.cancel_run, "cancelled"),
    "retry": (control.retry_run, "retrying its failed jobs"),
}


@page()
async def pipeline_page(call: PageCall) -> Response:
    """GET /: the chain, in execution order."""
    async with call.tenant() as conn:
        cards = await job_cards(conn)
    return call.page("pipeline.html", cards=cards)


async def _card(conn: Connection, job_id: int) -> dict[str, object]:
    cards = await job_cards(conn, job_id)
    if not cards:
        raise not_found("job", job_id)
    return cards[0]


@page()
async def job_card(call: PageCall) -> Response:
    """GET /pipeline/jobs/{job_id}/card: one card, re-rendered on its live events."""
    async with call.tenant() as conn:
        card = await _card(conn, call.path_id("job_id"))
    return call.fragment("_job_card.html", card=card)


@page(Role.OPERATOR)
async def job_action(call: PageCall) -> Response:
    """POST /pipeline/jobs/{job_id}/{action}: force start, pause or resume a chain job."""
    job_id = call.path_id("job_id")
    action, done = _known(JOB_ACTIONS, call.request.path_params["action"])
    async with call.tenant() as conn:
        await row_or_404(conn, "etl_job_detail", job_id, "job")
        await action(conn, call.user.tenant_id, job_id, call.user.actor)
        card = await _card(conn, job_id)  # as this transaction commits it
    return call.after_action("/", "_job_card.html", card=card, notice=f"{card['job_name']} {done}")


@page(Role.OPERATOR)
async def run_action(call: PageCall) -> Response:
    """POST /pipeline/runs/{run_id}/{action}: pause, resume, cancel or retry a run."""
    run_id = call.path_id("run_id")
    action, done = _known(RUN_ACTIONS, call.request.path_params["action"])
    async with call.tenant() as conn:
        row = await row_or_404(conn, "run_detail", run_id, "run")
        await action(conn, call.user.tenant_id, run_id, call.user.actor)
    if row["etl_job_id"] is None or call.form.get("return") == "run":
        async with call.tenant() as conn:
            summary = await run_summary(conn, run_id, call.now())
        return call.after_action(
            f"/runs/{run_id}", "_run_summary.html", **summary, notice=f"Run {run_id} {done}"
        )
    async with call.tenant() as conn:
        card = await _card(conn, row["etl_job_id"])
    return call.after_action("/", "_job_card.html", card=card, notice=f"Run {run_id} {done}")


def _known(actions: dict[str, tuple[JobAction, str]], name: str) -> tuple[JobAction, str]:
    if name not in actions:
        raise Problem(404, f"there is no action {name!r}: use one of {', '.join(actions)}")
    return actions[name]


ROUTES = [
    Route("/", pipeline_page, methods=["GET"], name="pipeline"),
    Route("/pipeline/jobs/{job_id:int}/card", job_card, methods=["GET"], name="job_card"),
    Route("/pipeline/jobs/{job_id:int}/{action}", job_action, methods=["POST"], name="job_action"),
    Route("/pipeline/runs/{run_id:int}/{action}", run_action, methods=["POST"], name="run_action"),
]
