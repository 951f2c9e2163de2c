"""API operations: one table drives both the Starlette routes and the OpenAPI document.

Every operation goes through the same steps: authenticate (session cookie or bearer token),
check CSRF for cookie-authenticated writes, check the role, validate the path ids, query
and body, then run the handler. Errors at any step are problem details.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import orjson
import structlog
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.auth.csrf import CSRF_COOKIE, CSRF_HEADER, SAFE_METHODS
from app.auth.request import authenticate
from app.auth.roles import Principal, Role
from app.db import Connection, tenant_transaction
from app.web.problems import Problem, internal_error, problem_response
from app.web.state import WebState, web_state

API_PREFIX = "/api/v1"
DEFAULT_MAX_BODY = 1024 * 1024
MAX_ID = 2**63 - 1
_PATH_PARAM = re.compile(r"{([a-z_]+)}")

M = TypeVar("M", bound=BaseModel)
Result = BaseModel | Response | None
Handler = Callable[["Call"], Awaitable[Result]]


@dataclass(frozen=True)
class Operation:
    """One API operation: route, handler, required role, inputs and documented answers."""

    method: str
    path: str  # under /api/v1, with integer ids as {name}: "/runs/{run_id}"
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    role: Role | None = Role.VIEWER  # None: anonymous (login only)
    status: int = 200
    response: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    description: str = ""

    @property
    def full_path(self) -> str:
        """The path as served."""
        return API_PREFIX + self.path

    @property
    def path_params(self) -> list[str]:
        """The integer ids in the path, in order."""
        return _PATH_PARAM.findall(self.path)

    def statuses(self) -> list[int]:
        """Every status this operation documents."""
        codes = {self.status}
        if self.role is not None:
            codes.add(401)
            if self.role is not Role.VIEWER or self.method not in SAFE_METHODS:
                codes.add(403)  # a role above viewer, or a CSRF check
        if self.path_params:
            codes.add(404)
        if self.query is not None:
            codes.add(422)
        if self.body is not None:
            codes |= {400, 413, 415, 422}
        return sorted(codes | set(self.errors))


@dataclass
class Call:
    """One request to an operation, after authentication and validation."""

    request: Request
    state: WebState
    principal: Principal | None
    ids: dict[str, int] = field(default_factory=dict)
    query: BaseModel | None = None
    body: BaseModel | None = None

    @property
    def user(self) -> Principal:
        """The authenticated caller (every operation but login has one)."""
        assert self.principal is not None
        return self.principal

    def query_as(self, model: type[M]) -> M:
        """The validated query parameters."""
        assert isinstance(self.query, model)
        return self.query

    def body_as(self, model: type[M]) -> M:
        """The validated JSON body."""
        assert isinstance(self.body, model)
        return self.body

    def now(self) -> datetime:
        """The services' clock."""
        return self.state.services.clock()

    @asynccontextmanager
    async def tenant(self) -> AsyncIterator[Connection]:
        """A transaction bound to the caller's tenant: row-level security does the isolation."""
        async with tenant_transaction(self.state.pool, self.user.tenant_id) as conn:
            yield conn


def json_response(
    model: BaseModel, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response from a model."""
    return Response(
        model.model_dump_json(), status_code=status, media_type="application/json", headers=headers
    )


def field_errors(exc: ValidationError, location: str) -> list[dict[str, str]]:
    """pydantic's errors as `{location, field, message}` (never echoing the input)."""
    return [
        {
            "location": location,
            "field": ".".join(str(part) for part in error["loc"]) or "(root)",
            "message": error["msg"],
        }
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def validation_problem(errors: list[dict[str, str]]) -> Problem:
    """A 422 listing each field's problem."""
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return Problem(
        422, f"the request is not valid: check {fields}", kind="validation", errors=errors
    )


NUL_MESSAGE = "text cannot hold a NUL character (\\u0000 or %00): remove it"


def nul_path(value: object) -> str | None:
    """Where a NUL character sits in decoded JSON or form pairs ("records.0.data.a"), if
    anywhere: PostgreSQL text cannot store one, so it must be refused at the edge."""
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "(root)"
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in str(key):
                    return path or "(root)"
                pending.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list | tuple):
            pending.extend((f"{path}.{n}" if path else str(n), c) for n, c in enumerate(item))
    return None


def _parse_query(op: Operation, request: Request) -> BaseModel | None:
    if op.query is None:
        return None
    params = dict(request.query_params)
    if (where := nul_path(params)) is not None:
        field = where.split(".")[0].replace("\x00", "")
        raise validation_problem([{"location": "query", "field": field, "message": NUL_MESSAGE}])
    try:
        return op.query.model_validate(params)
    except ValidationError as exc:
        raise validation_problem(field_errors(exc, "query")) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "the Content-Length header is not a number")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        f"the request body is larger than {limit} bytes: send less per request",
        kind="payload-too-large",
        max_bytes=limit,
    )


