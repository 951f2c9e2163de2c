"""ETL benchmark: Sluice against dlt, loading the sandbox Jira's issues into PostgreSQL.

Run from the repository root:

    python benchmarks/etl_bench.py [--issues N] [--quick] [--skip-dlt]

`sluice sandbox` serves N issues (default 20,000) over HTTP on 127.0.0.1 in its own process
for the whole run. Sluice extracts, transforms and loads them (raw records kept) with one
`sluice worker --stages extract,transform,load` at its default settings; the vectorize
jobs it leaves are then run by a `sluice worker --stages vectorize` and timed on their own.
dlt's rest_api source (cursor paginator on nextPageToken, merge on id) loads the same
search endpoint into the schema dlt_bench, in a subprocess. Both write to a new database
on the configured server (DATABASE_URL, else the embedded PostgreSQL under $SLUICE_HOME),
built by the migrations and dropped at the end; rows are counted in that database.
Progress goes to stderr; the last line of stdout is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from benchdb import migrated_database
from psycopg import sql

from app.cli.main import build_parser
from app.config import load_settings
from app.crypto import CredentialCipher
from app.db import Connection, connect, open_pool, resolve_database_url, tenant_transaction
from app.integrations.store import add_integration
from app.logging import configure_logging
from app.sandbox.access import DEFAULT_TOKEN
from app.stages import default_handlers
from app.sync import SyncRequest, start_sync

DEFAULT_ISSUES = 20_000
QUICK_ISSUES = 2_000
TENANT = "WEX"
USERNAME = "bench@x"
ETL_STAGES = ("extract", "transform", "load")
VECTORIZE = "vectorize"
POLL_S = 0.2
PROGRESS_EVERY_S = 5.0
SANDBOX_READY = "Press Ctrl-C to stop."
SANDBOX_START_S = 120.0
WORKER_READY_S = 60.0
STOP_GRACE_S = 30.0
SEARCH_PATH = "rest/api/3/search/jql"
PAGE_SIZE = 100
DLT_DATASET = "dlt_bench"
DLT_RESOURCE = "issues"
CLK_TCK = os.sysconf("SC_CLK_TCK")

OPEN_JOBS_SQL = """
SELECT count(*) FILTER (WHERE status IN ('pending', 'running')) AS open,
       count(*) FILTER (WHERE status = 'failed') AS failed
FROM etl_job_queue WHERE job_type = ANY(%(types)s)
"""
LISTENERS_SQL = (
    "SELECT count(*) AS n FROM pg_stat_activity "
    "WHERE datname = current_database() AND query ILIKE 'LISTEN %%'"
)
STAGE_STATS_SQL = """
SELECT job_type, count(*) AS jobs,
       coalesce(extract(epoch FROM sum(completed_at - started_at)), 0) AS busy_s,
       coalesce(sum((progress->>'requests')::bigint), 0) AS requests
FROM etl_job_queue WHERE job_type = ANY(%(types)s) AND status = 'completed'
GROUP BY job_type
"""
VECTORIZE_ITEMS_SQL = """
SELECT coalesce(sum(jsonb_array_length(coalesce(payload->'work_item_ids', '[]'))), 0) AS n
FROM etl_job_queue WHERE job_type = 'vectorize' AND status = 'pending'
"""
VECTORIZE_DONE_SQL = """
SELECT extract(epoch FROM max(completed_at) - min(started_at)) AS seconds,
       sum((progress->>'work_items')::bigint) AS work_items
FROM etl_job_queue WHERE job_type = 'vectorize' AND status = 'completed'
"""

DLT_RUNNER = r"""
import json
import resource
import sys
import time

