"""The hub's fan-out without a database: routing by tenant, overflow, gaps, the cap."""

from __future__ import annotations

import asyncio

import pytest

from app.events import event_payload
from app.live import REFRESH, EventHub, HubFullError, LiveEvent, Subscription


def make_hub(*, queue_size: int = 512, max_subscribers: int = 5000) -> EventHub:
    """A hub that is never started: its events come from `dispatch`."""
    return EventHub("postgresql://unused", queue_size=queue_size, max_subscribers=max_subscribers)


def send(hub: EventHub, tenant_id: int, n: int, kind: str = "progress") -> LiveEvent:
    event = hub.dispatch(event_payload(tenant_id, kind, n=n))
    assert event is not None
    return event


async def batch(subscriber: Subscription) -> list[LiveEvent]:
    got = await subscriber.next_batch(0.05)
    assert got is not None
    return got


async def test_events_reach_only_the_subscribers_of_their_tenant() -> None:
    hub = make_hub()
    wex, apple = hub.subscribe(1), hub.subscribe(2)
    for n in range(1, 4):
        send(hub, 1, n)
        send(hub, 2, n, kind="log")
    assert [(e.tenant_id, e.data["n"]) for e in await batch(wex)] == [(1, 1), (1, 2), (1, 3)]
    assert [(e.tenant_id, e.kind) for e in await batch(apple)] == [(2, "log")] * 3
    assert await batch(wex) == []


async def test_event_ids_increase_across_tenants() -> None:
    hub = make_hub()
    seqs = [send(hub, tenant, n).seq for n in range(3) for tenant in (1, 2)]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert hub.last_event_id == f"{hub.epoch}-6"


async def test_unusable_payloads_are_skipped_without_an_id() -> None:
    hub = make_hub()
    subscriber = hub.subscribe(1)
    assert hub.dispatch("{oops") is None
    assert hub.dispatch('{"kind": "log"}') is None
    assert send(hub, 1, 1).seq == 1
    assert [e.seq for e in await batch(subscriber)] == [1]


async def test_a_full_queue_is_replaced_by_one_refresh_without_waiting() -> None:
    hub = make_hub(queue_size=4)
    slow, fast = hub.subscribe(1), hub.subscribe(1)
    received: list[int] = []
    for n in range(1, 11):
        send(hub, 1, n)
        received.extend(e.data["n"] for e in await batch(fast))
    assert received == list(range(1, 11))
    backlog = await batch(slow)
    # 1-4 filled the queue; 5 overflowed it (refresh at 5); 6-8 refilled; 9 overflowed again.
    assert [e.kind for e in backlog] == [REFRESH, "progress"]
    assert backlog[0].seq == 9 and backlog[0].data["reason"] == "overflow"
    assert backlog[1].data["n"] == 10
    assert slow.overflows == 2 and hub.stats().overflows == 2


async def test_a_gap_refreshes_every_subscriber_and_blocks_resume_across_it() -> None:
    hub = make_hub()
    wex, apple = hub.subscribe(1), hub.subscribe(2)
    before = send(hub, 1, 1)
    hub.mark_gap()
    for subscriber, tenant in ((wex, 1), (apple, 2)):
        [refresh] = await batch(subscriber)
        assert (refresh.kind, refresh.tenant_id, refresh.data["reason"]) == (
            REFRESH,
            tenant,
            "reconnect",
        )
    [stale] = await batch(hub.subscribe(1, before.id))
    assert stale.kind == REFRESH and stale.data["reason"] == "resume"
    after = hub.subscribe(1, refresh.id)
    send(hub, 1, 2)
    assert [e.data.get("n") for e in await batch(after)] == [2]


async def test_a_replay_longer_than_the_queue_is_a_refresh() -> None:
    hub = make_hub(queue_size=3)
    first = send(hub, 1, 1)
    for n in range(2, 6):
        send(hub, 1, n)
    [refresh] = await batch(hub.subscribe(1, first.id))
    assert refresh.kind == REFRESH and refresh.id == hub.last_event_id
    assert [e.data["n"] for e in await batch(hub.subscribe(1, f"{hub.epoch}-2"))] == [3, 4, 5]


async def test_the_cap_refuses_subscribers_beyond_it_until_one_leaves() -> None:
    hub = make_hub(max_subscribers=2)
    first, _second = hub.subscribe(1), hub.subscribe(2)
    assert not hub.accepting
    with pytest.raises(HubFullError, match="2 live clients"):
        hub.subscribe(1)
    hub.unsubscribe(first)
    hub.unsubscribe(first)  # twice is harmless
    assert hub.accepting and hub.stats().subscribers == 1
    assert first.closed and await first.next_batch(0.01) is None


async def test_ending_the_streams_wakes_them_and_refuses_new_subscribers() -> None:
    hub = make_hub()
    subscriber = hub.subscribe(1)
    waiting = asyncio.create_task(subscriber.next_batch(10))
    await asyncio.sleep(0.01)
    hub.end_streams()
    assert await asyncio.wait_for(waiting, 1) is None
    assert not hub.accepting
    with pytest.raises(HubFullError, match="shutting down"):
        hub.subscribe(1)


async def test_an_idle_wait_returns_an_empty_batch_for_a_keep_alive() -> None:
    subscriber = make_hub().subscribe(1)
    assert await subscriber.next_batch(0.01) == []


async def test_a_keep_alive_tick_wakes_only_streams_that_were_idle_for_a_period() -> None:
    hub = make_hub()
    idle, busy = hub.subscribe(1), hub.subscribe(2)
    send(hub, 2, 1)
    for subscriber in (idle, busy):
        subscriber.tick()
    assert await asyncio.wait_for(idle.next_batch(), 1) == []  # send a keep-alive comment
    assert [e.data["n"] for e in await batch(busy)] == [1]
    waiting = asyncio.create_task(busy.next_batch())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    busy.tick()  # a whole period without events
    assert await asyncio.wait_for(waiting, 1) == []
