"""Queue benchmark: Sluice's stage worker against procrastinate, pgqueuer and a plain SQL
claim/complete loop on one PostgreSQL, plus idle pickup latency, tenant fairness and claim
latency on a large table.

Run from the repository root:

    python benchmarks/queue_bench.py [--quick] [--jobs N] [--procrastinate-jobs N]

The benchmark creates its own database on the configured server (DATABASE_URL, else the
embedded PostgreSQL under $SLUICE_HOME), builds it with the migrations and drops it at the
end. Progress goes to stderr; the last line of stdout is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import procrastinate
import psycopg
from benchdb import migrated_database
from pgqueuer.db import PsycopgDriver
from pgqueuer.models import Job as PgqJob
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries
from psycopg import sql

from app.config import load_settings
from app.db import Connection, connect, resolve_database_url
from app.logging import configure_logging
from app.queue import ops
from app.queue.context import JobContext
from app.queue.model import TIER_WEIGHTS, NewJob
from workers.stage_worker import StageWorker, WorkerConfig

BATCH_SIZE = 100
ENQUEUE_CHUNK = 5_000
POLL_S = 0.05
JOB_TYPE = "transform"
SLUICE_CONCURRENCY = 200
PROCRASTINATE_CONCURRENCY = 50
PROCRASTINATE_QUEUE = "bench"
PROCRASTINATE_POLL_S = 0.1
PGQUEUER_ENTRYPOINT = "bench_noop"
PICKUP_POLL_INTERVAL_S = 5.0
PICKUP_GAP_S = (0.005, 0.010)
FAIR_HANDLER_COST_S = 0.01
FAIR_SPREAD = 0.6  # small-tenant arrivals fill this share of the backlog's remaining life
FALLBACK_RATE = 5_000.0  # jobs/s assumed before the backlog's own drain rate is known
SCALE_WORKER = "bench-scale"
LOOP_WORKER = "loop"

COMPLETED_SQL = "SELECT count(*) AS n FROM etl_job_queue WHERE status = 'completed'"
PROCRASTINATE_DONE_SQL = "SELECT count(*) AS n FROM procrastinate_jobs WHERE status = 'succeeded'"
RETRIED_SQL = "SELECT count(*) AS n FROM etl_job_queue WHERE retry_count > 0"
PGQUEUER_DONE_SQL = "SELECT count(*) AS n FROM pgqueuer_log WHERE status = 'successful'"

LOOP_CLAIM_SQL = """
UPDATE etl_job_queue SET status = 'running', locked_by = %(worker)s,
       started_at = now(), heartbeat_at = now()
