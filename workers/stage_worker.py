"""The etl_job_queue worker: claims fair batches, runs stage handlers, completes in batches.

Tasks inside one worker process:
- claimer: claims up to the free concurrency, fairly across tenants, and starts handlers;
  sleeps on LISTEN between claims (polling only as the fallback);
- completer: commits the completions of handlers that wrote nothing, in batches;
- heartbeat: refreshes the heartbeat of every held job in one statement, and rescues
  jobs of workers that are gone (no presence lock) or whose heartbeat stopped;
- listener: a dedicated LISTEN connection that wakes the claimer;
- settings (a worker dedicated to one tenant): follows the tenant's `worker_concurrency`
  setting without a restart, at most the worker's own `concurrency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from app.db import Connection, DatabaseUnavailableError, connect, open_pool
from app.events import job_log, publish
from app.queue import ops
from app.queue.backoff import retry_delay
from app.queue.context import HandlerRegistry, JobContext
from app.queue.errors import PermanentJobError, RetryableJobError
from app.queue.model import QUEUE_CHANNEL, ClaimedJob
from app.queue.ops import ClaimScope
from app.runs import finish_run_if_done
from app.settings_store import SettingsChange, SettingsWatcher

log = structlog.get_logger("sluice.worker")
T = TypeVar("T")


@dataclass(frozen=True)
class WorkerConfig:
    """How one worker process behaves."""

    scope: ClaimScope = field(default_factory=ClaimScope)
    concurrency: int = 10
    batch_size: int = 100
    poll_interval: float = 2.0
    heartbeat_interval: float = 5.0
    stall_timeout: float = 30.0
    shutdown_grace: float = 20.0
    completion_linger: float = 0.002


def worker_name() -> str:
    """host:pid:random — unique per process, readable in `locked_by`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class StageWorker:
    """One worker process's queue loop."""

    def __init__(
        self,
        url: str,
        handlers: HandlerRegistry,
        config: WorkerConfig = WorkerConfig(),
        name: str | None = None,
        services: Any = None,
    ) -> None:
        self.url = url
        self.services = services
        self.handlers = handlers
        self.config = config
        self.name = name or worker_name()
        self.scope = ClaimScope(
            job_types=tuple(t for t in config.scope.job_types if t in handlers),
            tenant_id=config.scope.tenant_id,
            tier=config.scope.tier,
        )
        self.in_flight: dict[tuple[int, int], asyncio.Task[None]] = {}
        self.to_complete: list[tuple[int, int]] = []
        self.completing: list[tuple[int, int]] = []  # in the statement being committed
        self.held = 0  # claimed and not yet completed, failed or released
        self.run_of: dict[tuple[int, int], int] = {}  # job key -> run id, until completed
        self.stopping = asyncio.Event()
        self.wake = asyncio.Event()
        self.slot_free = asyncio.Event()
        self.completions_due = asyncio.Event()
        self.claimed_total = 0
        self.completed_total = 0
        self.failed_total = 0
        self._conns: dict[str, Connection] = {}
        self._conn_locks: dict[str, asyncio.Lock] = {}
        self._run_lock = asyncio.Lock()
        self.pool: AsyncConnectionPool[Connection] | None = None
        self.concurrency = config.concurrency  # jobs at once now (see apply_settings)
        self.settings_watcher: SettingsWatcher | None = None

    # -- connections -------------------------------------------------------------------

    async def _connection(self, slot: str) -> Connection:
        """The slot's connection, opened once even when several tasks ask at the same time."""
        async with self._conn_locks.setdefault(slot, asyncio.Lock()):
            conn = self._conns.get(slot)
            if conn is None or conn.closed:
                conn = await connect(self.url, autocommit=True)
                await conn.execute("SET ROLE sluice_system")
                # The batch statements join against key arrays: a generic cached plan
                # cannot know their size and degrades badly, so plan each execution.
                await conn.execute("SET plan_cache_mode = force_custom_plan")
                if slot == "claim" and not await ops.hold_presence(conn, self.name):
                    # Rescue then falls back to the heartbeat timeout for this worker's jobs.
                    log.warning(
                        "another session holds this worker's presence key", worker=self.name
                    )
                self._conns[slot] = conn
            return conn

    async def _call(
        self,
        slot: str,
        what: str,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        retry: bool = True,
        **kwargs: Any,
    ) -> T:
        """Run `fn(conn, *args)` on a dedicated sluice_system connection ("claim" or
        "done"), reconnecting as needed; a lost database never kills the worker."""
        delay = 0.2
        while True:
            conn = None
            try:
                conn = await self._connection(slot)
                return await fn(conn, *args, **kwargs)
            except (psycopg.OperationalError, OSError, DatabaseUnavailableError) as exc:
                if conn is not None:
                    await conn.close()
                self._conns.pop(slot, None)
                if not retry:
                    raise
                log.warning(
                    "database unavailable; retrying", step=what, error=str(exc), retry_in_s=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # -- main loop ---------------------------------------------------------------------

    async def run(self, install_signal_handlers: bool = True) -> None:
        """Serve until SIGTERM/SIGINT (or `stop()`), then drain gracefully."""
        if not self.scope.job_types:
            raise ValueError("no handler is registered for any of the requested stages")
        if install_signal_handlers:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
        self.pool = await open_pool(
            self.url, min_size=1, max_size=self.config.concurrency + 1, name=f"worker-{self.name}"
        )
        log.info(
            "worker started",
            worker=self.name,
            stages=list(self.scope.job_types),
            tenant_id=self.scope.tenant_id,
            tier=self.scope.tier,
            concurrency=self.config.concurrency,
        )
        tasks = [
            asyncio.create_task(self._listen(), name="listener"),
            asyncio.create_task(self._complete_loop(), name="completer"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
        ]
        if self.scope.tenant_id is not None:
            self.settings_watcher = SettingsWatcher(
                self.url, self.apply_settings, tenant_id=self.scope.tenant_id
            )
            tasks.append(asyncio.create_task(self.settings_watcher.run(), name="settings"))
        try:
            await self._rescue(retry=True)  # a predecessor's jobs, before claiming new ones
            await self._claim_loop()
            await self._drain()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for conn in self._conns.values():
                await conn.close()
            await self.pool.close()
            log.info(
                "worker stopped",
                worker=self.name,
                claimed=self.claimed_total,
                completed=self.completed_total,
                failed=self.failed_total,
            )

    def apply_settings(self, change: SettingsChange) -> None:
        """A dedicated worker runs its tenant's `worker_concurrency` jobs at once (at most
        its configured concurrency); a change applies from the next claim."""
        wanted = change.values.get("worker_concurrency")
        if change.tenant_id != self.scope.tenant_id or wanted is None:
            return
        concurrency = max(1, min(int(wanted), self.config.concurrency))
        if concurrency != self.concurrency:
            log.info(
                "worker concurrency changed",
                worker=self.name,
                concurrency=concurrency,
                previous=self.concurrency,
            )
            self.concurrency = concurrency
            self.slot_free.set()

    def stop(self) -> None:
        """Stop claiming; in-flight jobs get the grace period to finish."""
        if not self.stopping.is_set():
            log.info("worker stopping", worker=self.name, in_flight=len(self.in_flight))
        self.stopping.set()
        self.wake.set()
        self.slot_free.set()

    async def _claim_loop(self) -> None:
        while not self.stopping.is_set():
            # A slot frees when the job's completion is committed, not when its handler
            # returns: claiming never runs ahead of completing.
            free = self.concurrency - self.held
            if free <= 0:
                self.slot_free.clear()
                await self.slot_free.wait()
                continue
            want = min(free, self.config.batch_size)
            self.wake.clear()
            jobs = await self._call("claim", "claim", ops.claim_batch, self.name, want, self.scope)
            self.held += len(jobs)
            for job in jobs:
                self.in_flight[job.key] = asyncio.create_task(self._run_job(job))
            self.claimed_total += len(jobs)
            if not jobs:
                # The ready set is drained: sleep until a NOTIFY or the polling fallback.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.config.poll_interval)

    async def _run_job(self, job: ClaimedJob) -> None:
        assert self.pool is not None
        structlog.contextvars.bind_contextvars(
            tenant_id=job.tenant_id, job_id=job.id, run_id=job.run_id, job_type=job.job_type
        )
        ctx = JobContext(job=job, worker=self.name, pool=self.pool, services=self.services)
        if job.run_id is not None:
            self.run_of[job.key] = job.run_id
        try:
            await self.handlers[job.job_type](ctx)
        except asyncio.CancelledError:
            raise  # shutdown: the job is released, not failed
        except PermanentJobError as exc:
            await self._fail(job, str(exc), permanent=True)
        except RetryableJobError as exc:
            await self._fail(job, str(exc), permanent=False, retry_after=exc.retry_after)
        except Exception as exc:
            await self._fail(job, f"{type(exc).__name__}: {exc}", permanent=False)
        else:
            if ctx.completed:
                self.completed_total += 1
                self.run_of.pop(job.key, None)
                self._release_slots(1)
            else:
                self.to_complete.append(job.key)
                self.completions_due.set()
        finally:
            self.in_flight.pop(job.key, None)
            self.slot_free.set()

    async def _fail(
        self, job: ClaimedJob, error: str, *, permanent: bool, retry_after: float | None = None
    ) -> None:
        delay = retry_delay(job.retry_count + 1, retry_after=retry_after)
        outcome = await self._call(
            "done",
            "fail",
            ops.fail,
            self.name,
            job,
            error,
            permanent=permanent,
            delay_seconds=delay,
        )
        self.failed_total += 1
        self._release_slots(1)
        run_id = self.run_of.pop(job.key, None)
        if outcome is not None:
            await self._call(
                "done", "log failure", _record_failure, job, error, outcome.status, delay
            )
        if outcome is not None and outcome.status == "failed" and run_id is not None:
            await self._finish_run(job.tenant_id, run_id)
        log.warning(
            "job attempt failed",
            error=error,
            permanent=permanent,
            outcome=outcome.status if outcome else "not held",
            retry_in_s=round(delay, 2) if outcome and outcome.status == "pending" else None,
        )

    async def _finish_run(self, tenant_id: int, run_id: int) -> None:
        """Close a run whose last job just ended (its own connection: it needs a transaction)."""
        async with self._run_lock:
            await self._call("runs", "finish run", _finish_run, tenant_id, run_id)

    async def _complete_loop(self) -> None:
        while True:
            await self.completions_due.wait()
            self.completions_due.clear()
            if len(self.to_complete) < self.config.batch_size and self.in_flight:
                await asyncio.sleep(self.config.completion_linger)  # let a batch gather
            await self._flush_completions()

    def _release_slots(self, count: int) -> None:
        self.held -= count
        self.slot_free.set()

    async def _flush_completions(self) -> None:
        """Commit waiting completions, a batch per statement."""
        while self.to_complete:
            size = self.config.batch_size
            self.completing, self.to_complete = self.to_complete[:size], self.to_complete[size:]
            keys = self.completing
            done = await self._call("done", "complete", ops.complete_batch, self.name, keys)
            self.completing = []
            self.completed_total += done
            self._release_slots(len(keys))
            runs = Counter((k[0], self.run_of.pop(k, None)) for k in keys)
            for (tenant_id, run_id), count in sorted(runs.items(), key=str):
                await self._call(
                    "done",
                    "publish",
                    publish,
                    tenant_id,
                    "jobs",
                    run_id=run_id,
                    status="completed",
                    count=count,
                )
                if run_id is not None:
                    await self._finish_run(tenant_id, run_id)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_interval)
            held = [*self.in_flight, *self.completing, *self.to_complete]
            try:
                if held:
                    await self._call(
                        "done", "heartbeat", ops.heartbeat, self.name, held, retry=False
                    )
                await self._rescue(retry=False)
            except (psycopg.OperationalError, OSError, DatabaseUnavailableError) as exc:
                log.warning("heartbeat failed; will retry", error=str(exc))

    async def _rescue(self, *, retry: bool) -> None:
        """Put back the jobs of workers that are gone (at once) or silent (after the stall
        timeout)."""
        orphaned = await self._call("claim", "rescue", ops.rescue_orphaned, retry=retry)
        if orphaned:
            log.warning("rescued jobs of a worker that is gone", jobs=len(orphaned))
        stalled = await self._call(
            "claim", "rescue", ops.rescue_stalled, self.config.stall_timeout, retry=retry
        )
        if stalled:
            log.warning("rescued stalled jobs", jobs=len(stalled))

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            conn: Connection | None = None
            try:
                conn = await connect(self.url, autocommit=True)
                await conn.execute(f"LISTEN {QUEUE_CHANNEL}")
                delay = 0.2
                self.wake.set()  # work may have arrived while not listening
                async for _ in conn.notifies():
                    self.wake.set()
            except (psycopg.OperationalError, OSError, DatabaseUnavailableError) as exc:
                log.warning("LISTEN connection lost; polling until it is back", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                if conn is not None:
                    await conn.close()

    async def _drain(self) -> None:
        """Let in-flight jobs finish within the grace period, then release the rest."""
        leftover: list[tuple[int, int]] = []
        if self.in_flight:
            keys = {task: key for key, task in self.in_flight.items()}
            _, pending = await asyncio.wait(list(keys), timeout=self.config.shutdown_grace)
            leftover = [keys[task] for task in pending]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush_completions()
        if leftover:
            released = await self._call("done", "release", ops.release, self.name, leftover)
            log.info("released unfinished jobs", jobs=released)


async def _record_failure(
    conn: Connection, job: ClaimedJob, error: str, status: str, delay: float
) -> None:
    """A log line and an event for a failed attempt (a retry or a dead letter)."""
    if status == "failed":
        level, message = "error", f"{job.job_type} job {job.id} failed: {error}"
    else:
        level = "warning"
        message = f"{job.job_type} job {job.id} will retry in {delay:.0f}s: {error}"
    await job_log(
        conn,
        job.tenant_id,
        level,
        message,
        run_id=job.run_id,
        queue_job_id=job.id,
        context={"attempt": job.retry_count + 1, "status": status},
    )
    await publish(
        conn,
        job.tenant_id,
        "job",
        job_id=job.id,
        run_id=job.run_id,
        job_type=job.job_type,
        status=status,
    )


async def _finish_run(conn: Connection, tenant_id: int, run_id: int) -> None:
    async with conn.transaction():
        await finish_run_if_done(conn, tenant_id, run_id)


def stage_counts(worker: StageWorker) -> dict[str, Any]:
    """Counters for logs and tests."""
    return {
        "claimed": worker.claimed_total,
        "completed": worker.completed_total,
        "failed": worker.failed_total,
    }
