"""Every dashboard route, in one list for the app."""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.pages import integrations, live, login, pipeline, raw, settings

ROUTES: list[BaseRoute] = [
    *login.ROUTES,
    *pipeline.ROUTES,
    *live.ROUTES,
    *raw.ROUTES,
    *integrations.ROUTES,
    *settings.ROUTES,
]
