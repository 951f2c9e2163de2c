"""SSE benchmark: concurrent server-sent-event clients on one `sluice web` process while a
real sync runs; commit-to-delivery latency, dropped clients, the web's peak memory.

Run from the repository root:

    python benchmarks/sse_bench.py [--quick] [--clients N] [--rate EVENTS_PER_S]
                                   [--duration S] [--issues N] [--workers N]
                                   [--client raw|httpx]

The benchmark creates its own database on the configured server (DATABASE_URL, else the
embedded PostgreSQL under $SLUICE_HOME), builds it with the migrations and drops it at the
end. In it, every seeded tenant gets a viewer with an API token, and a Jira and a GitHub
integration pointing at `sluice sandbox` (N issues, its own process). The web process is
`sluice web` on 127.0.0.1 (app.web.app.create_app under uvicorn, as the CLI serves it).

The clients, spread evenly over the tenants, run in this process and each sends
`Authorization: Bearer <its tenant's token>` to `GET /events`: by default each is an
asyncio protocol reading the chunked `text/event-stream` off its own socket (light, so
that on a small machine the measuring side does not starve the web process); `--client
httpx` uses httpx streams instead. Once every client is connected, `sluice worker`
processes start and a sync starts for every tenant; the measurement waits until the
sync's own progress, log and job events reach the clients, so they flow through the same
hub and streams for the whole measurement. Then a probe publisher subprocess commits one
`pg_notify` per event (sync-shaped payloads marked with `bench_n`, round robin over the
tenants) and notes the wall-clock time right after each commit returns; a client's
latency is its receive time of a probe event minus that. A client is dropped when it
lost its connection, missed or duplicated any probe event of its tenant, missed a sync
event that its tenant's other clients received before the last probe event, received
any event (sync or probe) of another tenant, or had to refresh. The web's RSS is the
peak resident set (VmHWM) of the `sluice web` process.

Progress goes to stderr; the last line of stdout is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import psutil
from benchdb import migrated_database
from etl_bench import log_tail, running_sandbox, sandbox_project_keys, sluice_command
from sse_clients import CLIENT_KINDS, Client, Window, connect_clients

from app.auth.roles import Role
from app.auth.tokens import create_api_token
from app.auth.users import create_user
from app.config import load_settings
from app.crypto import CredentialCipher
from app.db import Connection, connect, open_pool, resolve_database_url, tenant_transaction
from app.events import event_payload
from app.integrations.store import add_integration
from app.logging import configure_logging
from app.sandbox import DEFAULT_TOKEN
from app.sqlstore import query
from app.sync import SyncRequest, start_sync

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("WEX", "Apple", "Google")
SANDBOX_ORG = "acme"  # the GitHub organization owning every sandbox repository
SETTLE_S = 5.0  # how long deliveries may trail the last commit
READY_TIMEOUT_S = 60.0
SYNC_FLOWING_TIMEOUT_S = 120.0
STOP_GRACE_S = 20.0
SYNC_KINDS = ("progress", "log", "job")


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of the run."""

    clients: int = 1000
    rate: float = 60.0  # probe events per second, all tenants together, besides the sync's
    duration: float = 20.0
    issues: int = 3000  # sandbox issues (and half as many pull requests), synced per tenant
    workers: int = 2
    client: str = "raw"  # "raw": a minimal HTTP/1.1 protocol per socket; "httpx": httpx streams
    quick: bool = False


QUICK = BenchConfig(clients=100, rate=60.0, duration=5.0, issues=2000, workers=1, quick=True)


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="100 clients for 5 s, 2,000 issues, one worker"
    )
    parser.add_argument("--clients", type=int, help="concurrent SSE clients (1,000)")
    parser.add_argument("--rate", type=float, help="probe events per second, all tenants (60)")
    parser.add_argument("--duration", type=float, help="seconds of probe publishing (20)")
    parser.add_argument("--issues", type=int, help="sandbox issues synced per tenant (3,000)")
    parser.add_argument("--workers", type=int, help="`sluice worker` processes (2)")
    parser.add_argument(
        "--client",
        choices=tuple(CLIENT_KINDS),
        default="raw",
        help="SSE client: a minimal asyncio protocol (default, light) or httpx streams",
    )
    args = parser.parse_args(argv)
    config = replace(QUICK if args.quick else BenchConfig(), client=args.client)
    for name in ("clients", "rate", "duration", "issues", "workers"):
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


# -- processes -------------------------------------------------------------------------


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


