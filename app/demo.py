"""`sluice demo`: the whole product on one machine, from nothing.

Embedded PostgreSQL (unless DATABASE_URL is set), migrations, the sandbox Jira and GitHub
with generated data, integrations for every seeded tenant pointing at them, the stage
workers, the scheduler (the orchestrator's periodic tick and stalled-job rescue), the web
dashboard, and a first sync per tenant whose progress is printed. Ctrl-C stops it all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db import (
    Connection,
    connect,
    open_pool,
    redact_url,
    resolve_database_url,
    tenant_transaction,
)
from app.integrations.store import add_integration
from app.passwords import generate_password, hash_password
from app.sandbox import DEFAULT_TOKEN, SandboxDataset, SandboxServers
from app.sandbox.faults import FaultSpec
from app.services import Services, open_services
from app.sqlstore import query
from app.stages import close_vector_stores, default_handlers
from app.sync import SyncRequest, start_sync
from migrations import runner
from workers.scheduler import Scheduler
from workers.stage_worker import StageWorker, WorkerConfig

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """What `sluice demo` was asked for."""

    issues: int = 2000
    concurrency: int = 4
    port: int = 8000


async def demo_logins(url: str) -> list[tuple[str, str, str]]:
    """A fresh password for every tenant's admin, for this demo run: (tenant, email, password)."""
    logins = []
    conn = await connect(url, autocommit=True)
    async with conn:
        await conn.execute("SET ROLE sluice_system")
        cur = await conn.execute(query("demo_admins"))
        for row in await cur.fetchall():
            password = generate_password()
            await conn.execute(
                query("demo_set_password"),
                {
                    "tenant_id": row["tenant_id"],
                    "id": row["id"],
                    "password_hash": hash_password(password),
                },
            )
            logins.append((row["tenant"], row["email"], password))
    return logins


async def serve_web(settings: Settings, url: str, port: int) -> tuple[Any, asyncio.Task[None]]:
    """The web process (JSON API, live events) on 127.0.0.1:port, in this event loop."""
    import uvicorn

    from app.live.server import LiveEventsServer
    from app.web.app import create_app

    app = create_app(settings, database_url=url)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = LiveEventsServer(config, lambda: getattr(app.state, "live_hub", None))
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.05)
    if task.done():
        task.result()
        raise RuntimeError(f"the web process could not listen on 127.0.0.1:{port}")
    return server, task


