"""The web application: `create_app(settings)` wires routes, middleware and the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from app.auth.csrf import CsrfTokens
from app.auth.sessions import SessionCookies
from app.auth.throttle import LoginThrottle
from app.config import Settings
from app.db import open_pool, resolve_database_url
from app.live.hub import EventHub
from app.pages.routes import ROUTES as PAGE_ROUTES
from app.services import open_services
from app.stages import close_vector_stores
from app.web import api, forms, health, live_routes, metrics
from app.web.problems import (
    Problem,
    http_exception_handler,
    problem_handler,
    server_error_handler,
)
from app.web.routing import build_routes
from app.web.security import AccessLogMiddleware, CsrfCookieMiddleware, SecurityHeadersMiddleware
from app.web.state import WebState

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


def routes(extra: Sequence[BaseRoute] = ()) -> list[BaseRoute]:
    """Health, metrics, login forms, the pages, `extra`, the API and the static assets."""
    found: list[BaseRoute] = [
        *health.ROUTES,
        *metrics.ROUTES,
        *forms.ROUTES,
        *live_routes.ROUTES,
        *PAGE_ROUTES,
        *extra,
        *build_routes(api.OPERATIONS),
    ]
    if STATIC_DIR.is_dir():
        found.append(Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"))
    return found


def create_app(
    settings: Settings,
    *,
    database_url: str | None = None,
    metrics_token: str | None = None,
    pool_size: int = 10,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The app (plus `extra_routes`: pages, events); its lifespan opens pool and services."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        url = database_url
        if url is None:
            url = await asyncio.to_thread(resolve_database_url, settings)
        pool = await open_pool(url, max_size=pool_size, name="sluice-web")
        try:
            async with open_services(settings) as services, EventHub(url) as hub:
                app.state.live_hub = hub
                state = WebState(
                    pool=pool,
                    services=services,
                    throttle=LoginThrottle(),
                    sessions=SessionCookies(settings.secret_key),
                    csrf=CsrfTokens(settings.secret_key),
                    metrics_token=metrics_token or None,
                    live=hub,
                )
                yield {"pool": pool, "services": services, "web": state}
        finally:
            await pool.close()
            await close_vector_stores()  # if a search opened Qdrant

    return Starlette(
        routes=routes(extra_routes),
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(CsrfCookieMiddleware, csrf=CsrfTokens(settings.secret_key)),
        ],
        exception_handlers={
            HTTPException: http_exception_handler,
            Problem: problem_handler,
            Exception: server_error_handler,
        },
        lifespan=lifespan,
    )
