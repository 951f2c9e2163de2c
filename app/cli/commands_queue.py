"""`sluice worker` and `sluice queue stats`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.cli.errors import CommandError
from app.config import Settings
from app.db import Connection, connect, resolve_database_url
from app.queue.model import JOB_TYPES, TIERS, QueueError
from app.queue.ops import ClaimScope
from app.services import open_services
from app.sqlstore import query
from app.stages import HandlerLoadError, close_vector_stores, load_handlers
from workers.stage_worker import StageWorker, WorkerConfig


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def stage_list(text: str) -> tuple[str, ...]:
    stages = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in stages if s not in JOB_TYPES]
    if unknown or not stages:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(unknown) or '(none)'}: use {','.join(JOB_TYPES)}"
        )
    return stages


def register(commands: Any) -> None:
    """Add the queue commands to the command tree."""
    worker = commands.add_parser("worker", help="run an etl_job_queue stage worker")
    worker.add_argument(
        "--stages",
        type=stage_list,
        default=JOB_TYPES,
        help="comma-separated stages to serve (default: all)",
    )
    who = worker.add_mutually_exclusive_group()
    who.add_argument("--tenant", metavar="NAME", help="a dedicated worker for one tenant")
    who.add_argument("--tier", choices=TIERS, help="serve only tenants of this tier")
    worker.add_argument(
        "--concurrency", type=positive_int, default=10, help="jobs run at once (default 10)"
    )
    worker.add_argument(
        "--batch-size",
        type=positive_int,
        default=100,
        help="most jobs claimed per round trip (default 100)",
    )
    worker.add_argument(
        "--poll-interval",
        type=positive_float,
        default=2.0,
        help="seconds between claims when no NOTIFY arrives (default 2)",
    )
    worker.add_argument("--heartbeat-interval", type=positive_float, default=5.0)
    worker.add_argument(
        "--stall-timeout",
        type=positive_float,
        default=30.0,
        help="seconds without heartbeat before a job is rescued (default 30)",
    )
    worker.add_argument(
        "--shutdown-grace",
        type=positive_float,
        default=20.0,
        help="seconds in-flight jobs get to finish on SIGTERM (default 20)",
    )
    worker.add_argument(
        "--handlers",
        metavar="MODULE:NAME",
        help="load stage handlers from here instead of the built-in ones",
    )
    worker.set_defaults(handler=run_worker)

    queue = commands.add_parser("queue", help="inspect the job queue")
    actions = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    stats = actions.add_parser("stats", help="counts, oldest pending age, dead letters, throughput")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(handler=run_queue_stats)


async def tenant_by_name(conn: Connection, name: str) -> dict[str, Any]:
    """The tenant row for a name (case-insensitive), or a clear error."""
    await conn.execute("SET ROLE sluice_system")
    cur = await conn.execute(query("tenant_id_by_name"), {"name": name})
    row = await cur.fetchone()
    await conn.execute("RESET ROLE")
    if row is None:
        cur = await conn.execute("SET ROLE sluice_system")
        cur = await conn.execute("SELECT string_agg(name, ', ' ORDER BY id) AS names FROM tenants")
        names = await cur.fetchone()
        await conn.execute("RESET ROLE")
        raise CommandError(f"no tenant named {name!r}; known tenants: {names and names['names']}")
    return dict(row)


async def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice worker`: serve the queue until SIGTERM."""
    url = resolve_database_url(settings)
    try:
        handlers = load_handlers(args.handlers)
    except HandlerLoadError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    missing = [s for s in args.stages if s not in handlers]
    if len(missing) == len(args.stages):
        raise CommandError(f"no handler is available for stage(s) {', '.join(missing)}")
    tenant_id = None
    if args.tenant:
        conn = await connect(url, autocommit=True)
        async with conn:
            tenant_id = (await tenant_by_name(conn, args.tenant))["id"]
    try:
        scope = ClaimScope(job_types=tuple(args.stages), tenant_id=tenant_id, tier=args.tier)
    except QueueError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    config = WorkerConfig(
        scope=scope,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        poll_interval=args.poll_interval,
        heartbeat_interval=args.heartbeat_interval,
        stall_timeout=args.stall_timeout,
        shutdown_grace=args.shutdown_grace,
    )
    async with open_services(settings) as services:
        try:
            await StageWorker(url, handlers, config, services=services).run()
        finally:
            await close_vector_stores()
    return 0


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


async def run_queue_stats(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice queue stats`: the queue views, as a table or JSON."""
    conn = await connect(resolve_database_url(settings), autocommit=True)
    async with conn:
        await conn.execute("SET ROLE sluice_system")
        sections = {}
        for name, sql_name, params in (
            ("overview", "queue_overview_all", {}),
            ("failed", "queue_failed_recent", {"limit": 20}),
            ("throughput", "queue_throughput_recent", {}),
        ):
            cur = await conn.execute(query(sql_name), params)
            sections[name] = [
                {k: _plain(v) for k, v in row.items()} for row in await cur.fetchall()
            ]
    if args.json:
        print(json.dumps(sections))
        return 0
    print_table(
        "Queue (by tenant, stage, status)",
        sections["overview"],
        ["tenant", "job_type", "status", "jobs", "oldest_pending_s"],
    )
    print_table(
        "Dead letters (latest 20)",
        sections["failed"],
        ["tenant", "id", "job_type", "retry_count", "failed_at", "last_error"],
    )
    print_table(
        "Completions per minute (last hour)",
        sections["throughput"],
        ["minute", "tenant", "job_type", "completed"],
    )
    return 0


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned text table."""
    print(title)
    if not rows:
        print("  (none)\n")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    print()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
