"""Integration rows in the database: create (credentials encrypted), load (decrypted at use)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb

from app.crypto import CredentialCipher
from app.db import Connection
from app.integrations.base import IntegrationConfig, IntegrationError, provider_label
from app.integrations.registry import PROVIDERS
from app.sqlstore import query

CUSTOM = "custom"  # receives raw records through POST /api/v1/ingest/{id}; nothing to extract
PROVIDER_CHOICES = (*sorted(PROVIDERS), CUSTOM)


class IntegrationInputError(IntegrationError):
    """Values an integration cannot be stored with, by field: {"base_url": "why"}."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class IntegrationNameTakenError(IntegrationInputError):
    """The tenant already has an integration of that name."""


def provider_problem(provider: str) -> str | None:
    """Why `provider` is not one Sluice knows, or None."""
    if provider in PROVIDER_CHOICES:
        return None
    return f"unknown provider {provider!r}: use one of {', '.join(PROVIDER_CHOICES)}"


def validate_base_url(url: str) -> str:
    """An http(s) URL with a host, without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IntegrationError(f"base URL {url!r} must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise IntegrationError("put credentials in the token and username, not in the URL")
    return url.strip().rstrip("/")


def _url_problem(url: str | None, required: bool) -> tuple[str, str | None]:
    """The normalized URL ("" when absent and optional) and why it is refused, if it is."""
    if not url or not url.strip():
        return "", "a base URL is required" if required else None
    try:
        return validate_base_url(url), None
    except IntegrationError as exc:
        return "", str(exc)


def token_problem(token: str | None) -> str | None:
    """Why a token cannot be sent, if it cannot: it travels in an HTTP header, so printable
    ASCII only (anything else would fail every request of the integration)."""
    if token and not all(" " <= char <= "~" for char in token.strip()):
        return "a token holds printable ASCII characters only: check what was pasted"
    return None


def check_new_integration(provider: str, base_url: str | None, token: str | None) -> str:
    """The normalized base URL of a new integration; every problem is reported at once."""
    problems: dict[str, str] = {}
    if problem := provider_problem(provider):
        problems["provider"] = problem
    pulls = provider != CUSTOM
    url, problem = _url_problem(base_url, required=pulls)
    if problem:
        problems["base_url"] = problem
    if pulls and not (token or "").strip():
        problems["token"] = "a token is required"  # noqa: S105 - a message
    elif problem := token_problem(token):
        problems["token"] = problem
    if problems:
        raise IntegrationInputError(problems)
    return url


def _name_taken(name: object) -> IntegrationNameTakenError:
    return IntegrationNameTakenError(
        {"name": f"this tenant already has an integration named {name!r}: choose another name"}
    )


async def add_integration(
    conn: Connection,
    cipher: CredentialCipher,
    *,
    tenant_id: int,
    provider: str,
    base_url: str | None,
    token: str | None,
    username: str | None = None,
    base_search: str | None = None,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
    active: bool = True,
) -> int:
    """Insert an integration in the tenant's transaction and link it into the job chain."""
    url = check_new_integration(provider, base_url, token)
    secret = (token or "").strip()
    display = name or f"{provider_label(provider)} {urlsplit(url).netloc or 'ingest'}"
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
                    "credentials": cipher.encrypt(secret) if secret else None,
                    "base_search": base_search or None,
                    "settings": Jsonb(settings or {}),
                    "active": active,
                },
            )
    except psycopg.errors.UniqueViolation:
        raise _name_taken(display) from None
    row = await cur.fetchone()
    assert row is not None
    if provider != CUSTOM:
        await conn.execute(
            query("etl_job_link_integration"), {"integration_id": row["id"], "provider": provider}
        )
    return int(row["id"])


def check_integration_changes(
    provider: str, changes: dict[str, Any], token: str | None
) -> dict[str, Any]:
    """`changes` with the base URL normalized; every problem is reported at once."""
    problems: dict[str, str] = {}
    if "base_url" in changes:
        url, problem = _url_problem(changes["base_url"], required=provider != CUSTOM)
        changes = {**changes, "base_url": url}
        if problem:
            problems["base_url"] = problem
    if token is not None and not token.strip():
        problems["token"] = "the token cannot be empty"  # noqa: S105 - a message
    elif problem := token_problem(token):
        problems["token"] = problem
    if problems:
        raise IntegrationInputError(problems)
    return changes


async def update_integration(
    conn: Connection,
    cipher: CredentialCipher,
    integration_id: int,
    *,
    provider: str,
    changes: dict[str, Any],
    token: str | None,
) -> None:
    """Apply `changes` (only the keys present) and a new token (None keeps the stored one)."""
    changes = check_integration_changes(provider, changes, token)
    try:
        async with conn.transaction():
            await conn.execute(
                query("integration_update"),
                {
                    "id": integration_id,
                    "changes": Jsonb(changes),
                    "credentials": cipher.encrypt(token.strip()) if token else None,
                },
            )
    except psycopg.errors.UniqueViolation:
        raise _name_taken(changes.get("name")) from None


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
