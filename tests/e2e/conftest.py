"""The real product for browser tests, and a headless Chromium driven by Playwright.

`product` (once for the e2e tests): a fresh migrated database; the sandbox Jira and
GitHub with a few hundred generated issues and a small delay on every request (so a
sync takes seconds and its counts visibly rise); the demo's Jira and GitHub
integrations for WEX and Apple pointing at it; an operator of WEX and an operator of
Apple with known passwords; and `sluice web` and `sluice worker` as subprocesses.

`browser`: Debian's Chromium at /usr/bin/chromium (Playwright never downloads one). When
it is missing the tests fail in CI (`CI` set) and are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from app.auth.roles import Role
from app.auth.users import create_user
from app.config import load_settings
from app.db import open_pool, tenant_transaction
from app.demo import demo_sandbox, ensure_tenant_integrations
from app.sandbox import SandboxServers
from app.sandbox.faults import FaultSpec
from app.services import open_services
from tests.conftest import ROOT, TEMPLATE_DB, _create_from_template, _drop_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
SECRET_KEY = "e" * 48
PASSWORD = "e2e horse battery staple"
ISSUES = 300
# Every sandbox request waits this long: a sync of ISSUES issues then takes seconds.
REQUEST_DELAY = FaultSpec(slow=1.0, slow_seconds=0.15)


@dataclass(frozen=True)
class Login:
    tenant: str
    email: str
    password: str = PASSWORD


@dataclass(frozen=True)
class Product:
    """The running product: its URL, database, tenants' chain jobs and logins."""

    base_url: str
    db_url: str
    tenant_ids: dict[str, int]
    chain: dict[str, dict[str, int]]  # tenant -> provider -> etl_jobs id
    operator: Login  # WEX
    apple: Login  # Apple
    logs: Path


def owner_rows(product: Product, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read as the database owner, across tenants (to know the other tenant's ids)."""
    with psycopg.connect(product.db_url, autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium_installed() -> bool:
    return CHROMIUM.is_file()


def missing_browser(reason: str) -> None:
    """Fail in CI (the browser is part of its install), skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: .ci/run)", pytrace=False)
    pytest.skip(reason)


async def _seed(url: str, settings: Any, sandbox: SandboxServers) -> tuple[dict[str, int], Any]:
    """The demo integrations and one operator login for WEX and Apple; the chain's jobs."""
    chain: dict[str, dict[str, int]] = {}
    tenant_ids: dict[str, int] = {}
    async with open_services(settings) as services:
        pool = await open_pool(url, max_size=2)
        try:
            linked = await ensure_tenant_integrations(
                url, pool, services, sandbox, tenants=("WEX", "Apple")
            )
            for tenant, (tenant_id, _ids) in linked.items():
                tenant_ids[tenant] = tenant_id
                async with tenant_transaction(pool, tenant_id) as conn:
                    await create_user(
                        conn,
                        tenant_id=tenant_id,
                        email=f"operator@{tenant.lower()}.e2e.example",
                        display_name=f"{tenant} Operator",
                        role=Role.OPERATOR,
                        password=PASSWORD,
                    )
                    cur = await conn.execute(
                        "SELECT j.id, i.provider FROM etl_jobs j "
                        "JOIN integrations i ON i.id = j.integration_id"
                    )
                    chain[tenant] = {
                        row["provider"]: int(row["id"]) for row in await cur.fetchall()
                    }
        finally:
            await pool.close()
    return tenant_ids, chain


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    out = (logs / f"{name}.log").open("wb")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        out.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=25)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def _wait_ready(base_url: str, web: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if web.poll() is not None:
                break
            try:
                if (await client.get(f"{base_url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    log = (logs / "web.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"sluice web did not become ready at {base_url}:\n{log}")


@pytest.fixture(scope="package")
async def product(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Product]:
    """The product as processes over a fresh database, torn down after the e2e tests."""
    name = f"sluice_e2e_{uuid.uuid4().hex[:12]}"
    url = _create_from_template(server_url, name, TEMPLATE_DB)
    home = tmp_path_factory.mktemp("e2e-home")
    logs = tmp_path_factory.mktemp("e2e-logs")
    settings = load_settings({"SLUICE_HOME": str(home), "SLUICE_SECRET_KEY": SECRET_KEY})
    sandbox = demo_sandbox(ISSUES, faults=REQUEST_DELAY)
    await asyncio.to_thread(sandbox.start)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        tenant_ids, chain = await _seed(url, settings, sandbox)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "PORT"))}
        env.update(
            DATABASE_URL=url,
            SLUICE_HOME=str(home),
            SLUICE_SECRET_KEY=SECRET_KEY,
            SLUICE_LOG_FORMAT="json",
            SLUICE_LOG_LEVEL="INFO",
        )
        port = free_port()
        procs.append(_start("web", ["web", "--port", str(port)], env, logs))
        procs.append(
            _start("worker", ["worker", "--concurrency", "4", "--poll-interval", "0.5"], env, logs)
        )
        base_url = f"http://127.0.0.1:{port}"
        await _wait_ready(base_url, procs[0], logs)
        yield Product(
            base_url=base_url,
            db_url=url,
            tenant_ids=tenant_ids,
            chain=chain,
            operator=Login("WEX", "operator@wex.e2e.example"),
            apple=Login("Apple", "operator@apple.e2e.example"),
            logs=logs,
        )
    finally:
        await asyncio.to_thread(lambda: [_stop(p) for p in procs])
        await asyncio.to_thread(sandbox.stop)
        _drop_database(server_url, name)


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Any]:
    """Headless Debian Chromium (a fresh profile per launch)."""
    if not chromium_installed():
        missing_browser(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing_browser("the playwright package is missing: pip install -e '.[dev]'")
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


class Console:
    """What a page reported: console errors and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


async def log_in(browser: Any, product: Product, login: Login, width: int = 1280) -> Any:
    """A new browser context signed in through the login form; returns its page."""
    context = await browser.new_context(
        base_url=product.base_url, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Email", exact=True).fill(login.email)
    await page.get_by_label("Password", exact=True).fill(login.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{product.base_url}/")
    return page


async def screenshot(page: Any, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def finished_run(product: Product, tenant: str, provider: str) -> int | None:
    """The latest finished run of a tenant's chain job, if any."""
    [(run_id,)] = owner_rows(
        product,
        "SELECT max(id) FROM etl_runs WHERE etl_job_id = %s AND status = 'finished'",
        (product.chain[tenant][provider],),
    )
    return None if run_id is None else int(run_id)


@pytest.fixture(scope="package")
async def wex_synced(product: Product) -> int:
    """A finished sync of WEX's Jira: the live test's, or one started through the API."""
    run_id = finished_run(product, "WEX", "jira")
    if run_id is not None:
        return run_id
    async with httpx.AsyncClient(base_url=product.base_url, timeout=10) as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={"email": product.operator.email, "password": product.operator.password},
        )
        assert login.status_code == 200, login.text
        started = await client.post(
            f"/api/v1/jobs/{product.chain['WEX']['jira']}/force-start",
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert started.status_code < 300, started.text
    deadline = time.monotonic() + 90
    while (run_id := finished_run(product, "WEX", "jira")) is None:
        assert time.monotonic() < deadline, "WEX's Jira sync did not finish within 90 s"
        await asyncio.sleep(0.5)
    return run_id
