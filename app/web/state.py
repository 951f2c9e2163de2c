"""What the lifespan hands to every request: the pool, the services and the auth helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool
from starlette.requests import HTTPConnection

from app.auth.csrf import CsrfTokens
from app.auth.sessions import SessionCookies
from app.auth.throttle import LoginThrottle
from app.db import Connection
from app.services import Services


@dataclass(frozen=True)
class WebState:
    """The web process's shared objects, created by the lifespan (no module globals)."""

    pool: AsyncConnectionPool[Connection]
    services: Services
    throttle: LoginThrottle
    sessions: SessionCookies
    csrf: CsrfTokens
    metrics_token: str | None = None
    live: Any = None  # app.live.hub.EventHub: the tenant-filtered live events


def web_state(request: HTTPConnection) -> WebState:
    """The lifespan's state for this request."""
    state = request.state.web
    assert isinstance(state, WebState), "the app's lifespan did not run"
    return state
