"""Every /api/v1 operation, and the OpenAPI document built from them."""

from __future__ import annotations

import functools
from typing import Any

import orjson
from starlette.responses import Response

from app.web import (
    api_auth,
    api_ingest,
    api_integrations,
    api_jobs,
    api_queue,
    api_raw,
    api_runs,
    api_search,
    api_settings,
    api_tokens,
    api_users,
)
from app.web.openapi import openapi_document
from app.web.routing import Call, Operation


async def openapi_json(call: Call) -> Response:
    """GET /openapi.json: this API's OpenAPI 3.1 document."""
    return Response(orjson.dumps(document()), media_type="application/json")


OPERATIONS: list[Operation] = [
    *api_auth.OPERATIONS,
    *api_users.OPERATIONS,
    *api_tokens.OPERATIONS,
    *api_integrations.OPERATIONS,
    *api_jobs.OPERATIONS,
    *api_runs.OPERATIONS,
    *api_queue.OPERATIONS,
    *api_raw.OPERATIONS,
    *api_ingest.OPERATIONS,
    *api_settings.OPERATIONS,
    *api_search.OPERATIONS,
    Operation("GET", "/openapi.json", openapi_json, "getOpenApi", "This OpenAPI document", "meta"),
]


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document (built once per process)."""
    return openapi_document(OPERATIONS)