async def _parse_body(op: Operation, request: Request) -> BaseModel | None:
    if op.body is None:
        return None
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Problem(
            415,
            "send the body as JSON with the header Content-Type: application/json",
            kind="unsupported-media-type",
        )
    raw = await read_body(request, op.max_body)
    if not raw.strip():
        raise Problem(400, "the request body is empty: send a JSON object", kind="bad-body")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the request body is not valid JSON: {exc}", kind="bad-body") from None
    if (where := nul_path(data)) is not None:
        raise validation_problem([{"location": "body", "field": where, "message": NUL_MESSAGE}])
    try:
        # Strict first: a value must have the type the OpenAPI document gives it (no "5"
        # for 5, no 0 for false; JSON strings still carry date-times and enumerations).
        op.body.model_validate_json(raw, strict=True)
        # Then the model of the parsed JSON, whose numbers stay within what storage takes.
        return op.body.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(field_errors(exc, "body")) from None


def _path_ids(request: Request, op: Operation) -> dict[str, int]:
    ids: dict[str, int] = {}
    for name in op.path_params:
        value = int(request.path_params[name])
        if not 1 <= value <= MAX_ID:
            raise Problem(404, f"{name.removesuffix('_id')} {value} does not exist")
        ids[name] = value
    return ids


def check_csrf(request: Request, state: WebState, submitted: str | None) -> None:
    """Refuse a cookie-authenticated write whose CSRF token does not match its cookie."""
    if not state.csrf.matches(request.cookies.get(CSRF_COOKIE), submitted):
        raise Problem(
            403,
            f"missing or wrong CSRF token: repeat the {CSRF_COOKIE} cookie in the "
            f"X-CSRF-Token header (or use a bearer token)",
            kind="csrf",
        )


async def _authorize(op: Operation, request: Request, state: WebState) -> Principal | None:
    if op.role is None:
        return None
    principal = await authenticate(request, state.pool, state.sessions, state.services.clock())
    if principal is None:
        raise Problem(
            401,
            "log in (POST /api/v1/auth/login) or send Authorization: Bearer <API token>; "
            "a revoked token or an ended session no longer works",
            kind="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="sluice"'},
        )
    if principal.via == "session" and request.method not in SAFE_METHODS:
        check_csrf(request, state, request.headers.get(CSRF_HEADER))
    if not principal.allows(op.role):
        raise Problem(
            403,
            f"this needs the {op.role.value} role; you have {principal.role.value}",
            kind="forbidden",
        )
    return principal


async def _run(op: Operation, request: Request) -> Response:
    state = web_state(request)
    principal = await _authorize(op, request, state)
    call = Call(
        request,
        state,
        principal,
        ids=_path_ids(request, op),
        query=_parse_query(op, request),
        body=await _parse_body(op, request),
    )
    context = {"tenant_id": principal.tenant_id, "actor": principal.actor} if principal else {}
    with structlog.contextvars.bound_contextvars(**context):
        result = await op.handler(call)
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=op.status)
    return json_response(result, op.status)


def _endpoint(operations: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        try:
            return await _run(operations[method], request)
        except Problem as problem:
            return problem_response(problem, request.url.path)
        except Exception as exc:
            return internal_error(request.url.path, exc)

    return endpoint


def build_routes(operations: list[Operation]) -> list[Route]:
    """One Starlette route per path, dispatching on the method (405 for the others)."""
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        methods = by_path.setdefault(op.full_path, {})
        if op.method in methods:
            raise ValueError(f"{op.method} {op.full_path} is defined twice")
        methods[op.method] = op
    return [
        Route(
            _PATH_PARAM.sub(r"{\1:int}", path),
            _endpoint(methods),
            methods=list(methods),
            name=next(iter(methods.values())).operation_id,
        )
        for path, methods in by_path.items()
    ]