WHERE (tenant_id, id) IN (
    SELECT tenant_id, id FROM etl_job_queue
    WHERE tenant_id = %(tenant_id)s AND status = 'pending'
    ORDER BY priority, scheduled_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING tenant_id, id
"""
LOOP_COMPLETE_SQL = """
UPDATE etl_job_queue q SET status = 'completed', completed_at = now(), heartbeat_at = NULL
FROM unnest(%(tenant_ids)s::integer[], %(ids)s::bigint[]) AS d(tenant_id, id)
WHERE q.tenant_id = d.tenant_id AND q.id = d.id
"""
SCALE_INSERT_SQL = """
INSERT INTO etl_job_queue (tenant_id, job_type, status, scheduled_at, created_at,
                           started_at, completed_at)
SELECT (%(tenants)s::integer[])[1 + mod(g, cardinality(%(tenants)s::integer[]))],
       'transform', %(status)s,
       now() - make_interval(secs => %(n)s - g),
       now() - make_interval(secs => %(n)s - g),
       CASE WHEN %(status)s = 'completed' THEN now() - make_interval(secs => %(n)s - g) END,
       CASE WHEN %(status)s = 'completed' THEN now() - make_interval(secs => %(n)s - g) END
FROM generate_series(1, %(n)s) AS g
"""

Handler = Callable[[JobContext], Awaitable[None]]


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of every scenario."""

    jobs: int = 50_000
    procrastinate_jobs: int = 5_000
    pickups: int = 1_000
    fair_backlog: int = 20_000
    fair_small: int = 200
    share_each: int = 5_000
    scale_finished: int = 1_000_000
    scale_pending: int = 100_000
    scale_claims: int = 300
    sluice_concurrency: int = SLUICE_CONCURRENCY
    quick: bool = False

    def timeout_for(self, jobs: int) -> float:
        """A generous limit for burning down `jobs` jobs."""
        return 60.0 + jobs / 100.0


QUICK = BenchConfig(
    jobs=3_000,
    procrastinate_jobs=500,
    pickups=200,
    fair_backlog=2_000,
    fair_small=50,
    share_each=1_000,
    scale_finished=50_000,
    scale_pending=10_000,
    scale_claims=60,
    quick=True,
)


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a reduced run (under a minute)")
    parser.add_argument("--jobs", type=int, help="jobs for sluice, pgqueuer and the SQL loop")
    parser.add_argument("--procrastinate-jobs", type=int, help="jobs for procrastinate")
    parser.add_argument(
        "--sluice-concurrency", type=int, help=f"Sluice worker concurrency ({SLUICE_CONCURRENCY})"
    )
    args = parser.parse_args(argv)
    config = QUICK if args.quick else BenchConfig()
    if args.jobs is not None:
        config = replace(config, jobs=_positive(parser, "--jobs", args.jobs))
    if args.procrastinate_jobs is not None:
        count = _positive(parser, "--procrastinate-jobs", args.procrastinate_jobs)
        config = replace(config, procrastinate_jobs=count)
    if args.sluice_concurrency is not None:
        count = _positive(parser, "--sluice-concurrency", args.sluice_concurrency)
        config = replace(config, sluice_concurrency=count)
    return config


def _positive(parser: argparse.ArgumentParser, flag: str, value: int) -> int:
    if value <= 0:
        parser.error(f"{flag} must be positive")
    return value


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


def describe_ms(values: Sequence[float]) -> str:
    """The p50 and p99 of millisecond samples, for a progress line."""
    if not values:
        return "no samples"
    return f"p50 {percentile(values, 50):.2f} ms, p99 {percentile(values, 99):.2f} ms"


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def p50_p99(values_ms: Sequence[float]) -> dict[str, float | None]:
    return {"p50": rounded(percentile(values_ms, 50)), "p99": rounded(percentile(values_ms, 99))}


# -- database lifecycle ----------------------------------------------------------------


@asynccontextmanager
async def bench_database(server_url: str) -> AsyncIterator[str]:
    """A new migrated database for this run, dropped afterwards."""
    async with migrated_database(server_url, "sluice_bench", progress) as url:
        await install_pgqueuer(url)
        yield url


async def install_pgqueuer(url: str) -> None:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    async with conn:
        await Queries(PsycopgDriver(conn)).install()


async def system_connection(url: str) -> Connection:
    """An autocommit connection acting as sluice_system (cross-tenant queue operations)."""
    conn = await connect(url, autocommit=True)
    await conn.execute("SET ROLE sluice_system")
    return conn


@dataclass(frozen=True)
class Tenants:
    """The seeded tenants the scenarios use."""

    wex: int
    google: int
    all_ids: tuple[int, ...]
    tiers: dict[int, str]


async def load_tenants(conn: Connection) -> Tenants:
    cur = await conn.execute("SELECT id, name, tier FROM tenants ORDER BY id")
    rows = await cur.fetchall()
    by_name = {row["name"]: row["id"] for row in rows}
    missing = {"WEX", "Google"} - set(by_name)
    if missing:
        raise RuntimeError(f"seeded tenants missing: {', '.join(sorted(missing))}")
    return Tenants(
        wex=by_name["WEX"],
        google=by_name["Google"],
        all_ids=tuple(row["id"] for row in rows),
        tiers={row["id"]: row["tier"] for row in rows},
    )


@dataclass
class Bench:
    """Shared state of one run: the database and two long-lived connections."""

    url: str
    config: BenchConfig
    owner: Connection
    system: Connection
    tenants: Tenants
    incomplete: dict[str, dict[str, int]] = field(default_factory=dict)
    observations: dict[str, dict[str, Any]] = field(default_factory=dict)


@asynccontextmanager
async def open_bench(url: str, config: BenchConfig) -> AsyncIterator[Bench]:
    owner = await connect(url, autocommit=True)
    system = await system_connection(url)
    try:
        yield Bench(url, config, owner, system, await load_tenants(system))
    finally:
        await system.close()
        await owner.close()


async def scalar(
    conn: Connection, query: str | sql.Composed, params: dict[str, Any] | None = None
) -> Any:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None
    return next(iter(row.values()))


async def reset_queue(bench: Bench) -> None:
    await bench.owner.execute("TRUNCATE etl_job_queue")


async def vacuum_analyze(bench: Bench, table: str) -> None:
    await bench.owner.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))