import dlt
from dlt.sources.rest_api import rest_api_source


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    spec = json.loads(sys.argv[1])
    source = rest_api_source(
        {
            "client": {
                "base_url": spec["base_url"],
                "auth": {"type": "bearer", "token": spec["token"]},
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "nextPageToken",
                    "cursor_param": "nextPageToken",
                },
            },
            "resource_defaults": {"write_disposition": "merge", "primary_key": "id"},
            "resources": [
                {
                    "name": spec["resource"],
                    "endpoint": {
                        "path": spec["path"],
                        "params": spec["params"],
                        "data_selector": "issues",
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="etl_bench",
        destination=dlt.destinations.postgres(credentials=spec["credentials"]),
        dataset_name=spec["dataset"],
        pipelines_dir=spec["pipelines_dir"],
    )
    error = None
    cpu_before, started = cpu_s(), time.perf_counter()
    try:
        pipeline.run(source)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
    seconds = time.perf_counter() - started
    cpu_total = cpu_s()
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        table = pipeline.default_schema.naming.normalize_table_identifier(spec["resource"])
    except Exception:
        table = spec["resource"]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu_total - cpu_before,
                "cpu_total_s": cpu_total,
                "peak_rss_mb": max(self_kb, children_kb) / 1024,
                "table": table,
                "version": dlt.__version__,
                "error": error,
            }
        )
    )


main()
"""


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def per_second(count: int, seconds: float | None) -> float | None:
    return count / seconds if seconds else None


# -- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    issues: int = DEFAULT_ISSUES
    quick: bool = False
    skip_dlt: bool = False

    @property
    def timeout_s(self) -> float:
        """A generous limit for one tool to load every issue (at least 50 issues/s)."""
        return 120.0 + self.issues / 50.0


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, help=f"issues served (default {DEFAULT_ISSUES:,})")
    parser.add_argument(
        "--quick", action="store_true", help=f"a smoke test with {QUICK_ISSUES:,} issues"
    )
    parser.add_argument("--skip-dlt", action="store_true", help="run Sluice only")
    args = parser.parse_args(argv)
    issues = (
        args.issues if args.issues is not None else QUICK_ISSUES if args.quick else DEFAULT_ISSUES
    )
    if issues <= 0:
        parser.error("--issues must be positive")
    return BenchConfig(issues=issues, quick=args.quick, skip_dlt=args.skip_dlt)


# -- processes -------------------------------------------------------------------------


def sluice_command() -> list[str]:
    """The `sluice` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "sluice"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli.main"]