def stop_processes(processes: Sequence[subprocess.Popen[Any]]) -> None:
    """SIGTERM to all at once, then SIGKILL to any still running after the grace period."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            progress(f"process {process.pid} ignored SIGTERM for {STOP_GRACE_S:g} s; killing it")
            process.kill()
            process.wait()


def spawn_logged(
    command: list[str], env: dict[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """A `sluice` process writing its output to `log_path`."""
    with log_path.open("w") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def spawn_publisher(url: str, tenants: list[int], config: BenchConfig) -> subprocess.Popen[bytes]:
    """This script in the role of the probe publisher, its report on stdout."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "publish",
        url,
        "--tenants",
        ",".join(map(str, tenants)),
        "--rate",
        str(config.rate),
        "--duration",
        str(config.duration),
    ]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE)


def exit_error(process: subprocess.Popen[Any], name: str, log_path: Path) -> str | None:
    """Why a started process is gone, or None while it runs."""
    if process.poll() is None:
        return None
    return f"{name} exited with {process.returncode}:\n{log_tail(log_path)}"


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), in MiB."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


# -- the bench database ----------------------------------------------------------------


@dataclass(frozen=True)
class BenchTenant:
    """A seeded tenant and the bearer token its clients send."""

    tenant_id: int
    name: str
    token: str


async def seeded_tenants(url: str) -> list[tuple[int, str]]:
    conn = await connect(url, autocommit=True)
    async with conn:
        cur = await conn.execute(
            "SELECT id, name FROM tenants WHERE name = ANY(%s) ORDER BY id", [list(TENANTS)]
        )
        return [(int(row["id"]), str(row["name"])) for row in await cur.fetchall()]


async def prepare_tenants(
    url: str, cipher: CredentialCipher, jira_url: str, github_url: str
) -> list[BenchTenant]:
    """Per seeded tenant: a viewer with an API token, and Jira and GitHub integrations
    pointing at the sandbox."""
    prepared = []
    pool = await open_pool(url, max_size=1)
    try:
        for tenant_id, name in await seeded_tenants(url):
            domain = f"{name.lower()}.example"
            async with tenant_transaction(pool, tenant_id) as conn:
                user_id = await create_user(
                    conn,
                    tenant_id=tenant_id,
                    email=f"sse-bench@{domain}",
                    display_name="SSE bench",
                    role=Role.VIEWER,
                    password=secrets.token_urlsafe(24),
                )
                _row, token = await create_api_token(
                    conn,
                    tenant_id=tenant_id,
                    user_id=user_id,
                    name="sse bench",
                    role=Role.VIEWER,
                    expires_at=None,
                )
                for provider, base_url, username, search in (
                    ("jira", jira_url, f"bench@{domain}", None),
                    ("github", github_url, None, f"org:{SANDBOX_ORG}"),
                ):
                    await add_integration(
                        conn,
                        cipher,
                        tenant_id=tenant_id,
                        provider=provider,
                        base_url=base_url,
                        token=DEFAULT_TOKEN,
                        username=username,
                        base_search=search,
                    )
            prepared.append(BenchTenant(tenant_id, name, token))
    finally:
        await pool.close()
    return prepared


async def start_syncs(url: str, tenants: Sequence[BenchTenant]) -> list[int]:
    """What `sluice sync` does for every tenant: a run and its extract jobs, committed."""
    pool = await open_pool(url, max_size=1)
    try:
        run_ids = []
        for tenant in tenants:
            async with tenant_transaction(pool, tenant.tenant_id) as conn:
                run_ids.append(
                    await start_sync(
                        conn,
                        SyncRequest(tenant_id=tenant.tenant_id, trigger="cli", triggered_by="cli"),
                    )
                )
        return run_ids
    finally:
        await pool.close()


async def run_statuses(conn: Connection, run_ids: Sequence[int]) -> list[str]:
    cur = await conn.execute(
        "SELECT status FROM etl_runs WHERE id = ANY(%s) ORDER BY id", [list(run_ids)]
    )
    return [str(row["status"]) for row in await cur.fetchall()]


async def job_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """The sync's queue jobs so far, by stage and status."""
    cur = await conn.execute(
        "SELECT job_type, status, count(*) AS n FROM etl_job_queue GROUP BY 1, 2 ORDER BY 1, 2"
    )
    counts: dict[str, dict[str, int]] = {}
    for row in await cur.fetchall():
        counts.setdefault(str(row["job_type"]), {})[str(row["status"])] = int(row["n"])
    return counts


# -- the web process and the workers ---------------------------------------------------


