"""Fixtures of the reliability suites."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.reliability.observed import SyncRecord, observe_three_tenant_sync


@pytest.fixture(scope="session")
async def three_tenant_sync(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SyncRecord]:
    """WEX, Apple and Google synced at once, observed through streams, logs and responses."""
    async with observe_three_tenant_sync(
        server_url, tmp_path_factory.mktemp("reliability-home")
    ) as record:
        yield record