# -- enqueueing and watching -----------------------------------------------------------


async def enqueue_sluice(conn: Connection, tenant_id: int, count: int) -> None:
    """`count` no-op jobs for one tenant, ENQUEUE_CHUNK per statement."""
    for start in range(0, count, ENQUEUE_CHUNK):
        size = min(ENQUEUE_CHUNK, count - start)
        await ops.enqueue(conn, [NewJob(tenant_id=tenant_id, job_type=JOB_TYPE)] * size)


async def enqueue_one(conn: Connection, tenant_id: int, seq: int) -> float:
    """One committed job carrying its sequence number; returns when the commit returned."""
    await ops.enqueue(conn, [NewJob(tenant_id=tenant_id, job_type=JOB_TYPE, payload={"seq": seq})])
    return time.perf_counter()


@dataclass(frozen=True)
class Watched:
    """What a completion watcher saw."""

    done: int
    seconds: float


async def watch_completions(
    conn: Connection,
    query: str,
    target: int,
    started: float,
    limit_s: float,
    runner_task: asyncio.Task[Any] | None = None,
    on_poll: Callable[[], None] | None = None,
) -> Watched:
    """Poll `query` (a count) until it reaches `target`, the runner ends, or time runs out;
    the elapsed time is measured from `started` to the poll that saw the target."""
    deadline = started + limit_s
    while True:
        done = int(await scalar(conn, query))
        now = time.perf_counter()
        if on_poll is not None:
            on_poll()
        finished = runner_task is not None and runner_task.done()
        if done >= target or now >= deadline or finished:
            if finished and done < target:
                done = int(await scalar(conn, query))
            return Watched(done, now - started)
        await asyncio.sleep(POLL_S)


async def wait_for(predicate: Callable[[], bool], limit_s: float) -> bool:
    """Wait (on this event loop) until `predicate()` holds; False after `limit_s`."""
    deadline = time.perf_counter() + limit_s
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(0.005)
    return True


# -- throughput ------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    """One tool's burn-down of its no-op jobs."""

    tool: str
    enqueued: int
    completed: int
    seconds: float

    @property
    def finished(self) -> bool:
        return self.completed >= self.enqueued

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0


def record(bench: Bench, result: Throughput) -> Throughput:
    state = "" if result.finished else " (DID NOT FINISH)"
    progress(
        f"{result.tool}: {result.completed}/{result.enqueued} jobs in {result.seconds:.2f} s "
        f"= {result.rate:,.0f} jobs/s{state}"
    )
    if not result.finished:
        bench.incomplete[result.tool] = {
            "enqueued": result.enqueued,
            "completed": result.completed,
            "timeout_s": round(bench.config.timeout_for(result.enqueued)),
        }
    return result


@dataclass
class RunningWorker:
    worker: StageWorker
    task: asyncio.Task[None]


