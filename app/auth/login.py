"""Logging in: find the user by email across tenants, verify the argon2 hash, open a session.

Emails are unique within a tenant. When the same email exists in several tenants, the
password decides: the first tenant (lowest id) whose user has that password wins, and a
login may name its tenant to choose explicitly.
"""

from __future__ import annotations

import asyncio
import functools
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.auth.roles import Principal, Role
from app.auth.sessions import SessionKey, create_session
from app.auth.throttle import LoginThrottle, lockout_after
from app.db import Connection, system_transaction, tenant_transaction
from app.passwords import hash_password, verify_password
from app.sqlstore import query


class LoginError(Exception):
    """The email or the password is wrong (one message for both: no account probing)."""


class LoginThrottledError(Exception):
    """Too many failed logins: wait `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after} seconds")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginResult:
    """The logged-in user and the key of the session opened for them."""

    principal: Principal
    session: SessionKey


@functools.cache
def _decoy_hash() -> str:
    """A hash to verify against when the email is unknown, so both cases take as long."""
    return hash_password("decoy password for unknown accounts")


async def log_in(
    pool: AsyncConnectionPool[Connection],
    throttle: LoginThrottle,
    *,
    email: str,
    password: str,
    client_ip: str,
    now: datetime,
    tenant: str | None = None,
) -> LoginResult:
    """Check the credentials and open a session; raises LoginError or LoginThrottledError."""
    email_key = email.strip().lower()
    wait = throttle.retry_after(client_ip, email_key)
    if wait is not None:
        raise LoginThrottledError(wait)
    async with system_transaction(pool) as conn:
        cur = await conn.execute(query("login_candidates"), {"email": email_key, "tenant": tenant})
        candidates = [dict(row) for row in await cur.fetchall()]
    locked = [c for c in candidates if c["locked_until"] and c["locked_until"] > now]
    unlocked = [c for c in candidates if c not in locked]
    if locked and not unlocked:
        first_unlock = min(c["locked_until"] for c in locked)
        raise LoginThrottledError(max(1, math.ceil((first_unlock - now).total_seconds())))
    match = await _first_match(unlocked, password)
    if match is None:
        throttle.failed(client_ip, email_key)
        for user in unlocked:
            await _record_failure(pool, user, now)
        raise LoginError("wrong email or password")
    throttle.succeeded(email_key)
    async with tenant_transaction(pool, match["tenant_id"]) as conn:
        await conn.execute(query("login_succeeded"), {"user_id": match["id"], "now": now})
        session_id, key = await create_session(conn, match["tenant_id"], match["id"], now)
    principal = Principal(
        tenant_id=int(match["tenant_id"]),
        tenant_name=match["tenant_name"],
        user_id=int(match["id"]),
        email=match["email"],
        role=Role(match["role"]),
        via="session",
        session_id=session_id,
    )
    return LoginResult(principal, key)


async def _first_match(candidates: list[dict[str, Any]], password: str) -> dict[str, Any] | None:
    """The first candidate whose hash matches (argon2 runs off the event loop)."""
    if not candidates:
        await asyncio.to_thread(verify_password, _decoy_hash(), password)
        return None
    for user in candidates:
        if await asyncio.to_thread(verify_password, user["password_hash"], password):
            return user
    return None


async def _record_failure(
    pool: AsyncConnectionPool[Connection], user: dict[str, Any], now: datetime
) -> None:
    """Count a failure on the account and lock it when the policy says so."""
    async with tenant_transaction(pool, user["tenant_id"]) as conn:
        cur = await conn.execute(query("login_failed"), {"user_id": user["id"]})
        row = await cur.fetchone()
        lock = lockout_after(int(row["failed_logins"])) if row else None
        if lock is not None:
            await conn.execute(query("login_lock"), {"user_id": user["id"], "until": now + lock})
