"""The pages' live streams: server-sent events named for the element that listens.

`/live/pipeline` turns each event into a trigger for one job card: `job-<id>` (the chain
job changed, or its run started or ended) or `run-<id>` (progress of a run's queue
jobs). The card re-renders itself from the database on its event, so an update always
shows the committed state, and a `refresh` (after a gap) re-renders every card.

`/live/run?run=<id>&after=<line id>` serves the run page: its log lines as rows under
`run-log-<id>` and every other event of the run (progress, queue job, run, chain job) as
the trigger `run-<id>`. `/live/logs?<the logs page's filters>&after=<line id>` sends the
lines that pass the page's filter as rows under `log`.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from app.live.model import LiveEvent
from app.live.sse import EventFilter, Frame, sse_endpoint
from app.pages.logs import log_row, log_stream_filter, positive_id, stream_position
from app.web.live_routes import live_hub, live_tenant


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pipeline_trigger(event: LiveEvent) -> Frame | None:
    """The card trigger an event becomes, or None (not a card's concern)."""
    data = event.data
    if event.kind in ("etl_job", "run") and (job_id := _int(data.get("etl_job_id"))):
        return Frame(f"job-{job_id}", event.id)
    if event.kind in ("progress", "job") and (run_id := _int(data.get("run_id"))):
        return Frame(f"run-{run_id}", event.id)
    return None


def run_frame(event: LiveEvent) -> Frame | None:
    """A run's log line as its row (`run-log-<id>`), any other event of it as `run-<id>`."""
    run_id = _int(event.data.get("run_id"))
    if run_id is None:
        return None
    if event.kind == "log" and (row := log_row(event)) is not None:
        return Frame(f"run-log-{run_id}", row)
    return Frame(f"run-{run_id}", event.id)


async def run_stream_filter(request: Request, tenant_id: int) -> EventFilter:
    """`/live/run`: the events of one run, without the lines its page already shows."""
    run_id = positive_id(request.query_params.get("run", ""))
    if run_id is None:
        raise HTTPException(400, "run is the id of the run whose events to stream")
    after = stream_position(request.query_params)

    def accept(event: LiveEvent) -> bool:
        if _int(event.data.get("run_id")) != run_id:
            return False
        line_id = _int(event.data.get("id")) if event.kind == "log" else None
        return line_id is None or line_id > after

    return accept


ROUTES: list[BaseRoute] = [
    Route("/live/pipeline", sse_endpoint(live_hub, live_tenant, render=pipeline_trigger)),
    Route(
        "/live/run",
        sse_endpoint(live_hub, live_tenant, render=run_frame, select=run_stream_filter),
    ),
    Route(
        "/live/logs",
        sse_endpoint(live_hub, live_tenant, render=log_row, select=log_stream_filter),
    ),
]
