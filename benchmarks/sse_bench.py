"""SSE benchmark: concurrent server-sent-event clients on one web process while events are
published at a sync's pace; commit-to-delivery latency, dropped clients, the web's memory.

Run from the repository root:

    python benchmarks/sse_bench.py [--quick] [--clients N] [--rate EVENTS_PER_S]
                                   [--duration S] [--client raw|httpx]

The benchmark creates its own database on the configured server (DATABASE_URL, else the
embedded PostgreSQL under $SLUICE_HOME), builds it with the migrations and drops it at the
end. The web process is a subprocess serving a small Starlette app with Sluice's EventHub
and SSE endpoint through uvicorn on 127.0.0.1, as `sluice web` does (asyncio loop, h11);
its tenant comes from a `tenant` query parameter, since the session and bearer auth are not
part of the measurement. The clients, spread evenly over the seeded tenants, run in this
process: by default each is an asyncio protocol reading the chunked `text/event-stream`
off its own socket (light, so that on a small machine the measuring side does not starve
the web process); `--client httpx` uses httpx streams instead. A publisher subprocess
commits one `pg_notify` per event, with payloads shaped like a sync's (progress, log and
job events, round robin over the tenants), and notes the wall-clock time right after each
commit returns; a client's latency is its receive time minus that. A client is dropped
when it lost its connection, missed or duplicated any event of its tenant, received
another tenant's event, or had to refresh.

Progress goes to stderr; the last line of stdout is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import orjson
import psutil
import uvicorn
from benchdb import migrated_database
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.config import load_settings
from app.db import connect, resolve_database_url
from app.events import event_payload
from app.live import EventHub, sse_endpoint
from app.live.server import LiveEventsServer
from app.logging import configure_logging
from app.sqlstore import query

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("WEX", "Apple", "Google")
SETTLE_S = 5.0  # how long deliveries may trail the last commit
CONNECT_TIMEOUT_S = 120.0
SYNC_KINDS = ("progress", "log", "job")
CLIENT_KINDS = {
    "raw": "an asyncio protocol per socket reading HTTP/1.1 chunked text/event-stream",
    "httpx": "httpx AsyncClient streams",
}


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of the run."""

    clients: int = 1000
    rate: float = 150.0  # events per second, all tenants together
    duration: float = 20.0
    max_subscribers: int = 5000
    client: str = "raw"  # "raw": a minimal HTTP/1.1 protocol per socket; "httpx": httpx streams
    quick: bool = False


QUICK = BenchConfig(clients=100, rate=150.0, duration=5.0, quick=True)


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100 clients for 5 s")
    parser.add_argument("--clients", type=int, help="concurrent SSE clients (1,000)")
    parser.add_argument("--rate", type=float, help="events per second over all tenants (150)")
    parser.add_argument("--duration", type=float, help="seconds of publishing (20)")
    parser.add_argument(
        "--client",
        choices=tuple(CLIENT_KINDS),
        default="raw",
        help="SSE client: a minimal asyncio protocol (default, light) or httpx streams",
    )
    args = parser.parse_args(argv)
    config = replace(QUICK if args.quick else BenchConfig(), client=args.client)
    for name in ("clients", "rate", "duration"):
        value = getattr(args, name)
        if value is not None:
            if value <= 0:
                parser.error(f"--{name} must be positive")
            config = replace(config, **{name: value})
    return config


# -- statistics ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# -- database and processes ------------------------------------------------------------


@asynccontextmanager
async def bench_database(server_url: str) -> AsyncIterator[str]:
    """A new migrated database for this run, dropped afterwards."""
    async with migrated_database(server_url, "sluice_sse_bench", progress) as url:
        yield url


async def seeded_tenants(url: str) -> list[int]:
    conn = await connect(url, autocommit=True)
    async with conn:
        cur = await conn.execute(
            "SELECT id FROM tenants WHERE name = ANY(%s) ORDER BY id", [list(TENANTS)]
        )
        return [int(row["id"]) for row in await cur.fetchall()]


