"""Helpers for pipeline tests: integrations pointing at the sandbox, syncs, and workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from app.auth.roles import Role
from app.auth.tokens import create_api_token
from app.auth.users import update_user
from app.config import load_settings
from app.db import connect, open_pool, tenant_transaction
from app.integrations.store import add_integration
from app.queue.context import HandlerRegistry
from app.sandbox import DEFAULT_TOKEN, SandboxServers
from app.services import Services, open_services, utc_now
from app.stages import default_handlers
from app.sync import SyncRequest, start_sync
from workers.stage_worker import StageWorker, WorkerConfig


def sandbox_settings(home: Path) -> Any:
    return load_settings({"SLUICE_HOME": str(home), "SLUICE_SECRET_KEY": "t" * 40})


async def tenant_id(url: str, name: str = "WEX") -> int:
    conn = await connect(url)
    async with conn:
        cur = await conn.execute("SELECT id FROM tenants WHERE name = %s", (name,))
        row = await cur.fetchone()
    assert row is not None
    return int(row["id"])


async def admin_viewer_token(
    url: str, name: str, tenant: str = "WEX", password: str | None = None
) -> tuple[str, str]:
    """A viewer API token of the tenant's admin, and the admin's email (its password set to
    `password` when given)."""
    tid = await tenant_id(url, tenant)
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tid) as conn:
            cur = await conn.execute("SELECT id, email FROM users WHERE role = 'admin' LIMIT 1")
            admin = await cur.fetchone()
            assert admin is not None
            if password is not None:
                await update_user(conn, admin["id"], {}, password=password, now=utc_now())
            _, token = await create_api_token(
                conn,
                tenant_id=tid,
                user_id=admin["id"],
                name=name,
                role=Role.VIEWER,
                expires_at=None,
            )
    finally:
        await pool.close()
    return token, str(admin["email"])


async def add_sandbox_integrations(
    url: str,
    services: Services,
    sandbox: SandboxServers,
    tenant: str = "WEX",
    token: str = DEFAULT_TOKEN,
    providers: tuple[str, ...] = ("jira", "github"),
) -> dict[str, int]:
    """Integrations for one tenant pointing at the sandbox servers; returns their ids."""
    tid = await tenant_id(url, tenant)
    pool = await open_pool(url, max_size=1)
    ids: dict[str, int] = {}
    try:
        async with tenant_transaction(pool, tid) as conn:
            if "jira" in providers:
                ids["jira"] = await add_integration(
                    conn,
                    services.cipher,
                    tenant_id=tid,
                    provider="jira",
                    base_url=sandbox.jira_url,
                    token=token,
                    username=f"admin@{tenant.lower()}.com",
                )
            if "github" in providers:
                ids["github"] = await add_integration(
                    conn,
                    services.cipher,
                    tenant_id=tid,
                    provider="github",
                    base_url=sandbox.github_url,
                    token=token,
                    base_search=f"org:{sandbox.dataset.org}",
                )
    finally:
        await pool.close()
    return ids


async def sync(
    url: str, tenant: str = "WEX", integration_id: int | None = None, **kwargs: Any
) -> int:
    tid = await tenant_id(url, tenant)
    pool = await open_pool(url, max_size=1)
    try:
        async with tenant_transaction(pool, tid) as conn:
            return await start_sync(
                conn, SyncRequest(tenant_id=tid, integration_id=integration_id, **kwargs)
            )
    finally:
        await pool.close()


def open_jobs(url: str, job_types: tuple[str, ...]) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM etl_job_queue WHERE job_type = ANY(%s) "
            "AND status IN ('pending', 'running')",
            (list(job_types),),
        ).fetchone()
    assert row is not None
    return int(row[0])


@asynccontextmanager
async def running_worker(
    url: str,
    services: Services,
    stages: tuple[str, ...] | None = None,
    handlers: HandlerRegistry | None = None,
    **config: Any,
) -> AsyncIterator[StageWorker]:
    registry = handlers or default_handlers()
    if stages is not None:
        registry = {k: v for k, v in registry.items() if k in stages}
    config.setdefault("poll_interval", 0.3)
    worker = StageWorker(url, registry, WorkerConfig(**config), services=services)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    try:
        yield worker
    finally:
        worker.stop()
        await task


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scalar(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def now() -> datetime:
    return datetime.now(UTC)


__all__ = ["open_services"]
