"""Chaos benchmark: a full sandbox sync, then the same sync with a worker SIGKILLed every
2 seconds, on one PostgreSQL.

Run from the repository root:

    python benchmarks/chaos_bench.py [--issues N] [--quick] [--workers K] [--kill-every S]

Each run gets a new database built by the migrations on the configured server
(DATABASE_URL, else the embedded PostgreSQL under $SLUICE_HOME) and its own `sluice
sandbox` process serving N issues (default 20,000) and N/2 pull requests in 6
repositories. K `sluice worker --stages extract,transform,load` processes (default 3) at
their default settings serve the queue; the run is timed from the sync's start (what
`sluice sync --tenant WEX` commits: a Jira and a GitHub integration) to the queue poll
that finds no extract, transform or load job pending or running. In the second run a
random worker is SIGKILLed every S seconds (default 2) and started again at once.
Vectorize is left out: its local Qdrant is opened by one process at a time, which would
time Qdrant's reloads rather than the queue's recovery (etl_bench.py times it).

`exact` is true when, after the run with kills, every final table holds exactly the rows
the sandbox's data implies (app.sandbox.audit.expected_rows), no natural key is held by
two rows, every link resolves, every raw row is loaded and no extract, transform or load
job failed or is left open. Progress goes to stderr; the last line of stdout is one JSON
object: {"issues", "baseline_s", "with_kills_s", "throughput_ratio", "exact"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchdb import migrated_database
from etl_bench import (
    LISTENERS_SQL,
    job_counts,
    log_tail,
    progress,
    running_sandbox,
    scalar,
    sluice_command,
    start_tenant_sync,
    stop_process,
    tenant_id,
)

from app.config import load_settings
from app.crypto import CredentialCipher
from app.db import Connection, connect, open_pool, resolve_database_url, tenant_transaction
from app.integrations.store import add_integration
from app.logging import configure_logging
from app.sandbox import SandboxDataset
from app.sandbox.access import DEFAULT_TOKEN
from app.sandbox.audit import DatabaseAudit, audit_database, expected_rows

DEFAULT_ISSUES = 20_000
QUICK_ISSUES = 1_500
DEFAULT_WORKERS = 3
KILL_EVERY_S = 2.0
ETL_STAGES = ("extract", "transform", "load")
TENANT = "WEX"
POLL_S = 0.2
PROGRESS_EVERY_S = 10.0
READY_S = 60.0


@dataclass(frozen=True)
class ChaosConfig:
    issues: int
    workers: int
    kill_every: float
    quick: bool

    @property
    def timeout_s(self) -> float:
        """A generous limit for one run (at least 25 issues/s)."""
        return 180.0 + self.issues / 25.0


def parse_args(argv: Sequence[str] | None = None) -> ChaosConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, help=f"issues served (default {DEFAULT_ISSUES:,})")
    parser.add_argument(
        "--quick", action="store_true", help=f"a smoke test with {QUICK_ISSUES:,} issues"
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="worker processes (default 3)"
    )
    parser.add_argument(
        "--kill-every",
        type=float,
        default=KILL_EVERY_S,
        help="seconds between two worker kills (default 2)",
    )
    args = parser.parse_args(argv)
    issues = args.issues if args.issues is not None else QUICK_ISSUES if args.quick else None
    issues = DEFAULT_ISSUES if issues is None else issues
    if issues <= 0 or args.workers < 1 or args.kill_every <= 0:
        parser.error("--issues, --workers and --kill-every must be positive")
    return ChaosConfig(issues, args.workers, args.kill_every, args.quick)


# -- workers ---------------------------------------------------------------------------


@dataclass
class Workers:
    """`sluice worker --stages extract,transform,load` processes, killed and restarted."""

    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(2))

    def spawn(self, index: int) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{index}.log").open("ab") as log:
            return subprocess.Popen(
                [*sluice_command(), "worker", "--stages", ",".join(ETL_STAGES)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    def start(self, count: int) -> None:
        self.procs = [self.spawn(i) for i in range(count)]

    def kill_one(self) -> None:
        """SIGKILL a random worker and start its replacement at once."""
        index = self.rng.randrange(len(self.procs))
        victim = self.procs[index]
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            self.kills += 1
        victim.wait()
        self.procs[index] = self.spawn(index)

    def crashed(self) -> str | None:
        """Why a worker ended without being killed, or None."""
        for index, proc in enumerate(self.procs):
            if proc.poll() is not None:
                return f"worker {index} exited with {proc.returncode}:\n" + log_tail(
                    self.logs / f"worker-{index}.log"
                )
        return None

    def stop(self) -> None:
        for proc in self.procs:
            stop_process(proc)


# -- one run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    seconds: float | None  # None: it did not drain in time
    kills: int
    audit: DatabaseAudit
    etl_failed: int
    etl_open: int


async def add_integrations(url: str, tenant: int, jira_url: str, secret_key: str) -> None:
    """A Jira and a GitHub integration of the tenant, both on the sandbox."""
    port = urlsplit(jira_url).port
    assert port is not None
    cipher = CredentialCipher(secret_key)
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tenant) as conn:
            await add_integration(
                conn,
                cipher,
                tenant_id=tenant,
                provider="jira",
                base_url=jira_url,
                token=DEFAULT_TOKEN,
                username="bench@wex.com",
            )
            await add_integration(
                conn,
                cipher,
                tenant_id=tenant,
                provider="github",
                base_url=f"http://127.0.0.1:{port + 1}",
                token=DEFAULT_TOKEN,
                base_search="org:acme",
            )
    finally:
        await pool.close()


async def wait_listening(owner: Connection, workers: Workers, count: int) -> None:
    deadline = time.monotonic() + READY_S
    while int(await scalar(owner, LISTENERS_SQL)) < count:
        error = workers.crashed()
        if error:
            raise RuntimeError(error)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not LISTEN within {READY_S:.0f} s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def run_environment(
    config: ChaosConfig, server_url: str, workdir: Path, name: str
) -> AsyncIterator[tuple[str, str]]:
    """A new migrated database and a new sandbox: (database URL, the sandbox Jira's URL)."""
    await asyncio.to_thread(workdir.mkdir, parents=True)
    env = dict(os.environ, SLUICE_HOME=str(workdir / "sandbox_home"), PYTHONUNBUFFERED="1")
    async with (
        migrated_database(server_url, f"sluice_chaos_{name}", progress) as url,
        running_sandbox(config.issues, workdir, env) as sandbox,
    ):
        yield url, sandbox.jira_url


async def timed_run(
    config: ChaosConfig, server_url: str, workdir: Path, name: str, kill: bool
) -> RunResult:
    """One full sync of the sandbox; with `kill`, a worker is SIGKILLed on schedule."""
    async with run_environment(config, server_url, workdir, name) as (url, jira_url):
        secret_key = secrets.token_urlsafe(32)
        env = dict(
            os.environ,
            DATABASE_URL=url,
            SLUICE_SECRET_KEY=secret_key,
            SLUICE_HOME=str(workdir / "sluice_home"),
            SLUICE_LOG_FORMAT="json",
            SLUICE_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        owner = await connect(url, autocommit=True)
        async with owner:
            tenant = await tenant_id(owner, TENANT)
            await add_integrations(url, tenant, jira_url, secret_key)
            workers = Workers(env, workdir)
            workers.start(config.workers)
            try:
                await wait_listening(owner, workers, config.workers)
                seconds = await drive(config, url, owner, workers, tenant, kill, name)
            finally:
                workers.stop()
            failed = (await job_counts(owner, ETL_STAGES))[1]
            open_jobs = (await job_counts(owner, ETL_STAGES))[0]
            found = await audit_database(owner)
    return RunResult(seconds, workers.kills, found, failed, open_jobs)


async def drive(
    config: ChaosConfig,
    url: str,
    owner: Connection,
    workers: Workers,
    tenant: int,
    kill: bool,
    name: str,
) -> float | None:
    """Start the sync; kill workers on schedule (when asked) until the queue drains."""
    started = time.perf_counter()
    run_id = await start_tenant_sync(url, tenant)
    progress(f"{name}: run {run_id} started with {config.workers} workers")
    next_kill = started + config.kill_every
    last_report = started
    while True:
        open_jobs, failed = await job_counts(owner, ETL_STAGES)
        now = time.perf_counter()
        if open_jobs == 0:
            progress(f"{name}: drained in {now - started:.1f} s ({workers.kills} kills)")
            return now - started
        if now - started > config.timeout_s:
            progress(f"{name}: NOT drained after {config.timeout_s:.0f} s ({open_jobs} open)")
            return None
        if kill and now >= next_kill:
            workers.kill_one()
            next_kill = now + config.kill_every
        elif not kill and (error := workers.crashed()):
            raise RuntimeError(error)
        if now - last_report >= PROGRESS_EVERY_S:
            items = int(await scalar(owner, "SELECT count(*) AS n FROM work_items"))
            progress(
                f"{name}: {now - started:.0f} s, {open_jobs} jobs open, {failed} failed, "
                f"{items:,} work items, {workers.kills} kills"
            )
            last_report = now
        await asyncio.sleep(POLL_S)


def differences(result: RunResult, expected: dict[str, int]) -> list[str]:
    """How a run's database differs from an exact load of the sandbox."""
    found = result.audit
    problems = [
        f"{t}: {found.rows.get(t)} rows, the sandbox has {n}"
        for t, n in expected.items()
        if found.rows.get(t) != n
    ]
    problems += [f"{t}: {n} duplicated natural keys" for t, n in found.duplicates.items() if n]
    if found.unresolved_links:
        problems.append(f"{found.unresolved_links} links do not resolve")
    not_loaded = {s: n for s, n in found.raw.items() if s != "loaded"}
    if not_loaded:
        problems.append(f"raw rows not loaded: {not_loaded}")
    if result.etl_failed or result.etl_open:
        problems.append(f"ETL jobs failed {result.etl_failed}, open {result.etl_open}")
    if result.seconds is None:
        problems.append("the run did not drain in time")
    return problems


async def run(config: ChaosConfig, workdir: Path) -> tuple[dict[str, Any], bool]:
    server_url = resolve_database_url(load_settings())
    data = SandboxDataset(issues=config.issues)  # what `sluice sandbox --issues N` serves
    expected_task = asyncio.create_task(asyncio.to_thread(expected_rows, data))
    baseline = await timed_run(config, server_url, workdir / "baseline", "baseline", kill=False)
    killed = await timed_run(config, server_url, workdir / "kills", "kills", kill=True)
    expected = await expected_task
    for name, result in (("baseline", baseline), ("kills", killed)):
        problems = differences(result, expected)
        progress(f"{name}: {'exact' if not problems else 'NOT exact: ' + '; '.join(problems)}")
    progress(f"expected rows: {expected}")
    ratio = (
        baseline.seconds / killed.seconds
        if baseline.seconds is not None and killed.seconds
        else None
    )
    exact = not differences(killed, expected)
    report = {
        "issues": config.issues,
        "baseline_s": None if baseline.seconds is None else round(baseline.seconds, 1),
        "with_kills_s": None if killed.seconds is None else round(killed.seconds, 1),
        "throughput_ratio": None if ratio is None else round(ratio, 2),
        "exact": exact,
    }
    progress(f"{killed.kills} workers SIGKILLed, one every {config.kill_every:g} s")
    ok = exact and not differences(baseline, expected)
    return report, ok


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory(prefix="sluice-chaos-bench-") as tmp:
        report, ok = asyncio.run(run(config, Path(tmp)))
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
