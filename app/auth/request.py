"""Who is calling: a bearer token (Authorization header) or a session cookie."""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool
from starlette.requests import HTTPConnection

from app.auth.roles import Principal
from app.auth.sessions import SESSION_COOKIE, SessionCookies, session_principal
from app.auth.tokens import bearer_principal
from app.db import Connection


async def authenticate(
    request: HTTPConnection,
    pool: AsyncConnectionPool[Connection],
    cookies: SessionCookies,
    now: datetime,
) -> Principal | None:
    """The request's principal, or None. An Authorization header wins over a cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return await bearer_principal(pool, value.strip(), now)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    key = cookies.loads(cookie)
    if key is None:
        return None
    return await session_principal(pool, key, now)