@asynccontextmanager
async def web_process(env: dict[str, str], workdir: Path) -> AsyncIterator[tuple[str, int]]:
    """`sluice web` on a free loopback port, ready to serve: (base URL, pid)."""
    port = free_port()
    log_path = workdir / "web.log"
    process = spawn_logged(
        [*sluice_command(), "web", "--host", "127.0.0.1", "--port", str(port)], env, log_path
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                error = exit_error(process, "sluice web", log_path)
                if error:
                    raise RuntimeError(error)
                with suppress(httpx.TransportError):
                    if (await probe.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sluice web was not ready within {READY_TIMEOUT_S:g} s")
                await asyncio.sleep(0.1)
        progress(f"sluice web (pid {process.pid}) serving on {base}")
        yield base, process.pid
    finally:
        await asyncio.to_thread(stop_processes, [process])


@dataclass(frozen=True)
class Workers:
    processes: list[subprocess.Popen[bytes]]
    log_paths: list[Path]

    def exit_error(self) -> str | None:
        for i, (process, log_path) in enumerate(zip(self.processes, self.log_paths, strict=True)):
            error = exit_error(process, f"sluice worker {i}", log_path)
            if error:
                return error
        return None


@contextmanager
def worker_processes(count: int, env: dict[str, str], workdir: Path) -> Iterator[Workers]:
    """`sluice worker` processes (every stage, default settings), stopped at the end."""
    workers = Workers([], [])
    try:
        for i in range(count):
            log_path = workdir / f"worker_{i}.log"
            command = [*sluice_command(), "worker", "--shutdown-grace", "2"]
            workers.processes.append(spawn_logged(command, env, log_path))
            workers.log_paths.append(log_path)
        yield workers
    finally:
        stop_processes(workers.processes)


# -- the probe publisher ---------------------------------------------------------------


def probe_payload(tenant_id: int, n: int) -> str:
    """The n-th probe event of a tenant: shaped like a sync's events, marked `bench_n`."""
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
    """Commit one probe event at a time at `rate` per second for `duration` s; print when
    each commit returned (wall clock), as JSON on the last stdout line."""
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
            await conn.execute(statement, {"payload": probe_payload(tenant_id, n)})
            committed.append((tenant_id, n, time.time()))
    elapsed = time.perf_counter() - started
    print(json.dumps({"committed": committed, "elapsed_s": elapsed}))


async def publish_in_subprocess(
    url: str, tenants: list[int], config: BenchConfig
) -> tuple[list[tuple[int, int, float]], float]:
    """Run the publisher; (tenant, n, commit time) of every event and the publishing time."""
    publisher = spawn_publisher(url, tenants, config)
    out, _ = await asyncio.to_thread(publisher.communicate)
    if publisher.returncode != 0:
        raise RuntimeError(f"the publisher exited with {publisher.returncode}")
    report = orjson.loads(out.decode().strip().splitlines()[-1])
    committed = [(int(t), int(n), float(at)) for t, n, at in report["committed"]]
    return committed, float(report["elapsed_s"])


# -- waiting on the clients ------------------------------------------------------------


async def wait_sync_flowing(clients: list[Client], workers: Workers) -> None:
    """Until every tenant's clients receive the sync's progress events from a worker."""
    deadline = time.monotonic() + SYNC_FLOWING_TIMEOUT_S
    tenants = {c.tenant_id for c in clients}
    while True:
        at_work = {c.tenant_id for c in clients if c.sync_progress > 0}
        if at_work == tenants:
            return
        error = workers.exit_error()
        if error:
            raise RuntimeError(error)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"no sync progress reached the clients of tenants {sorted(tenants - at_work)} "
                f"within {SYNC_FLOWING_TIMEOUT_S:g} s"
            )
        await asyncio.sleep(0.1)


def run_with_fast_loop(main: Coroutine[Any, Any, Measurement]) -> Measurement:
    """Run the clients on uvloop when it is installed (the bench extra brings it), so the
    measuring side stays light."""
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
    """Until every connected client has its tenant's probe events, or SETTLE_S passed."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if all(len(c.received) >= published[c.tenant_id] for c in clients if c.error is None):
            return
        await asyncio.sleep(0.1)


@dataclass
class Measurement:
    """What one run observed."""

    tenants: list[int]
    clients: list[Client]
    committed: list[tuple[int, int, float]]  # (tenant, n, wall time after the commit)
    publish_s: float
    active_s: float  # from the publisher's start until every delivery settled
    connect_s: float
    sync_wait_s: float  # from the sync's start until its progress reached every tenant
    runs_at_window_end: list[str]
    jobs_at_window_end: dict[str, dict[str, int]]
    web_cpu_s: float
    client_cpu_s: float
    web_rss_mb_idle: float
    web_rss_mb_peak: float | None
    rss_samples_mb: list[float]


async def measure(config: BenchConfig, workdir: Path) -> Measurement:
    server_url = resolve_database_url(load_settings())
    sandbox_env = dict(os.environ, SLUICE_HOME=str(workdir / "sandbox_home"), PYTHONUNBUFFERED="1")
    secret_key = secrets.token_urlsafe(32)
    async with AsyncExitStack() as stack:
        sandbox = await stack.enter_async_context(
            running_sandbox(config.issues, workdir, sandbox_env)
        )
        # `sluice sandbox` serves Jira on its port and GitHub on the next one.
        github_url = f"http://127.0.0.1:{(urlsplit(sandbox.jira_url).port or 0) + 1}"
        url = await stack.enter_async_context(
            migrated_database(server_url, "sluice_sse_bench", progress)
        )
        await sandbox_project_keys(sandbox.jira_url)  # builds the sandbox's search indexes
        tenants = await prepare_tenants(
            url, CredentialCipher(secret_key), sandbox.jira_url, github_url
        )
        progress(f"tenants {[t.name for t in tenants]}: a viewer's API token, Jira and GitHub")
        env = dict(
            os.environ,
            DATABASE_URL=url,
            SLUICE_SECRET_KEY=secret_key,
            SLUICE_HOME=str(workdir / "sluice_home"),
            PYTHONUNBUFFERED="1",
        )
        base, web_pid = await stack.enter_async_context(web_process(env, workdir))
        web, me = psutil.Process(web_pid), psutil.Process()
        rss_idle_mb = web.memory_info().rss / 2**20
        owner = await stack.enter_async_context(await connect(url, autocommit=True))

        # The clients' sockets; raised only now, so the web process lives with its own limit.
        raise_open_files_limit(config.clients + 200)
        window = Window()
        progress(f"connecting {config.clients} SSE clients ({config.client}), bearer tokens")
        started = time.perf_counter()
        credentials = [(t.tenant_id, t.token) for t in tenants]
        http, clients, tasks = await connect_clients(
            base, credentials, config.clients, config.client, window
        )
        connect_s = time.perf_counter() - started
        progress(f"{sum(c.connected for c in clients)} clients connected in {connect_s:.1f} s")
        try:
            workers = stack.enter_context(worker_processes(config.workers, env, workdir))
            started = time.perf_counter()
            run_ids = await start_syncs(url, tenants)
            progress(f"{config.workers} sluice worker(s) started; sync runs {run_ids}")
            await wait_sync_flowing(clients, workers)
            sync_wait_s = time.perf_counter() - started
            progress(f"sync progress reached every tenant's clients after {sync_wait_s:.1f} s")

            sampler = RssSampler(web_pid)
            sampling = asyncio.create_task(sampler.run())
            web_cpu, client_cpu = cpu_s(web), cpu_s(me)
            progress(f"publishing {config.rate:g} probe events/s for {config.duration:g} s")
            started = time.perf_counter()
            window.start = time.time()
            committed, publish_s = await publish_in_subprocess(
                url, [t.tenant_id for t in tenants], config
            )
            window.end = time.time()
            runs_at_end = await run_statuses(owner, run_ids)
            jobs_at_end = await job_counts(owner)
            published = {
                t.tenant_id: sum(1 for c in committed if c[0] == t.tenant_id) for t in tenants
            }
            await wait_delivered(clients, published)
            active_s = time.perf_counter() - started
            web_cpu, client_cpu = cpu_s(web) - web_cpu, cpu_s(me) - client_cpu
            sampling.cancel()
            peak_mb = peak_rss_mb(web_pid)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await http.aclose()
    return Measurement(
        tenants=[t.tenant_id for t in tenants],
        clients=clients,
        committed=committed,
        publish_s=publish_s,
        active_s=active_s,
        connect_s=connect_s,
        sync_wait_s=sync_wait_s,
        runs_at_window_end=runs_at_end,
        jobs_at_window_end=jobs_at_end,
        web_cpu_s=web_cpu,
        client_cpu_s=client_cpu,
        web_rss_mb_idle=rss_idle_mb,
        web_rss_mb_peak=peak_mb,
        rss_samples_mb=sampler.samples_mb,
    )


# -- the report ------------------------------------------------------------------------


def sync_missed(clients: list[Client]) -> dict[int, int]:
    """Per client (by index), the sync events its tenant's other clients received before
    the tenant's last probe event and it did not (every stream carries them in order)."""
    missed: dict[int, int] = {}
    for tenant_id in {c.tenant_id for c in clients}:
        group = [(i, c) for i, c in enumerate(clients) if c.tenant_id == tenant_id]
        cutoff = min(c.probe_seq_max for _, c in group)
        if cutoff == 0:
            continue  # a client without any probe event is dropped already
        below = {i: bisect.bisect_left(c.sync_seqs, cutoff) for i, c in group}
        union: set[int] = set()
        for i, c in group:
            union.update(c.sync_seqs[: below[i]])
        for i, _ in group:
            missed[i] = len(union) - below[i]
    return missed


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
    missed_sync = sync_missed(m.clients)
    dropped = [
        i
        for i, c in enumerate(m.clients)
        if c.error
        or c.refreshes
        or c.duplicates
        or c.foreign
        or missed_sync.get(i, 0)
        or set(c.received) != expected[c.tenant_id]
    ]
    # Distinct sync events per tenant in the window: what its best-served client counted.
    sync_in_window = {
        t: max((c.sync_in_window for c in m.clients if c.tenant_id == t), default=0)
        for t in m.tenants
    }
    window_s = m.publish_s
    progress(
        f"{len(latencies)} probe deliveries: p50 {percentile(latencies, 50) or 0:.1f} ms, "
        f"p99 {percentile(latencies, 99) or 0:.1f} ms; {sum(sync_in_window.values())} sync "
        f"events in the window; {len(dropped)} clients dropped"
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
        "events_per_s": round(len(m.committed) / window_s, 1),
        "deliveries": len(latencies),
        "deliveries_per_s": round(len(latencies) / window_s, 1),
        "missed": sum(len(expected[c.tenant_id] - set(c.received)) for c in m.clients),
        "refreshes": sum(c.refreshes for c in m.clients),
        "duplicates": sum(c.duplicates for c in m.clients),
        "cross_tenant": sum(c.foreign for c in m.clients),
        "client_errors": sorted({c.error for c in m.clients if c.error})[:5],
        "sync": {
            "events_in_window": sum(sync_in_window.values()),
            "events_per_s": round(sum(sync_in_window.values()) / window_s, 1),
            "events_received": sum(len(c.sync_seqs) for c in m.clients),
            "missed": sum(missed_sync.values()),
            "runs_at_window_end": m.runs_at_window_end,
            "ran_through_window": all(s == "running" for s in m.runs_at_window_end),
            "jobs_at_window_end": m.jobs_at_window_end,
            "start_to_first_progress_s": round(m.sync_wait_s, 1),
        },
        "web_rss_mb_idle": round(m.web_rss_mb_idle, 1),
        "web_rss_mb_sampled_max": rounded(max(m.rss_samples_mb, default=None), 1),
        "web_cpu_pct": round(100 * m.web_cpu_s / m.active_s, 1),
        "client_process_cpu_pct": round(100 * m.client_cpu_s / m.active_s, 1),
        "connect_s": round(m.connect_s, 2),
        "settings": {
            "probe_rate_per_s": config.rate,
            "duration_s": config.duration,
            "issues": config.issues,
            "workers": config.workers,
            "tenants": len(m.tenants),
            "auth": "Authorization: Bearer <the tenant's API token> (a viewer's), "
            "checked by the web process on every connection",
            "sync": f"`sluice sandbox` ({config.issues} issues, {config.issues // 2} pull "
            f"requests), a Jira and a GitHub integration per tenant, {config.workers} "
            "`sluice worker` (every stage, default settings), one run per tenant started "
            "once the clients were connected; measured once its progress reached them",
            "publisher": "probe events: one autocommit pg_notify per event, sync-shaped "
            "progress/log/job payloads marked bench_n, round robin over the tenants, "
            "from a separate process",
            "latency": "client receive time of a probe event minus the publisher's wall time "
            "after its commit returned (same machine)",
            "web": "`sluice web` (app.web.app.create_app under uvicorn), one process",
            "clients": f"{config.client} ({CLIENT_KINDS[config.client]}), one process",
            "cpus": os.cpu_count(),
        },
        "quick": config.quick,
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
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
    with tempfile.TemporaryDirectory(prefix="sluice-sse-bench-") as tmp:
        report = build_report(config, run_with_fast_loop(measure(config, Path(tmp))))
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    progress(f"done in {report['elapsed_s']} s")
    print(json.dumps(report, separators=(", ", ": ")))
    return 0 if report["connected"] == config.clients else 1


if __name__ == "__main__":
    sys.exit(main())