def free_port_pair() -> int:
    """A free loopback port P with P+1 free too (Jira on P, GitHub on P+1)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65_535:
                continue
            try:
                with socket.socket() as second:
                    second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def stop_process(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after the grace period."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_tail(path: Path, lines: int = 15) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def proc_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: index 1 is the ppid, 11-14 the CPU times."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_s(pid: int | None, *, reaped: bool = False) -> float | None:
    """User + system CPU seconds of a process (with its reaped children when asked)."""
    fields = None if pid is None else proc_fields(pid)
    if fields is None:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MB."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def backends_of(postmaster: int, dbname: str) -> dict[int, float]:
    """CPU seconds of the server's live backends connected to one database (by their title)."""
    found: dict[int, float] = {}
    marker = f" {dbname} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = proc_fields(pid)
        if fields is None or int(fields[1]) != postmaster:
            continue
        with suppress(OSError):
            if marker in (entry / "cmdline").read_bytes():
                found[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found


class CpuMeter:
    """CPU seconds used from start to finish by named processes, by the backends of the
    bench database (sampled, so that backends which exit are counted) and by the machine."""

    def __init__(
        self, processes: Mapping[str, int], postmaster: int | None, dbname: str, skip: int
    ) -> None:
        self.pids = dict(processes)
        self.postmaster = postmaster
        self.dbname = dbname
        self.skip = skip
        self.start = {name: cpu_s(pid, reaped=True) for name, pid in self.pids.items()}
        self.end: dict[str, float | None] = {}
        self.server_start = self._server()
        self.server_end = self.server_start
        self.backend_start = self._backends()
        self.backend_last = dict(self.backend_start)
        self.machine_start = machine_cpu_s()
        self.machine_end = self.machine_start

    def _backends(self) -> dict[int, float]:
        if self.postmaster is None:
            return {}
        found = backends_of(self.postmaster, self.dbname)
        found.pop(self.skip, None)
        return found

    def _server(self) -> float | None:
        """The whole server: the postmaster, the backends it reaped and the live ones."""
        total = cpu_s(self.postmaster, reaped=True)
        if total is None:
            return None
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = proc_fields(int(entry.name))
                if fields is not None and int(fields[1]) == self.postmaster:
                    total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def sample(self) -> None:
        self.backend_last.update(self._backends())

    def finish(self) -> None:
        self.sample()
        self.end = {name: cpu_s(pid, reaped=True) for name, pid in self.pids.items()}
        self.server_end = self._server()
        self.machine_end = machine_cpu_s()

    def report(self, extra: Mapping[str, float | None] | None = None) -> dict[str, float | None]:
        """CPU seconds per process (and `extra` ones measured elsewhere), "postgres" (the
        bench database's backends, sampled: a backend that lives less than a sample is
        missed), "other" (the rest of the machine's busy time), "postgres_server" (every
        database of the server, other clients included) and the machine's busy share."""
        report: dict[str, float | None] = dict(extra or {})
        for name, start in self.start.items():
            end = self.end.get(name)
            report[name] = None if start is None or end is None else end - start
        if self.postmaster is not None:
            report["postgres"] = sum(
                cpu - self.backend_start.get(pid, 0.0) for pid, cpu in self.backend_last.items()
            )
        busy = self.machine_end[0] - self.machine_start[0]
        total = self.machine_end[1] - self.machine_start[1]
        report["other"] = busy - sum(v for v in report.values() if v is not None)
        rounded_report = {k: rounded(v) for k, v in report.items()}
        if self.server_start is not None and self.server_end is not None:
            rounded_report["postgres_server"] = rounded(self.server_end - self.server_start)
        rounded_report["machine_busy_share"] = rounded(busy / total, 2) if total > 0 else None
        return rounded_report


@asynccontextmanager
async def metered(bench: Bench, processes: Mapping[str, int]) -> AsyncIterator[CpuMeter]:
    """A CpuMeter sampled every POLL_S for the duration of the block."""
    meter = CpuMeter(processes, bench.postmaster, bench.dbname, bench.owner_pid)

    async def sampler() -> None:
        while True:
            await asyncio.sleep(POLL_S)
            meter.sample()

    task = asyncio.create_task(sampler())
    try:
        yield meter
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        meter.finish()


# -- the sandbox -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sandbox:
    process: subprocess.Popen[str]
    jira_url: str


def await_ready_line(stream: IO[str]) -> bool:
    """Read the sandbox's output until it says it serves; False when it ended first."""
    return any(SANDBOX_READY in line for line in stream)


def spawn_sandbox(
    issues: int, port: int, log_path: Path, env: dict[str, str]
) -> subprocess.Popen[str]:
    with log_path.open("w") as log:
        return subprocess.Popen(
            [*sluice_command(), "sandbox", "--issues", str(issues), "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )


@asynccontextmanager
async def running_sandbox(
    issues: int, workdir: Path, env: dict[str, str]
) -> AsyncIterator[Sandbox]:
    port = free_port_pair()
    log_path = workdir / "sandbox.log"
    process = spawn_sandbox(issues, port, log_path, env)
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(
            asyncio.to_thread(await_ready_line, process.stdout), SANDBOX_START_S
        )
        if not ready:
            raise RuntimeError(f"the sandbox exited before it was ready:\n{log_tail(log_path)}")
        progress(f"sandbox: {issues:,} issues on http://127.0.0.1:{port} (pid {process.pid})")
        yield Sandbox(process, f"http://127.0.0.1:{port}")
    finally:
        stop_process(process)
        if process.stdout is not None:
            process.stdout.close()
        progress("sandbox stopped")


async def sandbox_project_keys(jira_url: str) -> list[str]:
    """The sandbox's project keys; the request also builds its search indexes."""
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    async with httpx.AsyncClient(base_url=jira_url, headers=headers, timeout=60.0) as client:
        response = await client.get("/rest/api/3/project/search")
        response.raise_for_status()
        keys = [str(p["key"]) for p in response.json()["values"]]
        warm = await client.get(
            f"/{SEARCH_PATH}", params={"jql": search_jql(keys), "maxResults": 1}
        )
        warm.raise_for_status()
    return keys


def search_jql(keys: Sequence[str]) -> str:
    return f"project in ({', '.join(keys)}) ORDER BY updated ASC"


# -- the database ----------------------------------------------------------------------


@asynccontextmanager
async def bench_database(server_url: str) -> AsyncIterator[str]:
    """A new migrated database for this run, dropped afterwards."""
    async with migrated_database(server_url, "sluice_etl_bench", progress) as url:
        yield url


async def scalar(conn: Connection, query: str, params: dict[str, Any] | None = None) -> Any:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None
    return next(iter(row.values()))


async def postmaster_pid(conn: Connection) -> int | None:
    """The server's main process when it runs on this machine, else None."""
    backend = int(await scalar(conn, "SELECT pg_backend_pid() AS pid"))
    fields = proc_fields(backend)
    return int(fields[1]) if fields is not None else None


async def tenant_id(conn: Connection, name: str) -> int:
    value = await scalar(conn, "SELECT min(id) AS id FROM tenants WHERE name = %(n)s", {"n": name})
    if value is None:
        raise RuntimeError(f"the migrations did not seed the tenant {name}")
    return int(value)


async def add_jira(url: str, tenant: int, jira_url: str, secret_key: str) -> int:
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tenant) as conn:
            return await add_integration(
                conn,
                CredentialCipher(secret_key),
                tenant_id=tenant,
                provider="jira",
                base_url=jira_url,
                token=DEFAULT_TOKEN,
                username=USERNAME,
            )
    finally:
        await pool.close()


async def start_tenant_sync(url: str, tenant: int) -> int:
    """What `sluice sync --tenant WEX` does: a run and its extract jobs, committed."""
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tenant) as conn:
            return await start_sync(
                conn, SyncRequest(tenant_id=tenant, trigger="cli", triggered_by="cli")
            )
    finally:
        await pool.close()


async def job_counts(conn: Connection, types: Sequence[str]) -> tuple[int, int]:
    """(pending or running, failed) jobs of these types."""
    cur = await conn.execute(OPEN_JOBS_SQL, {"types": list(types)})
    row = await cur.fetchone()
    assert row is not None
    return int(row["open"]), int(row["failed"])


async def checkpoint(conn: Connection) -> None:
    """Flush dirty pages so that neither tool pays for the other's writes."""
    with suppress(Exception):
        await conn.execute("CHECKPOINT")


# -- bench state -----------------------------------------------------------------------


@dataclass
class Bench:
    config: BenchConfig
    url: str
    owner: Connection
    workdir: Path
    dbname: str
    owner_pid: int
    postmaster: int | None
    sandbox: Sandbox
    project_keys: list[str]
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    dlt_version: str | None = None
    notes: list[str] = field(default_factory=list)
    failed: bool = False

    def note(self, message: str, *, failure: bool = True) -> None:
        progress(f"NOTE: {message}")
        self.notes.append(message)
        self.failed = self.failed or failure

    def sluice_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.url,
            SLUICE_SECRET_KEY=self.secret_key,
            SLUICE_HOME=str(self.workdir / "sluice_home"),
            PYTHONUNBUFFERED="1",
        )
        return env


