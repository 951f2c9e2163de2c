"""API tokens: `slc_<prefix>_<secret>`, shown once, stored as a SHA-256 hash with the prefix.

A bearer token names no tenant, so authenticating one is one of the few cross-tenant
operations (run as the system role): find the row by the token's hash, then everything
else happens in that tenant's transaction. A token never has more rights than its user.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.auth.roles import Principal, Role, least
from app.db import Connection, system_transaction
from app.passwords import hash_token
from app.sqlstore import query

TOKEN_SCHEME = "slc"  # noqa: S105 - the token format's prefix
_ALPHANUMERIC = string.ascii_letters + string.digits
_TOKEN_SHAPE = re.compile(r"^slc_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{32,64}$")


def new_api_token() -> tuple[str, str]:
    """A fresh token and its displayable prefix, e.g. ("slc_Ab3dE6gH_…", "slc_Ab3dE6gH")."""
    prefix = f"{TOKEN_SCHEME}_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(8))
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def looks_like_api_token(value: str) -> bool:
    """True when `value` has the shape of a Sluice API token (checked before any lookup)."""
    return bool(_TOKEN_SHAPE.match(value))


async def bearer_principal(
    pool: AsyncConnectionPool[Connection], token: str, now: datetime
) -> Principal | None:
    """The caller a bearer token stands for, or None when it is unknown, revoked or expired."""
    if not looks_like_api_token(token):
        return None
    async with system_transaction(pool) as conn:
        cur = await conn.execute(
            query("api_token_principal"), {"token_hash": hash_token(token), "now": now}
        )
        row = await cur.fetchone()
        if row is None:
            return None
        await conn.execute(
            query("api_token_touch"),
            {"tenant_id": row["tenant_id"], "id": row["token_id"], "now": now},
        )
    return Principal(
        tenant_id=int(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        user_id=int(row["user_id"]),
        email=row["email"],
        role=least(Role(row["token_role"]), Role(row["user_role"])),
        via="token",
        token_id=int(row["token_id"]),
        token_name=row["token_name"],
    )


async def create_api_token(
    conn: Connection,
    *,
    tenant_id: int,
    user_id: int,
    name: str,
    role: Role,
    expires_at: datetime | None,
) -> tuple[dict[str, Any], str]:
    """Store a new token for `user_id`; returns its row and the plaintext (shown once)."""
    token, prefix = new_api_token()
    cur = await conn.execute(
        query("api_token_insert"),
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "name": name,
            "token_prefix": prefix,
            "token_hash": hash_token(token),
            "role": role.value,
            "expires_at": expires_at,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(row), token


async def revoke_api_token(conn: Connection, token_id: int, now: datetime) -> None:
    """Revoke a token at once (already revoked: nothing changes)."""
    await conn.execute(query("api_token_revoke"), {"id": token_id, "now": now})
