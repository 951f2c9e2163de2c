"""Shared by the web and API tests (no tests of its own).

A migrated database with two tenants (WEX, Apple), each with an admin, an operator and a
viewer (a password and an API token each), a Jira integration whose token is
INTEGRATION_TOKEN, a run with its queue jobs, a dead-lettered queue job and a raw record;
and the app served in-process, its lifespan run as a server would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from app.auth.roles import Role
from app.auth.tokens import create_api_token
from app.auth.users import create_user, update_user
from app.config import Settings, load_settings
from app.crypto import CredentialCipher
from app.db import open_pool, tenant_transaction
from app.integrations.base import Page, RawRecord
from app.integrations.store import add_integration
from app.queue import ops
from app.queue.model import NewJob
from app.services import utc_now
from app.stages.extract import insert_raw_page
from app.sync import SyncRequest, start_sync
from app.web.app import create_app
from app.web.routing import Operation
from tests.conftest import migrated_clone

SECRET_KEY = "w" * 48
PASSWORD = "correct horse battery staple"
INTEGRATION_TOKEN = "sekret-token-123"
TENANTS = ("WEX", "Apple")
ROLES = ("admin", "operator", "viewer")
JIRA_STATUS = {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}}

ClientFactory = Callable[..., httpx.AsyncClient]


@dataclass(frozen=True)
class Account:
    """A user of the world: its email (password PASSWORD) and a bearer token of its role."""

    tenant: str
    role: str
    user_id: int
    email: str
    token: str


@dataclass
class World:
    """What build_world created, by tenant."""

    url: str
    settings: Settings
    tenant_ids: dict[str, int]
    accounts: dict[tuple[str, str], Account]
    ids: dict[str, dict[str, int]]

    def account(self, tenant: str, role: str) -> Account:
        return self.accounts[(tenant, role)]


def owner_rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read (or written) as the database owner, outside row-level security."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)  # type: ignore[arg-type]
        return list(cur.fetchall()) if cur.description else []


async def _populate_tenant(
    pool: Any, url: str, tenant: str, tenant_id: int, cipher: CredentialCipher, world: World
) -> None:
    now = utc_now()
    domain = f"{tenant.lower()}.com"
    ids: dict[str, int] = {}
    async with tenant_transaction(pool, tenant_id) as conn:
        cur = await conn.execute("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")
        row = await cur.fetchone()
        assert row is not None
        users = {"admin": int(row["id"])}
        await update_user(conn, users["admin"], {}, password=PASSWORD, now=now)
        for role in ("operator", "viewer"):
            users[role] = await create_user(
                conn,
                tenant_id=tenant_id,
                email=f"{role}@{domain}",
                display_name=role.title(),
                role=Role(role),
                password=PASSWORD,
            )
        for role in ROLES:
            token_row, token = await create_api_token(
                conn,
                tenant_id=tenant_id,
                user_id=users[role],
                name=f"{role} token",
                role=Role(role),
                expires_at=None,
            )
            world.accounts[(tenant, role)] = Account(
                tenant, role, users[role], f"{role}@{domain}", token
            )
        ids["token_id"] = int(token_row["id"])
        ids["user_id"] = users["viewer"]
        ids["integration_id"] = await add_integration(
            conn,
            cipher,
            tenant_id=tenant_id,
            provider="jira",
            base_url="http://127.0.0.1:9",
            token=INTEGRATION_TOKEN,
            username=f"admin@{domain}",
            name=f"{tenant} Jira",
        )
        ids["run_id"] = await start_sync(
            conn,
            SyncRequest(tenant_id=tenant_id, integration_id=ids["integration_id"], trigger="api"),
        )
        cur = await conn.execute(
            "SELECT id FROM etl_job_queue WHERE run_id = %s ORDER BY id LIMIT 1", (ids["run_id"],)
        )
        row = await cur.fetchone()
        assert row is not None
        ids["queue_job_id"] = int(row["id"])
        page = Page(records=[RawRecord("jira_status", "3", JIRA_STATUS)], checkpoint={}, request={})
        [ids["raw_id"]] = await insert_raw_page(
            conn, tenant_id, ids["integration_id"], ids["run_id"], page
        )
        [ids["failed_queue_job_id"]] = await ops.enqueue(
            conn,
            [
                NewJob(
                    tenant_id=tenant_id, job_type="transform", payload={"raw_ids": [ids["raw_id"]]}
                )
            ],
        )
        cur = await conn.execute("SELECT id FROM etl_jobs ORDER BY execution_order LIMIT 1")
        row = await cur.fetchone()
        assert row is not None
        ids["job_id"] = int(row["id"])
    owner_rows(
        url,
        "UPDATE etl_job_queue SET status = 'failed', last_error = 'boom', completed_at = now() "
        "WHERE tenant_id = %s AND id = %s",
        (tenant_id, ids["failed_queue_job_id"]),
    )
    world.ids[tenant] = ids


async def build_world(url: str, home: Path) -> World:
    """Users, tokens, an integration, a run, queue jobs and raw data for WEX and Apple."""
    settings = load_settings({"SLUICE_HOME": str(home), "SLUICE_SECRET_KEY": SECRET_KEY})
    tenant_ids = {name: int(i) for name, i in owner_rows(url, "SELECT name, id FROM tenants")}
    world = World(url, settings, tenant_ids, {}, {})
    pool = await open_pool(url, max_size=2)
    try:
        for tenant in TENANTS:
            await _populate_tenant(
                pool, url, tenant, tenant_ids[tenant], CredentialCipher(SECRET_KEY), world
            )
    finally:
        await pool.close()
    return world


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[ClientFactory]:
    """Run the app's lifespan; yield a factory of clients (a bearer token, a client address)."""
    clients: list[httpx.AsyncClient] = []
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})  # what a server does for each request
            await app(scope, receive, send)

        def client(token: str | None = None, ip: str = "127.0.0.1") -> httpx.AsyncClient:
            transport = httpx.ASGITransport(
                app=with_state, raise_app_exceptions=False, client=(ip, 50000)
            )
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            made = httpx.AsyncClient(
                transport=transport, base_url="http://testserver", headers=headers
            )
            clients.append(made)
            return made

        try:
            yield client
        finally:
            for made in clients:
                await made.aclose()


async def session_client(
    client: ClientFactory, email: str, password: str = PASSWORD, ip: str = "127.0.0.1"
) -> httpx.AsyncClient:
    """A client logged in with a session cookie, sending the CSRF token on every request."""
    made = client(ip=ip)
    response = await made.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    made.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return made


@pytest.fixture(scope="module")
def web_db_url(server_url: str, template_url: str) -> Iterator[str]:
    """A migrated database for one test module, dropped afterwards."""
    with migrated_clone(server_url, "sluice_w") as url:
        yield url


@pytest.fixture(scope="module")
async def world(web_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    """The module's populated database."""
    return await build_world(web_db_url, tmp_path_factory.mktemp("web-home"))


@pytest.fixture(scope="module")
async def web(world: World) -> AsyncIterator[ClientFactory]:
    """The app over the module's database, with its lifespan running."""
    app = create_app(world.settings, database_url=world.url, metrics_token="m" * 40)
    async with serve(app) as client:
        yield client


def concrete_path(path: str, ids: dict[str, int]) -> str:
    """A route path with its {name} or {name:int} parameters replaced by `ids` (default 1)."""
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(ids.get(m.group(1), 1)), path)


def example_body(op: Operation) -> Any:
    """The first example of the operation's body schema (every body model documents one)."""
    if op.body is None:
        return None
    examples = op.body.model_json_schema().get("examples") or [{}]
    return examples[0]
