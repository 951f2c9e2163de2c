"""Users of a tenant: create, change, deactivate (in the tenant's transaction)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.auth.roles import Role
from app.db import Connection
from app.passwords import hash_password
from app.sqlstore import query

MIN_PASSWORD_LENGTH = 12


class UserExistsError(Exception):
    """The tenant already has a user with this email."""


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(set(password)) < 4:
        return "the password repeats too few characters: choose a harder one"
    return None


async def create_user(
    conn: Connection,
    *,
    tenant_id: int,
    email: str,
    display_name: str,
    role: Role,
    password: str,
) -> int:
    """Insert a user with an argon2id hash of `password`; returns its id."""
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with conn.transaction():
            cur = await conn.execute(
                query("user_insert"),
                {
                    "tenant_id": tenant_id,
                    "email": email.strip(),
                    "display_name": display_name,
                    "role": role.value,
                    "password_hash": password_hash,
                },
            )
    except psycopg.errors.UniqueViolation:
        raise UserExistsError(f"a user with the email {email!r} already exists") from None
    row = await cur.fetchone()
    assert row is not None
    return int(row["id"])


async def update_user(
    conn: Connection,
    user_id: int,
    changes: dict[str, Any],
    *,
    password: str | None,
    now: datetime,
    keep_session_id: int | None = None,
) -> bool:
    """Apply `changes` and a new password; False when unknown. Ends sessions as needed."""
    # A new password or a deactivation ends the user's other sessions at once; a
    # deactivation also revokes the user's API tokens.
    password_hash = await asyncio.to_thread(hash_password, password) if password else None
    cur = await conn.execute(
        query("user_update"),
        {"id": user_id, "changes": Jsonb(changes), "password_hash": password_hash},
    )
    if await cur.fetchone() is None:
        return False
    if password_hash is not None or changes.get("active") is False:
        await conn.execute(
            query("session_revoke_user"),
            {"user_id": user_id, "now": now, "keep_id": keep_session_id},
        )
    if changes.get("active") is False:
        await conn.execute(query("api_token_revoke_user"), {"user_id": user_id, "now": now})
    return True
