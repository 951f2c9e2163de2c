"""One concurrent sync of all three seeded tenants, observed through every channel.

`observe_three_tenant_sync` (the `three_tenant_sync` fixture, once per session) serves the real app with uvicorn on
127.0.0.1, opens each tenant's event streams (`/events` and every `/live/*` route) over
HTTP, listens to `sluice_events` directly as the ground truth, and syncs WEX, Apple and
Google at once from the sandbox Jira and GitHub (whose token is SANDBOX_TOKEN) with an
inline stage worker, vectorize included. Then each admin signs in and out through the API
and the login form, and every page and GET operation is read with the tenant's own ids.
Every structlog event and stdlib log record of all that is kept, and so is every
response body. The isolation and hardening suites assert on what it recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from starlette.applications import Starlette
from starlette.routing import Route
from structlog.testing import capture_logs

from app.auth.roles import Role
from app.auth.tokens import create_api_token
from app.auth.users import update_user
from app.config import load_settings
from app.db import open_pool, tenant_transaction
from app.sandbox import SandboxDataset, SandboxServers
from app.services import Services, open_services, utc_now
from app.vectors.service import close_shared_vector_stores
from app.web.api import OPERATIONS
from app.web.app import create_app
from tests.conftest import TEMPLATE_DB, _create_from_template, _drop_database
from tests.integration.test_web_harness import PASSWORD, SECRET_KEY, concrete_path, owner_rows
from tests.pipeline import add_sandbox_integrations, open_jobs, running_worker, sync, wait_until
from tests.reliability.harness import ID_KEYS, TENANTS, fetch, id_routes, serve_http

SANDBOX_TOKEN = f"sandbox-secret-{uuid.uuid4().hex}"
STAGES = ("extract", "transform", "load", "vectorize")
SENTINEL = "reliability-sentinel"
WRONG_PASSWORD = "not-the-password-7d1c"  # a failed sign-in's password is a secret too
# Event streams that follow one run, and the query parameter that names it.
RUN_STREAMS = {"/live/run": "run"}
OWN_IDS = {
    "run_id": "SELECT min(id) FROM etl_runs WHERE tenant_id = %s",
    "job_id": "SELECT min(id) FROM etl_jobs WHERE tenant_id = %s",
    "integration_id": "SELECT min(id) FROM integrations WHERE tenant_id = %s",
    "raw_id": "SELECT min(id) FROM raw_extraction_data WHERE tenant_id = %s",
    "queue_job_id": "SELECT min(id) FROM etl_job_queue WHERE tenant_id = %s",
    "user_id": "SELECT min(id) FROM users WHERE tenant_id = %s",
    "token_id": "SELECT min(id) FROM api_tokens WHERE tenant_id = %s",
    "work_item_id": "SELECT min(id) FROM work_items WHERE tenant_id = %s",
    "pr_id": "SELECT min(id) FROM prs WHERE tenant_id = %s",
    "repository_id": "SELECT min(id) FROM repositories WHERE tenant_id = %s",
    "log_id": "SELECT min(id) FROM job_logs WHERE tenant_id = %s",
}


@dataclass
class SseMessage:
    """One server-sent event as a browser's EventSource sees it."""

    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.data)

    def json(self) -> Any:
        return orjson.loads(self.text)


@dataclass
class SyncRecord:
    """What the concurrent sync left behind, for the suites to assert on."""

    url: str
    base_url: str
    services: Services
    dataset: SandboxDataset
    tenant_ids: dict[str, int]
    tokens: dict[str, str]  # the admins' API tokens
    emails: dict[str, str]
    streams: dict[tuple[str, str], list[SseMessage]] = field(default_factory=dict)
    truth: list[dict[str, Any]] = field(default_factory=list)  # every pg_notify payload
    logs: list[dict[str, Any]] = field(default_factory=list)  # structlog events
    records: list[str] = field(default_factory=list)  # stdlib log records, formatted
    bodies: dict[str, str] = field(default_factory=dict)  # "tenant METHOD path" -> body


