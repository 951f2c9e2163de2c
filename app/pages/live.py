"""The pages' live streams: server-sent events named for the element that listens.

`/live/pipeline` turns each event into a trigger for one job card: `job-<id>` (the chain
job changed, or its run started or ended) or `run-<id>` (progress of a run's queue
jobs). The card re-renders itself from the database on its event, so an update always
shows the committed state, and a `refresh` (after a gap) re-renders every card.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from app.live.model import LiveEvent
from app.live.sse import Frame, sse_endpoint
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


ROUTES: list[BaseRoute] = [
    Route("/live/pipeline", sse_endpoint(live_hub, live_tenant, render=pipeline_trigger)),
]