@asynccontextmanager
async def running_worker(
    url: str, handler: Handler, concurrency: int, poll_interval: float = 2.0
) -> AsyncIterator[RunningWorker]:
    """A Sluice stage worker serving `transform` in this process until the block ends."""
    config = WorkerConfig(
        concurrency=concurrency, batch_size=BATCH_SIZE, poll_interval=poll_interval
    )
    worker = StageWorker(url, {JOB_TYPE: handler}, config, name=f"bench-{uuid.uuid4().hex[:6]}")
    task = asyncio.create_task(worker.run(install_signal_handlers=False), name="sluice-worker")
    try:
        yield RunningWorker(worker, task)
    finally:
        worker.stop()
        await task


async def noop(_ctx: JobContext) -> None:
    """The Sluice no-op handler (the worker batches its completion)."""


async def bench_sluice(bench: Bench) -> Throughput:
    count = bench.config.jobs
    await reset_queue(bench)
    await enqueue_sluice(bench.system, bench.tenants.wex, count)
    await vacuum_analyze(bench, "etl_job_queue")
    progress(f"sluice: {count} jobs enqueued; worker concurrency {bench.config.sluice_concurrency}")
    peak_unflushed = 0
    all_claimed_s: float | None = None

    def observe(worker: StageWorker) -> None:
        nonlocal peak_unflushed, all_claimed_s
        peak_unflushed = max(peak_unflushed, len(worker.to_complete))
        if all_claimed_s is None and worker.claimed_total >= count:
            all_claimed_s = time.perf_counter() - started

    started = time.perf_counter()
    async with running_worker(bench.url, noop, bench.config.sluice_concurrency) as running:
        seen = await watch_completions(
            bench.owner,
            COMPLETED_SQL,
            count,
            started,
            bench.config.timeout_for(count),
            running.task,
            on_poll=lambda: observe(running.worker),
        )
    done = int(await scalar(bench.owner, COMPLETED_SQL))
    bench.observations["sluice"] = {
        "jobs_claimed": running.worker.claimed_total,
        "all_claimed_after_s": rounded(all_claimed_s),
        "jobs_retried": int(await scalar(bench.owner, RETRIED_SQL)),
        "peak_completions_waiting_in_worker": peak_unflushed,
    }
    return record(bench, Throughput("sluice", count, done, seen.seconds))


async def bench_sql_loop(bench: Bench) -> Throughput:
    """The limit: claim 100 / complete 100 on one connection, nothing else."""
    count = bench.config.jobs
    await reset_queue(bench)
    await enqueue_sluice(bench.system, bench.tenants.wex, count)
    await vacuum_analyze(bench, "etl_job_queue")
    conn = await system_connection(bench.url)
    async with conn:
        claim = {"worker": LOOP_WORKER, "tenant_id": bench.tenants.wex, "limit": BATCH_SIZE}
        deadline = time.perf_counter() + bench.config.timeout_for(count)
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            rows = await (await conn.execute(LOOP_CLAIM_SQL, claim)).fetchall()
            if not rows:
                break
            keys = {"tenant_ids": [r["tenant_id"] for r in rows], "ids": [r["id"] for r in rows]}
            await conn.execute(LOOP_COMPLETE_SQL, keys)
        seconds = time.perf_counter() - started
    done = int(await scalar(bench.owner, COMPLETED_SQL))
    return record(bench, Throughput("sql_loop", count, done, seconds))


async def procrastinate_noop() -> None:
    """The procrastinate no-op task."""