@dataclass(frozen=True)
class WorkerProc:
    process: subprocess.Popen[bytes]
    log_path: Path

    def exit_error(self) -> str | None:
        """Why the worker is gone, or None while it runs."""
        if self.process.poll() is None:
            return None
        return f"the worker exited with {self.process.returncode}:\n{log_tail(self.log_path)}"


@contextmanager
def worker_process(bench: Bench, stages: Sequence[str], name: str) -> Iterator[WorkerProc]:
    """`sluice worker --stages ...` at its default settings, stopped at the end."""
    log_path = bench.workdir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*sluice_command(), "worker", "--stages", ",".join(stages)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=bench.sluice_env(),
        )
    try:
        yield WorkerProc(process, log_path)
    finally:
        stop_process(process)


async def wait_listening(bench: Bench, worker: WorkerProc) -> None:
    """Until the worker's LISTEN connection is open (it is idle and ready)."""
    deadline = time.perf_counter() + WORKER_READY_S
    while int(await scalar(bench.owner, LISTENERS_SQL)) == 0:
        error = worker.exit_error()
        if error:
            raise RuntimeError(error)
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the worker did not LISTEN within {WORKER_READY_S:.0f} s")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Drained:
    seconds: float
    finished: bool
    failed_jobs: int
    error: str | None = None


