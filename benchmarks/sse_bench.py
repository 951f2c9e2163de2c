"""SSE benchmark: concurrent server-sent-event clients on one web process while events are
published at a sync's pace; commit-to-delivery latency, dropped clients, the web's memory.

Run from the repository root:

    python benchmarks/sse_bench.py [--quick] [--clients N] [--rate EVENTS_PER_S] [--duration S]

The benchmark creates its own database on the configured server (DATABASE_URL, else the
embedded PostgreSQL under $SLUICE_HOME), builds it with the migrations and drops it at the
end. The web process is a subprocess serving a small Starlette app with Sluice's EventHub
and SSE endpoint through uvicorn on 127.0.0.1, as `sluice web` does (asyncio loop, h11);
its tenant comes from a `tenant` query parameter, since the session and bearer auth are not
part of the measurement. The clients (httpx streams, spread evenly over the seeded
tenants) run in this process. A publisher subprocess commits one `pg_notify` per event,
with payloads shaped like a sync's (progress, log and job events, round robin over the
tenants), and notes the wall-clock time right after each commit returns; a client's
latency is its receive time minus that. A client is dropped when it lost its connection,
missed or duplicated any event of its tenant, or had to refresh.

Progress goes to stderr; the last line of stdout is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import psutil
from psycopg import sql

from app.config import load_settings
from app.db import connect, resolve_database_url
from app.events import event_payload
from app.logging import configure_logging
from app.sqlstore import query
from migrations import runner

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("WEX", "Apple", "Google")
SETTLE_S = 5.0  # how long deliveries may trail the last commit
CONNECT_TIMEOUT_S = 120.0
SYNC_KINDS = ("progress", "log", "job")


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
    quick: bool = False


QUICK = BenchConfig(clients=100, rate=150.0, duration=5.0, quick=True)


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100 clients for 5 s")
    parser.add_argument("--clients", type=int, help="concurrent SSE clients (1,000)")
    parser.add_argument("--rate", type=float, help="events per second over all tenants (150)")
    parser.add_argument("--duration", type=float, help="seconds of publishing (20)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else BenchConfig()
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


def database_url_for(server_url: str, dbname: str) -> str:
    """The same server's URL pointed at another database."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{dbname}"))


async def admin_execute(server_url: str, statement: sql.Composed) -> None:
    conn = await connect(database_url_for(server_url, "postgres"), autocommit=True)
    async with conn:
        await conn.execute(statement)


@asynccontextmanager
async def bench_database(server_url: str) -> AsyncIterator[str]:
    """A new database built by the migrations, dropped afterwards."""
    name = f"sluice_bench_{uuid.uuid4().hex[:10]}"
    await admin_execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    progress(f"created database {name}")
    try:
        url = database_url_for(server_url, name)
        conn = await connect(url, autocommit=True)
        async with conn:
            await runner.apply_all(conn, report=lambda _line: None)
        progress("applied migrations")
        yield url
    finally:
        await admin_execute(
            server_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        )
        progress(f"dropped database {name}")


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
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from app.live import EventHub, sse_endpoint

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, EventHub]]:
        async with EventHub(url, max_subscribers=max_subscribers) as hub:
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
    asyncio.run(uvicorn.Server(config).serve())


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

    async def listen(self, client: httpx.AsyncClient, base: str) -> None:
        """Read the stream until cancelled, noting what breaks it."""
        try:
            url = f"{base}/events?tenant={self.tenant_id}"
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    self.error = f"HTTP {response.status_code}"
                    return
                pending = b""
                async for chunk in response.aiter_raw():
                    now = time.time()
                    pending += chunk
                    *frames, pending = pending.split(b"\n\n")
                    for frame in frames:
                        self.take(frame, now)
            self.error = "the stream ended"
        except httpx.HTTPError as exc:
            self.error = f"{type(exc).__name__}: {exc}"


async def connect_clients(
    base: str, tenants: list[int], count: int
) -> tuple[httpx.AsyncClient, list[Client], list[asyncio.Task[None]]]:
    """`count` streaming clients spread over the tenants, all past their opening message."""
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, read=None),
        limits=httpx.Limits(max_connections=count + 10, max_keepalive_connections=0),
    )
    clients = [Client(tenants[i % len(tenants)]) for i in range(count)]
    tasks = [asyncio.create_task(c.listen(http, base)) for c in clients]
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while time.monotonic() < deadline:
        connected = sum(c.connected for c in clients)
        failed = sum(c.error is not None for c in clients)
        if connected + failed == count:
            break
        await asyncio.sleep(0.2)
    return http, clients, tasks


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