async def bench_procrastinate(bench: Bench) -> Throughput:
    count = bench.config.procrastinate_jobs
    pool_size = PROCRASTINATE_CONCURRENCY + 4  # opened in full before the clock starts
    connector = procrastinate.PsycopgConnector(
        conninfo=bench.url, min_size=pool_size, max_size=pool_size
    )
    app = procrastinate.App(connector=connector)
    task = app.task(name="bench_noop", queue=PROCRASTINATE_QUEUE)(procrastinate_noop)
    async with app.open_async():
        for start in range(0, count, ENQUEUE_CHUNK):
            await task.batch_defer_async(*({} for _ in range(min(ENQUEUE_CHUNK, count - start))))
        await vacuum_analyze(bench, "procrastinate_jobs")
        progress(f"procrastinate: {count} jobs deferred; concurrency {PROCRASTINATE_CONCURRENCY}")
        started = time.perf_counter()
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[PROCRASTINATE_QUEUE],
                concurrency=PROCRASTINATE_CONCURRENCY,
                wait=False,
                listen_notify=True,
                fetch_job_polling_interval=PROCRASTINATE_POLL_S,
                delete_jobs="never",
                install_signal_handlers=False,
            ),
            name="procrastinate-worker",
        )
        seen = await watch_completions(
            bench.owner,
            PROCRASTINATE_DONE_SQL,
            count,
            started,
            bench.config.timeout_for(count),
            worker,
        )
        if not worker.done():
            worker.cancel()
        with suppress(asyncio.CancelledError):
            await worker
    done = int(await scalar(bench.owner, PROCRASTINATE_DONE_SQL))
    return record(bench, Throughput("procrastinate", count, done, seen.seconds))


async def pgqueuer_noop(_job: PgqJob) -> None:
    """The pgqueuer no-op entrypoint."""


async def bench_pgqueuer(bench: Bench) -> Throughput:
    count = bench.config.jobs
    conn = await psycopg.AsyncConnection.connect(bench.url, autocommit=True)
    async with conn:
        queries = Queries(PsycopgDriver(conn))
        for start in range(0, count, ENQUEUE_CHUNK):
            size = min(ENQUEUE_CHUNK, count - start)
            await queries.enqueue([PGQUEUER_ENTRYPOINT] * size, [None] * size, [0] * size)
        await vacuum_analyze(bench, "pgqueuer")
        progress(f"pgqueuer: {count} jobs enqueued; batch size {BATCH_SIZE}")
        manager = QueueManager(queries)
        manager.entrypoint(PGQUEUER_ENTRYPOINT)(pgqueuer_noop)
        started = time.perf_counter()
        worker = asyncio.create_task(
            manager.run(batch_size=BATCH_SIZE, dequeue_timeout=timedelta(seconds=5)),
            name="pgqueuer-worker",
        )
        seen = await watch_completions(
            bench.owner, PGQUEUER_DONE_SQL, count, started, bench.config.timeout_for(count), worker
        )
        manager.shutdown.set()
        await worker
    done = int(await scalar(bench.owner, PGQUEUER_DONE_SQL))
    return record(bench, Throughput("pgqueuer", count, done, seen.seconds))


# -- pickup latency --------------------------------------------------------------------


async def listener_ready(bench: Bench) -> bool:
    query = (
        "SELECT count(*) AS n FROM pg_stat_activity "
        "WHERE datname = current_database() AND query ILIKE 'LISTEN %%'"
    )
    deadline = time.perf_counter() + 10.0
    while time.perf_counter() < deadline:
        if int(await scalar(bench.owner, query)) > 0:
            return True
        await asyncio.sleep(0.02)
    return False


async def bench_pickup(bench: Bench) -> list[float]:
    """Enqueue jobs one at a time onto an idle queue; ms from commit to handler start."""
    count = bench.config.pickups
    await reset_queue(bench)
    starts: dict[int, float] = {}

    async def record_start(ctx: JobContext) -> None:
        starts[int(ctx.job.payload["seq"])] = time.perf_counter()

    commits: dict[int, float] = {}
    async with running_worker(
        bench.url, record_start, bench.config.sluice_concurrency, PICKUP_POLL_INTERVAL_S
    ):
        if not await listener_ready(bench):
            progress("pickup: the worker's LISTEN connection did not appear")
        await enqueue_one(bench.system, bench.tenants.wex, -1)
        await wait_for(lambda: -1 in starts, 10.0)
        await asyncio.sleep(0.2)
        for seq in range(count):
            commits[seq] = await enqueue_one(bench.system, bench.tenants.wex, seq)
            await asyncio.sleep(random.uniform(*PICKUP_GAP_S))
        await wait_for(lambda: all(seq in starts for seq in commits), 30.0)
    latencies = [(starts[s] - commits[s]) * 1000 for s in commits if s in starts]
    missing = count - len(latencies)
    if missing:
        bench.incomplete["pickup"] = {"enqueued": count, "completed": len(latencies)}
    progress(f"pickup: {len(latencies)}/{count} picked up, {describe_ms(latencies)}")
    return latencies