async def wait_drained(
    bench: Bench, worker: WorkerProc, types: Sequence[str], started: float, what: str
) -> Drained:
    """Poll the queue every POLL_S until no job of these types is pending or running."""
    deadline = started + bench.config.timeout_s
    last_report = started
    while True:
        open_jobs, failed = await job_counts(bench.owner, types)
        now = time.perf_counter()
        if open_jobs == 0:
            return Drained(now - started, True, failed)
        error = worker.exit_error()
        if error:
            return Drained(now - started, False, failed, error)
        if now >= deadline:
            return Drained(now - started, False, failed)
        if now - last_report >= PROGRESS_EVERY_S:
            items = int(await scalar(bench.owner, "SELECT count(*) AS n FROM work_items"))
            progress(f"{what}: {now - started:.0f} s, {open_jobs} jobs open, {items:,} work items")
            last_report = now
        await asyncio.sleep(POLL_S)


# -- Sluice ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SluiceResult:
    work_items: int
    raw_issues: int
    raw_not_loaded: int
    seconds: float
    peak_rss_mb: float | None
    cpu: dict[str, float | None]
    stages: dict[str, dict[str, float]]
    http_requests: int


async def stage_stats(conn: Connection) -> tuple[dict[str, dict[str, float]], int]:
    """Jobs and summed run time (claim to completion) per stage; the extract requests."""
    cur = await conn.execute(STAGE_STATS_SQL, {"types": list(ETL_STAGES)})
    stages: dict[str, dict[str, float]] = {}
    requests = 0
    for row in await cur.fetchall():
        stages[row["job_type"]] = {
            "jobs": int(row["jobs"]),
            "busy_s": round(float(row["busy_s"]), 1),
        }
        requests += int(row["requests"])
    return stages, requests


async def bench_sluice(bench: Bench, tenant: int) -> SluiceResult:
    integration = await add_jira(bench.url, tenant, bench.sandbox.jira_url, bench.secret_key)
    progress(f"sluice: jira integration {integration} for {TENANT}")
    await checkpoint(bench.owner)
    with worker_process(bench, ETL_STAGES, "worker_etl") as worker:
        await wait_listening(bench, worker)
        pids = {"sandbox": bench.sandbox.process.pid, "worker": worker.process.pid}
        async with metered(bench, pids) as meter:
            started = time.perf_counter()
            run_id = await start_tenant_sync(bench.url, tenant)
            progress(f"sluice: run {run_id} started; worker pid {worker.process.pid}")
            drained = await wait_drained(bench, worker, ETL_STAGES, started, "sluice")
        rss = peak_rss_mb(worker.process.pid)
    if drained.error:
        bench.note(f"sluice: {drained.error}")
    elif not drained.finished:
        bench.note(f"sluice did not drain extract/transform/load in {bench.config.timeout_s:.0f} s")
    if drained.failed_jobs:
        bench.note(f"sluice: {drained.failed_jobs} extract/transform/load jobs failed")
    stages, requests = await stage_stats(bench.owner)
    result = SluiceResult(
        stages=stages,
        http_requests=requests,
        work_items=int(await scalar(bench.owner, "SELECT count(*) AS n FROM work_items")),
        raw_issues=int(
            await scalar(
                bench.owner,
                "SELECT count(*) AS n FROM raw_extraction_data WHERE entity_type = 'jira_issue'",
            )
        ),
        raw_not_loaded=int(
            await scalar(
                bench.owner,
                "SELECT count(*) AS n FROM raw_extraction_data "
                "WHERE entity_type = 'jira_issue' AND processing_status <> 'loaded'",
            )
        ),
        seconds=drained.seconds,
        peak_rss_mb=rss,
        cpu=meter.report(),
    )
    issues = bench.config.issues
    if result.work_items != issues:
        bench.note(f"sluice loaded {result.work_items} work items, not {issues}")
    if result.raw_issues != issues:
        bench.note(f"sluice kept {result.raw_issues} raw jira_issue rows, not {issues}")
    progress(
        f"sluice: {result.work_items:,} work items in {result.seconds:.2f} s = "
        f"{per_second(result.work_items, result.seconds) or 0:,.0f} issues/s; "
        f"{result.raw_issues:,} raw issues kept; worker peak RSS {rounded(result.peak_rss_mb)} MB; "
        f"CPU s {result.cpu}"
    )
    return result