class KeepRecords(logging.Handler):
    """Every stdlib log record, formatted with its arguments and traceback."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(self.format(record) + repr(record.__dict__.get("args")))


async def read_sse(response: httpx.Response, into: list[SseMessage], stop: str | None) -> None:
    """Parse messages into `into` until the stream ends (or a message whose data has `stop`)."""
    message = SseMessage()
    async for line in response.aiter_lines():
        if line:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                message.data.append(value)
            elif name == "event":
                message.event = value
            elif name == "id":
                message.id = value
            continue
        if message.data or message.id is not None:
            into.append(message)
            if stop is not None and stop in message.text:
                return
        message = SseMessage()


async def listen_truth(url: str, into: list[dict[str, Any]], ready: asyncio.Event) -> None:
    """Every event published on `sluice_events`, straight from PostgreSQL."""
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    async with conn:
        await conn.execute("LISTEN sluice_events")
        ready.set()
        seen = set()
        async for note in conn.notifies():
            body = orjson.loads(note.payload)
            into.append(body)
            if body.get("message") == SENTINEL:
                seen.add(body["tenant_id"])
                if len(seen) == len(TENANTS):
                    return


async def prepare_accounts(url: str, tenant_ids: dict[str, int]) -> tuple[dict[str, str], dict]:
    """The admins' password (PASSWORD) and a bearer token each."""
    tokens, emails = {}, {}
    pool = await open_pool(url, max_size=1)
    try:
        for tenant, tid in tenant_ids.items():
            async with tenant_transaction(pool, tid) as conn:
                cur = await conn.execute(
                    "SELECT id, email FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"
                )
                row = await cur.fetchone()
                assert row is not None
                await update_user(conn, row["id"], {}, password=PASSWORD, now=utc_now())
                _, tokens[tenant] = await create_api_token(
                    conn,
                    tenant_id=tid,
                    user_id=row["id"],
                    name="reliability",
                    role=Role.ADMIN,
                    expires_at=None,
                )
                emails[tenant] = row["email"]
    finally:
        await pool.close()
    return tokens, emails


def stream_paths(app: Starlette) -> list[str]:
    """`/events` and every `/live/*` route without path parameters."""
    return [
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and (route.path == "/events" or route.path.startswith("/live/"))
        and "{" not in route.path
    ]


async def sign_in_and_out(client: httpx.AsyncClient, email: str) -> list[httpx.Response]:
    """The API login (wrong then right password), the login form, a page, and logouts."""
    seen = [
        await client.post("/api/v1/auth/login", json={"email": email, "password": WRONG_PASSWORD}),
    ]
    api = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert api.status_code == 200, api.text
    csrf = api.json()["csrf_token"]
    seen += [api, await client.get("/api/v1/auth/me")]
    seen.append(await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}))
    login_page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
    assert token is not None
    form = {"csrf_token": token[1], "email": email, "password": PASSWORD, "next": "/"}
    signed_in = await client.post("/login", data=form)
    assert signed_in.status_code == 303, signed_in.text
    seen += [login_page, signed_in, await client.get("/")]
    seen.append(await client.post("/logout", data={"csrf_token": client.cookies["sluice_csrf"]}))
    return seen


async def read_everything(
    record: SyncRecord, app: Starlette, client: httpx.AsyncClient, tenant: str
) -> None:
    """Every page and GET operation with the tenant's own ids, bodies kept."""
    tid = record.tenant_ids[tenant]
    ids = {key: owner_rows(record.url, sql, (tid,))[0][0] for key, sql in OWN_IDS.items()}
    ids = {key: value for key, value in ids.items() if value is not None}
    paths = set()
    for op in OPERATIONS:
        if op.method == "GET":
            paths.add(concrete_path(op.full_path, ids))
    for route in id_routes(app):
        if (
            route.method == "GET"
            and not route.is_api
            and all(ID_KEYS[name] in ids for name in route.id_params)
        ):
            paths.add(route.concrete(ids))
    for route in app.routes:
        path = getattr(route, "path", "")
        readable = "GET" in (getattr(route, "methods", None) or ()) and "{" not in path
        if readable and not path.startswith(("/static", "/live/", "/events", "/api/")):
            paths.add(path)
    for path in sorted(paths):
        got = await fetch(client, "GET", path)
        assert got.status < 500, (path, got.text[:300])
        record.bodies[f"{tenant} GET {path}"] = got.text + str(got.headers)


