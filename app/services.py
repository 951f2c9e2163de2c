"""The shared clients a process passes to its handlers (no module-level globals)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from app.config import Settings
from app.crypto import CredentialCipher


def utc_now() -> datetime:
    """The wall clock, as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Settings, the credential cipher, the one HTTP client, and the clock."""

    settings: Settings
    cipher: CredentialCipher
    http: httpx.AsyncClient
    clock: Callable[[], datetime] = field(default=utc_now)


def http_client() -> httpx.AsyncClient:
    """One client per process: timeouts everywhere, pooled connections."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        follow_redirects=False,
        headers={"User-Agent": "sluice/0.1"},
    )


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Create the shared clients for the life of a process."""
    async with http_client() as http:
        yield Services(settings=settings, cipher=CredentialCipher(settings.secret_key), http=http)
