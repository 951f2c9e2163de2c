"""The SSE benchmark's clients: each reads one `/events` stream with its tenant's bearer
token and checks every event it receives (see sse_bench.py)."""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import httpx
import orjson

CONNECT_TIMEOUT_S = 120.0
CLIENT_KINDS = {
    "raw": "an asyncio protocol per socket reading HTTP/1.1 chunked text/event-stream",
    "httpx": "httpx AsyncClient streams",
}


@dataclass
class Window:
    """The measurement window (wall clock): from the first probe commit to the last."""

    start: float = float("inf")
    end: float = float("inf")


@dataclass
class Client:
    """One SSE client and what it received."""

    tenant_id: int
    token: str
    window: Window
    received: dict[int, float] = field(default_factory=dict)  # probe bench_n -> receive time
    probe_seq_max: int = 0  # the hub's number of the newest probe event received
    sync_seqs: array[int] = field(default_factory=lambda: array("q"))  # ascending
    sync_progress: int = 0  # sync events of kind `progress`: a worker is at work
    sync_in_window: int = 0
    last_seq: int = 0
    connected: bool = False
    refreshes: int = 0
    duplicates: int = 0
    foreign: int = 0
    error: str | None = None
    pending: bytes = b""

    def feed(self, text: bytes, now: float) -> None:
        """Account for the stream's next bytes (`now`: when they arrived)."""
        *frames, self.pending = (self.pending + text).split(b"\n\n")
        for frame in frames:
            self.take(frame, now)

    def take(self, frame: bytes, now: float) -> None:
        """Account for one SSE message."""
        event = b"message"
        data = b""
        seq = 0
        for line in frame.split(b"\n"):
            if line.startswith(b"data: "):
                data = line[6:]
            elif line.startswith(b"id: "):
                seq = int(line.rsplit(b"-", 1)[1])
            elif line.startswith(b"event: "):
                event = line[7:]
            elif line.startswith(b"retry: "):
                self.connected = True
        if event == b"refresh":
            self.refreshes += 1
            return
        if seq:
            # The hub numbers every event and a stream sends them in order.
            if seq <= self.last_seq:
                self.duplicates += 1
                return
            self.last_seq = seq
        if not data:
            return
        body = orjson.loads(data)
        if body.get("tenant_id") != self.tenant_id:
            self.foreign += 1
            return
        n = body.get("bench_n")
        if isinstance(n, int):
            if n in self.received:
                self.duplicates += 1
            else:
                self.received[n] = now
                self.probe_seq_max = seq
            return
        self.sync_seqs.append(seq)
        if body.get("kind") == "progress":
            self.sync_progress += 1
        if self.window.start <= now <= self.window.end:
            self.sync_in_window += 1

    def events_request(self, host: str, port: int) -> bytes:
        return (
            f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()

    async def listen_httpx(self, http: httpx.AsyncClient, base: str) -> None:
        """Read the stream with httpx until cancelled, noting what breaks it."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with http.stream("GET", f"{base}/events", headers=headers) as response:
                if response.status_code != 200:
                    self.error = f"HTTP {response.status_code}"
                    return
                async for chunk in response.aiter_raw():
                    self.feed(chunk, time.time())
            self.error = "the stream ended"
        except httpx.HTTPError as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    async def listen_raw(self, base: str) -> None:
        """Read the stream with a minimal HTTP/1.1 protocol until cancelled."""
        parts = urlsplit(base)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        request = self.events_request(host, port)
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()
        try:
            transport, _ = await loop.create_connection(
                lambda: ChunkedStream(self, request, ended), host, port
            )
        except OSError as exc:
            self.error = f"connect: {exc}"
            return
        try:
            await ended
        finally:
            transport.close()


class ChunkedStream(asyncio.Protocol):
    """The client side of one `text/event-stream` response with chunked encoding."""

    def __init__(self, client: Client, request: bytes, ended: asyncio.Future[None]) -> None:
        self.client = client
        self.request = request
        self.ended = ended
        self.head: bytes | None = b""  # None once the headers are read
        self.raw = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data, self.head = self.head[:end], self.head[end + 4 :], None
            if not head.startswith(b"HTTP/1.1 200") or b"chunked" not in head.lower():
                self.fail(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                return
        self.raw += data
        text: list[bytes] = []
        while (line_end := self.raw.find(b"\r\n")) >= 0:
            size = int(self.raw[:line_end].split(b";", 1)[0], 16)
            if size == 0:
                self.fail("the stream ended")
                break
            chunk_end = line_end + 2 + size
            if len(self.raw) < chunk_end + 2:
                break
            text.append(self.raw[line_end + 2 : chunk_end])
            self.raw = self.raw[chunk_end + 2 :]
        if text:
            self.client.feed(b"".join(text), now)

    def fail(self, reason: str) -> None:
        self.client.error = self.client.error or reason
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.client.error = self.client.error or f"connection lost: {exc}"
            self.ended.set_result(None)


async def connect_clients(
    base: str,
    credentials: Sequence[tuple[int, str]],
    count: int,
    kind: str,
    window: Window,
    timeout_s: float = CONNECT_TIMEOUT_S,
) -> tuple[httpx.AsyncClient, list[Client], list[asyncio.Task[None]]]:
    """`count` streaming clients spread evenly over the (tenant id, bearer token) pairs,
    all past their opening message (or failed) when this returns."""
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, read=None),
        limits=httpx.Limits(max_connections=count + 10, max_keepalive_connections=0),
    )
    clients = [
        Client(tenant_id, token, window)
        for tenant_id, token in (credentials[i % len(credentials)] for i in range(count))
    ]
    tasks = [
        asyncio.create_task(c.listen_httpx(http, base) if kind == "httpx" else c.listen_raw(base))
        for c in clients
    ]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        settled = sum(c.connected or c.error is not None for c in clients)
        if settled == count or all(task.done() for task in tasks):
            break
        await asyncio.sleep(0.2)
    return http, clients, tasks
