"""Real `sluice` processes for the crash suite (no tests of its own).

`Fleet` runs workers, the scheduler and the web process as subprocesses against one
database, each under a name, and SIGKILLs and restarts them at will; every process
appends to its own log file so a failure can show what the processes said.
`sync_and_audit` starts a full sandbox sync, runs a chaos action on a schedule until the
queue drains, and returns the database's audit beside what the sandbox expects.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from app.db import connect
from app.sandbox import SandboxDataset, SandboxServers
from app.sandbox.audit import DatabaseAudit, audit_database, expected_rows
from app.services import Services
from tests.conftest import ROOT
from tests.pipeline import add_sandbox_integrations, scalar, sync

SECRET_KEY = "t" * 40  # what tests.pipeline.sandbox_settings encrypts integrations with
STOP_GRACE_S = 30.0


@dataclass
class Managed:
    """One named process and the arguments it is restarted with."""

    args: tuple[str, ...]
    process: subprocess.Popen[bytes]
    log_path: Path
    starts: int = 1
    kills: int = 0


@dataclass
class Fleet:
    """`sluice` subprocesses against one database (`url`), their logs under `home/logs`."""

    url: str
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, Managed] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(8))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SLUICE_HOME")}
        env.update(
            DATABASE_URL=self.url,
            SLUICE_HOME=str(self.home),
            SLUICE_SECRET_KEY=SECRET_KEY,
            SLUICE_LOG_FORMAT="json",
            SLUICE_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        return env | self.extra_env

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start `sluice ARGS` under a name (again with the same arguments when none given)."""
        managed = self.procs.get(name)
        if managed is not None and managed.process.poll() is None:
            raise RuntimeError(f"{name} is already running")
        args = args or (managed.args if managed else ())
        log_path = self.home / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:  # the child keeps its own descriptor
            log.write(f"--- start {time.strftime('%H:%M:%S')}: sluice {' '.join(args)}\n".encode())
            log.flush()
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli.main", *args],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if managed is None:
            self.procs[name] = Managed(args, process, log_path)
        else:
            managed.process, managed.starts = process, managed.starts + 1
        return process

    def kill(self, name: str) -> None:
        """SIGKILL a process (nothing runs on its way out) and reap it."""
        managed = self.procs[name]
        if managed.process.poll() is None:
            managed.process.send_signal(signal.SIGKILL)
            managed.kills += 1
        managed.process.wait(30)

    def kill_and_restart(self, name: str) -> None:
        self.kill(name)
        self.start(name)

    def kill_random(self, prefix: str) -> str:
        """SIGKILL one of the processes whose name starts with `prefix` and restart it."""
        name = self.rng.choice(sorted(n for n in self.procs if n.startswith(prefix)))
        self.kill_and_restart(name)
        return name

    def crashed(self) -> dict[str, str]:
        """Processes that ended without being killed: their exit code and log tail."""
        return {
            name: f"exit {m.process.returncode}:\n{self.log_tail(name)}"
            for name, m in self.procs.items()
            if m.process.poll() is not None
        }

    def stop(self) -> dict[str, int]:
        """SIGTERM every live process, wait for them; their exit codes."""
        live = {n: m for n, m in self.procs.items() if m.process.poll() is None}
        for managed in live.values():
            managed.process.send_signal(signal.SIGTERM)
        codes = {}
        deadline = time.monotonic() + STOP_GRACE_S
        for name, managed in live.items():
            try:
                codes[name] = managed.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                managed.process.kill()
                codes[name] = managed.process.wait()
        return codes

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = self.procs[name].log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def logs(self) -> str:
        return "\n".join(f"== {name}\n{self.log_tail(name)}" for name in sorted(self.procs))


def open_jobs(url: str) -> int:
    return int(
        scalar(url, "SELECT count(*) FROM etl_job_queue WHERE status IN ('pending', 'running')")
    )


def finished(url: str) -> bool:
    """Every run ended and no queue job is waiting or running."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM etl_runs) AS runs, "
            "(SELECT count(*) FROM etl_runs WHERE status = 'running') AS running, "
            "(SELECT count(*) FROM etl_job_queue WHERE status IN ('pending', 'running')) AS open"
        ).fetchone()
    assert row is not None
    return bool(row[0] > 0 and row[1] == 0 and row[2] == 0)


async def audit(url: str) -> DatabaseAudit:
    conn = await connect(url)
    async with conn:
        return await audit_database(conn)


@dataclass(frozen=True)
class Outcome:
    """The database after a sync, what the sandbox expects, and how the chaos went."""

    audit: DatabaseAudit
    expected: dict[str, int]
    seconds: float
    chaos_actions: int


Chaos = Callable[[], Awaitable[None]]


async def run_until_finished(
    url: str,
    fleet: Fleet,
    chaos: Chaos | None,
    every: float,
    timeout: float,
    done: Callable[[str], bool] = finished,
) -> int:
    """Run `chaos` every `every` seconds until `done`; fail early if a process crashed."""
    started = time.monotonic()
    actions = 0
    next_action = started + every
    while not await asyncio.to_thread(done, url):
        crashed = fleet.crashed()
        assert not crashed, f"a process ended by itself: {crashed}"
        now = time.monotonic()
        assert now - started < timeout, (
            f"not finished after {timeout:.0f}s ({actions} chaos actions); "
            f"open jobs {open_jobs(url)}\n{fleet.logs()}"
        )
        if chaos is not None and now >= next_action:
            await chaos()
            actions += 1
            next_action = time.monotonic() + every
        await asyncio.sleep(0.2)
    return actions


async def sandbox_sync(
    url: str,
    services: Services,
    data: SandboxDataset,
    fleet: Fleet,
    chaos: Chaos | None,
    every: float,
    timeout: float,
    start_run: bool = True,
    done: Callable[[str], bool] = finished,
) -> Outcome:
    """A full Jira + GitHub sync of `data` for WEX with the fleet already started; `chaos`
    runs every `every` seconds until the run ends. Without `start_run`, the fleet's
    scheduler starts the runs."""
    with SandboxServers(data) as sandbox:
        started = time.monotonic()
        await add_sandbox_integrations(url, services, sandbox)
        if start_run:
            await sync(url)
        actions = await run_until_finished(url, fleet, chaos, every, timeout, done)
        seconds = time.monotonic() - started
    expected = await asyncio.to_thread(expected_rows, data)
    return Outcome(await audit(url), expected, seconds, actions)
