"""Local-mode Qdrant shared by several processes, one process at a time.

qdrant-client's local mode loads a whole folder into memory when it opens, and locks the
folder for that one client. Sluice's workers, web process and CLI therefore take turns:

- a process takes an exclusive `flock` on `<folder>/.sluice-lease.lock`, opens the client
  and keeps it open while it keeps using it, so a busy worker loads the folder once;
- a process that waits holds a shared `flock` on `<folder>/.sluice-waiting.lock`, which the
  holder can see: once the holder has had its quantum (at least `min_hold`, and at least
  twice what its last open cost, so reloading never takes most of the time), it closes the
  client after its current operation and lets the waiter in;
- an idle holder closes after `linger` seconds; a waiter gives up after `wait_timeout`.

qdrant-client commits every point to a per-collection SQLite file; switching those files
to write-ahead logging keeps each commit durable with fewer syncs, which is what bounds
local write speed.

Every hand-over reloads the folder, which costs time in proportion to the points it holds:
local mode is for one machine and modest collections; set QDRANT_URL beyond that.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from qdrant_client import AsyncQdrantClient

from app.vectors.errors import VectorStoreBusyError

log = structlog.get_logger("sluice.vectors")

LEASE_FILE = ".sluice-lease.lock"
WAITING_FILE = ".sluice-waiting.lock"
SLOW_OPEN_SECONDS = 2.0


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _open_lock_file(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _release(fd: int) -> None:
    """Closing the descriptor drops its lock."""
    os.close(fd)


def _holder(path: Path) -> str:
    """The pid the lease file names, for messages."""
    try:
        return (path / LEASE_FILE).read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def _quiet_size_warning() -> None:
    """qdrant-client warns on every open past 20,000 points; Sluice logs the open's cost instead."""
    warnings.filterwarnings(
        "ignore", message=r"Local mode is not recommended", category=UserWarning
    )


def _storage_files(path: Path) -> set[Path]:
    return set((path / "collection").glob("*/storage.sqlite"))


def _use_write_ahead_log(files: set[Path]) -> None:
    """Put these collection files in WAL mode (persistent in the file). Safe while the
    client's own connection is idle between operations; a busy file is left for later."""
    for file in files:
        try:
            with contextlib.closing(sqlite3.connect(file)) as db:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            log.debug("vectors.local_wal_skipped", file=str(file), error=str(exc))


def _open_client(path: Path) -> AsyncQdrantClient:
    """Open the folder (loads every point: run in a thread). Access is serialized by the lease,
    so the client may be opened in one thread and used on the event loop's."""
    _use_write_ahead_log(_storage_files(path))
    try:
        return AsyncQdrantClient(path=str(path), force_disable_check_same_thread=True)
    except RuntimeError as exc:
        if "already accessed" not in str(exc):
            raise
        raise VectorStoreBusyError(
            f"the local Qdrant folder {path} is open in a program that does not take "
            "Sluice's lease: stop that program, or set QDRANT_URL to a Qdrant server"
        ) from exc


