"""What every provider offers: a connection check, its entities, and paged extraction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

PROVIDER_LABELS = {"jira": "Jira", "github": "GitHub"}


def provider_label(provider: str) -> str:
    """How people write a provider's name."""
    return PROVIDER_LABELS.get(provider, provider.replace("_", " ").title())


class IntegrationError(Exception):
    """A provider-level failure that a person must fix (wrong URL, token, JQL)."""


@dataclass(frozen=True)
class IntegrationConfig:
    """An integration row with its credential decrypted (only right before use)."""

    id: int
    tenant_id: int
    provider: str
    name: str
    base_url: str
    username: str | None
    token: str = field(repr=False)
    base_search: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def provider_label(self) -> str:
        """Jira, GitHub, …"""
        return provider_label(self.provider)

    @property
    def label(self) -> str:
        """How messages name this integration."""
        return f"{self.name} ({self.base_url})"


@dataclass(frozen=True)
class RawRecord:
    """One API record as received, with the entity type it is stored under."""

    entity_type: str
    external_id: str | None
    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FollowUp:
    """Another extract job that this page discovered (e.g. pull requests of a repository)."""

    entity: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of extraction: its records, and the checkpoint that resumes after it."""

    records: list[RawRecord]
    checkpoint: dict[str, Any]
    request: dict[str, Any]
    followups: list[FollowUp] = field(default_factory=list)
    rate_limit_wait_s: float = 0.0


@dataclass(frozen=True)
class ExtractOptions:
    """How one extract job runs."""

    since: datetime | None = None  # incremental watermark (already minus the safety buffer)
    page_size: int = 100
    custom_query: str | None = None  # a custom JQL / repository query for this sync
    params: dict[str, Any] = field(default_factory=dict)  # e.g. {"repository": "org/name"}


class Provider(Protocol):
    """A source system's client."""

    name: str
    entities: tuple[str, ...]  # the extract entities, in the order a sync runs them

    async def validate_connection(self) -> str:
        """Check URL and credentials; return a one-line description or raise IntegrationError."""
        ...

    def extract(
        self, entity: str, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        """Yield pages from the checkpoint on; each page's checkpoint resumes after it."""
        ...
