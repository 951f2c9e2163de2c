"""Every dashboard route, in one list for the app."""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.pages import (
    admin,
    flow,
    integrations,
    live,
    login,
    logs,
    pipeline,
    queue,
    raw,
    runs,
    search,
    settings,
)

ROUTES: list[BaseRoute] = [
    *login.ROUTES,
    *pipeline.ROUTES,
    *live.ROUTES,
    *raw.ROUTES,
    *search.ROUTES,
    *flow.ROUTES,
    *integrations.ROUTES,
    *runs.ROUTES,
    *logs.ROUTES,
    *queue.ROUTES,
    *settings.ROUTES,
    *admin.ROUTES,
]
