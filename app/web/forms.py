"""The HTML form variants of login and logout: CSRF-checked, answered with redirects."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.auth.csrf import CSRF_FIELD
from app.auth.login import LoginError, LoginThrottledError
from app.auth.sessions import SESSION_COOKIE, revoke_session, session_principal
from app.db import tenant_transaction
from app.web.api_auth import attempt_login, clear_session_cookies, set_session_cookies
from app.web.problems import Problem, internal_error, problem_response
from app.web.routing import NUL_MESSAGE, check_csrf, nul_path, read_body
from app.web.state import web_state

MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 20


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _read_form(request: Request) -> dict[str, str]:
    """The fields of a small urlencoded form (413 past MAX_FORM_BYTES)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise Problem(
            415, "send the form as application/x-www-form-urlencoded", kind="unsupported-media-type"
        )
    body = await read_body(request, MAX_FORM_BYTES)
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Problem(
            400, "the form is malformed or has too many fields", kind="bad-body"
        ) from None
    if nul_path(pairs) is not None:
        raise Problem(400, f"the form is malformed: {NUL_MESSAGE}", kind="bad-body")
    return dict(pairs)


def _field(form: dict[str, str], name: str) -> str:
    return form.get(name, "")


async def login_form(request: Request) -> Response:
    """POST /login: the login page's form; redirects to `next` or back with an error."""
    try:
        state = web_state(request)
        form = await _read_form(request)
        check_csrf(request, state, _field(form, CSRF_FIELD))
        target = safe_next(_field(form, "next"))
        try:
            result = await attempt_login(
                request,
                state,
                email=_field(form, "email"),
                password=_field(form, "password"),
                tenant=_field(form, "tenant") or None,
            )
        except LoginThrottledError as exc:
            query = urlencode(
                {"error": "throttled", "retry_after": exc.retry_after, "next": target}
            )
            return RedirectResponse(
                f"/login?{query}", 303, headers={"Retry-After": str(exc.retry_after)}
            )
        except LoginError:
            return RedirectResponse(
                f"/login?{urlencode({'error': 'invalid', 'next': target})}", 303
            )
        response = RedirectResponse(target, 303)
        set_session_cookies(response, request, state, result, state.csrf.issue())
        return response
    except Problem as problem:
        return problem_response(problem, request.url.path)
    except Exception as exc:
        return internal_error(request.url.path, exc)


async def logout_form(request: Request) -> Response:
    """POST /logout: end the browser's session and go back to the login page."""
    try:
        state = web_state(request)
        form = await _read_form(request)
        check_csrf(request, state, _field(form, CSRF_FIELD))
        key = state.sessions.loads(request.cookies.get(SESSION_COOKIE, ""))
        principal = (
            await session_principal(state.pool, key, state.services.clock()) if key else None
        )
        if principal is None or principal.session_id is None:
            raise Problem(401, "there is no session to end: log in first", kind="unauthenticated")
        async with tenant_transaction(state.pool, principal.tenant_id) as conn:
            await revoke_session(conn, principal.session_id, state.services.clock())
        response = RedirectResponse("/login", 303)
        clear_session_cookies(response)
        return response
    except Problem as problem:
        return problem_response(problem, request.url.path)
    except Exception as exc:
        return internal_error(request.url.path, exc)


ROUTES = [
    Route("/login", login_form, methods=["POST"], name="login_form"),
    Route("/logout", logout_form, methods=["POST"], name="logout_form"),
]
