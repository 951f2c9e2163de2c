"""RFC 9457 problem details: every error the web process returns has this body."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:sluice:problem:"


class Problem(Exception):
    """An error answer: status, a short title, a detail saying what to do, and extensions."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.kind = kind
        self.headers = headers or {}
        self.extensions = extensions


def not_found(what: str, ident: int | str) -> Problem:
    """The 404 for an id this tenant cannot see (another tenant's ids look the same)."""
    return Problem(404, f"{what} {ident} does not exist", kind="not-found")


def conflict(detail: str) -> Problem:
    """A 409: the resource's state does not allow the action."""
    return Problem(409, detail, kind="conflict")


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    """The problem+json response for `problem`."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.kind if problem.kind else "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    body.update(problem.extensions)
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


HTTP_DETAILS = {
    404: "no such route: check the path against /api/v1/openapi.json",
    405: "this route does not accept the method: see the Allow header",
}


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown route 404, 405) as problem details."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else ""
    problem = Problem(
        exc.status_code,
        detail or HTTP_DETAILS.get(exc.status_code, HTTPStatus(exc.status_code).phrase),
        headers=dict(exc.headers or {}),
    )
    return problem_response(problem, request.url.path)


async def problem_handler(request: Request, exc: Exception) -> Response:
    """A Problem raised outside the API wrapper."""
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


def internal_error(request_path: str, exc: BaseException) -> Response:
    """Log an unexpected error (redacted, with its traceback) and answer 500 without details."""
    structlog.get_logger("sluice.web").error(
        "unhandled error", path=request_path, error_type=type(exc).__name__, exc_info=exc
    )
    return problem_response(
        Problem(500, "the server failed to handle this request; the error is logged"),
        request_path,
    )


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """The last resort for errors outside the API wrapper: a 500 problem, no stack trace."""
    return internal_error(request.url.path, exc)
