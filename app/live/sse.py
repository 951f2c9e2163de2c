"""Server-sent events: the wire encoding and the Starlette endpoint over an EventHub."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from app.live.hub import EventHub, HubFullError
from app.live.model import REFRESH, LiveEvent
from app.live.subscription import Subscription

log = structlog.get_logger("sluice.live")


@dataclass(frozen=True, slots=True)
class Frame:
    """A rendered event under a name of the renderer's choosing (e.g. `job-12`, which one
    card listens for with `hx-trigger="sse:job-12"`)."""

    event: str
    data: str


HubGetter = Callable[[Request], EventHub]
TenantGetter = Callable[[Request], Awaitable[int | None]]
Renderer = Callable[[LiveEvent], str | Frame | None]
EventFilter = Callable[[LiveEvent], bool]
FilterGetter = Callable[[Request, int], Awaitable[EventFilter | None]]

KEEPALIVE = b": keep-alive\n\n"
FULL_RETRY_AFTER_S = 5
STREAM_HEADERS = {
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",  # proxies must pass each event on at once
}


def encode_event(
    data: str, *, event: str | None = None, event_id: str | None = None, retry_ms: int | None = None
) -> bytes:
    """One SSE message; empty `data` sends no data line, so only the id and retry apply."""
    lines: list[str] = []
    if event_id is not None:
        _check_field("id", event_id)
        lines.append(f"id: {event_id}")
    if event is not None:
        _check_field("event", event)
        lines.append(f"event: {event}")
    if retry_ms is not None:
        lines.append(f"retry: {int(retry_ms)}")
    if data:
        normalised = data.replace("\r\n", "\n").replace("\r", "\n")
        lines.extend(f"data: {line}" for line in normalised.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def encode_comment(text: str) -> bytes:
    """An SSE comment line (ignored by clients; keeps proxies from closing the stream)."""
    _check_field("comment", text)
    return f": {text}\n\n".encode()


def _check_field(name: str, value: str) -> None:
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"an SSE {name} cannot contain a line break or NUL: {value!r}")


def event_frame(event: LiveEvent, render: Renderer | None = None) -> bytes:
    """The encoded message of `event`.

    Without a renderer the data is the JSON payload under the event's kind. With one, it is
    the renderer's HTML (under the kind, or under the name of a returned `Frame`); an event
    it returns None for (or fails on) goes out as its id alone, which moves the client's
    resume point without dispatching anything, so no JSON ever lands in an htmx swap
    target. A `refresh` the renderer leaves alone still goes out as JSON (it carries no
    tenant data), since pages must hear it. Frames are cached on the event: each is
    rendered once however many of the tenant's clients receive it, so a renderer must
    depend on the event alone."""
    frame = event.frames.get(render)
    if frame is None:
        name, data = _named_data(event, render)
        frame = event.frames[render] = encode_event(
            data, event=name if data else None, event_id=event.id
        )
    return frame


def _named_data(event: LiveEvent, render: Renderer | None) -> tuple[str, str]:
    if render is None:
        return event.kind, event.payload
    rendered = _rendered(event, render)
    if isinstance(rendered, Frame):
        return rendered.event, rendered.data
    if rendered is None:
        return event.kind, event.payload if event.kind == REFRESH else ""
    return event.kind, rendered


def skipped_frame(event: LiveEvent) -> bytes:
    """An event the client's filter leaves out: its id alone (the resume point moves on)."""
    return encode_event("", event_id=event.id)


def _rendered(event: LiveEvent, render: Renderer) -> str | Frame | None:
    try:
        return render(event)
    except Exception:  # a broken partial must not end every stream of the tenant
        log.exception("rendering a live event failed", kind=event.kind, event_id=event.id)
        return None


def last_event_id(request: Request) -> str | None:
    """The resume point: the `Last-Event-ID` header (sent by a reconnecting EventSource),
    else the `last_event_id` query parameter (the id a page was rendered at)."""
    return request.headers.get("last-event-id") or request.query_params.get("last_event_id")


def sse_endpoint(
    hub_getter: HubGetter,
    tenant_getter: TenantGetter,
    *,
    render: Renderer | None = None,
    select: FilterGetter | None = None,
    retry_ms: int = 3000,
    max_stream_s: float | None = 600.0,
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint streaming the caller's tenant's events as `text/event-stream`.

    `tenant_getter` authenticates the request: it returns the tenant id, or raises (or
    returns None for) an anonymous caller, which gets 401. A stream ends after about
    `max_stream_s` and the browser reconnects with its `Last-Event-ID` (after `retry_ms`),
    so a signed-out or revoked session stops receiving within that time, and a valid one
    resumes without a gap. `select`, given the request and its tenant, returns the
    stream's filter (e.g. the log page's level and text): events it refuses go out as
    their id alone."""

    async def endpoint(request: Request) -> Response:
        tenant_id = await tenant_getter(request)
        if tenant_id is None:
            raise HTTPException(401, "Sign in to receive live updates.")
        hub = hub_getter(request)
        if not hub.accepting:
            raise _full()
        accept = None if select is None else await select(request, tenant_id)
        return EventStreamResponse(
            hub,
            tenant_id,
            last_event_id(request),
            render=render,
            accept=accept,
            retry_ms=retry_ms,
            max_stream_s=max_stream_s,
        )

    return endpoint


def _full() -> HTTPException:
    return HTTPException(
        503,
        "Too many live connections on this server; retrying shortly.",
        headers={"Retry-After": str(FULL_RETRY_AFTER_S)},
    )


class EventStreamResponse(Response):
    """Streams one subscription until the client leaves or the hub closes it; an idle
    stream gets a keep-alive comment every hub `keepalive_s`."""

    media_type = "text/event-stream"

    def __init__(
        self,
        hub: EventHub,
        tenant_id: int,
        last_event_id: str | None,
        *,
        render: Renderer | None = None,
        accept: EventFilter | None = None,
        retry_ms: int = 3000,
        max_stream_s: float | None = None,
    ) -> None:
        self.hub = hub
        self.tenant_id = tenant_id
        self.last_event_id = last_event_id
        self.renderer = render
        self.accept = accept
        self.retry_ms = retry_ms
        self.max_stream_s = max_stream_s
        self.status_code = 200
        self.background = None
        self.init_headers(STREAM_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            subscriber = self.hub.subscribe(self.tenant_id, self.last_event_id)
        except HubFullError:
            full = _full()
            await PlainTextResponse(full.detail, 503, full.headers)(scope, receive, send)
            return
        watcher = asyncio.create_task(_close_on_disconnect(receive, subscriber))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._stream(subscriber, send)
        except OSError:
            pass  # the client went away mid-write (ASGI 2.4 servers raise here)
        finally:
            self.hub.unsubscribe(subscriber)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def _stream(self, subscriber: Subscription, send: Send) -> None:
        opening = encode_event("", retry_ms=self.retry_ms)
        await send({"type": "http.response.body", "body": opening, "more_body": True})
        loop = asyncio.get_running_loop()
        # Spread the ends so that streams opened together do not all reconnect together.
        ends_at = (
            None
            if self.max_stream_s is None
            else loop.time() + self.max_stream_s * random.uniform(0.8, 1.0)
        )
        while (batch := await subscriber.next_batch()) is not None:
            chunk = b"".join(self._frame(event) for event in batch) or KEEPALIVE
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if ends_at is not None and loop.time() >= ends_at:
                break  # checked after each batch or keep-alive: at most one period late
        if not subscriber.disconnected:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _frame(self, event: LiveEvent) -> bytes:
        if self.accept is not None and event.kind != REFRESH and not self.accept(event):
            return skipped_frame(event)
        return event_frame(event, self.renderer)


async def _close_on_disconnect(receive: Receive, subscriber: Subscription) -> None:
    """Wait for the client to leave, then end its subscription."""
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            subscriber.disconnected = True
            subscriber.close()
            return
