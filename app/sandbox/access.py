"""Token checks for the sandbox apps: Jira basic or bearer auth, GitHub bearer or token auth."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from app.sandbox.faults import Flavor
from app.sandbox.traffic import header_value, send_json

GITHUB_DOCS = "https://docs.github.com/rest"
DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the public token of the local sandbox


def presented_token(authorization: str | None, flavor: Flavor) -> str | None:
    """Return the token an Authorization header carries, or None when it carries none."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer" or (flavor == "github" and scheme == "token"):
        return credentials or None
    if scheme == "basic" and flavor == "jira":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, sep, token = decoded.partition(":")
        return token if sep else None
    return None


class TokenMiddleware:
    """Pure ASGI middleware that answers 401 unless the request carries the sandbox token."""

    def __init__(self, app: ASGIApp, token: str, flavor: Flavor) -> None:
        """Wrap an app with the one valid token."""
        self.app = app
        self.token = token
        self.flavor = flavor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authenticated requests through; reject the rest as the API would."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = presented_token(header_value(scope, b"authorization"), self.flavor)
        if offered is not None and hmac.compare_digest(offered.encode(), self.token.encode()):
            await self.app(scope, receive, send)
            return
        if self.flavor == "jira":
            message = (
                "Client must be authenticated to access this resource."
                if offered is None
                else "The API token is invalid or expired."
            )
            await send_json(
                send,
                401,
                {"errorMessages": [message], "errors": {}},
                {"WWW-Authenticate": 'Basic realm="protected-by-sandbox"'},
            )
            return
        await send_json(
            send,
            401,
            {"message": "Bad credentials", "documentation_url": GITHUB_DOCS, "status": "401"},
        )
