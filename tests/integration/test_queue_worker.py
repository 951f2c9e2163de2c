"""The stage worker under concurrency, crashes and shutdown: real processes, real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.db import connect
from app.queue import ops
from app.queue.context import JobContext
from app.queue.errors import PermanentJobError, RetryableJobError
from app.queue.model import NewJob
from tests.conftest import ROOT
from workers.stage_worker import StageWorker, WorkerConfig


def tenant_id(url: str, name: str = "WEX") -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM tenants WHERE name = %s", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def enqueue(url: str, n: int, payload: dict[str, Any] | None = None, tenant: str = "WEX") -> None:
    async def run() -> None:
        conn = await connect(url, autocommit=True)
        async with conn:
            await conn.execute("SET ROLE sluice_system")
            tid = tenant_id(url, tenant)
            for start in range(0, n, 5000):
                await ops.enqueue(
                    conn,
                    [
                        NewJob(tenant_id=tid, job_type="transform", payload=payload or {})
                        for _ in range(min(5000, n - start))
                    ],
                )

    asyncio.run(run())


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT status, count(*) FROM etl_job_queue GROUP BY 1").fetchall()
    return {status: n for status, n in rows}


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Workers:
    """`sluice worker` subprocesses with the test handlers."""

    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "SLUICE_HOME": str(self.home),
            "SLUICE_LOG_FORMAT": "json",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli.main",
                "worker",
                "--handlers",
                "tests.queue_handlers:registry",
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture
def workers(fresh_db_url: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(fresh_db_url, tmp_path / "home")
    yield pool
    pool.stop_all()


def runs_per_job(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT queue_job_id) FROM job_logs WHERE message = 'ran'"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.slow
def test_four_workers_run_20000_jobs_exactly_once(workers: Workers) -> None:
    enqueue(workers.url, 20_000)
    procs = [workers.start("--concurrency", "16", "--poll-interval", "0.5") for _ in range(4)]
    wait_for(lambda: counts(workers.url).get("completed") == 20_000, 180, "20,000 completions")
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(30) for proc in procs] == [0, 0, 0, 0]
    assert runs_per_job(workers.url) == (20_000, 20_000)
    with psycopg.connect(workers.url) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT context->>'worker') FROM job_logs WHERE message = 'ran'"
        ).fetchone()
    assert row is not None and row[0] == 4  # every worker took a share


@pytest.mark.slow
def test_sigkilled_worker_loses_nothing(workers: Workers) -> None:
    enqueue(workers.url, 60, payload={"sleep": 0.4})
    victim = workers.start("--concurrency", "10", "--heartbeat-interval", "0.5")
    wait_for(lambda: counts(workers.url).get("completed", 0) >= 5, 30, "the first completions")
    assert counts(workers.url).get("running", 0) > 0
    victim.kill()  # SIGKILL mid-batch: its running jobs are orphaned
    victim.wait(10)
    orphaned = counts(workers.url).get("running", 0)
    assert orphaned > 0
    # The victim's session ended with it, and its presence lock with it: the next worker
    # puts its jobs back at once, long before any heartbeat timeout.
    workers.start("--concurrency", "10", "--heartbeat-interval", "0.5", "--stall-timeout", "600")
    wait_for(lambda: counts(workers.url).get("completed") == 60, 20, "all 60 completions")
    # The killed transactions rolled back with their completions: one run row per job.
    assert runs_per_job(workers.url) == (60, 60)
    with psycopg.connect(workers.url) as conn:
        rescued = conn.execute(
            "SELECT count(*) FROM etl_job_queue WHERE retry_count = 1 "
            "AND error_details->0->>'error' LIKE 'worker gone: %%'"
        ).fetchone()
    assert rescued is not None and rescued[0] == orphaned


@pytest.mark.slow
def test_sigterm_finishes_short_jobs_and_releases_long_ones(workers: Workers) -> None:
    enqueue(workers.url, 4, payload={"sleep": 1.0})
    enqueue(workers.url, 4, payload={"sleep": 120})
    proc = workers.start("--concurrency", "8", "--shutdown-grace", "3")
    wait_for(lambda: counts(workers.url).get("running") == 8, 30, "8 running jobs")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert counts(workers.url) == {"completed": 4, "pending": 4}
    with psycopg.connect(workers.url) as conn:
        rows = conn.execute(
            "SELECT retry_count, locked_by FROM etl_job_queue WHERE status = 'pending'"
        ).fetchall()
    assert rows == [(0, None)] * 4  # released, not counted as an attempt


async def test_listen_wakes_an_idle_worker_well_before_polling(fresh_db_url: str) -> None:
    started: list[float] = []
    ran = asyncio.Event()

    async def handler(ctx: JobContext) -> None:
        started.append(time.perf_counter())
        ran.set()

    worker = StageWorker(
        fresh_db_url,
        {"transform": handler},
        WorkerConfig(poll_interval=30.0, heartbeat_interval=30.0),
    )
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    conn = await connect(fresh_db_url, autocommit=True)
    try:
        await conn.execute("SET ROLE sluice_system")
        await asyncio.sleep(0.5)  # the worker is idle, sleeping on LISTEN
        latencies = []
        for _ in range(5):
            ran.clear()
            sent = time.perf_counter()
            await ops.enqueue(
                conn, [NewJob(tenant_id=tenant_id(fresh_db_url), job_type="transform")]
            )
            await asyncio.wait_for(ran.wait(), 10)
            latencies.append(started[-1] - sent)
            await asyncio.sleep(0.2)
    finally:
        worker.stop()
        await task
        await conn.close()
    assert max(latencies) < 1.0, latencies  # the poll interval is 30 s


async def test_worker_applies_retry_rules_from_handler_errors(fresh_db_url: str) -> None:
    async def handler(ctx: JobContext) -> None:
        kind = ctx.job.payload["kind"]
        if kind == "rate_limited":
            raise RetryableJobError("429 from Jira", retry_after=120)
        if kind == "bad_token":
            raise PermanentJobError("Jira rejected the token (401): check the API token")
        raise ValueError("unexpected payload shape")

    conn = await connect(fresh_db_url, autocommit=True)
    async with conn:
        await conn.execute("SET ROLE sluice_system")
        tid = tenant_id(fresh_db_url)
        await ops.enqueue(
            conn,
            [
                NewJob(tenant_id=tid, job_type="transform", payload={"kind": kind})
                for kind in ("rate_limited", "bad_token", "crash")
            ],
        )
        worker = StageWorker(fresh_db_url, {"transform": handler}, WorkerConfig(poll_interval=0.2))
        task = asyncio.create_task(worker.run(install_signal_handlers=False))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if worker.failed_total == 3:
                break
        worker.stop()
        await task
        cur = await conn.execute(
            "SELECT payload->>'kind' AS kind, status, retry_count, last_error, "
            "extract(epoch FROM scheduled_at - now()) AS wait_s FROM etl_job_queue"
        )
        rows = {r["kind"]: r for r in await cur.fetchall()}
    assert rows["rate_limited"]["status"] == "pending"
    assert 110 < rows["rate_limited"]["wait_s"] <= 120  # Retry-After honoured
    assert rows["bad_token"]["status"] == "failed"
    assert rows["bad_token"]["last_error"].startswith("Jira rejected the token (401)")
    assert rows["crash"]["status"] == "pending" and rows["crash"]["retry_count"] == 1
    assert rows["crash"]["last_error"] == "ValueError: unexpected payload shape"
    assert 0 < rows["crash"]["wait_s"] <= 2.0  # first backoff step, jittered