# -- fairness --------------------------------------------------------------------------


@dataclass(frozen=True)
class SmallTenantWait:
    waits_ms: list[float]
    arrived_during_backlog: int
    backlog_drain_s: float
    arrival_gap_s: float


async def fair_handler_cost() -> None:
    await asyncio.sleep(FAIR_HANDLER_COST_S)


async def bench_small_tenant_wait(bench: Bench, expected_rate: float) -> SmallTenantWait:
    """Google (standard) has a backlog; WEX (enterprise) jobs arrive one by one meanwhile."""
    backlog, small = bench.config.fair_backlog, bench.config.fair_small
    small_tenant = bench.tenants.wex
    await reset_queue(bench)
    await enqueue_sluice(bench.system, bench.tenants.google, backlog)
    await vacuum_analyze(bench, "etl_job_queue")
    small_starts: dict[int, float] = {}
    backlog_started = 0
    last_backlog_start = 0.0

    async def handler(ctx: JobContext) -> None:
        nonlocal backlog_started, last_backlog_start
        now = time.perf_counter()
        if ctx.job.tenant_id == small_tenant:
            small_starts[int(ctx.job.payload["seq"])] = now
        else:
            backlog_started += 1
            last_backlog_start = now
        await fair_handler_cost()

    def next_gap(elapsed: float, remaining: int) -> float:
        """Spread the remaining arrivals over part of the backlog's expected remaining life."""
        rate = backlog_started / elapsed if backlog_started and elapsed > 0 else expected_rate
        return FAIR_SPREAD * (backlog - backlog_started) / rate / remaining

    commits: dict[int, float] = {}
    gaps: list[float] = []
    started = time.perf_counter()
    async with running_worker(bench.url, handler, bench.config.sluice_concurrency) as running:
        for seq in range(small):
            gaps.append(next_gap(time.perf_counter() - started, small - seq))
            await asyncio.sleep(gaps[-1])
            commits[seq] = await enqueue_one(bench.system, small_tenant, seq)
        target = backlog + small
        await watch_completions(
            bench.owner,
            COMPLETED_SQL,
            target,
            started,
            bench.config.timeout_for(target),
            running.task,
        )
    waits = [(small_starts[s] - commits[s]) * 1000 for s in commits if s in small_starts]
    during = sum(1 for s in commits if commits[s] < last_backlog_start)
    result = SmallTenantWait(waits, during, last_backlog_start - started, sum(gaps) / len(gaps))
    progress(
        f"fairness: {len(waits)}/{small} small-tenant jobs ({during} during the backlog), wait "
        f"{describe_ms(waits)}; "
        f"backlog drained in {result.backlog_drain_s:.2f} s"
    )
    if len(waits) < small:
        bench.incomplete["fairness_small"] = {"enqueued": small, "completed": len(waits)}
    return result


def backlogged_prefix(order: Sequence[int], totals: dict[int, int], margin: int) -> list[int]:
    """The claims made while every tenant still had more than `margin` jobs unclaimed."""
    counts: Counter[int] = Counter()
    for index, tenant_id in enumerate(order):
        counts[tenant_id] += 1
        if counts[tenant_id] >= totals[tenant_id] - margin:
            return list(order[:index])
    return list(order)


@dataclass(frozen=True)
class Shares:
    share_b: float | None
    expected: float
    prefix: int


def expected_share(tier_b: str, tier_a: str) -> float:
    weight_b, weight_a = TIER_WEIGHTS[tier_b], TIER_WEIGHTS[tier_a]
    return weight_b / (weight_b + weight_a)