@dataclass(frozen=True)
class VectorizeResult:
    items: int
    seconds: float | None
    finished: bool


async def bench_vectorize(bench: Bench) -> VectorizeResult | None:
    """Run the vectorize jobs load left, when Sluice has a vectorize handler."""
    if VECTORIZE not in default_handlers():
        bench.note(
            "vectorize_items_per_s is null: app.stages.default_handlers() has no "
            "'vectorize' handler (the vectorize jobs load enqueued stayed pending)",
            failure=False,
        )
        return None
    items = int(await scalar(bench.owner, VECTORIZE_ITEMS_SQL))
    progress(f"vectorize: {items:,} work items queued")
    started = time.perf_counter()
    with worker_process(bench, (VECTORIZE,), "worker_vectorize") as worker:
        drained = await wait_drained(bench, worker, (VECTORIZE,), started, "vectorize")
    if drained.error:
        bench.note(f"vectorize: {drained.error}")
    elif not drained.finished:
        bench.note(f"vectorize did not drain in {bench.config.timeout_s:.0f} s")
    if drained.failed_jobs:
        bench.note(f"vectorize: {drained.failed_jobs} jobs failed")
    cur = await bench.owner.execute(VECTORIZE_DONE_SQL)
    row = await cur.fetchone()
    assert row is not None
    seconds = float(row["seconds"]) if row["seconds"] is not None else None
    if row["work_items"] is not None:
        items = int(row["work_items"])  # what the jobs report they vectorized
    progress(f"vectorize: {items:,} work items, first claim to last completion {seconds} s")
    return VectorizeResult(items, seconds, drained.finished)


# -- dlt -------------------------------------------------------------------------------


def dlt_credentials(url: str) -> str:
    """The database URL in the form dlt's postgres destination accepts: it requires a host
    and a password, and libpq lets a `host` query parameter (a socket directory) win."""
    parts = urlsplit(url)
    user = quote(parts.username or "postgres", safe="")
    password = quote(parts.password or "unused", safe="")
    netloc = f"{user}:{password}@{parts.hostname or 'localhost'}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def dlt_spec(bench: Bench) -> dict[str, Any]:
    return {
        "base_url": bench.sandbox.jira_url,
        "token": DEFAULT_TOKEN,
        "path": SEARCH_PATH,
        "params": {
            "jql": search_jql(bench.project_keys),
            "fields": "*all",
            "expand": "changelog",
            "maxResults": PAGE_SIZE,
        },
        "resource": DLT_RESOURCE,
        "credentials": dlt_credentials(bench.url),
        "dataset": DLT_DATASET,
        "pipelines_dir": str(bench.workdir / "dlt_pipelines"),
    }


@dataclass(frozen=True)
class DltResult:
    issues: int
    seconds: float | None
    peak_rss_mb: float | None
    tables: int
    cpu: dict[str, float | None]