@asynccontextmanager
async def observe_three_tenant_sync(server_url: str, home: Path) -> AsyncIterator[SyncRecord]:
    """Sync the three tenants at once on a new database, recording everything; yield the
    record while the app is still served (for searches)."""
    name = f"sluice_rel_{uuid.uuid4().hex[:12]}"
    url = _create_from_template(server_url, name, TEMPLATE_DB)
    settings = load_settings({"SLUICE_HOME": str(home), "SLUICE_SECRET_KEY": SECRET_KEY})
    tenant_ids = {n: int(i) for n, i in owner_rows(url, "SELECT name, id FROM tenants")}
    dataset = SandboxDataset(issues=45, repos=2, pull_requests=10, projects=2)
    std_records: list[str] = []
    logs: list[Any] = []
    keeper = KeepRecords(std_records)
    root = logging.getLogger()
    previous_level = root.level
    try:
        tokens, emails = await prepare_accounts(url, tenant_ids)
        async with (
            open_services(settings) as services,
            SandboxServers(dataset, token=SANDBOX_TOKEN) as sandbox,
        ):
            for tenant in TENANTS:
                await add_sandbox_integrations(url, services, sandbox, tenant, SANDBOX_TOKEN)
            app = create_app(settings, database_url=url)
            async with serve_http(app) as base_url:
                record = SyncRecord(url, base_url, services, dataset, tenant_ids, tokens, emails)
                root.addHandler(keeper)
                root.setLevel(logging.DEBUG)
                try:
                    with capture_logs() as logs:
                        await _sync_and_observe(record, app)
                finally:
                    root.removeHandler(keeper)
                    root.setLevel(previous_level)
                record.logs = logs
                record.records = std_records
                yield record
    finally:
        root.removeHandler(keeper)
        root.setLevel(previous_level)
        await close_shared_vector_stores()
        _drop_database(server_url, name)


async def _sync_and_observe(record: SyncRecord, app: Starlette) -> None:
    ready = asyncio.Event()
    truth = asyncio.create_task(listen_truth(record.url, record.truth, ready))
    await asyncio.wait_for(ready.wait(), 10)
    async with contextlib.AsyncExitStack() as stack:
        readers: dict[tuple[str, str], asyncio.Task[None]] = {}
        clients = {
            tenant: await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=record.base_url,
                    timeout=httpx.Timeout(30, read=None),
                    headers={"Authorization": f"Bearer {record.tokens[tenant]}"},
                )
            )
            for tenant in TENANTS
        }

        async def open_stream(tenant: str, path: str, params: dict[str, Any]) -> None:
            response = await stack.enter_async_context(
                clients[tenant].stream("GET", path, params=params)
            )
            assert response.status_code == 200, (tenant, path, await response.aread())
            messages = record.streams.setdefault((tenant, path), [])
            stop = SENTINEL if path == "/events" else None
            readers[(tenant, path)] = asyncio.create_task(read_sse(response, messages, stop))

        paths = stream_paths(app)
        # Streams that take a run id open once the runs exist (and before any work starts).
        by_run = [p for p in paths if p in RUN_STREAMS]
        for tenant in TENANTS:
            for path in paths:
                if path not in by_run:
                    await open_stream(tenant, path, {})
        await asyncio.sleep(0.3)  # every stream subscribed
        runs = await asyncio.gather(*(sync(record.url, tenant) for tenant in TENANTS))
        for tenant, run_id in zip(TENANTS, runs, strict=True):
            for path in by_run:
                await open_stream(tenant, path, {RUN_STREAMS[path]: run_id})
        await asyncio.sleep(0.3)
        async with running_worker(record.url, record.services, concurrency=6):
            await wait_until(
                lambda: open_jobs(record.url, STAGES) == 0, 150, "the three syncs to finish"
            )
        for tenant in TENANTS:
            async with httpx.AsyncClient(base_url=record.base_url, timeout=30) as browser:
                for response in await sign_in_and_out(browser, record.emails[tenant]):
                    key = f"{tenant} {response.request.method} {response.request.url.path}"
                    record.bodies[key] = response.text + str(response.headers)
            async with httpx.AsyncClient(
                base_url=record.base_url,
                timeout=30,
                headers={"Authorization": f"Bearer {record.tokens[tenant]}"},
            ) as admin:
                await read_everything(record, app, admin, tenant)
        with psycopg.connect(record.url, autocommit=True) as conn:
            for tenant in TENANTS:
                payload = orjson.dumps(
                    {"tenant_id": record.tenant_ids[tenant], "kind": "log", "message": SENTINEL}
                ).decode()
                conn.execute("SELECT pg_notify('sluice_events', %s)", (payload,))
        done = [readers[(t, "/events")] for t in TENANTS]
        await asyncio.wait_for(asyncio.gather(*done, truth), 30)
        await asyncio.sleep(0.5)  # the other streams get the sentinels too
        for task in readers.values():
            task.cancel()
        await asyncio.gather(*readers.values(), return_exceptions=True)
