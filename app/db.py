"""Connections, pools and the tenant and system transaction helpers.

Application code never touches tenant rows outside `tenant_transaction` (row-level
security keyed on `app.tenant_id`, as the role `sluice_app`) or the few, named
cross-tenant operations that run in `system_transaction` (as `sluice_system`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.embedded_pg import ensure_embedded_server
from app.sqlstore import query

APP_ROLE = "sluice_app"
SYSTEM_ROLE = "sluice_system"

Connection = psycopg.AsyncConnection[DictRow]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def json_dumps(value: Any) -> bytes:
    """JSON for jsonb parameters (orjson: datetimes as RFC 3339)."""
    return orjson.dumps(value, default=_json_default)


def use_fast_json(conn: psycopg.AsyncConnection[Any]) -> None:
    """Serialise and parse jsonb with orjson on this connection."""
    set_json_dumps(json_dumps, context=conn)
    set_json_loads(orjson.loads, context=conn)


class DatabaseUnavailableError(Exception):
    """The database cannot be reached with the configured URL."""


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when set, else the embedded server's URL (starting it if needed)."""
    if settings.database_url:
        return settings.database_url
    return ensure_embedded_server(settings.home)


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> Connection:
    """Open one connection as the URL's own user (migrations, LISTEN, admin tasks)."""
    try:
        conn = await psycopg.AsyncConnection.connect(
            url, autocommit=autocommit, row_factory=dict_row, connect_timeout=10, **kwargs
        )
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseUnavailableError(
            f"cannot connect to PostgreSQL at {redact_url(url)}: {reason}. "
            "Check DATABASE_URL (unset it to use the embedded server)."
        ) from exc
    use_fast_json(conn)
    return conn


async def _configure_app_connection(conn: Connection) -> None:
    """Pool connections act as the row-level-security role from their first statement."""
    use_fast_json(conn)
    await conn.set_autocommit(True)
    await conn.execute(query("session_set_app_role"))
    await conn.set_autocommit(False)


def create_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, name: str = "sluice"
) -> AsyncConnectionPool[Connection]:
    """A connection pool whose connections act as `sluice_app`; open it with `await pool.open()`.

    Each connection is checked (one empty round trip) before it is handed out: after a
    database restart the pool's idle connections are all dead, and without the check every
    caller would draw one in turn (a queue job would spend its retries on them)."""
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        check=AsyncConnectionPool.check_connection,
        configure=_configure_app_connection,
        kwargs={"row_factory": dict_row, "connect_timeout": 10},
        connection_class=psycopg.AsyncConnection[DictRow],
    )


async def open_pool(url: str, **kwargs: Any) -> AsyncConnectionPool[Connection]:
    """Create and open a pool, turning an unreachable server into a clear error."""
    await (await connect(url)).close()  # fail fast with a readable message
    pool = create_pool(url, **kwargs)
    await pool.open(wait=True, timeout=30)
    return pool


@asynccontextmanager
async def tenant_transaction(
    pool: AsyncConnectionPool[Connection], tenant_id: int
) -> AsyncIterator[Connection]:
    """A transaction that sees and writes only `tenant_id`'s rows."""
    async with pool.connection() as conn, conn.transaction():
        await set_tenant(conn, tenant_id)
        yield conn


async def set_tenant(conn: Connection, tenant_id: int) -> None:
    """Bind the current transaction to one tenant (row-level security reads this)."""
    await conn.execute(query("session_set_tenant"), {"tenant_id": str(int(tenant_id))})


@asynccontextmanager
async def system_transaction(pool: AsyncConnectionPool[Connection]) -> AsyncIterator[Connection]:
    """A cross-tenant transaction for the named system operations (claims, orchestrator)."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(query("session_set_system_role"))
        yield conn