def demo_sandbox(issues: int, faults: FaultSpec | str | None = None) -> SandboxServers:
    """The sandbox Jira and GitHub (not started): `issues` issues and half as many pull requests,
    spread over the two years up to this hour (so the flow metrics show the last months)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    dataset = SandboxDataset(issues=issues, pull_requests=issues // 2, now=now)
    return SandboxServers(dataset, faults=faults)


async def ensure_demo_integrations(
    conn: Connection, services: Services, tenant_id: int, tenant: str, sandbox: SandboxServers
) -> list[int]:
    """A Jira and a GitHub integration for the tenant, pointed at this sandbox."""
    ids = []
    for provider, url, username, search in (
        ("jira", sandbox.jira_url, f"demo@{tenant.lower()}.example", None),
        ("github", sandbox.github_url, None, f"org:{sandbox.dataset.org}"),
    ):
        name = f"Demo {provider.capitalize() if provider == 'jira' else 'GitHub'}"
        cur = await conn.execute(query("demo_integration_find"), {"name": name})
        row = await cur.fetchone()
        if row is None:
            ids.append(
                await add_integration(
                    conn,
                    services.cipher,
                    tenant_id=tenant_id,
                    provider=provider,
                    base_url=url,
                    token=DEFAULT_TOKEN,
                    username=username,
                    base_search=search,
                    name=name,
                )
            )
        else:
            await conn.execute(
                query("demo_integration_repoint"),
                {
                    "id": row["id"],
                    "base_url": url,
                    "credentials": services.cipher.encrypt(DEFAULT_TOKEN),
                },
            )
            ids.append(int(row["id"]))
    return ids


async def run_demo(settings: Settings, options: DemoOptions, say: Say = print) -> int:
    """Bring everything up, sync every tenant, and serve until Ctrl-C."""
    url = resolve_database_url(settings)
    say(f"PostgreSQL: {redact_url(url)}")
    conn = await connect(url, autocommit=True)
    async with conn:
        # The demo sets its own admin passwords below; the migration's would not last.
        await runner.apply_all(
            conn, report=lambda line: None if " admin: " in line else say(f"  {line}")
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    say(f"Starting the sandbox Jira and GitHub with {options.issues:,} issues …")
    sandbox = demo_sandbox(options.issues)
    await asyncio.to_thread(sandbox.start)
    web: Any = None
    web_task: asyncio.Task[None] | None = None
    try:
        say(f"  Jira   {sandbox.jira_url}\n  GitHub {sandbox.github_url}")
        web, web_task = await serve_web(settings, url, options.port)
        say(
            f"Dashboard: http://127.0.0.1:{options.port}/ (sign in with a login below; "
            f"JSON API under /api/v1)"
        )
        for tenant, email, password in await demo_logins(url):
            say(f"  {tenant} admin login: {email} / {password}")
        async with open_services(settings) as services:
            pool = await open_pool(url, max_size=4)
            try:
                runs = await start_tenant_syncs(url, pool, services, sandbox)
                worker = StageWorker(
                    url,
                    default_handlers(),
                    WorkerConfig(concurrency=options.concurrency, poll_interval=0.5),
                    services=services,
                )
                work = asyncio.create_task(worker.run(install_signal_handlers=False))
                # procrastinate reports every periodic task at INFO: keep that for DEBUG.
                if settings.log_level != "DEBUG":
                    logging.getLogger("procrastinate").setLevel(logging.WARNING)
                scheduler = Scheduler(url)
                scheduling = asyncio.create_task(scheduler.run())
                try:
                    await follow_runs(pool, runs, stop, say)
                    if not stop.is_set():
                        say(
                            "Every tenant is synced. The worker keeps serving; press Ctrl-C to stop."
                        )
                        await stop.wait()
                finally:
                    scheduler.stop()
                    worker.stop()
                    await work
                    await scheduling
                    await close_vector_stores()
            finally:
                await pool.close()
    finally:
        if web is not None and web_task is not None:
            web.should_exit = True
            await web_task
        await asyncio.to_thread(sandbox.stop)
        say("Stopped.")
    return 0


async def ensure_tenant_integrations(
    url: str,
    pool: AsyncConnectionPool[Connection],
    services: Services,
    sandbox: SandboxServers,
    tenants: Collection[str] | None = None,
) -> dict[str, tuple[int, list[int]]]:
    """The demo integrations of every active tenant (or of the named ones), pointed at this
    sandbox: name -> (tenant id, integration ids)."""
    conn = await connect(url)
    async with conn:
        await conn.execute("SET ROLE sluice_system")
        cur = await conn.execute(query("demo_tenants"))
        found = [(row["id"], row["name"]) for row in await cur.fetchall()]
    linked = {}
    for tenant_id, name in found:
        if tenants is None or name in tenants:
            async with tenant_transaction(pool, tenant_id) as tx:
                ids = await ensure_demo_integrations(tx, services, tenant_id, name, sandbox)
            linked[name] = (tenant_id, ids)
    return linked


async def start_tenant_syncs(
    url: str, pool: AsyncConnectionPool[Connection], services: Services, sandbox: SandboxServers
) -> dict[str, tuple[int, int]]:
    """Integrations and a first sync for every tenant: name -> (tenant id, run id)."""
    runs = {}
    linked = await ensure_tenant_integrations(url, pool, services, sandbox)
    for name, (tenant_id, ids) in linked.items():
        async with tenant_transaction(pool, tenant_id) as tx:
            run_id = await start_sync(
                tx, SyncRequest(tenant_id=tenant_id, trigger="cli", triggered_by="demo")
            )
        runs[name] = (tenant_id, run_id)
        print(f"  {name}: integrations {ids}, sync run {run_id} started", flush=True)
    return runs


async def follow_runs(
    pool: AsyncConnectionPool[Connection],
    runs: dict[str, tuple[int, int]],
    stop: asyncio.Event,
    say: Say,
) -> None:
    """Print each tenant's run progress every few seconds until all end (or Ctrl-C)."""
    from app.cli.commands_sync import progress_line, run_state

    ended: dict[str, Any] = {}
    while not stop.is_set() and len(ended) < len(runs):
        for name, (tenant_id, run_id) in runs.items():
            if name in ended:
                continue
            async with tenant_transaction(pool, tenant_id) as conn:
                run, progress = await run_state(conn, run_id)
                if run is not None and run["status"] != "running":
                    cur = await conn.execute(query("demo_counts"))
                    ended[name] = await cur.fetchone()
                    say(f"{name}: run {run_id} {run['status']} — {dict(ended[name])}")
                else:
                    say(f"{name}: {progress_line(run_id, progress)}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 3.0)
