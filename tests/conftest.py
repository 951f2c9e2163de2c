"""Shared fixtures: a real PostgreSQL in three tiers (see STYLE.md).

1. `db`: a connection inside a transaction that is rolled back after the test.
2. `fresh_db_url`: a new database cloned from the migrated template, dropped afterwards.
3. `run_sluice`: the real `sluice` CLI as a subprocess against a database of the test's.

The server is DATABASE_URL's when set, else an embedded one in `.sluice-test/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from app.db import Connection, set_tenant
from app.embedded_pg import ensure_embedded_server

ROOT = Path(__file__).resolve().parent.parent
TEST_HOME = ROOT / ".sluice-test"
# Per pytest process, so that two sessions on one server never drop each other's databases.
TEMPLATE_DB = f"sluice_test_template_{os.getpid()}"
SHARED_DB = f"sluice_test_{os.getpid()}"


def database_url_for(server_url: str, dbname: str) -> str:
    """The same server's URL pointed at another database."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="session")
def server_url() -> str:
    """A PostgreSQL server the tests may create databases on."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    TEST_HOME.mkdir(exist_ok=True)
    return ensure_embedded_server(TEST_HOME)


def _admin_execute(server_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(database_url_for(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def _create_from_template(server_url: str, name: str, template: str) -> str:
    _admin_execute(
        server_url,
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        ),
    )
    return database_url_for(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    _admin_execute(
        server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


@contextmanager
def migrated_clone(server_url: str, prefix: str) -> Iterator[str]:
    """A new database cloned from the migrated template, dropped on leaving."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = _create_from_template(server_url, name, TEMPLATE_DB)
    try:
        yield url
    finally:
        _drop_database(server_url, name)


@pytest.fixture(scope="session")
def template_url(server_url: str) -> Iterator[str]:
    """A database built once per session by the real migrations (the clone source)."""
    import asyncio

    from app.db import connect
    from migrations import runner

    _drop_database(server_url, TEMPLATE_DB)
    _admin_execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
    url = database_url_for(server_url, TEMPLATE_DB)

    async def migrate() -> None:
        conn = await connect(url, autocommit=True)
        async with conn:
            await runner.apply_all(conn, report=lambda _line: None)

    asyncio.run(migrate())
    yield url
    _drop_database(server_url, TEMPLATE_DB)


@pytest.fixture(scope="session")
def shared_db_url(server_url: str, template_url: str) -> Iterator[str]:
    """One migrated database for the rolled-back tier-1 tests."""
    _drop_database(server_url, SHARED_DB)
    yield _create_from_template(server_url, SHARED_DB, TEMPLATE_DB)
    _drop_database(server_url, SHARED_DB)


@pytest.fixture
async def db(shared_db_url: str) -> AsyncIterator[Connection]:
    """Tier 1: a connection as the database owner in a transaction rolled back at the end."""
    conn = await psycopg.AsyncConnection.connect(shared_db_url, row_factory=dict_row)
    try:
        async with conn.transaction(force_rollback=True):
            yield conn
    finally:
        await conn.close()


@pytest.fixture
def fresh_db_url(server_url: str, template_url: str) -> Iterator[str]:
    """Tier 2: a new migrated database for multi-connection tests, dropped afterwards."""
    with migrated_clone(server_url, "sluice_t") as url:
        yield url


@pytest.fixture
def empty_db_url(server_url: str) -> Iterator[str]:
    """Tier 2/3: a new, empty database (no migrations applied)."""
    name = f"sluice_e_{uuid.uuid4().hex[:12]}"
    _admin_execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url_for(server_url, name)
    finally:
        _drop_database(server_url, name)


SluiceRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_sluice(tmp_path: Path) -> SluiceRunner:
    """Tier 3: run the real `sluice` CLI in a subprocess and capture its output."""

    def run(
        *args: str,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SLUICE_HOME")}
        full_env["SLUICE_HOME"] = str(tmp_path / "sluice-home")
        full_env["SLUICE_LOG_FORMAT"] = "json"
        if database_url:
            full_env["DATABASE_URL"] = database_url
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "app.cli.main", *args],
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


async def as_tenant(conn: Connection, tenant_id: int | None) -> None:
    """Within the current transaction, act as the application role for one tenant (or none)."""
    await conn.execute("SET LOCAL ROLE sluice_app")
    if tenant_id is not None:
        await set_tenant(conn, tenant_id)


async def tenant_ids(conn: Connection) -> dict[str, int]:
    """Seeded tenants by name (read as the owner)."""
    cur = await conn.execute("SELECT name, id FROM tenants")
    return {row["name"]: row["id"] for row in await cur.fetchall()}
