"""`sluice integration add|test|list`, `sluice sync` and `sluice sandbox`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from app.cli.commands_queue import positive_int, tenant_by_name
from app.cli.errors import CommandError
from app.config import Settings
from app.crypto import CredentialCipher, CredentialError
from app.db import (
    Connection,
    connect,
    open_pool,
    resolve_database_url,
    set_tenant,
    tenant_transaction,
)
from app.integrations.base import IntegrationError
from app.integrations.registry import PROVIDERS, provider_for
from app.integrations.store import add_integration, config_from_row
from app.services import open_services
from app.sqlstore import query
from app.stages import default_handlers
from app.sync import SyncError, SyncRequest, start_sync
from workers.stage_worker import StageWorker, WorkerConfig


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

    sync = commands.add_parser("sync", help="start a sync for a tenant")
    sync.add_argument("--tenant", required=True, metavar="NAME")
    sync.add_argument("--integration", type=positive_int, metavar="ID")
    sync.add_argument("--jql", metavar="QUERY", help="a custom query for this sync only")
    sync.add_argument("--full", action="store_true", help="ignore the watermark: extract all")
    sync.add_argument(
        "--wait",
        action="store_true",
        help="show progress until the run ends; exit 0 only on success",
    )
    sync.add_argument(
        "--inline",
        action="store_true",
        help="run the stage workers in this process (implies --wait)",
    )
    sync.add_argument(
        "--concurrency", type=positive_int, default=4, help="jobs at once with --inline (default 4)"
    )
    sync.set_defaults(handler=run_sync)

    sandbox = commands.add_parser("sandbox", help="run the sandbox Jira and GitHub servers")
    sandbox.add_argument("--issues", type=positive_int, default=3000)
    sandbox.add_argument(
        "--port",
        type=positive_int,
        default=8800,
        help="Jira on PORT, GitHub on PORT+1 (default 8800)",
    )
    sandbox.add_argument("--faults", metavar="SPEC", help="e.g. 5xx=0.1,429=0.05,truncate=0.01")
    sandbox.add_argument("--seed", type=int, default=42)
    sandbox.set_defaults(handler=run_sandbox)


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
        try:
            message = await provider_for(integration, services.http).validate_connection()
        except IntegrationError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    print(f"OK: {message}")
    return 0


async def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice sync`: start a run; with --wait/--inline follow it to its end."""
    url = resolve_database_url(settings)
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        conn = await connect(url)
        async with conn:
            tenant = await tenant_by_name(conn, args.tenant)
        async with tenant_transaction(pool, tenant["id"]) as tx:
            try:
                run_id = await start_sync(
                    tx,
                    SyncRequest(
                        tenant_id=tenant["id"],
                        integration_id=args.integration,
                        trigger="cli",
                        triggered_by="cli",
                        custom_query=args.jql,
                        full=args.full,
                    ),
                )
            except SyncError as exc:
                raise CommandError(str(exc)) from exc
        print(f"started run {run_id} for {tenant['name']}")
        if not (args.wait or args.inline):
            return 0
        if not args.inline:
            return await follow_run(pool, tenant["id"], run_id)
        async with open_services(settings) as services:
            worker = StageWorker(
                url,
                default_handlers(),
                WorkerConfig(concurrency=args.concurrency, poll_interval=0.5),
                services=services,
            )
            work = asyncio.create_task(worker.run(install_signal_handlers=False))
            try:
                return await follow_run(pool, tenant["id"], run_id, worker_task=work)
            finally:
                worker.stop()
                await work
    finally:
        await pool.close()


async def follow_run(
    pool: Any, tenant_id: int, run_id: int, worker_task: asyncio.Task[None] | None = None
) -> int:
    """Print progress until the run ends; 0 when it finished, 1 otherwise."""
    tty = sys.stderr.isatty()
    last_print = 0.0
    while True:
        async with tenant_transaction(pool, tenant_id) as conn:
            run, progress = await _run_state(conn, run_id)
        line = progress_line(run_id, progress)
        if tty:
            print("\r" + line.ljust(100), end="", file=sys.stderr, flush=True)
        elif time.monotonic() - last_print > 5:
            print(line, file=sys.stderr, flush=True)
            last_print = time.monotonic()
        if run is None or run["status"] != "running":
            break
        if worker_task is not None and worker_task.done():
            worker_task.result()  # surface a crashed in-process worker
            raise CommandError("the in-process worker stopped before the run ended")
        await asyncio.sleep(0.5)
    if tty:
        print(file=sys.stderr)
    status = run["status"] if run else "missing"
    if status == "finished":
        print(f"run {run_id} finished")
        return 0
    error = (run or {}).get("error_message") or ""
    print(f"run {run_id} {status}: {error}".rstrip(": "), file=sys.stderr)
    return 1


async def _run_state(
    conn: Connection, run_id: int
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    cur = await conn.execute(query("run_get"), {"run_id": run_id})
    run = await cur.fetchone()
    cur = await conn.execute(
        query("run_progress"), {"tenant_id": run["tenant_id"] if run else 0, "run_id": run_id}
    )
    return (dict(run) if run else None), [dict(r) for r in await cur.fetchall()]


def progress_line(run_id: int, progress: list[dict[str, Any]]) -> str:
    """`run 7 · extract 3/3 (2,400 records) · transform 20/24 · load 18/20`."""
    parts = [f"run {run_id}"]
    for stage in ("extract", "transform", "load", "vectorize"):
        rows = [r for r in progress if r["job_type"] == stage]
        if not rows:
            continue
        total = sum(r["jobs"] for r in rows)
        done = sum(r["jobs"] for r in rows if r["status"] == "completed")
        failed = sum(r["jobs"] for r in rows if r["status"] == "failed")
        text = f"{stage} {done}/{total}"
        if stage == "extract":
            text += f" ({sum(r['records'] for r in rows):,} records)"
        if failed:
            text += f" [{failed} failed]"
        parts.append(text)
    return " · ".join(parts)


async def run_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice sandbox`: serve the sandbox Jira and GitHub until Ctrl-C."""
    from app.sandbox import serve

    try:
        serve(issues=args.issues, port=args.port, faults=args.faults, seed=args.seed)
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    return 0