async def bench_shares(bench: Bench) -> Shares:
    """Both tenants backlogged: WEX's (enterprise) share of claims against Google (standard)."""
    each = bench.config.share_each
    tenant_a, tenant_b = bench.tenants.google, bench.tenants.wex
    await reset_queue(bench)
    await enqueue_sluice(bench.system, tenant_a, each)
    await enqueue_sluice(bench.system, tenant_b, each)
    await vacuum_analyze(bench, "etl_job_queue")
    order: list[int] = []

    async def handler(ctx: JobContext) -> None:
        order.append(ctx.job.tenant_id)
        await fair_handler_cost()

    started = time.perf_counter()
    async with running_worker(bench.url, handler, bench.config.sluice_concurrency) as running:
        await watch_completions(
            bench.owner,
            COMPLETED_SQL,
            2 * each,
            started,
            bench.config.timeout_for(2 * each),
            running.task,
        )
    prefix = backlogged_prefix(order, {tenant_a: each, tenant_b: each}, BATCH_SIZE)
    share = prefix.count(tenant_b) / len(prefix) if prefix else None
    expected = expected_share(bench.tenants.tiers[tenant_b], bench.tenants.tiers[tenant_a])
    progress(
        f"fairness: share of the enterprise tenant {share if share is None else round(share, 3)} "
        f"over {len(prefix)} backlogged claims (expected {expected:.3f})"
    )
    return Shares(share, expected, len(prefix))


# -- claim latency at scale ------------------------------------------------------------


async def fill_large_queue(bench: Bench) -> None:
    tenants = list(bench.tenants.all_ids)
    for status, count in (
        ("completed", bench.config.scale_finished),
        ("pending", bench.config.scale_pending),
    ):
        await bench.system.execute(
            SCALE_INSERT_SQL, {"tenants": tenants, "status": status, "n": count}
        )
    await vacuum_analyze(bench, "etl_job_queue")


async def bench_claim_at_scale(bench: Bench) -> list[float]:
    """ms per `claim_batch(100)` with many finished rows and a deep pending backlog."""
    config = bench.config
    await reset_queue(bench)
    progress(f"scale: inserting {config.scale_finished} finished + {config.scale_pending} pending")
    await fill_large_queue(bench)
    conn = await system_connection(bench.url)
    timings: list[float] = []
    async with conn:
        for _ in range(config.scale_claims):
            started = time.perf_counter()
            jobs = await ops.claim_batch(conn, SCALE_WORKER, BATCH_SIZE)
            timings.append((time.perf_counter() - started) * 1000)
            await ops.complete_batch(conn, SCALE_WORKER, [job.key for job in jobs])
    progress(f"scale: {len(timings)} claims, {describe_ms(timings)}")
    return timings


# -- the run ---------------------------------------------------------------------------


async def server_facts(conn: Connection) -> dict[str, str]:
    facts = {}
    for setting in ("server_version", "synchronous_commit", "fsync", "wal_sync_method"):
        facts[setting] = str(await scalar(conn, sql.SQL("SHOW {}").format(sql.Identifier(setting))))
    return facts


