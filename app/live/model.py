"""Live events as the web process holds them: parsed payloads numbered by the hub."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

REFRESH = "refresh"
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_EVENT_ID = re.compile(r"([0-9a-f]{1,32})-([0-9]{1,18})")


class BadPayloadError(ValueError):
    """A notification payload is not a live event (not JSON, no tenant, bad kind)."""


@dataclass(eq=False, slots=True)
class LiveEvent:
    """One event of one tenant; `id` is the SSE id ("<hub epoch>-<seq>")."""

    seq: int
    id: str
    tenant_id: int
    kind: str
    data: dict[str, Any]
    payload: str  # the JSON text sent when no renderer replaces it
    frames: dict[object, bytes] = field(default_factory=dict)  # encoded once per renderer


def parse_payload(payload: str) -> dict[str, Any]:
    """The event's JSON object, checked for an integer `tenant_id` and a safe `kind`."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BadPayloadError(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadPayloadError("not a JSON object")
    tenant_id = body.get("tenant_id")
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
        raise BadPayloadError("no integer tenant_id")
    kind = body.get("kind")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind) or kind == REFRESH:
        raise BadPayloadError(f"kind {kind!r} is not a usable event name")
    return body


def event_id(epoch: str, seq: int) -> str:
    """The SSE id of event `seq` of the hub instance `epoch`."""
    return f"{epoch}-{seq}"


def parse_event_id(text: str) -> tuple[str, int] | None:
    """(epoch, seq) of an SSE id, or None when it is not one of ours."""
    match = _EVENT_ID.fullmatch(text.strip())
    return None if match is None else (match[1], int(match[2]))


def refresh_event(epoch: str, seq: int, tenant_id: int, reason: str) -> LiveEvent:
    """Tells a client to re-render everything: events up to `seq` may not have reached it."""
    data: dict[str, Any] = {"tenant_id": tenant_id, "kind": REFRESH, "reason": reason}
    return LiveEvent(
        seq=seq,
        id=event_id(epoch, seq),
        tenant_id=tenant_id,
        kind=REFRESH,
        data=data,
        payload=orjson.dumps(data).decode(),
    )


class ResumeBuffer:
    """The most recent events of one tenant, for replay after a reconnect."""

    def __init__(self, size: int) -> None:
        self.events: deque[LiveEvent] = deque(maxlen=size)
        self.evicted_upto = 0  # seq of the newest event no longer held

    def append(self, event: LiveEvent) -> None:
        """Keep `event`, forgetting the oldest one when full."""
        if len(self.events) == self.events.maxlen:
            self.evicted_upto = self.events[0].seq
        self.events.append(event)

    def since(self, seq: int) -> list[LiveEvent] | None:
        """Every held event after `seq`, or None when some of them were already forgotten."""
        if seq < self.evicted_upto:
            return None
        newer: list[LiveEvent] = []
        for event in reversed(self.events):
            if event.seq <= seq:
                break
            newer.append(event)
        newer.reverse()
        return newer
