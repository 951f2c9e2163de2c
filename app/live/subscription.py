"""One client's bounded queue of its tenant's events."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from app.live.model import LiveEvent, refresh_event


class Subscription:
    """Events of one tenant waiting to be sent to one client.

    The hub offers events without ever waiting: when the queue is full the client has
    fallen behind, so its backlog is dropped for a single `refresh` event (re-render
    everything) and the client catches up from there."""

    def __init__(
        self, tenant_id: int, epoch: str, maxsize: int, initial: Iterable[LiveEvent] = ()
    ) -> None:
        self.tenant_id = tenant_id
        self.epoch = epoch
        self.maxsize = maxsize
        self.overflows = 0
        self.closed = False
        self.disconnected = False  # set when the client left (nothing more to send)
        self._pending: deque[LiveEvent] = deque(initial)
        self._ready = asyncio.Event()
        self._active = False  # something was queued since the last keep-alive tick
        if self._pending:
            self._ready.set()

    def __len__(self) -> int:
        return len(self._pending)

    def offer(self, event: LiveEvent) -> None:
        """Queue `event`; on a full queue, replace the backlog with a refresh instead."""
        if self.closed:
            return
        if len(self._pending) >= self.maxsize:
            self.overflows += 1
            # The refresh covers `event` too: it committed before the client re-reads.
            self.reset(refresh_event(self.epoch, event.seq, self.tenant_id, "overflow"))
            return
        self._pending.append(event)
        self._active = True
        self._ready.set()

    def reset(self, refresh: LiveEvent) -> None:
        """Drop the backlog and queue `refresh` in its place."""
        if self.closed:
            return
        self._pending.clear()
        self._pending.append(refresh)
        self._active = True
        self._ready.set()

    def close(self) -> None:
        """End the stream: `next_batch` returns None from now on."""
        self.closed = True
        self._pending.clear()
        self._ready.set()

    def tick(self) -> None:
        """A keep-alive period passed: wake an idle stream so it can send a comment."""
        if not self._active and not self._pending:
            self._ready.set()
        self._active = False

    async def next_batch(self, wait_s: float | None = None) -> list[LiveEvent] | None:
        """Every queued event, waiting for one; [] after a keep-alive `tick` (or after
        `wait_s` without events); None once closed."""
        if not self._pending and not self.closed:
            if wait_s is None:
                await self._ready.wait()
            else:
                try:
                    async with asyncio.timeout(wait_s):
                        await self._ready.wait()
                except TimeoutError:
                    pass
        self._ready.clear()
        if self.closed:
            return None
        batch = list(self._pending)
        self._pending.clear()
        return batch