def raise_open_files_limit(needed: int) -> None:
    """Let this process hold `needed` sockets (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def spawn(mode: str, *args: str, stdout: int | None = None) -> subprocess.Popen[bytes]:
    """This script in another process, in the role `mode`."""
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), mode, *args], cwd=ROOT, stdout=stdout
    )


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            progress(f"process {process.pid} ignored SIGTERM for {grace_s} s; killing it")
            process.kill()
            process.wait()


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), in MiB."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


# -- the web process -------------------------------------------------------------------


def serve(url: str, port: int, max_subscribers: int) -> None:
    """The web process: the hub and the SSE endpoint under uvicorn, until SIGTERM."""
    hubs: list[EventHub] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, EventHub]]:
        async with EventHub(url, max_subscribers=max_subscribers) as hub:
            hubs.append(hub)
            yield {"hub": hub}

    async def tenant_from_query(request: Request) -> int | None:
        value = request.query_params.get("tenant", "")
        return int(value) if value.isdigit() else None

    async def stats(request: Request) -> Response:
        hub: EventHub = request.state.hub
        return JSONResponse(vars(hub.stats()))

    endpoint = sse_endpoint(lambda request: request.state.hub, tenant_from_query)
    app = Starlette(routes=[Route("/events", endpoint), Route("/stats", stats)], lifespan=lifespan)
    raise_open_files_limit(max_subscribers + 100)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        loop="asyncio",
        http="h11",
        backlog=4096,
        timeout_graceful_shutdown=5,
    )
    # uvicorn re-raises the SIGTERM that stopped it; end quietly instead, as `sluice web` does.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    asyncio.run(LiveEventsServer(config, lambda: hubs[0] if hubs else None).serve())


@asynccontextmanager
async def web_process(url: str, config: BenchConfig) -> AsyncIterator[tuple[str, int]]:
    """The web subprocess, ready to serve: (base URL, pid)."""
    port = free_port()
    process = spawn(
        "serve", url, "--port", str(port), "--max-subscribers", str(config.max_subscribers)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
            for _ in range(300):
                if process.poll() is not None:
                    raise RuntimeError(f"the web process exited with {process.returncode}")
                with suppress(httpx.TransportError):
                    if (await probe.get("/stats")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the web process did not answer within 30 s")
        progress(f"web process {process.pid} serving on {base}")
        yield base, process.pid
    finally:
        await asyncio.to_thread(stop_process, process)


async def web_stats(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=5) as probe:
        body: dict[str, Any] = (await probe.get("/stats")).json()
        return body


# -- the publisher ---------------------------------------------------------------------


def sync_like_payload(tenant_id: int, n: int) -> str:
    """The n-th event of a tenant, shaped like what a sync's stages publish."""
    kind = SYNC_KINDS[n % len(SYNC_KINDS)]
    common: dict[str, Any] = {"run_id": 1000 + tenant_id, "bench_n": n}
    if kind == "progress":
        data = {"job_id": n, "entity": "issues", "pages": n, "records": n * 100}
    elif kind == "log":
        data = {
            "id": n,
            "level": "info",
            "message": f"issues page {n} stored (100 records)",
            "queue_job_id": n,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
    else:
        data = {"job_id": n, "job_type": "transform", "status": "completed"}
    return event_payload(tenant_id, kind, **common, **data)


async def publish(url: str, tenants: list[int], rate: float, duration: float) -> None:
    """Commit one event at a time at `rate` per second for `duration` s; print when each
    commit returned (wall clock), as JSON on the last stdout line."""
    conn = await connect(url, autocommit=True)
    statement = query("event_publish")
    committed: list[tuple[int, int, float]] = []
    counts = dict.fromkeys(tenants, 0)
    total = int(rate * duration)
    started = time.perf_counter()
    async with conn:
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tenant_id = tenants[i % len(tenants)]
            counts[tenant_id] += 1
            n = counts[tenant_id]
            await conn.execute(statement, {"payload": sync_like_payload(tenant_id, n)})
            committed.append((tenant_id, n, time.time()))
    elapsed = time.perf_counter() - started
    print(json.dumps({"committed": committed, "elapsed_s": elapsed}))


# -- the clients -----------------------------------------------------------------------


@dataclass
class Client:
    """One SSE client and what it received."""

    tenant_id: int
    received: dict[int, float] = field(default_factory=dict)  # bench_n -> receive time
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
        for line in frame.split(b"\n"):
            if line.startswith(b"data: "):
                data = line[6:]
            elif line.startswith(b"event: "):
                event = line[7:]
            elif line.startswith(b"retry: "):
                self.connected = True
        if event == b"refresh":
            self.refreshes += 1
        if not data or event == b"refresh":
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

    async def listen_httpx(self, http: httpx.AsyncClient, base: str) -> None:
        """Read the stream with httpx until cancelled, noting what breaks it."""
        try:
            async with http.stream("GET", f"{base}/events?tenant={self.tenant_id}") as response:
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
        request = (
            f"GET /events?tenant={self.tenant_id} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
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
    base: str, tenants: list[int], config: BenchConfig
) -> tuple[httpx.AsyncClient, list[Client], list[asyncio.Task[None]]]:
    """Streaming clients spread over the tenants, all past their opening message."""
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, read=None),
        limits=httpx.Limits(max_connections=config.clients + 10, max_keepalive_connections=0),
    )
    clients = [Client(tenants[i % len(tenants)]) for i in range(config.clients)]
    tasks = [
        asyncio.create_task(
            c.listen_httpx(http, base) if config.client == "httpx" else c.listen_raw(base)
        )
        for c in clients
    ]
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while time.monotonic() < deadline:
        settled = sum(c.connected or c.error is not None for c in clients)
        if settled == config.clients or all(task.done() for task in tasks):
            break
        await asyncio.sleep(0.2)
    return http, clients, tasks


