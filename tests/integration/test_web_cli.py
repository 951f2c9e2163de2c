"""`sluice web`: the real server in a subprocess, on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

# The command as `sluice web` runs it, without depending on the CLI's registration.
LAUNCHER = """
import argparse, asyncio, sys
from app.cli import commands_web
from app.config import load_settings
from app.logging import configure_logging
parser = argparse.ArgumentParser(prog="sluice")
commands_web.register(parser.add_subparsers(required=True))
args = parser.parse_args(sys.argv[1:])
settings = load_settings()
configure_logging(settings.log_format, settings.log_level)
sys.exit(asyncio.run(args.handler(args, settings)))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(*args: str, database_url: str, home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "SLUICE_METRICS_TOKEN")}
    env |= {
        "DATABASE_URL": database_url,
        "SLUICE_HOME": str(home),
        "SLUICE_SECRET_KEY": "c" * 40,
        "SLUICE_LOG_FORMAT": "json",
        "SLUICE_ADMIN_PASSWORD": "unused here",
    }
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "web", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(url: str, timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_sluice_web_serves_and_stops_cleanly(fresh_db_url: str, tmp_path: Path) -> None:
    port = free_port()
    server = launch("--port", str(port), database_url=fresh_db_url, home=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/readyz").status_code == 200
        anonymous = httpx.get(f"{base}/api/v1/runs")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert "server" not in anonymous.headers
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "http request"]
    assert ("/api/v1/runs", 401) in {(r["path"], r["status"]) for r in requests}
    assert "/healthz" not in {r["path"] for r in requests}  # probes log at debug level


def test_sluice_web_refuses_a_bad_port(fresh_db_url: str, tmp_path: Path) -> None:
    server = launch("--port", "70000", database_url=fresh_db_url, home=tmp_path)
    _out, err = server.communicate(timeout=60)
    assert server.returncode != 0
    assert "not a TCP port" in err
