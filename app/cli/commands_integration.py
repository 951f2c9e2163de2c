"""`sluice integration add|test|list`, `sluice sync` and `sluice sandbox`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.commands_queue import positive_int, tenant_by_name
from app.cli.errors import CommandError
from app.config import Settings
from app.crypto import CredentialCipher, CredentialError
from app.db import (
    connect,
    resolve_database_url,
    set_tenant,
)
from app.integrations.base import IntegrationError
from app.integrations.registry import PROVIDERS, check_connection
from app.integrations.store import add_integration, config_from_row
from app.services import open_services
from app.sqlstore import query


def register(commands: Any) -> None:
    """Add the integration, sync and sandbox commands."""
    integration = commands.add_parser("integration", help="add and test integrations")
    actions = integration.add_subparsers(
        dest="integration_command", required=True, metavar="ACTION"
    )
    add = actions.add_parser("add", help="add an integration (prints its id last)")
    add.add_argument("--tenant", required=True, metavar="NAME")
    add.add_argument("--provider", required=True, choices=sorted(PROVIDERS))
    add.add_argument("--base-url", required=True, metavar="URL")
    add.add_argument("--token", required=True, help="API token (stored encrypted)")
    add.add_argument("--username", help="Jira Cloud: the account email for basic auth")
    add.add_argument(
        "--base-search",
        metavar="TEXT",
        help="Jira: a JQL fragment; GitHub: a repository query such as org:acme",
    )
    add.add_argument("--name", help="a display name (default: provider and host)")
    add.set_defaults(handler=run_integration_add)
    test = actions.add_parser("test", help="check an integration's URL and credentials")
    test.add_argument("id", type=positive_int)
    test.set_defaults(handler=run_integration_test)


async def run_integration_add(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice integration add`."""
    cipher = CredentialCipher(settings.secret_key)
    conn = await connect(resolve_database_url(settings))
    async with conn:
        tenant = await tenant_by_name(conn, args.tenant)
        async with conn.transaction():
            await conn.execute(query("session_set_app_role"))
            await set_tenant(conn, tenant["id"])
            try:
                new_id = await add_integration(
                    conn,
                    cipher,
                    tenant_id=tenant["id"],
                    provider=args.provider,
                    base_url=args.base_url,
                    token=args.token,
                    username=args.username,
                    base_search=args.base_search,
                    name=args.name,
                )
            except IntegrationError as exc:
                raise CommandError(str(exc), exit_code=2) from exc
    print(f"added {args.provider} integration for {tenant['name']}")
    print(new_id)
    return 0


async def run_integration_test(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice integration test ID`: exit 0 when the connection works."""
    conn = await connect(resolve_database_url(settings), autocommit=True)
    async with conn:
        await conn.execute("SET ROLE sluice_system")
        cur = await conn.execute(query("integration_get"), {"id": args.id})
        row = await cur.fetchone()
    if row is None:
        raise CommandError(f"integration {args.id} does not exist")
    try:
        integration = config_from_row(row, CredentialCipher(settings.secret_key))
    except CredentialError as exc:
        raise CommandError(str(exc)) from exc
    async with open_services(settings) as services:
        ok, message = await check_connection(integration, services.http)
    if not ok:
        print(f"FAILED: {message}", file=sys.stderr)
        return 1
    print(f"OK: {message}")
    return 0
