"""Browser sessions: a random token in a signed cookie, its SHA-256 in `user_sessions`.

The cookie carries the tenant id next to the token (signed, so it cannot be altered), which
lets every request look its session up inside that tenant's transaction. Revoking the row
(logout, deactivation, password change) ends the session at the next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from psycopg_pool import AsyncConnectionPool

from app.auth.roles import Principal, Role
from app.db import Connection, tenant_transaction
from app.passwords import hash_token
from app.sqlstore import query

SESSION_COOKIE = "sluice_session"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class SessionKey:
    """What the session cookie holds: the tenant and the session's random token."""

    tenant_id: int
    token: str


class SessionCookies:
    """Signs and reads session cookie values with the process secret key."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="sluice-session")

    def dumps(self, key: SessionKey) -> str:
        """The cookie value for a session."""
        return self._serializer.dumps({"t": key.tenant_id, "s": key.token})

    def loads(self, value: str) -> SessionKey | None:
        """The session a cookie names, or None when it is forged, malformed or too old."""
        try:
            data = self._serializer.loads(value, max_age=int(SESSION_LIFETIME.total_seconds()))
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        tenant, token = data.get("t"), data.get("s")
        if not isinstance(tenant, int) or isinstance(tenant, bool) or tenant < 1:
            return None
        if not isinstance(token, str) or not token:
            return None
        return SessionKey(tenant, token)


async def create_session(
    conn: Connection, tenant_id: int, user_id: int, now: datetime
) -> tuple[int, SessionKey]:
    """Open a session for a user in its tenant's transaction; returns (id, cookie key)."""
    token = secrets.token_urlsafe(32)
    await conn.execute(query("session_purge_expired"), {"user_id": user_id, "now": now})
    cur = await conn.execute(
        query("session_insert"),
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "token_hash": hash_token(token),
            "expires_at": now + SESSION_LIFETIME,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["id"]), SessionKey(tenant_id, token)


async def session_principal(
    pool: AsyncConnectionPool[Connection], key: SessionKey, now: datetime
) -> Principal | None:
    """The user of an open session, or None when it is unknown, revoked or expired."""
    async with tenant_transaction(pool, key.tenant_id) as conn:
        cur = await conn.execute(
            query("session_principal"), {"token_hash": hash_token(key.token), "now": now}
        )
        row = await cur.fetchone()
    if row is None:
        return None
    return Principal(
        tenant_id=int(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        user_id=int(row["user_id"]),
        email=row["email"],
        role=Role(row["role"]),
        via="session",
        session_id=int(row["session_id"]),
    )


async def revoke_session(conn: Connection, session_id: int, now: datetime) -> None:
    """End one session at once (logout)."""
    await conn.execute(query("session_revoke"), {"id": session_id, "now": now})
