"""What every page request goes through: sign-in, role, CSRF on writes, errors as pages.

A page handler receives a `PageCall` (the signed-in user, their tenant transaction, the
submitted form) and returns a response. Signed-out visitors are sent to the login page
(htmx requests by `HX-Redirect`); a missing or another tenant's id is a 404 page; on an
htmx request an error is rendered into the page's `#flash` region instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.auth.csrf import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS
from app.auth.request import authenticate
from app.auth.roles import Principal, Role
from app.db import Connection, tenant_transaction
from app.pages.render import html, is_htmx, render_text
from app.web.problems import Problem
from app.web.routing import MAX_ID, NUL_MESSAGE, check_csrf, nul_path, read_body
from app.web.state import WebState, web_state

log = structlog.get_logger("sluice.pages")

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200

NAV = (
    ("/", "Pipeline"),
    ("/integrations", "Integrations"),
    ("/logs", "Logs"),
    ("/queue", "Queue"),
    ("/raw", "Raw data"),
    ("/search", "Search"),
    ("/metrics/flow", "Flow metrics"),
    ("/settings", "Settings"),
)


@dataclass
class PageCall:
    """One page request by a signed-in user."""

    request: Request
    state: WebState
    user: Principal
    form: dict[str, str] = field(default_factory=dict)
    form_lists: dict[str, list[str]] = field(default_factory=dict)

    def now(self) -> datetime:
        """The services' clock."""
        return self.state.services.clock()

    def path_id(self, name: str) -> int:
        """An integer id of the path; out of range is a 404 like any unknown id."""
        value = int(self.request.path_params[name])
        if not 1 <= value <= MAX_ID:
            raise Problem(404, f"{name.removesuffix('_id')} {value} does not exist")
        return value

    @asynccontextmanager
    async def tenant(self) -> AsyncIterator[Connection]:
        """A transaction bound to the user's tenant: row-level security does the isolation."""
        async with tenant_transaction(self.state.pool, self.user.tenant_id) as conn:
            yield conn

    def context(self, **extra: Any) -> dict[str, Any]:
        """What every template may use: the user, their rights, the CSRF token, the nav."""
        return {
            "user": self.user,
            "can_operate": self.user.allows(Role.OPERATOR),
            "is_admin": self.user.allows(Role.ADMIN),
            "csrf_token": getattr(self.request.state, "csrf_token", "") or "",
            "csrf_field": CSRF_FIELD,
            "nav": NAV,
            "active": active_nav(self.request.url.path),
            "path": self.request.url.path,
            "now": self.now(),
            **extra,
        }

    def page(self, template: str, status: int = 200, **extra: Any) -> Response:
        """A whole page."""
        return html(render_text(template, **self.context(**extra)), status)

    def fragment(self, template: str, status: int = 200, **extra: Any) -> Response:
        """One `_partial`, for an htmx swap."""
        return html(render_text(template, **self.context(**extra)), status)

    def page_or_fragment(
        self, template: str, partial: str, status: int = 200, **extra: Any
    ) -> Response:
        """The page, or only `partial` when htmx asks (filters, paging); a history restore
        (back button past htmx's cache) gets the whole page."""
        headers = self.request.headers
        if (
            is_htmx(self.request)
            and headers.get("hx-target") != "body"
            and headers.get("hx-history-restore-request") != "true"
        ):
            return self.fragment(partial, status, **extra)
        return self.page(template, status, **extra)

    def after_action(self, fallback: str, partial: str | None = None, **extra: Any) -> Response:
        """The answer to a form post: a fragment for htmx, else a redirect (post/redirect/get)."""
        if partial is not None and is_htmx(self.request):
            return self.fragment(partial, **extra)
        return RedirectResponse(fallback, 303)


def active_nav(path: str) -> str:
    """The nav entry a path belongs to (run pages belong to the pipeline)."""
    if path == "/" or path.startswith("/runs"):
        return "/"
    matches = [href for href, _ in NAV if href != "/" and path.startswith(href)]
    return max(matches, key=len, default="")


PageHandler = Callable[[PageCall], Awaitable[Response]]


def login_redirect(request: Request) -> Response:
    """Send a signed-out visitor to the login page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/login?{urlencode({'next': here})}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, 303)


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The fields of a urlencoded form post (an empty body is no fields)."""
    body = await read_body(request, MAX_FORM_BYTES)
    if not body.strip():
        return []
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise Problem(415, "send the form as application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "the form is malformed or has too many fields") from None
    if nul_path(pairs) is not None:
        raise Problem(400, f"the form is malformed: {NUL_MESSAGE}")
    return pairs


def error_response(request: Request, status: int, title: str, detail: str) -> Response:
    """An error as a page, or as a message in the `#flash` region of the current page."""
    if is_htmx(request):
        text = render_text("_flash.html", level="error", message=detail)
        return html(text, status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    text = render_text("error.html", status=status, title=title, detail=detail)
    return html(text, status)


def page(
    role: Role = Role.VIEWER,
) -> Callable[[PageHandler], Callable[[Request], Awaitable[Response]]]:
    """Make `handler` a page endpoint open to signed-in users with at least `role`."""

    def wrap(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                state = web_state(request)
                principal = await authenticate(
                    request, state.pool, state.sessions, state.services.clock()
                )
                if principal is None:
                    return login_redirect(request)
                call = PageCall(request, state, principal)
                if request.method not in SAFE_METHODS:
                    pairs = await read_form(request)
                    call.form = dict(pairs)
                    for key, value in pairs:
                        call.form_lists.setdefault(key, []).append(value)
                    if principal.via == "session":
                        submitted = request.headers.get(CSRF_HEADER) or call.form.get(CSRF_FIELD)
                        check_csrf(request, state, submitted)
                if not principal.allows(role):
                    raise Problem(
                        403, f"this needs the {role.value} role; you have {principal.role.value}"
                    )
                with structlog.contextvars.bound_contextvars(
                    tenant_id=principal.tenant_id, actor=principal.actor
                ):
                    return await handler(call)
            except Problem as problem:
                return error_response(request, problem.status, problem.title, problem.detail)
            except Exception:
                log.exception("page failed", path=request.url.path)
                return error_response(
                    request,
                    500,
                    "Internal Server Error",
                    "Something went wrong on our side; the error is in the server log.",
                )

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap
