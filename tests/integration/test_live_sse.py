"""The SSE endpoint over real HTTP: uvicorn on loopback, httpx reading text/event-stream."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from app.live import EventHub, LiveEvent, sse_endpoint
from app.live.server import LiveEventsServer
from app.live.sse import Renderer
from tests.integration.test_live_harness import publish, publish_series, tenants

__all__ = ["tenants"]  # fixture

TENANT_HEADER = "X-Test-Tenant"


@dataclass
class Message:
    """One SSE message as a browser's EventSource would see it."""

    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)
    retry: int | None = None

    @property
    def json(self) -> dict[str, object]:
        body: dict[str, object] = json.loads("\n".join(self.data))
        return body


class SseReader:
    """Parses a streaming httpx response into SSE messages."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments = 0

    async def next(self, wait_s: float = 10.0) -> Message:
        message = Message()
        async with asyncio.timeout(wait_s):
            async for line in self.lines:
                if not line:
                    if message.data or message.retry is not None or message.id is not None:
                        return message
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if not name:
                    self.comments += 1
                elif name == "data":
                    message.data.append(value)
                elif name == "event":
                    message.event = value
                elif name == "id":
                    message.id = value
                elif name == "retry":
                    message.retry = int(value)
        raise AssertionError("the stream ended")

    async def take(self, count: int) -> list[Message]:
        return [await self.next() for _ in range(count)]


async def header_tenant(request: Request) -> int | None:
    value = request.headers.get(TENANT_HEADER)
    return int(value) if value else None


@dataclass
class LiveServer:
    """A tiny web app with the hub and the endpoint, served by uvicorn on 127.0.0.1."""

    base_url: str
    hubs: list[EventHub]
    serving: asyncio.Task[None]
    server: uvicorn.Server

    @property
    def hub(self) -> EventHub:
        return self.hubs[0]

    @asynccontextmanager
    async def stream(
        self, tenant_id: int, headers: dict[str, str] | None = None, path: str = "/events"
    ) -> AsyncIterator[SseReader]:
        """An open event stream of `tenant_id`, past its opening `retry` message."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            all_headers = {TENANT_HEADER: str(tenant_id), **(headers or {})}
            async with client.stream("GET", path, headers=all_headers) as response:
                assert response.status_code == 200
                reader = SseReader(response)
                opening = await reader.next()
                assert opening.retry == 3000 and not opening.data
                yield reader


@asynccontextmanager
async def live_server(
    url: str,
    *,
    render: Renderer | None = None,
    max_stream_s: float | None = 600.0,
    **hub_options: Any,
) -> AsyncIterator[LiveServer]:
    hubs: list[EventHub] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, EventHub]]:
        async with EventHub(url, **hub_options) as hub:
            hubs.append(hub)
            yield {"hub": hub}

    endpoint = sse_endpoint(
        lambda request: request.state.hub, header_tenant, render=render, max_stream_s=max_stream_s
    )
    app = Starlette(routes=[Route("/events", endpoint)], lifespan=lifespan)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, log_level="warning", lifespan="on"
    )
    config.timeout_graceful_shutdown = 2
    server = LiveEventsServer(config, lambda: hubs[0] if hubs else None)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", hubs, serving, server)
    finally:
        server.should_exit = True
        await serving


async def wait_until(predicate: Callable[[], bool], wait_s: float = 5.0) -> None:
    for _ in range(int(wait_s / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still not true after {wait_s} s")


async def test_each_stream_carries_only_its_tenants_events_named_by_kind(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex, apple = tenants["WEX"], tenants["Apple"]
    async with (
        live_server(fresh_db_url) as server,
        server.stream(wex) as wex_stream,
        server.stream(apple) as apple_stream,
    ):
        assert wex_stream.response.headers["content-type"].startswith("text/event-stream")
        assert wex_stream.response.headers["cache-control"] == "no-cache, no-store"
        await asyncio.gather(
            publish(fresh_db_url, wex, "progress", 30, entity="issues"),
            publish(fresh_db_url, apple, "log", 30, message="page stored"),
        )
        wex_got, apple_got = await wex_stream.take(30), await apple_stream.take(30)

        assert [m.event for m in wex_got] == ["progress"] * 30
        assert [m.json["n"] for m in wex_got] == list(range(1, 31))
        assert {m.json["tenant_id"] for m in wex_got} == {wex}
        assert [m.event for m in apple_got] == ["log"] * 30
        assert {m.json["tenant_id"] for m in apple_got} == {apple}
        ids = [int(str(m.id).rpartition("-")[2]) for m in wex_got]
        assert ids == sorted(ids) and len(set(ids)) == 30


async def test_a_reconnect_with_last_event_id_resumes_without_a_gap(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex, apple = tenants["WEX"], tenants["Apple"]
    async with live_server(fresh_db_url) as server:
        async with server.stream(wex) as first:
            await publish_series(fresh_db_url, [wex, apple], 1, 5)
            seen = await first.take(5)
        await wait_until(lambda: server.hub.stats().subscribers == 0)
        await publish_series(fresh_db_url, [wex, apple], 6, 12)
        await wait_until(lambda: server.hub.stats().events == 24)

        async with server.stream(wex, {"Last-Event-ID": str(seen[-1].id)}) as resumed:
            await publish_series(fresh_db_url, [wex], 13, 14)
            replayed = await resumed.take(9)
            assert [m.json["n"] for m in replayed] == list(range(6, 15))
        # A page rendered after event 10 passes that id in its URL (EventSource cannot set
        # headers on its first request).
        page_id = replayed[4].id
        async with server.stream(wex, path=f"/events?last_event_id={page_id}") as from_page:
            assert [m.json["n"] for m in await from_page.take(4)] == [11, 12, 13, 14]
        async with server.stream(wex, {"Last-Event-ID": "0badcafe-3"}) as after_restart:
            refresh = await after_restart.next()
            assert refresh.event == "refresh" and refresh.json["reason"] == "resume"
            assert refresh.id == server.hub.last_event_id


async def test_anonymous_callers_get_401_and_callers_past_the_cap_503(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    async with (
        live_server(fresh_db_url, max_subscribers=1) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=5) as client,
    ):
        anonymous = await client.get("/events")
        assert anonymous.status_code == 401
        async with server.stream(tenants["WEX"]):
            full = await client.get("/events", headers={TENANT_HEADER: str(tenants["Apple"])})
            assert full.status_code == 503 and full.headers["retry-after"] == "5"
        await wait_until(lambda: server.hub.accepting)
        async with server.stream(tenants["Apple"]):
            assert server.hub.stats().subscribers == 1


async def test_a_client_that_leaves_is_unsubscribed_at_once(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    async with live_server(fresh_db_url) as server:
        async with server.stream(tenants["WEX"]), server.stream(tenants["WEX"]):
            assert server.hub.stats().subscribers == 2
        # Well before any keep-alive write could reveal the closed socket.
        await wait_until(lambda: server.hub.stats().subscribers == 0, wait_s=1.0)


async def test_idle_streams_get_keep_alive_comments(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    async with (
        live_server(fresh_db_url, keepalive_s=0.05) as server,
        server.stream(tenants["WEX"]) as stream,
    ):
        await asyncio.sleep(0.3)
        await publish(fresh_db_url, tenants["WEX"], "run", 1, status="finished")
        message = await stream.next()
        assert message.event == "run" and stream.comments >= 1


async def test_a_renderer_sends_html_fragments_and_skips_what_it_does_not_render(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    def render(event: LiveEvent) -> str | None:
        if event.kind != "log":
            return None
        return f'<li class="log">{event.data["message"]}</li>\n<li>#{event.data["n"]}</li>'

    wex = tenants["WEX"]
    async with live_server(fresh_db_url, render=render) as server, server.stream(wex) as stream:
        await publish(fresh_db_url, wex, "log", 1, message="page 1 stored")
        await publish(fresh_db_url, wex, "progress", 1, pages=1)
        log, skipped = await stream.take(2)
        assert log.event == "log"
        assert log.data == ['<li class="log">page 1 stored</li>', "<li>#1</li>"]
        # Not rendered: only its id goes out, so no JSON reaches an htmx swap target.
        assert skipped.data == [] and skipped.id == server.hub.last_event_id


async def test_a_client_that_stops_reading_gets_a_refresh_and_never_slows_the_others(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex = tenants["WEX"]
    big = "x" * 6000
    count = 1500  # ~9 MB: more than the stalled socket's kernel buffers hold
    async with live_server(fresh_db_url, queue_size=64) as server, server.stream(wex) as fast:
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = server.base_url.removeprefix("http://").split(":")
        await asyncio.to_thread(stalled.connect, (host, int(port)))
        request = f"GET /events HTTP/1.1\r\nHost: {host}\r\n{TENANT_HEADER}: {wex}\r\n\r\n"
        stalled.sendall(request.encode())
        await wait_until(lambda: server.hub.stats().subscribers == 2)
        try:
            publishing = asyncio.create_task(publish(fresh_db_url, wex, "log", count, message=big))
            got = [m.json["n"] for m in await fast.take(count)]
            await publishing
            assert got == list(range(1, count + 1))
            assert server.hub.stats().overflows >= 1

            stalled.setblocking(False)
            received = b""
            async with asyncio.timeout(10):
                while b"event: refresh" not in received:
                    received += await asyncio.get_running_loop().sock_recv(stalled, 1 << 20)
            assert b'"reason":"overflow"' in received
        finally:
            stalled.close()


async def test_closing_the_hub_ends_open_streams_cleanly(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    async with live_server(fresh_db_url) as server, server.stream(tenants["WEX"]) as stream:
        server.hub.end_streams()  # what a shutting-down web process does
        with pytest.raises(AssertionError, match="the stream ended"):
            await stream.next()
        await wait_until(lambda: server.hub.stats().subscribers == 0)


async def test_a_server_shutting_down_ends_open_streams_at_once(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    async with live_server(fresh_db_url) as server, server.stream(tenants["WEX"]) as stream:
        started = time.monotonic()
        server.server.should_exit = True  # what SIGTERM does
        with pytest.raises(AssertionError, match="the stream ended"):
            await stream.next()
        await asyncio.wait_for(server.serving, 5)
        # Well within uvicorn's timeout_graceful_shutdown (2 s), which would cancel the stream.
        assert time.monotonic() - started < 1.5
        assert server.hub.stats().subscribers == 0 and not server.hub.accepting


async def test_a_long_stream_ends_by_itself_so_the_caller_is_authenticated_again(
    fresh_db_url: str, tenants: dict[str, int]
) -> None:
    wex = tenants["WEX"]
    async with live_server(fresh_db_url, max_stream_s=0.3, keepalive_s=0.05) as server:
        async with server.stream(wex) as stream:
            await publish(fresh_db_url, wex, "progress", 1)
            first = await stream.next()
            with pytest.raises(AssertionError, match="the stream ended"):
                while True:
                    await stream.next()
        await publish(fresh_db_url, wex, "log", 2)  # while no stream is open
        # The browser's reconnect: it resumes from its last id, missing nothing.
        async with server.stream(wex, {"Last-Event-ID": str(first.id)}) as resumed:
            got = [(m.event, m.json["n"]) for m in await resumed.take(2)]
            assert got == [("log", 1), ("log", 2)]
