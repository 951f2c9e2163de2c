"""CSRF protection by signed double submit: a `sluice_csrf` cookie whose value a state-changing
request must repeat in the `X-CSRF-Token` header (or the `csrf_token` field of an HTML form).

Only cookie-authenticated requests need it: a bearer token is never sent by a browser on its
own. The cookie is signed with the secret key, so a value planted from another site is refused.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, Signer

CSRF_COOKIE = "sluice_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfTokens:
    """Issues and checks CSRF tokens with the process secret key."""

    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt="sluice-csrf")

    def issue(self) -> str:
        """A new token for the cookie (and for the page that repeats it)."""
        return self._signer.sign(secrets.token_urlsafe(24)).decode()

    def valid(self, token: str | None) -> bool:
        """True when `token` carries this process's signature."""
        if not token:
            return False
        try:
            self._signer.unsign(token)
        except BadSignature:
            return False
        return True

    def matches(self, cookie: str | None, submitted: str | None) -> bool:
        """True when the submitted token repeats a validly signed cookie."""
        if not cookie or not submitted:
            return False
        return hmac.compare_digest(cookie.encode(), submitted.encode()) and self.valid(cookie)
