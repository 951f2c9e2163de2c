"""Live event payloads, ids and the per-tenant resume buffer."""

from __future__ import annotations

import pytest

from app.events import event_payload
from app.live.model import (
    REFRESH,
    BadPayloadError,
    LiveEvent,
    ResumeBuffer,
    event_id,
    parse_event_id,
    parse_payload,
    refresh_event,
)


def live(seq: int, tenant_id: int = 1) -> LiveEvent:
    payload = event_payload(tenant_id, "progress", n=seq)
    return LiveEvent(
        seq, event_id("e", seq), tenant_id, "progress", parse_payload(payload), payload
    )


def test_a_published_payload_parses_with_its_tenant_and_kind() -> None:
    body = parse_payload(event_payload(7, "log", id=3, message="page 1 stored"))
    assert body == {"tenant_id": 7, "kind": "log", "id": 3, "message": "page 1 stored"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"kind": "log"}', "no integer tenant_id"),
        ('{"tenant_id": "1", "kind": "log"}', "no integer tenant_id"),
        ('{"tenant_id": true, "kind": "log"}', "no integer tenant_id"),
        ('{"tenant_id": 1}', "not a usable event name"),
        ('{"tenant_id": 1, "kind": "log\\nevent: x"}', "not a usable event name"),
        ('{"tenant_id": 1, "kind": "refresh"}', "not a usable event name"),
    ],
)
def test_payloads_that_are_not_live_events_are_refused(payload: str, reason: str) -> None:
    with pytest.raises(BadPayloadError, match=reason):
        parse_payload(payload)


def test_event_ids_name_the_hub_instance_and_the_sequence() -> None:
    assert event_id("a1b2c3d4", 42) == "a1b2c3d4-42"
    assert parse_event_id("a1b2c3d4-42") == ("a1b2c3d4", 42)
    assert parse_event_id(" a1b2c3d4-0 ") == ("a1b2c3d4", 0)
    for foreign in ("", "42", "-42", "a1b2-x", "a1b2--1", "a1b2-" + "9" * 19):
        assert parse_event_id(foreign) is None, foreign


def test_a_refresh_event_carries_its_tenant_and_reason() -> None:
    refresh = refresh_event("e", 9, 4, "overflow")
    assert (refresh.kind, refresh.id, refresh.seq, refresh.tenant_id) == (REFRESH, "e-9", 9, 4)
    assert refresh.payload == '{"tenant_id":4,"kind":"refresh","reason":"overflow"}'


def test_the_buffer_replays_what_came_after_an_id_it_still_holds() -> None:
    buffer = ResumeBuffer(3)
    for seq in (2, 5, 8):
        buffer.append(live(seq))
    assert [e.seq for e in buffer.since(0) or []] == [2, 5, 8]
    assert [e.seq for e in buffer.since(5) or []] == [8]
    assert buffer.since(8) == []
    assert buffer.since(99) == []


def test_the_buffer_refuses_a_replay_that_would_skip_forgotten_events() -> None:
    buffer = ResumeBuffer(3)
    for seq in (2, 5, 8, 11):
        buffer.append(live(seq))  # 2 is forgotten
    assert buffer.evicted_upto == 2
    assert buffer.since(1) is None
    assert [e.seq for e in buffer.since(2) or []] == [5, 8, 11]  # the client saw 2 itself
    assert [e.seq for e in buffer.since(3) or []] == [5, 8, 11]
