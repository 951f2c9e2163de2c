"""The `sluice scheduler` process: procrastinate runs Sluice's periodic tasks.

- orchestrator tick (`tick_cron`, every minute): starts each tenant's chain job that is due;
- stalled-job rescue (`rescue_cron`, every minute): puts back queue jobs whose heartbeat is
  older than `stall_timeout`, for when no stage worker is running to do it;
- retention (`retention_cron`, hourly): each tenant's `retention_days`.

procrastinate defers each periodic task once per cron slot, deduplicated in the database,
so any number of schedulers run each slot once (the first defer happens at start for the
current slot); a task's `lock` keeps two runs of the same task from overlapping, and the
tick's chain row locks would keep them from starting a job twice anyway. A task left
`doing` by a scheduler that died (its procrastinate heartbeat older than
`task_stall_timeout`) is marked failed by the live schedulers, so its lock cannot hold
back the next slots; the task simply runs again at its next slot. When the database goes
away (a restart, a failover), procrastinate's worker stops: the scheduler starts it again
with backoff instead of exiting. The scheduler also
listens on `sluice_settings`: a change to a tenant's orchestrator settings (interval,
enabled, global pause) runs a tick at once instead of at the next minute. Its procrastinate
jobs live in the `sluice_scheduler` queue and are deleted when they succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from procrastinate import App, PsycopgConnector
from procrastinate.jobs import Status
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, open_pool
from app.orchestrator.maintenance import Purged, apply_retention, rescue_stalled_jobs
from app.orchestrator.tick import TickResult, tick
from app.settings_store import SettingsChange, SettingsWatcher

log = structlog.get_logger("sluice.scheduler")
QUEUE = "sluice_scheduler"
# A change to one of these can make a chain job due (or stop it): tick at once.
SCHEDULE_KEYS = frozenset(
    {
        "orchestrator_interval_minutes",
        "orchestrator_retry_interval_minutes",
        "orchestrator_enabled",
        "global_pause",
    }
)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SchedulerConfig:
    """How one scheduler process behaves (cron strings take an optional 6th seconds field)."""

    tick_cron: str = "* * * * *"
    rescue_cron: str = "* * * * *"
    retention_cron: str = "17 * * * *"
    stall_timeout: float = 60.0
    concurrency: int = 3
    shutdown_grace: float = 30.0
    follow_settings: bool = True
    task_heartbeat_interval: float = 2.0  # procrastinate worker heartbeat
    task_stall_timeout: float = 10.0  # a task whose worker is silent this long is released
    restart_backoff_max: float = 30.0  # most seconds between restarts of the periodic tasks


class Scheduler:
    """One scheduler process: a procrastinate worker for the periodic tasks, plus the
    settings listener. `clock` fixes the tick's "now" (default: the database clock)."""

    def __init__(
        self,
        url: str,
        config: SchedulerConfig = SchedulerConfig(),
        *,
        clock: Clock | None = None,
        name: str | None = None,
    ) -> None:
        self.url = url
        self.config = config
        self.clock = clock
        self.name = name or f"scheduler-{socket.gethostname()}-{os.getpid()}"
        self.stopping = asyncio.Event()
        self.tick_wanted = asyncio.Event()
        self.pool: AsyncConnectionPool[Connection] | None = None
        self.ticks = 0

    def build_app(self) -> App:
        """The procrastinate app with the periodic tasks bound to this scheduler."""
        app = App(
            connector=PsycopgConnector(
                conninfo=self.url, min_size=1, max_size=4, kwargs={"connect_timeout": 10}
            )
        )

        @app.periodic(cron=self.config.tick_cron, periodic_id="tick")
        @app.task(
            name="sluice.orchestrator_tick",
            queue=QUEUE,
            lock="sluice.orchestrator_tick",
            queueing_lock="sluice.orchestrator_tick",
        )
        async def orchestrator_tick(timestamp: int) -> None:
            await self.run_tick(f"cron slot {timestamp}")

        @app.periodic(cron=self.config.rescue_cron, periodic_id="rescue")
        @app.task(
            name="sluice.rescue_stalled",
            queue=QUEUE,
            lock="sluice.rescue_stalled",
            queueing_lock="sluice.rescue_stalled",
        )
        async def rescue_stalled(timestamp: int) -> None:
            await self.run_rescue()

        @app.periodic(cron=self.config.retention_cron, periodic_id="retention")
        @app.task(
            name="sluice.retention",
            queue=QUEUE,
            lock="sluice.retention",
            queueing_lock="sluice.retention",
        )
        async def retention(timestamp: int) -> None:
            await self.run_retention()

        return app

    async def run_tick(self, reason: str) -> TickResult:
        """One orchestrator tick, logged."""
        assert self.pool is not None
        result = await tick(self.pool, self.clock() if self.clock else None)
        self.ticks += 1
        report = log.info if result.started or result.errors else log.debug
        report(
            "orchestrator tick",
            reason=reason,
            now=result.now.isoformat(),
            started=[f"{s.job_name} run {s.run_id} (tenant {s.tenant_id})" for s in result.started],
            skipped=result.skipped or None,
            errors=result.errors or None,
        )
        return result

    async def run_rescue(self) -> int:
        """Rescue stalled queue jobs."""
        assert self.pool is not None
        rescued = await rescue_stalled_jobs(self.pool, self.config.stall_timeout)
        if rescued:
            log.warning("rescued stalled queue jobs", jobs=rescued)
        return rescued

    async def run_retention(self) -> list[Purged]:
        """Apply every tenant's retention."""
        assert self.pool is not None
        purged = await apply_retention(self.pool, self.clock() if self.clock else None)
        log.info(
            "retention applied",
            queue_jobs=sum(p.queue_jobs for p in purged),
            raw_rows=sum(p.raw_rows for p in purged),
        )
        return purged

    def stop(self) -> None:
        """Stop: running tasks get the grace period to finish."""
        if not self.stopping.is_set():
            log.info("scheduler stopping", scheduler=self.name)
        self.stopping.set()

    async def run(self) -> None:
        """Serve until `stop()`; a lost database restarts the periodic tasks, with backoff."""
        self.pool = await open_pool(self.url, min_size=1, max_size=4, name=self.name)
        side: list[asyncio.Task[None]] = []
        if self.config.follow_settings:
            watcher = SettingsWatcher(self.url, self._on_settings)
            side += [
                asyncio.create_task(watcher.run(), name="settings"),
                asyncio.create_task(self._tick_on_demand(), name="tick-on-demand"),
            ]
        log.info("scheduler started", scheduler=self.name, tick_cron=self.config.tick_cron)
        delay = 1.0
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    await self._serve_periodic_tasks()
                except Exception as exc:  # the database went away; procrastinate gave up
                    log.warning(
                        "periodic tasks stopped; restarting them", error=repr(exc), retry_in_s=delay
                    )
                else:
                    if not self.stopping.is_set():
                        log.warning("periodic tasks stopped; restarting them", retry_in_s=delay)
                if time.monotonic() - started > 60:
                    delay = 1.0  # it served a while: this is a new outage
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)
                delay = min(delay * 2, self.config.restart_backoff_max)
        finally:
            for task in side:
                task.cancel()
            await asyncio.gather(*side, return_exceptions=True)
            await self.pool.close()
            log.info("scheduler stopped", scheduler=self.name, ticks=self.ticks)

    async def _serve_periodic_tasks(self) -> None:
        """procrastinate's worker for the periodic tasks, until `stop()` or until it stops
        by itself (it does when its database connection is lost)."""
        app = self.build_app()
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[QUEUE],
                    name=self.name,
                    concurrency=self.config.concurrency,
                    install_signal_handlers=False,
                    delete_jobs="successful",
                    shutdown_graceful_timeout=self.config.shutdown_grace,
                    update_heartbeat_interval=self.config.task_heartbeat_interval,
                    stalled_worker_timeout=self.config.task_stall_timeout,
                ),
                name="procrastinate",
            )
            release = asyncio.create_task(self._release_stalled_tasks(app), name="release")
            stop = asyncio.create_task(self.stopping.wait())
            try:
                await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
                release.cancel()
                worker.cancel()  # procrastinate stops fetching and lets running tasks finish
                with contextlib.suppress(asyncio.CancelledError):
                    await release
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    async def _release_stalled_tasks(self, app: App) -> None:
        """Mark failed the tasks left `doing` by schedulers that died, so that their locks
        release the next slots."""
        while True:
            await asyncio.sleep(self.config.task_heartbeat_interval)
            try:
                stalled = await app.job_manager.get_stalled_jobs(
                    queue=QUEUE, seconds_since_heartbeat=self.config.task_stall_timeout
                )
                for job in stalled:
                    assert job.id is not None
                    await app.job_manager.finish_job_by_id_async(
                        job.id, status=Status.FAILED, delete_job=False
                    )
                    log.warning(
                        "released a periodic task of a scheduler that died",
                        task=job.task_name,
                        job_id=job.id,
                    )
            except Exception as exc:  # another scheduler released it first, or no database
                log.info("stalled periodic tasks not released this time", error=repr(exc))

    def _on_settings(self, change: SettingsChange) -> None:
        if SCHEDULE_KEYS.intersection(change.keys):
            self.tick_wanted.set()

    async def _tick_on_demand(self) -> None:
        while True:
            await self.tick_wanted.wait()
            self.tick_wanted.clear()
            try:
                await self.run_tick("settings changed")
            except Exception:  # the periodic tick will try again
                log.exception("tick after a settings change failed")