class LocalQdrantLease:
    """This process's turns at one local Qdrant folder, shared by its tasks."""

    local = True

    def __init__(
        self,
        path: Path,
        *,
        linger: float = 1.0,
        min_hold: float = 1.0,
        wait_timeout: float = 60.0,
        poll_interval: float = 0.025,
    ) -> None:
        self.path = path
        self.linger = linger
        self.min_hold = min_hold
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.opens = 0
        self.open_seconds = 0.0  # total, across opens
        self._lock = asyncio.Lock()
        self._client: AsyncQdrantClient | None = None
        self._lease_fd: int | None = None
        self._opened_at = 0.0
        self._last_open_cost = 0.0
        self._last_used = 0.0
        self._yielded = False
        self._idle_closer: asyncio.Task[None] | None = None
        self._orphans: set[asyncio.Task[None]] = set()
        self._in_wal_mode: set[Path] = set()

    @property
    def is_open(self) -> bool:
        return self._client is not None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncQdrantClient]:
        """The open client for one operation; other tasks of this process wait their turn."""
        async with self._lock:
            client = self._client if self._client is not None else await self._open()
            try:
                yield client
            finally:
                self._last_used = time.monotonic()
                self._tune_new_collections()
                if self._due_to_hand_over():
                    await self._close(yielded=True)
                else:
                    self._watch_idle()

    async def close(self) -> None:
        """Close the client and release the folder (at shutdown)."""
        closer, self._idle_closer = self._idle_closer, None
        if closer is not None and closer is not asyncio.current_task():
            closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closer
        async with self._lock:
            await self._close(yielded=False)
        if self._orphans:
            await asyncio.gather(*self._orphans, return_exceptions=True)

    # -- turns -----------------------------------------------------------------------

    async def _open(self) -> AsyncQdrantClient:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = await self._acquire()
        _quiet_size_warning()
        started = time.monotonic()
        opening = asyncio.ensure_future(asyncio.to_thread(_open_client, self.path))
        try:
            client = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # The thread still finishes opening: close what it opens, then release.
            opening.add_done_callback(lambda done: self._discard(done, fd))
            raise
        except BaseException:
            _release(fd)
            raise
        cost = time.monotonic() - started
        self._in_wal_mode = _storage_files(self.path)
        self._client, self._lease_fd = client, fd
        self._opened_at, self._last_open_cost = time.monotonic(), cost
        self.opens += 1
        self.open_seconds += cost
        if cost >= SLOW_OPEN_SECONDS:
            log.warning(
                "vectors.local_open_slow",
                path=str(self.path),
                seconds=round(cost, 2),
                hint="local mode reloads every point when a process takes its turn; "
                "set QDRANT_URL to a Qdrant server for collections this large",
            )
        else:
            log.debug("vectors.local_open", path=str(self.path), seconds=round(cost, 3))
        return client

    async def _acquire(self) -> int:
        """The lease descriptor, locked; waits (announced as a waiter) up to wait_timeout."""
        deadline = time.monotonic() + self.wait_timeout
        if self._yielded:
            # We just handed over: let the waiters we saw go first.
            self._yielded = False
            while time.monotonic() < deadline:
                if not self._others_waiting():
                    break
                await asyncio.sleep(self.poll_interval)
        lease_fd = _open_lock_file(self.path / LEASE_FILE)
        waiting_fd: int | None = None
        announced = False
        try:
            while True:
                if _try_flock(lease_fd, fcntl.LOCK_EX):
                    os.ftruncate(lease_fd, 0)
                    os.pwrite(lease_fd, f"{os.getpid()}\n".encode(), 0)
                    return lease_fd
                if waiting_fd is None:
                    waiting_fd = _open_lock_file(self.path / WAITING_FILE)
                if not announced:
                    announced = _try_flock(waiting_fd, fcntl.LOCK_SH)
                if time.monotonic() >= deadline:
                    raise VectorStoreBusyError(
                        f"the local Qdrant folder {self.path} stayed busy for "
                        f"{self.wait_timeout:.0f}s (held by pid {_holder(self.path)}); "
                        "local mode serves one process at a time: set QDRANT_URL to a "
                        "Qdrant server for concurrent or multi-machine use"
                    )
                await asyncio.sleep(self.poll_interval)
        except BaseException:
            _release(lease_fd)
            raise
        finally:
            if waiting_fd is not None:
                _release(waiting_fd)

    def _others_waiting(self) -> bool:
        """True while another process holds the waiting file shared."""
        fd = _open_lock_file(self.path / WAITING_FILE)
        try:
            if _try_flock(fd, fcntl.LOCK_EX):
                fcntl.flock(fd, fcntl.LOCK_UN)
                return False
            return True
        finally:
            os.close(fd)

    def _tune_new_collections(self) -> None:
        """A collection created in this turn gets WAL mode before its first bulk write."""
        new = _storage_files(self.path) - self._in_wal_mode
        if new:
            _use_write_ahead_log(new)
            self._in_wal_mode |= new

    def _due_to_hand_over(self) -> bool:
        quantum = max(self.min_hold, 2 * self._last_open_cost)
        held = time.monotonic() - self._opened_at
        return self._client is not None and held >= quantum and self._others_waiting()

    async def _close(self, *, yielded: bool) -> None:
        client, fd = self._client, self._lease_fd
        self._client = self._lease_fd = None
        self._yielded = yielded and client is not None
        try:
            if client is not None:
                await client.close()
        finally:
            if fd is not None:
                _release(fd)

    def _watch_idle(self) -> None:
        if self._idle_closer is None or self._idle_closer.done():
            self._idle_closer = asyncio.create_task(self._close_when_idle())

    async def _close_when_idle(self) -> None:
        """Release the folder after `linger` idle seconds, or early for a waiter."""
        while self._client is not None:
            try:
                await asyncio.sleep(min(self.linger, 0.1))
            except asyncio.CancelledError:
                # The loop is shutting down (end of asyncio.run): close cleanly on the way out.
                if not self._lock.locked():
                    await self._close(yielded=False)
                raise
            if self._lock.locked():
                continue  # the running operation decides when it ends
            async with self._lock:
                idle = time.monotonic() - self._last_used >= self.linger
                if idle or self._due_to_hand_over():
                    await self._close(yielded=not idle)
                    return

    def _discard(self, opening: asyncio.Future[AsyncQdrantClient], fd: int) -> None:
        if opening.cancelled() or opening.exception() is not None:
            _release(fd)
            return
        task = asyncio.ensure_future(self._close_orphan(opening.result(), fd))
        self._orphans.add(task)
        task.add_done_callback(self._orphans.discard)

    async def _close_orphan(self, client: AsyncQdrantClient, fd: int) -> None:
        try:
            await client.close()
        finally:
            _release(fd)