def run_dlt_process(bench: Bench) -> dict[str, Any]:
    script = bench.workdir / "dlt_runner.py"
    script.write_text(DLT_RUNNER)
    env = dict(os.environ)
    env.update(RUNTIME__DLTHUB_TELEMETRY="false", PYTHONUNBUFFERED="1")
    log_path = bench.workdir / "dlt.log"
    with log_path.open("w") as log:
        completed = subprocess.run(
            [sys.executable, str(script), json.dumps(dlt_spec(bench))],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=bench.workdir,
            env=env,
            timeout=bench.config.timeout_s + 120,
            check=False,
        )
    lines = completed.stdout.strip().splitlines()
    try:
        report: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        report = {"error": f"dlt exited with {completed.returncode}:\n{log_tail(log_path)}"}
    return report


async def count_dlt_rows(bench: Bench, table: str) -> tuple[int, int]:
    """(rows in dlt's issues table, tables dlt created) in its schema."""
    tables = int(
        await scalar(
            bench.owner,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = %(s)s",
            {"s": DLT_DATASET},
        )
    )
    exists = await scalar(
        bench.owner, "SELECT to_regclass(%(t)s) IS NOT NULL AS e", {"t": f"{DLT_DATASET}.{table}"}
    )
    if not exists:
        return 0, tables
    statement = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(DLT_DATASET, table))
    cur = await bench.owner.execute(statement)
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"]), tables


async def bench_dlt(bench: Bench) -> DltResult:
    await checkpoint(bench.owner)
    progress(f"dlt: rest_api source into schema {DLT_DATASET}")
    async with metered(bench, {"sandbox": bench.sandbox.process.pid}) as meter:
        report = await asyncio.to_thread(run_dlt_process, bench)
    bench.dlt_version = report.get("version")
    cpu = meter.report({"dlt": report.get("cpu_total_s")})
    cpu["dlt_during_run"] = rounded(report.get("cpu_s"))
    if report.get("error"):
        bench.note(f"dlt failed: {report['error']}")
    issues, tables = await count_dlt_rows(bench, str(report.get("table") or DLT_RESOURCE))
    if issues != bench.config.issues:
        bench.note(f"dlt loaded {issues} issues, not {bench.config.issues}")
    seconds = report.get("seconds")
    result = DltResult(issues, seconds, report.get("peak_rss_mb"), tables, cpu)
    progress(
        f"dlt: {issues:,} issues in {seconds or 0:.2f} s = "
        f"{per_second(issues, seconds) or 0:,.0f} issues/s; {tables} tables; "
        f"peak RSS {rounded(result.peak_rss_mb)} MB; CPU s {cpu}"
    )
    return result


# -- the run ---------------------------------------------------------------------------


def worker_defaults() -> dict[str, Any]:
    """The settings `sluice worker` runs with when given no flag."""
    args = build_parser().parse_args(["worker"])
    return {
        "concurrency": args.concurrency,
        "batch_size": args.batch_size,
        "poll_interval_s": args.poll_interval,
    }


def settings_report(bench: Bench) -> dict[str, Any]:
    return {
        "measurement": (
            "sluice: from start_sync (what `sluice sync` runs, in this process) to the queue "
            f"poll (every {int(POLL_S * 1000)} ms) that saw no extract/transform/load job "
            "pending or running, with the worker started and listening beforehand; dlt: "
            "pipeline.run in its own process; vectorize: first claim to last completion of "
            "its jobs; rows counted in PostgreSQL; peak RSS is VmHWM/ru_maxrss; sluice_stages: "
            "completed jobs and their summed claim-to-completion seconds per stage; "
            "sluice_http_requests: requests the extract jobs made (their progress)"
        ),
        "sluice": {
            "worker": "sluice worker --stages extract,transform,load, no other flag",
            "worker_defaults": worker_defaults(),
            "integration": "jira, basic auth; every raw record kept",
        },
        "dlt": {
            "source": "rest_api, cursor paginator (nextPageToken), data_selector issues, "
            "merge on id, bearer auth",
            "params": dlt_spec(bench)["params"],
            "settings": "dlt's defaults, none changed; telemetry off",
            "version": bench.dlt_version,
        },
    }