def settings_report(
    config: BenchConfig, facts: dict[str, str], wait: SmallTenantWait, shares: Shares
) -> dict[str, Any]:
    return {
        "measurement": (
            "jobs are enqueued before the clock starts; wall time runs from worker start to "
            f"the completion poll (every {int(POLL_S * 1000)} ms) that saw the last job done, "
            "except sql_loop, timed around its own loop"
        ),
        "durability": {k: facts[k] for k in ("synchronous_commit", "fsync", "wal_sync_method")},
        "sluice": {"concurrency": config.sluice_concurrency, "batch_size": BATCH_SIZE},
        "procrastinate": {
            "concurrency": PROCRASTINATE_CONCURRENCY,
            "pool_size": PROCRASTINATE_CONCURRENCY + 4,
            "listen_notify": True,
            "fetch_job_polling_interval": PROCRASTINATE_POLL_S,
            "delete_jobs": "never",
            "wait": False,
        },
        "pgqueuer": {"batch_size": BATCH_SIZE, "driver": "PsycopgDriver", "durability": "durable"},
        "sql_loop": "claim 100 (tenant_id = WEX, status = 'pending', ORDER BY priority, "
        "scheduled_at, id, FOR UPDATE SKIP LOCKED) then complete 100, autocommit, one connection",
        "pickup": {
            "jobs": config.pickups,
            "poll_interval_s": PICKUP_POLL_INTERVAL_S,
            "gap_ms": [int(g * 1000) for g in PICKUP_GAP_S],
        },
        "fairness": {
            "concurrency": config.sluice_concurrency,
            "handler": f"asyncio.sleep({FAIR_HANDLER_COST_S})",
            "backlog_jobs_standard": config.fair_backlog,
            "small_jobs_enterprise": config.fair_small,
            "small_arrival_mean_gap_ms": round(wait.arrival_gap_s * 1000, 2),
            "small_arrived_during_backlog": wait.arrived_during_backlog,
            "backlog_drain_s": round(wait.backlog_drain_s, 2),
            "share_jobs_each": config.share_each,
            "share_prefix_claims": shares.prefix,
        },
        "claim_at_scale": {
            "finished_rows": config.scale_finished,
            "pending_rows": config.scale_pending,
            "tenants": "all seeded, round-robin",
            "claims": config.scale_claims,
        },
    }


@dataclass(frozen=True)
class Results:
    """Everything one run measured."""

    throughput: list[Throughput]
    pickups_ms: list[float]
    wait: SmallTenantWait
    shares: Shares
    claims_ms: list[float]


def build_report(bench: Bench, facts: dict[str, str], results: Results) -> dict[str, Any]:
    wait, shares = results.wait, results.shares
    report: dict[str, Any] = {
        "jobs": {r.tool: r.completed for r in results.throughput},
        "jobs_per_s": {r.tool: round(r.rate, 1) for r in results.throughput},
        "pickup_ms": p50_p99(results.pickups_ms),
        "fairness": {
            "small_wait_ms_p50": rounded(percentile(wait.waits_ms, 50)),
            "small_wait_ms_p99": rounded(percentile(wait.waits_ms, 99)),
            "share_b": rounded(shares.share_b, 3),
            "share_b_expected": round(shares.expected, 3),
        },
        "claim_ms_at_scale": p50_p99(results.claims_ms),
        "settings": settings_report(bench.config, facts, wait, shares),
        "postgres_version": facts["server_version"],
        "quick": bench.config.quick,
        "observations": bench.observations,
    }
    if bench.incomplete:
        report["incomplete"] = bench.incomplete
    return report


async def run(config: BenchConfig) -> dict[str, Any]:
    server_url = resolve_database_url(load_settings())
    async with bench_database(server_url) as url, open_bench(url, config) as bench:
        facts = await server_facts(bench.owner)
        progress(
            f"PostgreSQL {facts['server_version']}, synchronous_commit={facts['synchronous_commit']}"
        )
        sluice = await bench_sluice(bench)
        throughput = [
            sluice,
            await bench_procrastinate(bench),
            await bench_pgqueuer(bench),
            await bench_sql_loop(bench),
        ]
        pickups = await bench_pickup(bench)
        wait = await bench_small_tenant_wait(bench, sluice.rate or FALLBACK_RATE)
        shares = await bench_shares(bench)
        claims = await bench_claim_at_scale(bench)
        return build_report(bench, facts, Results(throughput, pickups, wait, shares, claims))


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    configure_logging("console", "WARNING")
    started = time.perf_counter()
    report = asyncio.run(run(config))
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    progress(f"done in {report['elapsed_s']} s")
    print(json.dumps(report, separators=(", ", ": ")))
    return 1 if "incomplete" in report else 0


if __name__ == "__main__":
    sys.exit(main())
