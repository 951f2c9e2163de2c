"""GET /login: the sign-in page (its form posts to POST /login in app/web/forms.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.auth.csrf import CSRF_FIELD
from app.auth.request import authenticate
from app.pages.render import html, render_text
from app.web.forms import safe_next
from app.web.state import web_state

ERRORS = {
    "invalid": "Wrong email or password (or that account is disabled).",
    "throttled": "Too many failed sign-ins: wait a little and try again.",
}


async def login_page(request: Request) -> Response:
    """The sign-in form; a visitor already signed in goes straight on."""
    state = web_state(request)
    target = safe_next(request.query_params.get("next"))
    if await authenticate(request, state.pool, state.sessions, state.services.clock()):
        return RedirectResponse(target, 303)
    error = ERRORS.get(request.query_params.get("error", ""))
    retry_after = request.query_params.get("retry_after", "")
    if error and retry_after.isdigit():
        error = f"Too many failed sign-ins: try again in {retry_after} seconds."
    text = render_text(
        "login.html",
        csrf_token=getattr(request.state, "csrf_token", "") or "",
        csrf_field=CSRF_FIELD,
        next=target,
        error=error,
        email=request.query_params.get("email", "")[:200],
    )
    return html(text, 200)


ROUTES = [Route("/login", login_page, methods=["GET"], name="login_page")]
