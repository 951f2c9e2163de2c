"""The web process's one LISTEN connection, fanning events out to subscribers per tenant."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from dataclasses import dataclass
from types import TracebackType

import psycopg
import structlog
from psycopg import sql

from app.db import Connection, DatabaseUnavailableError, connect
from app.events import EVENTS_CHANNEL
from app.live.model import (
    BadPayloadError,
    LiveEvent,
    ResumeBuffer,
    event_id,
    parse_event_id,
    parse_payload,
    refresh_event,
)
from app.live.subscription import Subscription

log = structlog.get_logger("sluice.live")

_CONNECTION_ERRORS = (psycopg.Error, OSError, DatabaseUnavailableError, TimeoutError)


class HubFullError(Exception):
    """The process already serves its maximum number of live clients."""


@dataclass(frozen=True)
class HubStats:
    """Counters for health pages and metrics."""

    connected: bool
    subscribers: int
    events: int
    overflows: int
    reconnects: int
    last_event_id: str


class EventHub:
    """LISTEN on `sluice_events` and hand each tenant's events to that tenant's subscribers.

    Routing is by construction: a subscriber is filed under the tenant it subscribed
    with, and an event is only offered to the subscribers filed under its own
    `tenant_id`. Every event gets an id; a bounded buffer per tenant lets a client that
    reconnects with `Last-Event-ID` resume without a gap, and a client that cannot
    resume (or whose queue overflowed, or whose events may have been lost while the
    LISTEN connection was down) gets a `refresh` event instead."""

    def __init__(
        self,
        url: str,
        *,
        channel: str = EVENTS_CHANNEL,
        buffer_size: int = 1024,
        queue_size: int = 512,
        max_subscribers: int = 5000,
        keepalive_s: float = 15.0,
        ping_interval: float = 30.0,
        max_backoff: float = 5.0,
    ) -> None:
        self.url = url
        self.channel = channel
        self.buffer_size = buffer_size
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self.keepalive_s = keepalive_s
        self.ping_interval = ping_interval
        self.max_backoff = max_backoff
        self.epoch = secrets.token_hex(4)  # a restarted process never honours an old id
        self.listening = asyncio.Event()
        self._seq = 0
        self._gap_floor = 0  # ids below this may have missed events lost in a reconnect
        self._buffers: dict[int, ResumeBuffer] = {}
        self._subscribers: dict[int, set[Subscription]] = {}
        self._count = 0
        self._events = 0
        self._overflows = 0
        self._reconnects = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._conn: Connection | None = None

    async def __aenter__(self) -> EventHub:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect and LISTEN (raising when the database cannot be reached), then listen on."""
        conn = await self._listen_connection()
        self._tasks = [
            asyncio.create_task(self._run(conn), name="sluice-live-listen"),
            asyncio.create_task(self._tick(), name="sluice-live-keepalive"),
        ]

    async def stop(self) -> None:
        """Stop listening and end every subscriber's stream."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.end_streams()

    def end_streams(self) -> None:
        """Refuse new subscribers and end every open stream: the process is shutting down
        (clients reconnect with their last id, to this process's successor)."""
        self._closing = True
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.close()

    @property
    def last_event_id(self) -> str:
        """The id of the newest event: a page rendered now is current up to it."""
        return event_id(self.epoch, self._seq)

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend of the LISTEN connection (None while reconnecting)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    @property
    def accepting(self) -> bool:
        """False when a new subscriber would pass `max_subscribers` or streams are ending."""
        return self._count < self.max_subscribers and not self._closing

    def stats(self) -> HubStats:
        """Current counters."""
        return HubStats(
            connected=self.listening.is_set(),
            subscribers=self._count,
            events=self._events,
            overflows=self._overflows + sum(s.overflows for s in self._all_subscribers()),
            reconnects=self._reconnects,
            last_event_id=self.last_event_id,
        )

    def subscribe(self, tenant_id: int, last_event_id: str | None = None) -> Subscription:
        """A new subscriber to `tenant_id`'s events, first holding what it missed since
        `last_event_id` (or a refresh when that cannot be replayed)."""
        if not self.accepting:
            if self._closing:
                raise HubFullError("live events have stopped: the web process is shutting down")
            raise HubFullError(f"this process already serves {self.max_subscribers} live clients")
        initial: list[LiveEvent] = []
        if last_event_id:
            missed = self._missed_since(tenant_id, last_event_id)
            if missed is None or len(missed) > self.queue_size:
                initial = [refresh_event(self.epoch, self._seq, tenant_id, "resume")]
            else:
                initial = missed
        subscriber = Subscription(tenant_id, self.epoch, self.queue_size, initial)
        self._subscribers.setdefault(tenant_id, set()).add(subscriber)
        self._count += 1
        return subscriber

    def unsubscribe(self, subscriber: Subscription) -> None:
        """Forget `subscriber` (its client left); safe to call twice."""
        subscribers = self._subscribers.get(subscriber.tenant_id)
        if subscribers is None or subscriber not in subscribers:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self._subscribers[subscriber.tenant_id]
        self._overflows += subscriber.overflows
        self._count -= 1
        subscriber.close()

    def dispatch(self, payload: str) -> LiveEvent | None:
        """Number, buffer and fan out one notification payload; None when it is unusable."""
        try:
            body = parse_payload(payload)
        except BadPayloadError as exc:
            log.warning("ignored a live event payload", reason=str(exc), payload=payload[:200])
            return None
        self._seq += 1
        self._events += 1
        tenant_id: int = body["tenant_id"]
        event = LiveEvent(
            seq=self._seq,
            id=event_id(self.epoch, self._seq),
            tenant_id=tenant_id,
            kind=body["kind"],
            data=body,
            payload=payload,
        )
        buffer = self._buffers.get(tenant_id)
        if buffer is None:
            buffer = self._buffers[tenant_id] = ResumeBuffer(self.buffer_size)
        buffer.append(event)
        for subscriber in self._subscribers.get(tenant_id, ()):
            subscriber.offer(event)
        return event

    def mark_gap(self) -> None:
        """Events may have been lost (the LISTEN connection dropped): refresh everyone."""
        self._seq += 1
        self._gap_floor = self._seq
        self._buffers.clear()
        for tenant_id, subscribers in self._subscribers.items():
            refresh = refresh_event(self.epoch, self._seq, tenant_id, "reconnect")
            for subscriber in subscribers:
                subscriber.reset(refresh)

    def _missed_since(self, tenant_id: int, last_event_id: str) -> list[LiveEvent] | None:
        parsed = parse_event_id(last_event_id)
        if parsed is None:
            return None
        epoch, seq = parsed
        if epoch != self.epoch or seq < self._gap_floor or seq > self._seq:
            return None
        buffer = self._buffers.get(tenant_id)
        return [] if buffer is None else buffer.since(seq)

    def _all_subscribers(self) -> list[Subscription]:
        return [s for subscribers in self._subscribers.values() for s in subscribers]

    async def _listen_connection(self) -> Connection:
        conn = await connect(self.url, autocommit=True)
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        self.listening.set()
        return conn

    async def _run(self, conn: Connection | None) -> None:
        delay = 0.0
        while True:
            if conn is None:
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                try:
                    conn = await self._listen_connection()
                except _CONNECTION_ERRORS as exc:
                    delay = min(max(delay * 2, 0.1), self.max_backoff)
                    log.warning("live events: reconnecting failed", error=str(exc))
                    continue
                delay = 0.0
                self._reconnects += 1
                self.mark_gap()
                log.info("live events: listening again", reconnects=self._reconnects)
            try:
                await self._listen(conn)
            except _CONNECTION_ERRORS as exc:
                log.warning("live events: LISTEN connection lost", error=str(exc))
            finally:
                self.listening.clear()
                self._conn = None
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    await conn.close()
            conn = None

    async def _tick(self) -> None:
        # One timer for every stream: an idle one sends a keep-alive comment per period.
        while True:
            await asyncio.sleep(self.keepalive_s)
            for subscriber in self._all_subscribers():
                subscriber.tick()

    async def _listen(self, conn: Connection) -> None:
        while True:
            async for note in conn.notifies(timeout=self.ping_interval):
                self.dispatch(note.payload)
            # A quiet connection may be a dead one: a round trip proves it alive.
            async with asyncio.timeout(10):
                await conn.execute(sql.SQL("SELECT 1"))
