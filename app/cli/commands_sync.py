"""`sluice sync`, `sluice reprocess` and `sluice sandbox`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.cli.commands_queue import positive_int, tenant_by_name
from app.cli.errors import CommandError
from app.config import Settings
from app.db import Connection, connect, open_pool, resolve_database_url, tenant_transaction
from app.reprocess import ReprocessError, start_reprocess
from app.services import open_services
from app.sqlstore import query
from app.stages import close_vector_stores, default_handlers
from app.sync import SyncError, SyncRequest, start_sync
from app.transform.entities import ENTITY_TYPES
from workers.stage_worker import StageWorker, WorkerConfig

StartRun = Callable[[Connection, dict[str, Any]], Awaitable[int]]


def since_date(text: str) -> datetime:
    """An argparse type for YYYY-MM-DD (UTC)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def _follow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="show progress until the run ends; exit 0 only on success",
    )
    parser.add_argument(
        "--inline",
        action="store_true",
        help="run the stage workers in this process (implies --wait)",
    )
    parser.add_argument(
        "--concurrency", type=positive_int, default=4, help="jobs at once with --inline (default 4)"
    )


def register(commands: Any) -> None:
    """Add the sync, reprocess and sandbox commands."""
    sync = commands.add_parser("sync", help="start a sync for a tenant")
    sync.add_argument("--tenant", required=True, metavar="NAME")
    sync.add_argument("--integration", type=positive_int, metavar="ID")
    sync.add_argument("--jql", metavar="QUERY", help="a custom query for this sync only")
    sync.add_argument("--full", action="store_true", help="ignore the watermark: extract all")
    _follow_options(sync)
    sync.set_defaults(handler=run_sync)

    reprocess = commands.add_parser(
        "reprocess", help="re-transform and reload stored raw rows (no API calls)"
    )
    reprocess.add_argument("--tenant", required=True, metavar="NAME")
    reprocess.add_argument("--entity", choices=ENTITY_TYPES, help="only this raw entity type")
    reprocess.add_argument(
        "--since",
        type=since_date,
        metavar="DATE",
        help="only rows extracted on or after DATE (YYYY-MM-DD)",
    )
    reprocess.add_argument("--failed-only", action="store_true", help="only rows that failed")
    _follow_options(reprocess)
    reprocess.set_defaults(handler=run_reprocess)

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


async def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice sync`: start a run; with --wait/--inline follow it to its end."""

    async def start(tx: Connection, tenant: dict[str, Any]) -> int:
        try:
            return await start_sync(
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

    return await start_and_follow(args, settings, start)


async def run_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice reprocess`: re-transform stored raw rows; no request reaches the source."""

    async def start(tx: Connection, tenant: dict[str, Any]) -> int:
        try:
            run_id, count = await start_reprocess(
                tx, tenant["id"], entity=args.entity, since=args.since, failed_only=args.failed_only
            )
        except ReprocessError as exc:
            raise CommandError(str(exc)) from exc
        print(f"reprocessing {count} raw rows")
        return run_id

    return await start_and_follow(args, settings, start)


async def start_and_follow(args: argparse.Namespace, settings: Settings, start: StartRun) -> int:
    """Start a run in the tenant's transaction; with --wait/--inline follow it."""
    url = resolve_database_url(settings)
    conn = await connect(url)
    async with conn:
        tenant = await tenant_by_name(conn, args.tenant)
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        async with tenant_transaction(pool, tenant["id"]) as tx:
            run_id = await start(tx, tenant)
        print(f"started run {run_id} for {tenant['name']}", flush=True)
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
                await close_vector_stores()
    finally:
        await pool.close()


async def follow_run(
    pool: AsyncConnectionPool[Connection],
    tenant_id: int,
    run_id: int,
    worker_task: asyncio.Task[None] | None = None,
) -> int:
    """Print progress until the run ends; 0 when it finished, 1 otherwise."""
    tty = sys.stderr.isatty()
    last_print = 0.0
    while True:
        async with tenant_transaction(pool, tenant_id) as conn:
            run, progress = await run_state(conn, run_id)
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


async def run_state(
    conn: Connection, run_id: int
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The run row and its per-stage job counts."""
    cur = await conn.execute(query("run_get"), {"run_id": run_id})
    run = await cur.fetchone()
    if run is None:
        return None, []
    cur = await conn.execute(
        query("run_progress"), {"tenant_id": run["tenant_id"], "run_id": run_id}
    )
    return dict(run), [dict(r) for r in await cur.fetchall()]


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
