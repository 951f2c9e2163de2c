"""The event hub on real LISTEN/NOTIFY: tenant routing, resume, overflow, a lost connection."""

from __future__ import annotations

import asyncio

import pytest

from app.db import DatabaseUnavailableError, connect
from app.live import REFRESH, EventHub, LiveEvent
from tests.integration.test_live_harness import (
    drain,
    hub,
    numbers,
    payload_of,
    publish,
    publish_series,
    take,
    tenants,
)

__all__ = ["hub", "tenants"]  # fixtures


async def test_a_subscriber_only_ever_receives_its_own_tenants_events(
    fresh_db_url: str, hub: EventHub, tenants: dict[str, int]
) -> None:
    wex, apple, google = tenants["WEX"], tenants["Apple"], tenants["Google"]
    wex_a, wex_b = hub.subscribe(wex), hub.subscribe(wex)
    apple_sub, google_sub = hub.subscribe(apple), hub.subscribe(google)

    # Two publishers committing concurrently, then one transaction mixing both tenants.
    await asyncio.gather(
        publish(fresh_db_url, wex, "progress", 150, entity="issues"),
        publish(fresh_db_url, apple, "log", 150, level="info", message="page stored"),
    )
    await publish_series(fresh_db_url, [wex, apple], 151, 200)

    for subscriber in (wex_a, wex_b):
        got = await take(subscriber, 200)
        assert {e.tenant_id for e in got} == {wex}
        assert {payload_of(e)["tenant_id"] for e in got} == {wex}
        assert numbers(got) == list(range(1, 201))
    got_apple = await take(apple_sub, 200)
    assert {payload_of(e)["tenant_id"] for e in got_apple} == {apple}
    assert numbers(got_apple) == list(range(1, 201))
    assert [e.kind for e in got_apple[:150]] == ["log"] * 150

    assert await drain(wex_a) == [] and await drain(apple_sub) == []
    assert await drain(google_sub) == []
    ids = [e.seq for e in got_apple]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_resume_by_last_event_id_replays_exactly_what_was_missed(
    fresh_db_url: str, hub: EventHub, tenants: dict[str, int]
) -> None:
    wex, apple = tenants["WEX"], tenants["Apple"]
    first = hub.subscribe(wex)
    await publish_series(fresh_db_url, [wex, apple], 1, 10)
    seen = await take(first, 10)
    hub.unsubscribe(first)  # the client drops its connection after event 10

    watcher = hub.subscribe(wex)  # proves events 11-25 reached the hub
    await publish_series(fresh_db_url, [wex, apple], 11, 25)
    await take(watcher, 15)

    resumed = hub.subscribe(wex, seen[-1].id)
    await publish_series(fresh_db_url, [wex], 26, 30)
    got = await take(resumed, 20)
    assert numbers(got) == list(range(11, 31))  # no gap, no duplicate
    assert {e.tenant_id for e in got} == {wex}
    assert await drain(resumed) == []


async def test_an_id_the_hub_cannot_replay_from_gets_a_refresh(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex = tenants["WEX"]
    async with EventHub(fresh_db_url, buffer_size=5) as small:
        watcher = small.subscribe(wex)
        await publish_series(fresh_db_url, [wex], 1, 12)
        got = await take(watcher, 12)

        cases = {
            "evicted from the buffer": got[2].id,
            "another hub (a restarted process)": "0123abcd-7",
            "not an id of ours": "garbage",
        }
        for case, last_id in cases.items():
            subscriber = small.subscribe(wex, last_id)
            [refresh] = await take(subscriber, 1)
            assert refresh.kind == REFRESH, case
            assert payload_of(refresh) == {"tenant_id": wex, "kind": REFRESH, "reason": "resume"}
            assert refresh.id == got[-1].id, case  # re-rendered state covers every event so far

        still_held = small.subscribe(wex, got[7].id)
        assert numbers(await take(still_held, 4)) == [9, 10, 11, 12]


async def test_a_slow_subscriber_gets_a_refresh_and_never_delays_a_fast_one(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex, count, queue = tenants["WEX"], 1000, 256
    # The queue holds far more than one read of notifications (the hub dispatches a read's
    # worth without yielding), so only the subscriber that never reads can overflow.
    async with EventHub(fresh_db_url, queue_size=queue) as hub:
        slow = hub.subscribe(wex)  # never reads while events arrive
        fast = hub.subscribe(wex)
        received: list[LiveEvent] = []

        async def read_fast() -> None:
            received.extend(await take(fast, count))

        reader = asyncio.create_task(read_fast())
        await publish(fresh_db_url, wex, "progress", count)
        await asyncio.wait_for(reader, 20)

        assert numbers(received) == list(range(1, count + 1))
        assert REFRESH not in {e.kind for e in received}

        backlog = await take(slow, 1)
        assert backlog[0].kind == REFRESH and backlog[0].data["reason"] == "overflow"
        assert 1 <= len(backlog) <= queue
        # After the refresh, the queue holds the contiguous tail up to the newest event.
        tail = numbers(backlog[1:])
        assert tail == list(range(count + 1 - len(tail), count + 1))
        assert backlog[0].seq == received[count - len(tail) - 1].seq
        assert hub.stats().overflows >= 1


async def test_a_lost_listen_connection_is_reopened_and_subscribers_refresh(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex, apple = tenants["WEX"], tenants["Apple"]
    async with EventHub(fresh_db_url) as hub:
        wex_sub, apple_sub = hub.subscribe(wex), hub.subscribe(apple)
        await publish_series(fresh_db_url, [wex], 1, 3)
        before = await take(wex_sub, 3)
        pid = hub.backend_pid
        assert pid is not None

        admin = await connect(fresh_db_url, autocommit=True)
        async with admin:
            cur = await admin.execute("SELECT pg_terminate_backend(%s) AS done", (pid,))
            assert (await cur.fetchone()) == {"done": True}

        for subscriber, tenant in ((wex_sub, wex), (apple_sub, apple)):
            [refresh] = await take(subscriber, 1)
            assert refresh.kind == REFRESH
            assert payload_of(refresh) == {
                "tenant_id": tenant,
                "kind": REFRESH,
                "reason": "reconnect",
            }
        assert hub.stats().reconnects == 1 and hub.stats().connected
        assert hub.backend_pid not in (None, pid)

        await publish_series(fresh_db_url, [wex], 4, 6)
        assert numbers(await take(wex_sub, 3)) == [4, 5, 6]
        # A client whose last event came before the gap cannot resume across it.
        resumed = hub.subscribe(wex, before[-1].id)
        [refresh] = await take(resumed, 1)
        assert refresh.kind == REFRESH


async def test_the_hub_fails_fast_when_the_database_is_unreachable() -> None:
    hub = EventHub("postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(DatabaseUnavailableError, match="cannot connect to PostgreSQL"):
        await hub.start()
    assert not hub.stats().connected
