"""The crash suite: real `sluice` processes during a full sandbox sync, with workers
SIGKILLed and restarted, PostgreSQL stopped and started, the scheduler and the web
process SIGKILLed. Each ends with exactly the sandbox's rows in every final table, no
duplicated natural key, every raw row loaded, no queue job left open and every run
finished.

The sandbox serves SLUICE_CRASH_ISSUES issues (default 2,500, which keeps the suite to a
few minutes on two cores) and half as many pull requests; the `long-20000` variant of
the worker kills (marked slow) syncs 20,000, like benchmarks/chaos_bench.py."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from app.db import connect, open_pool, tenant_transaction
from app.embedded_pg import ensure_embedded_server, stop_embedded_server
from app.integrations.store import add_integration
from app.sandbox import SandboxDataset
from app.services import Services, open_services
from app.settings_store import update_settings
from migrations import runner
from tests.conftest import database_url_for
from tests.pipeline import admin_viewer_token, sandbox_settings, scalar, tenant_id, wait_until
from tests.reliability.processes import Fleet, Outcome, sandbox_sync

CRASH_ISSUES = int(os.environ.get("SLUICE_CRASH_ISSUES", "2500"))
LONG_ISSUES = 20_000
WORKERS = 3
KILL_EVERY_S = 2.0


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(sandbox_settings(tmp_path / "test-home")) as opened:
        yield opened


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An embedded PostgreSQL of this test's own (its home, a migrated database's URL), so
    that stopping it affects no other test; stopped at the end."""
    home = tmp_path / "pg"
    server_url = ensure_embedded_server(home)
    try:
        with psycopg.connect(database_url_for(server_url, "postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE sluice_crash")
        url = database_url_for(server_url, "sluice_crash")

        async def migrate() -> None:
            conn = await connect(url, autocommit=True)
            async with conn:
                await runner.apply_all(conn, report=lambda _line: None)

        asyncio.run(migrate())
        yield home, url
    finally:
        stop_embedded_server(home)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_exact(outcome: Outcome, fleet: Fleet) -> None:
    problems = outcome.audit.problems(outcome.expected)
    if problems:
        with psycopg.connect(fleet.url) as conn:
            failed = conn.execute(
                "SELECT id, job_type, entity_type, retry_count, max_retries, last_error, "
                "error_details FROM etl_job_queue WHERE status = 'failed'"
            ).fetchall()
        assert not problems, f"{problems}\nfailed jobs: {failed}\n{fleet.logs()}"
    assert outcome.audit.unresolved_links == 0


async def set_tenant_settings(url: str, changes: dict[str, object], tenant: str = "WEX") -> None:
    tid = await tenant_id(url, tenant)
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tid) as conn:
            await update_settings(conn, tid, changes, "crash suite")
    finally:
        await pool.close()


def restart_postgres(home: Path, down_s: float) -> None:
    """Stop the server (fast shutdown: every session is cut), wait, start it again."""
    assert stop_embedded_server(home)
    time.sleep(down_s)
    ensure_embedded_server(home)


def chain_done(url: str) -> bool:
    """The scheduler ran the whole chain (Jira, GitHub, Vectorization), each run finished,
    and nothing is left in the queue."""
    return bool(
        scalar(
            url,
            "SELECT (SELECT count(DISTINCT j.job_name) FROM etl_runs r JOIN etl_jobs j "
            "        ON j.tenant_id = r.tenant_id AND j.id = r.etl_job_id "
            "        WHERE r.status = 'finished') = 3 "
            "AND NOT EXISTS (SELECT 1 FROM etl_runs WHERE status = 'running') "
            "AND NOT EXISTS (SELECT 1 FROM etl_job_queue WHERE status IN ('pending', 'running'))",
        )
    )


