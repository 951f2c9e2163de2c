"""Shared by the live-event tests (no tests of its own): a running hub on a fresh database,
the seeded tenants, publishing with pg_notify from SQL, and reading a subscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from app.db import connect
from app.events import event_payload
from app.live import EventHub, LiveEvent, Subscription
from tests.conftest import tenant_ids

NOTIFY_SQL = "SELECT pg_notify('sluice_events', %(payload)s)"
# One transaction, many events: the n-th of each tenant carries n.
NOTIFY_SERIES_SQL = """
SELECT pg_notify('sluice_events',
                 json_build_object('tenant_id', t, 'kind', 'progress', 'n', g)::text)
FROM unnest(%(tenants)s::integer[]) AS t, generate_series(%(first)s::integer, %(last)s::integer) AS g
ORDER BY g, t
"""


@pytest.fixture
async def tenants(fresh_db_url: str) -> dict[str, int]:
    """The seeded tenants of the fresh database, by name."""
    conn = await connect(fresh_db_url, autocommit=True)
    async with conn:
        return await tenant_ids(conn)


@pytest.fixture
async def hub(fresh_db_url: str) -> AsyncIterator[EventHub]:
    """A started hub on the fresh database."""
    async with EventHub(fresh_db_url) as started:
        yield started


async def publish(url: str, tenant_id: int, kind: str, count: int, **data: Any) -> None:
    """`count` events of one tenant, each committed on its own (n = 1 … count)."""
    conn = await connect(url, autocommit=True)
    async with conn:
        for n in range(1, count + 1):
            payload = event_payload(tenant_id, kind, n=n, **data)
            await conn.execute(NOTIFY_SQL, {"payload": payload})


async def publish_series(url: str, tenants: list[int], first: int, last: int) -> None:
    """Events n = first … last for every tenant in one transaction."""
    conn = await connect(url, autocommit=True)
    async with conn:
        await conn.execute(NOTIFY_SERIES_SQL, {"tenants": tenants, "first": first, "last": last})


async def take(subscriber: Subscription, count: int, wait_s: float = 10.0) -> list[LiveEvent]:
    """The next `count` events of a subscription (fails after `wait_s`)."""
    events: list[LiveEvent] = []
    async with asyncio.timeout(wait_s):
        while len(events) < count:
            batch = await subscriber.next_batch(wait_s)
            assert batch is not None, "the subscription closed"
            events.extend(batch)
    return events


async def drain(subscriber: Subscription, quiet_s: float = 0.3) -> list[LiveEvent]:
    """Whatever arrives until nothing has come for `quiet_s`."""
    events: list[LiveEvent] = []
    while batch := await subscriber.next_batch(quiet_s):
        events.extend(batch)
    return events


def numbers(events: list[LiveEvent]) -> list[int]:
    """The `n` of each event, in order of arrival."""
    return [int(e.data["n"]) for e in events]


def payload_of(event: LiveEvent) -> dict[str, Any]:
    """The JSON a client would receive for the event."""
    body: dict[str, Any] = orjson.loads(event.payload)
    return body