def run_with_fast_loop(main: Coroutine[Any, Any, Measurement]) -> Measurement:
    """Run the clients on uvloop when it is installed (the bench extra brings it), so the
    measuring side stays light; the web process keeps asyncio's loop, as `sluice web`."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


# -- the run ---------------------------------------------------------------------------


@dataclass
class RssSampler:
    """Samples a process's resident memory while the clients are connected."""

    pid: int
    samples_mb: list[float] = field(default_factory=list)

    async def run(self) -> None:
        process = psutil.Process(self.pid)
        while True:
            with suppress(psutil.Error):
                self.samples_mb.append(process.memory_info().rss / 2**20)
            await asyncio.sleep(0.25)


async def wait_delivered(clients: list[Client], published: dict[int, int]) -> None:
    """Until every connected client has its tenant's events, or SETTLE_S passed."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if all(len(c.received) >= published[c.tenant_id] for c in clients if c.error is None):
            return
        await asyncio.sleep(0.1)


def is_dropped(client: Client, expected: set[int]) -> bool:
    return (
        bool(client.error or client.refreshes or client.duplicates or client.foreign)
        or set(client.received) != expected
    )


@dataclass
class Measurement:
    """What one run observed."""

    tenants: list[int]
    clients: list[Client]
    committed: list[tuple[int, int, float]]  # (tenant, n, wall time after the commit)
    publish_s: float
    active_s: float  # from the publisher's start until every delivery settled
    connect_s: float
    web_cpu_s: float
    client_cpu_s: float
    web_rss_mb_idle: float
    web_rss_mb_peak: float | None
    rss_samples_mb: list[float]
    hub: dict[str, Any]


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def publish_in_subprocess(
    url: str, tenants: list[int], config: BenchConfig
) -> tuple[list[tuple[int, int, float]], float]:
    """Run the publisher; (tenant, n, commit time) of every event and the publishing time."""
    publisher = spawn(
        "publish",
        url,
        "--tenants",
        ",".join(map(str, tenants)),
        "--rate",
        str(config.rate),
        "--duration",
        str(config.duration),
        stdout=subprocess.PIPE,
    )
    out, _ = await asyncio.to_thread(publisher.communicate)
    if publisher.returncode != 0:
        raise RuntimeError(f"the publisher exited with {publisher.returncode}")
    report = orjson.loads(out.decode().strip().splitlines()[-1])
    committed = [(int(t), int(n), float(at)) for t, n, at in report["committed"]]
    return committed, float(report["elapsed_s"])


async def measure(config: BenchConfig) -> Measurement:
    server_url = resolve_database_url(load_settings())
    raise_open_files_limit(config.clients + 200)
    async with bench_database(server_url) as url, web_process(url, config) as (base, web_pid):
        tenants = await seeded_tenants(url)
        web, me = psutil.Process(web_pid), psutil.Process()
        rss_idle_mb = web.memory_info().rss / 2**20
        progress(f"connecting {config.clients} SSE clients ({config.client}) to {tenants}")
        started = time.perf_counter()
        http, clients, tasks = await connect_clients(base, tenants, config)
        connect_s = time.perf_counter() - started
        stats = await web_stats(base)
        progress(
            f"{sum(c.connected for c in clients)} clients connected in {connect_s:.1f} s; "
            f"the hub counts {stats['subscribers']} subscribers"
        )
        sampler = RssSampler(web_pid)
        sampling = asyncio.create_task(sampler.run())
        web_cpu, client_cpu = cpu_s(web), cpu_s(me)
        progress(f"publishing {config.rate:g} events/s for {config.duration:g} s")
        started = time.perf_counter()
        committed, publish_s = await publish_in_subprocess(url, tenants, config)
        published = {t: sum(1 for c in committed if c[0] == t) for t in tenants}
        await wait_delivered(clients, published)
        active_s = time.perf_counter() - started
        web_cpu, client_cpu = cpu_s(web) - web_cpu, cpu_s(me) - client_cpu
        sampling.cancel()
        hub = await web_stats(base)
        peak_mb = peak_rss_mb(web_pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.aclose()
    return Measurement(
        tenants=tenants,
        clients=clients,
        committed=committed,
        publish_s=publish_s,
        active_s=active_s,
        connect_s=connect_s,
        web_cpu_s=web_cpu,
        client_cpu_s=client_cpu,
        web_rss_mb_idle=rss_idle_mb,
        web_rss_mb_peak=peak_mb,
        rss_samples_mb=sampler.samples_mb,
        hub=hub,
    )


def p50_p99(values: Sequence[float]) -> dict[str, float | None]:
    return {"p50": rounded(percentile(values, 50)), "p99": rounded(percentile(values, 99))}


def build_report(config: BenchConfig, m: Measurement) -> dict[str, Any]:
    commit_at = {(t, n): at for t, n, at in m.committed}
    latencies: list[float] = []
    first: dict[tuple[int, int], float] = {}
    last: dict[tuple[int, int], float] = {}
    for c in m.clients:
        for n, received_at in c.received.items():
            key = (c.tenant_id, n)
            if key in commit_at:
                ms = (received_at - commit_at[key]) * 1000
                latencies.append(ms)
                first[key] = min(first.get(key, ms), ms)
                last[key] = max(last.get(key, ms), ms)
    expected = {t: {n for tenant, n, _ in m.committed if tenant == t} for t in m.tenants}
    dropped = [c for c in m.clients if is_dropped(c, expected[c.tenant_id])]
    progress(
        f"{len(latencies)} deliveries: p50 {percentile(latencies, 50) or 0:.1f} ms, "
        f"p99 {percentile(latencies, 99) or 0:.1f} ms; {len(dropped)} clients dropped"
    )
    return {
        "clients": config.clients,
        "event_latency_ms": {**p50_p99(latencies), "max": rounded(max(latencies, default=None))},
        "web_rss_mb": rounded(m.web_rss_mb_peak, 1),
        "dropped": len(dropped),
        "first_client_latency_ms": p50_p99(list(first.values())),
        "last_client_latency_ms": p50_p99(list(last.values())),
        "connected": sum(c.connected for c in m.clients),
        "events_published": len(m.committed),
        "events_per_s": round(len(m.committed) / m.publish_s, 1),
        "deliveries": len(latencies),
        "deliveries_per_s": round(len(latencies) / m.publish_s, 1),
        "missed": sum(len(expected[c.tenant_id] - set(c.received)) for c in m.clients),
        "refreshes": sum(c.refreshes for c in m.clients),
        "cross_tenant": sum(c.foreign for c in m.clients),
        "client_errors": sorted({c.error for c in m.clients if c.error})[:5],
        "web_rss_mb_idle": round(m.web_rss_mb_idle, 1),
        "web_rss_mb_sampled_max": rounded(max(m.rss_samples_mb, default=None), 1),
        "web_cpu_pct": round(100 * m.web_cpu_s / m.active_s, 1),
        "client_process_cpu_pct": round(100 * m.client_cpu_s / m.active_s, 1),
        "connect_s": round(m.connect_s, 2),
        "hub": m.hub,
        "settings": {
            "rate_per_s": config.rate,
            "duration_s": config.duration,
            "tenants": len(m.tenants),
            "auth": "tenant from a ?tenant= query parameter (session/bearer auth not wired)",
            "publisher": "synthetic: one autocommit pg_notify per event, sync-shaped "
            "progress/log/job payloads, round robin over the tenants, from a separate process",
            "latency": "client receive time minus the publisher's wall time after its commit "
            "returned (same machine)",
            "web": "one uvicorn process (asyncio loop, h11), Starlette, app.live",
            "clients": f"{config.client} ({CLIENT_KINDS[config.client]}), one process",
            "cpus": os.cpu_count(),
        },
        "quick": config.quick,
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        serving = argparse.ArgumentParser(prog="sse_bench.py serve")
        serving.add_argument("url")
        serving.add_argument("--port", type=int, required=True)
        serving.add_argument("--max-subscribers", type=int, required=True)
        args = serving.parse_args(argv[1:])
        configure_logging("console", "WARNING")
        serve(args.url, args.port, args.max_subscribers)
        return 0
    if argv[:1] == ["publish"]:
        publishing = argparse.ArgumentParser(prog="sse_bench.py publish")
        publishing.add_argument("url")
        publishing.add_argument("--tenants", required=True)
        publishing.add_argument("--rate", type=float, required=True)
        publishing.add_argument("--duration", type=float, required=True)
        args = publishing.parse_args(argv[1:])
        tenants = [int(t) for t in args.tenants.split(",")]
        asyncio.run(publish(args.url, tenants, args.rate, args.duration))
        return 0
    config = parse_args(argv)
    configure_logging("console", "WARNING")
    started = time.perf_counter()
    report = build_report(config, run_with_fast_loop(measure(config)))
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    progress(f"done in {report['elapsed_s']} s")
    print(json.dumps(report, separators=(", ", ": ")))
    return 0 if report["connected"] == config.clients else 1


if __name__ == "__main__":
    sys.exit(main())
