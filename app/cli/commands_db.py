"""`sluice migrate` and `sluice db …`: the database and its schema."""

from __future__ import annotations

import argparse
from typing import Any

from app.config import Settings
from app.db import connect, resolve_database_url
from app.embedded_pg import stop_embedded_server
from app.schema_dump import dump_schema
from migrations import runner


def register(commands: Any) -> None:
    """Add the database commands to the command tree."""
    migrate = commands.add_parser("migrate", help="apply, list, roll back or drop migrations")
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--apply-all", action="store_true", help="apply pending migrations (default)")
    mode.add_argument("--status", action="store_true", help="list migrations and when applied")
    mode.add_argument("--drop-all", action="store_true", help="drop every table (disposable db)")
    mode.add_argument(
        "--rollback-to",
        type=int,
        metavar="N",
        help="roll back the migrations numbered above N (0: all)",
    )
    migrate.set_defaults(handler=run_migrate)

    db = commands.add_parser("db", help="the database in use")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("url", help="print the connection URL in use").set_defaults(
        handler=run_db_url
    )
    db_commands.add_parser("stop", help="stop the embedded PostgreSQL server").set_defaults(
        handler=run_db_stop
    )
    db_commands.add_parser("schema", help="print the schema as migrations build it").set_defaults(
        handler=run_db_schema
    )


async def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice migrate`."""
    url = resolve_database_url(settings)
    conn = await connect(url, autocommit=True)
    async with conn:
        if args.status:
            for line in await runner.status(conn):
                when = line.applied_at or "pending"
                print(f"{line.component:<14} {line.version:<8} {line.name:<28} {when}")
        elif args.drop_all:
            await runner.drop_all(conn)
        elif args.rollback_to is not None:
            count = await runner.rollback_to(conn, args.rollback_to)
            print(f"rolled back {count} migration(s)")
        else:
            count = await runner.apply_all(conn)
            print("database is up to date" if count == 0 else f"applied {count} migration(s)")
    return 0


async def run_db_url(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice db url`: the URL that psql and other tools can use."""
    print(resolve_database_url(settings))
    return 0


async def run_db_stop(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice db stop`."""
    if settings.database_url:
        print("DATABASE_URL is set: Sluice does not manage that server")
        return 1
    stopped = stop_embedded_server(settings.home)
    print(
        "stopped the embedded PostgreSQL" if stopped else "the embedded PostgreSQL is not running"
    )
    return 0


async def run_db_schema(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice db schema`: a stable text dump of Sluice's schema (tests compare it)."""
    conn = await connect(resolve_database_url(settings), autocommit=True)
    async with conn:
        print(await dump_schema(conn), end="")
    return 0