async def wait_for_web(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{base} did not become ready"
            await asyncio.sleep(0.3)


async def sync_with_worker_kills(
    url: str, services: Services, home: Path, issues: int, every: float
) -> tuple[Outcome, Fleet]:
    fleet = Fleet(url, home)
    for n in range(WORKERS):
        fleet.start(f"worker-{n}", "worker", "--stages", "extract,transform,load")
    # Local-mode Qdrant is one process at a time and reloads the collection at every turn
    # (seconds at 20,000 items): the vectorize worker is left alive, as a fleet would run
    # it against a Qdrant server (see docs/RELIABILITY.md).
    fleet.start("vectorizer", "worker", "--stages", "vectorize")

    async def kill_a_worker() -> None:
        fleet.kill_random("worker-")

    try:
        outcome = await sandbox_sync(
            url,
            services,
            SandboxDataset(issues=issues),
            fleet,
            kill_a_worker,
            every=every,
            timeout=120 + issues / 10,
        )
    finally:
        codes = fleet.stop()
    assert set(codes.values()) == {0}, fleet.logs()
    return outcome, fleet


@pytest.mark.parametrize(
    ("issues", "every"),
    [
        # The short sync lasts about ten seconds: a kill every second keeps it chaotic.
        pytest.param(CRASH_ISSUES, 1.0, id="suite"),
        pytest.param(LONG_ISSUES, KILL_EVERY_S, id="long-20000", marks=pytest.mark.benchmark),
    ],
)
async def test_workers_sigkilled_every_few_seconds_lose_and_duplicate_nothing(
    issues: int, every: float, fresh_db_url: str, services: Services, tmp_path: Path
) -> None:
    outcome, fleet = await sync_with_worker_kills(
        fresh_db_url, services, tmp_path / "home", issues, every=every
    )
    assert outcome.chaos_actions >= 5, outcome
    assert_exact(outcome, fleet)


async def test_postgres_restarts_mid_run_are_survived_by_every_process(
    own_server: tuple[Path, str], services: Services, tmp_path: Path
) -> None:
    home, url = own_server
    await set_tenant_settings(url, {"orchestrator_enabled": False})  # this test starts the run
    fleet = Fleet(url, tmp_path / "home")
    for n in range(WORKERS):
        fleet.start(f"worker-{n}", "worker")
    fleet.start("scheduler", "scheduler")
    port = free_port()
    fleet.start("web", "web", "--port", str(port))
    thresholds = [CRASH_ISSUES // 4, CRASH_ISSUES // 2]

    async def restart_when_loading() -> None:
        loaded = await asyncio.to_thread(scalar, url, "SELECT count(*) FROM work_items")
        if thresholds and loaded >= thresholds[0]:
            thresholds.pop(0)
            await asyncio.to_thread(restart_postgres, home, 3.0)

    try:
        outcome = await sandbox_sync(
            url,
            services,
            SandboxDataset(issues=CRASH_ISSUES),
            fleet,
            restart_when_loading,
            every=0.5,
            timeout=180 + CRASH_ISSUES / 10,
        )
        # The web process and the scheduler's periodic tasks are back too.
        await wait_for_web(f"http://127.0.0.1:{port}")
        await wait_until(
            lambda: (
                scalar(
                    url,
                    "SELECT count(*) FROM procrastinate_workers "
                    "WHERE last_heartbeat > now() - interval '10 seconds'",
                )
                == 1
            ),
            60,
            "the scheduler's periodic tasks to serve again",
        )
    finally:
        codes = fleet.stop()
    assert thresholds == [], "the sync ended before both restarts"
    assert set(codes.values()) == {0}, fleet.logs()
    assert_exact(outcome, fleet)


async def test_scheduler_and_web_sigkilled_mid_run_lose_nothing(
    fresh_db_url: str, services: Services, tmp_path: Path
) -> None:
    url = fresh_db_url
    fleet = Fleet(url, tmp_path / "home")
    port = free_port()
    for n in range(2):
        fleet.start(f"worker-{n}", "worker")
    # The scheduler runs the tenant's chain (Jira, then GitHub, then Vectorization),
    # ticking every 2 seconds so that each job starts soon after the previous one ends.
    fleet.start("scheduler", "scheduler", "--tick-cron", "* * * * * */2")
    fleet.start("web", "web", "--port", str(port))
    victims = itertools.cycle(("scheduler", "web"))

    async def kill_scheduler_or_web() -> None:
        fleet.kill_and_restart(next(victims))

    try:
        outcome = await sandbox_sync(
            url,
            services,
            SandboxDataset(issues=CRASH_ISSUES),
            fleet,
            kill_scheduler_or_web,
            every=1.5,
            timeout=240 + CRASH_ISSUES / 10,
            start_run=False,
            done=chain_done,
        )
        base = f"http://127.0.0.1:{port}"
        await wait_for_web(base)
        token, _ = await admin_viewer_token(url, "crash")
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            runs = await client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"})
    finally:
        codes = fleet.stop()
    assert set(codes.values()) == {0}, fleet.logs()
    assert fleet.procs["scheduler"].kills >= 2 and fleet.procs["web"].kills >= 2
    assert_exact(outcome, fleet)
    assert runs.status_code == 200, runs.text
    assert sorted(r["status"] for r in runs.json()["items"]) == ["finished"] * 3


async def test_a_task_left_running_by_a_dead_scheduler_does_not_hold_back_later_ticks(
    fresh_db_url: str, services: Services, tmp_path: Path
) -> None:
    url = fresh_db_url
    tid = await tenant_id(url)
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tid) as conn:
            await add_integration(
                conn,
                services.cipher,
                tenant_id=tid,
                provider="jira",
                base_url="http://127.0.0.1:9",
                token="unused",
            )
    finally:
        await pool.close()
    # What a scheduler SIGKILLed in the middle of a tick leaves behind, once its worker row
    # is pruned: the tick `doing` forever, holding the tick's lock.
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status) "
            "VALUES ('sluice_scheduler', 'sluice.orchestrator_tick', "
            "'sluice.orchestrator_tick', '{\"timestamp\": 0}', 'doing')"
        )
    fleet = Fleet(url, tmp_path / "home")
    fleet.start("scheduler", "scheduler", "--tick-cron", "* * * * * *")
    try:
        await wait_until(
            lambda: scalar(url, "SELECT count(*) FROM etl_runs") > 0, 60, "a tick to start Jira"
        )
    finally:
        codes = fleet.stop()
    assert codes == {"scheduler": 0}, fleet.logs()
    assert (
        scalar(url, "SELECT status::text FROM procrastinate_jobs WHERE args = '{\"timestamp\": 0}'")
        == "failed"
    )
