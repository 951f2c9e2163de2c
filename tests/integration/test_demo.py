"""`sluice demo` (the README's first command) as a real process, on its own embedded server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_syncs_every_tenant_serves_the_api_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SLUICE_HOME=str(tmp_path / "home"), SLUICE_LOG_LEVEL="WARNING")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "demo", "--issues", "60", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "Every tenant is synced" in line or time.monotonic() > deadline:
                break
        assert any("Every tenant is synced" in line for line in lines), "\n".join(lines[-30:])
        for tenant in ("WEX", "Apple", "Google"):
            assert any(line.startswith(f"{tenant}: run") and "finished" in line for line in lines)
        login = next(line for line in lines if "WEX admin login:" in line)
        email, password = login.split("login: ")[1].split(" / ")
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": email, "password": password},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["user"]["tenant"] == "WEX"
        browser = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        with browser:
            form = browser.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf is not None
            browser.post(
                "/login",
                data={"csrf_token": csrf[1], "email": email, "password": password, "next": "/"},
            )
            dashboard = browser.get("/")
            assert dashboard.status_code == 200 and "<h1>Pipeline</h1>" in dashboard.text
            assert "job-card-" in dashboard.text and "run finished" in dashboard.text
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        subprocess.run(
            [sys.executable, "-m", "app.cli.main", "db", "stop"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=False,
            timeout=60,
        )
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