async def run(config: BenchConfig) -> dict[str, Any]:
    server_url = resolve_database_url(load_settings())
    raise_open_files_limit(config.clients + 200)
    async with bench_database(server_url) as url, web_process(url, config) as (base, web_pid):
        tenants = await seeded_tenants(url)
        web = psutil.Process(web_pid)
        rss_idle_mb = web.memory_info().rss / 2**20
        progress(f"connecting {config.clients} SSE clients over tenants {tenants}")
        started = time.perf_counter()
        http, clients, tasks = await connect_clients(base, tenants, config.clients)
        connect_s = time.perf_counter() - started
        stats = await web_stats(base)
        progress(
            f"{sum(c.connected for c in clients)} clients connected in {connect_s:.1f} s; "
            f"the hub counts {stats['subscribers']} subscribers"
        )
        sampler = RssSampler(web_pid)
        sampling = asyncio.create_task(sampler.run())
        web_cpu = web.cpu_times()
        own_cpu = psutil.Process().cpu_times()
        progress(f"publishing {config.rate:g} events/s for {config.duration:g} s")
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
        committed: list[tuple[int, int, float]] = [tuple(row) for row in report["committed"]]
        published = dict.fromkeys(tenants, 0)
        for tenant_id, _n, _at in committed:
            published[tenant_id] += 1
        await wait_delivered(clients, published)
        web_cpu_s = sum(web.cpu_times()[:2]) - sum(web_cpu[:2])
        own_cpu_s = sum(psutil.Process().cpu_times()[:2]) - sum(own_cpu[:2])
        sampling.cancel()
        final_stats = await web_stats(base)
        peak_mb = peak_rss_mb(web_pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.aclose()

    commit_at = {(tenant_id, n): at for tenant_id, n, at in committed}
    latencies_ms = [
        (received_at - commit_at[(c.tenant_id, n)]) * 1000
        for c in clients
        for n, received_at in c.received.items()
        if (c.tenant_id, n) in commit_at
    ]
    expected = {t: set(range(1, published[t] + 1)) for t in tenants}
    dropped = [c for c in clients if is_dropped(c, expected[c.tenant_id])]
    window_s = float(report["elapsed_s"]) + SETTLE_S
    errors = sorted({c.error for c in clients if c.error})
    progress(
        f"{len(latencies_ms)} deliveries: p50 {percentile(latencies_ms, 50) or 0:.1f} ms, "
        f"p99 {percentile(latencies_ms, 99) or 0:.1f} ms; {len(dropped)} clients dropped"
    )
    return {
        "clients": config.clients,
        "event_latency_ms": {
            "p50": rounded(percentile(latencies_ms, 50)),
            "p99": rounded(percentile(latencies_ms, 99)),
            "max": rounded(max(latencies_ms, default=None)),
        },
        "web_rss_mb": rounded(peak_mb, 1),
        "dropped": len(dropped),
        "connected": sum(c.connected for c in clients),
        "events_published": len(committed),
        "events_per_s": round(len(committed) / float(report["elapsed_s"]), 1),
        "deliveries": len(latencies_ms),
        "deliveries_per_s": round(len(latencies_ms) / float(report["elapsed_s"]), 1),
        "missed": sum(len(expected[c.tenant_id] - set(c.received)) for c in clients),
        "refreshes": sum(c.refreshes for c in clients),
        "cross_tenant": sum(c.foreign for c in clients),
        "client_errors": errors[:5],
        "web_rss_mb_idle": round(rss_idle_mb, 1),
        "web_rss_mb_sampled_max": rounded(max(sampler.samples_mb, default=None), 1),
        "web_cpu_pct": round(100 * web_cpu_s / window_s, 1),
        "client_process_cpu_pct": round(100 * own_cpu_s / window_s, 1),
        "connect_s": round(connect_s, 2),
        "hub": final_stats,
        "settings": {
            "rate_per_s": config.rate,
            "duration_s": config.duration,
            "tenants": len(tenants),
            "auth": "tenant from a ?tenant= query parameter (session/bearer auth not wired)",
            "publisher": "synthetic: one autocommit pg_notify per event, sync-shaped "
            "progress/log/job payloads, from a separate process",
            "latency": "client receive time minus the publisher's time after commit returned",
            "web": "one uvicorn process (asyncio loop, h11), Starlette, app.live",
            "clients": "httpx streams in one process",
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
    report = asyncio.run(run(config))
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    progress(f"done in {report['elapsed_s']} s")
    print(json.dumps(report, separators=(", ", ": ")))
    return 0 if report["connected"] == config.clients else 1


if __name__ == "__main__":
    sys.exit(main())
