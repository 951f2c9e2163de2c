"""ASGI middleware: security headers, the CSRF cookie for pages, and one access-log line."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.csrf import CSRF_COOKIE, CsrfTokens

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE_PREFIXES = ("/api/", "/metrics", "/login", "/logout")
# Neither probes, scrapers, assets nor API clients need a CSRF cookie: pages do.
NO_CSRF_COOKIE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/static/")
PROBES = ("/healthz", "/readyz", "/metrics")


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (a route may set its own first)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if path.startswith(NO_STORE_PREFIXES):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def request_cookie(scope: Scope, name: str) -> str | None:
    """One cookie of the request, read from the raw headers."""
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed cookie header is no cookie
                continue
            if name in jar:
                return jar[name].value
    return None


class CsrfCookieMiddleware:
    """A page (GET) without a valid CSRF cookie sets one; `request.state.csrf_token` has it."""

    def __init__(self, app: ASGIApp, csrf: CsrfTokens) -> None:
        self.app = app
        self.csrf = csrf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = request_cookie(scope, CSRF_COOKIE)
        issue = (
            scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith(NO_CSRF_COOKIE_PREFIXES)
            and not self.csrf.valid(current)
        )
        token = self.csrf.issue() if issue else current
        scope.setdefault("state", {})["csrf_token"] = token

        async def send_with_cookie(message: Message) -> None:
            if issue and message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not any(v.startswith(f"{CSRF_COOKIE}=") for v in headers.getlist("set-cookie")):
                    secure = "; Secure" if scope.get("scheme") == "https" else ""
                    headers.append(
                        "Set-Cookie", f"{CSRF_COOKIE}={token}; Path=/; SameSite=Lax{secure}"
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class AccessLogMiddleware:
    """One line per request (method, path without query, status, duration); probes at debug."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            logger = structlog.get_logger("sluice.web.access")
            quiet = scope["path"] in PROBES and status < 400
            (logger.debug if quiet else logger.info)(
                "http request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
