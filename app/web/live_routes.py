"""`GET /events`: the tenant's live events as server-sent events (see app/live)."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Route

from app.auth.request import authenticate
from app.live.hub import EventHub
from app.live.sse import sse_endpoint
from app.services import utc_now
from app.web.state import web_state


def live_hub(request: HTTPConnection) -> EventHub:
    """The web process's one LISTEN hub."""
    hub = web_state(request).live
    assert isinstance(hub, EventHub), "the app's lifespan did not start the event hub"
    return hub


async def live_tenant(request: HTTPConnection) -> int | None:
    """The signed-in user's tenant (session or bearer token); None answers 401."""
    state = web_state(request)
    principal = await authenticate(request, state.pool, state.sessions, utc_now())
    return None if principal is None else principal.tenant_id


ROUTES: list[BaseRoute] = [Route("/events", sse_endpoint(live_hub, live_tenant))]
