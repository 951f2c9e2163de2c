"""Integration rows in the database: create (credentials encrypted), load (decrypted at use)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import psycopg

from app.crypto import CredentialCipher
from app.db import Connection
from app.integrations.base import IntegrationConfig, IntegrationError, provider_label
from app.integrations.registry import PROVIDERS
from app.sqlstore import query


def validate_base_url(url: str) -> str:
    """An http(s) URL with a host, without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IntegrationError(f"base URL {url!r} must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise IntegrationError("put credentials in --token/--username, not in the URL")
    return url.strip().rstrip("/")


async def add_integration(
    conn: Connection,
    cipher: CredentialCipher,
    *,
    tenant_id: int,
    provider: str,
    base_url: str,
    token: str,
    username: str | None = None,
    base_search: str | None = None,
    name: str | None = None,
) -> int:
    """Insert an integration in the tenant's transaction and link it into the job chain."""
    if provider not in PROVIDERS:
        raise IntegrationError(f"unknown provider {provider!r}: use one of {', '.join(PROVIDERS)}")
    if not token.strip():
        raise IntegrationError("the token cannot be empty")
    url = validate_base_url(base_url)
    display = name or f"{provider_label(provider)} {urlsplit(url).netloc}"
    try:
        async with conn.transaction():
            cur = await conn.execute(
                query("integration_insert"),
                {
                    "tenant_id": tenant_id,
                    "provider": provider,
                    "name": display,
                    "base_url": url,
                    "username": username or None,
                    "credentials": cipher.encrypt(token.strip()),
                    "base_search": base_search or None,
                },
            )
    except psycopg.errors.UniqueViolation:
        raise IntegrationError(
            f"this tenant already has an integration named {display!r}: choose another --name"
        ) from None
    row = await cur.fetchone()
    assert row is not None
    await conn.execute(
        query("etl_job_link_integration"), {"integration_id": row["id"], "provider": provider}
    )
    return int(row["id"])


async def load_integration(
    conn: Connection, cipher: CredentialCipher, integration_id: int
) -> IntegrationConfig:
    """The integration visible in this transaction, with its token decrypted."""
    cur = await conn.execute(query("integration_get"), {"id": integration_id})
    row = await cur.fetchone()
    if row is None:
        raise IntegrationError(f"integration {integration_id} does not exist")
    return config_from_row(row, cipher)


def config_from_row(row: dict[str, Any], cipher: CredentialCipher) -> IntegrationConfig:
    """Build the runtime configuration from a row."""
    token = cipher.decrypt(row["credentials"]) if row["credentials"] else ""
    return IntegrationConfig(
        id=row["id"],
        tenant_id=row["tenant_id"],
        provider=row["provider"],
        name=row["name"],
        base_url=row["base_url"],
        username=row["username"],
        token=token,
        base_search=row["base_search"],
        settings=row["settings"] or {},
    )