def build_report(
    bench: Bench,
    sluice: SluiceResult,
    vectorize: VectorizeResult | None,
    dlt: DltResult | None,
    facts: dict[str, str],
) -> dict[str, Any]:
    sluice_rate = per_second(sluice.work_items, sluice.seconds)
    dlt_rate = per_second(dlt.issues, dlt.seconds) if dlt else None
    ratio = sluice_rate / dlt_rate if sluice_rate and dlt_rate else None
    vector_rate = (
        per_second(vectorize.items, vectorize.seconds)
        if vectorize is not None and vectorize.finished
        else None
    )
    cpu: dict[str, Any] = {"sluice": sluice.cpu}
    if dlt is not None:
        cpu["dlt"] = dlt.cpu
    return {
        "issues": bench.config.issues,
        "issues_per_s": {"sluice": rounded(sluice_rate), "dlt": rounded(dlt_rate)},
        "ratio": rounded(ratio, 2),
        "peak_rss_mb": {
            "sluice": rounded(sluice.peak_rss_mb),
            "dlt": rounded(dlt.peak_rss_mb) if dlt else None,
        },
        "vectorize_items_per_s": rounded(vector_rate),
        "rows": {
            "sluice_work_items": sluice.work_items,
            "sluice_raw_issues": sluice.raw_issues,
            "sluice_raw_issues_not_loaded": sluice.raw_not_loaded,
            "dlt_issues": dlt.issues if dlt else None,
            "dlt_tables": dlt.tables if dlt else None,
            "vectorized_work_items": vectorize.items if vectorize else None,
        },
        "raw_kept": sluice.raw_issues == bench.config.issues,
        "sluice_stages": sluice.stages,
        "sluice_http_requests": sluice.http_requests,
        "seconds": {
            "sluice": rounded(sluice.seconds, 2),
            "dlt": rounded(dlt.seconds, 2) if dlt else None,
            "vectorize": rounded(vectorize.seconds, 2) if vectorize else None,
        },
        "cpu_s": cpu,
        "settings": settings_report(bench),
        "postgres": facts,
        "quick": bench.config.quick,
        "notes": bench.notes,
    }


async def server_facts(conn: Connection) -> dict[str, str]:
    facts = {}
    for setting in ("server_version", "synchronous_commit", "shared_buffers"):
        statement = sql.SQL("SHOW {}").format(sql.Identifier(setting))
        cur = await conn.execute(statement)
        row = await cur.fetchone()
        facts[setting] = str(next(iter(row.values()))) if row else "?"
    return facts


async def run(config: BenchConfig, workdir: Path) -> tuple[dict[str, Any], bool]:
    server_url = resolve_database_url(load_settings())
    env = dict(os.environ, SLUICE_HOME=str(workdir / "sandbox_home"), PYTHONUNBUFFERED="1")
    async with (
        running_sandbox(config.issues, workdir, env) as sandbox,
        bench_database(server_url) as url,
    ):
        keys = await sandbox_project_keys(sandbox.jira_url)
        progress(f"sandbox projects: {', '.join(keys)}")
        owner = await connect(url, autocommit=True)
        async with owner:
            bench = Bench(
                config=config,
                url=url,
                owner=owner,
                workdir=workdir,
                dbname=urlsplit(url).path.lstrip("/"),
                owner_pid=owner.info.backend_pid,
                postmaster=await postmaster_pid(owner),
                sandbox=sandbox,
                project_keys=keys,
            )
            facts = await server_facts(owner)
            progress(f"PostgreSQL {facts['server_version']}; {os.cpu_count()} CPUs")
            sluice = await bench_sluice(bench, await tenant_id(owner, TENANT))
            vectorize = await bench_vectorize(bench)
            dlt = None if config.skip_dlt else await bench_dlt(bench)
            if config.skip_dlt:
                bench.note("dlt skipped (--skip-dlt)", failure=False)
            return build_report(bench, sluice, vectorize, dlt, facts), bench.failed


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    configure_logging("console", "WARNING")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sluice-etl-bench-") as tmp:
        report, failed = asyncio.run(run(config, Path(tmp)))
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    progress(f"done in {report['elapsed_s']} s")
    print(json.dumps(report, separators=(", ", ": ")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
