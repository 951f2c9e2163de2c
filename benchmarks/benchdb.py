"""The benchmarks' own databases: created on the server in use, migrated, dropped after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

from psycopg import sql

from app.db import connect
from migrations import runner


def database_url_for(server_url: str, dbname: str) -> str:
    """The same server's URL pointed at another database."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{dbname}"))


async def admin_execute(server_url: str, statement: sql.Composed) -> None:
    """Run one statement in the server's `postgres` database (CREATE/DROP DATABASE)."""
    conn = await connect(database_url_for(server_url, "postgres"), autocommit=True)
    async with conn:
        await conn.execute(statement)


@asynccontextmanager
async def migrated_database(
    server_url: str, prefix: str, say: Callable[[str], None]
) -> AsyncIterator[str]:
    """A new database built by the migrations; dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await admin_execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    say(f"created database {name}")
    try:
        url = database_url_for(server_url, name)
        conn = await connect(url, autocommit=True)
        async with conn:
            await runner.apply_all(conn, report=lambda _line: None)
        say("applied the migrations")
        yield url
    finally:
        await admin_execute(
            server_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        )
        say(f"dropped database {name}")
