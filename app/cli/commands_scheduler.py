"""`sluice scheduler` and `sluice tick`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from typing import Any

import croniter

from app.cli.commands_queue import positive_float
from app.config import Settings
from app.db import open_pool, resolve_database_url
from app.orchestrator.tick import TickResult, tick
from workers.scheduler import Scheduler, SchedulerConfig


def cron(text: str) -> str:
    """An argparse type for a cron string (5 fields, or 6 with seconds)."""
    if not croniter.croniter.is_valid(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a cron expression like '* * * * *'")
    return text


def iso_time(text: str) -> datetime:
    """An argparse type for an ISO 8601 time (UTC when it has no offset)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like 2026-01-31T09:30:00+00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(commands: Any) -> None:
    """Add the scheduler and tick commands."""
    scheduler = commands.add_parser(
        "scheduler", help="run the periodic tasks: orchestrator tick, stalled-job rescue, retention"
    )
    scheduler.add_argument(
        "--tick-cron",
        type=cron,
        metavar="CRON",
        default="* * * * *",
        help="when the orchestrator ticks (default every minute)",
    )
    scheduler.add_argument(
        "--rescue-cron",
        type=cron,
        metavar="CRON",
        default="* * * * *",
        help="when stalled queue jobs are rescued (default every minute)",
    )
    scheduler.add_argument(
        "--retention-cron",
        type=cron,
        metavar="CRON",
        default="17 * * * *",
        help="when each tenant's retention is applied (default hourly, at :17)",
    )
    scheduler.add_argument(
        "--stall-timeout",
        type=positive_float,
        metavar="SECONDS",
        default=60.0,
        help="seconds without heartbeat before a running queue job is rescued (default 60)",
    )
    scheduler.set_defaults(handler=run_scheduler)

    one = commands.add_parser("tick", help="run one orchestrator tick now and print what started")
    one.add_argument(
        "--now",
        type=iso_time,
        metavar="TIME",
        help="decide as if it were this ISO 8601 time (default: the database clock)",
    )
    one.add_argument("--json", action="store_true", help="print one JSON object")
    one.set_defaults(handler=run_tick)


async def run_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice scheduler`: serve the periodic tasks until SIGTERM or Ctrl-C."""
    config = SchedulerConfig(
        tick_cron=args.tick_cron,
        rescue_cron=args.rescue_cron,
        retention_cron=args.retention_cron,
        stall_timeout=args.stall_timeout,
    )
    scheduler = Scheduler(resolve_database_url(settings), config)
    # procrastinate reports every deferred and finished task at INFO: keep that for DEBUG.
    if settings.log_level != "DEBUG":
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, scheduler.stop)
    await scheduler.run()
    return 0


async def run_tick(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice tick`: one orchestrator pass over every tenant."""
    pool = await open_pool(resolve_database_url(settings), min_size=1, max_size=2)
    try:
        result = await tick(pool, args.now)
    finally:
        await pool.close()
    if args.json:
        print(json.dumps(tick_json(result)))
    else:
        for line in tick_lines(result):
            print(line)
    return 1 if result.errors else 0


def tick_json(result: TickResult) -> dict[str, Any]:
    """The tick's outcome as plain JSON."""
    return {
        "now": result.now.isoformat(),
        "started": [
            {
                "tenant": result.names[s.tenant_id],
                "tenant_id": s.tenant_id,
                "etl_job_id": s.etl_job_id,
                "job": s.job_name,
                "run_id": s.run_id,
                "resumed_from_run_id": s.resumed_from_run_id,
            }
            for s in result.started
        ],
        "skipped": {result.names[k]: v for k, v in result.skipped.items()},
        "errors": {result.names[k]: v for k, v in result.errors.items()},
    }


def tick_lines(result: TickResult) -> list[str]:
    """The tick's outcome, one line per tenant that did something."""
    lines = []
    for s in result.started:
        resumed = f", resuming run {s.resumed_from_run_id}" if s.resumed_from_run_id else ""
        lines.append(f"{result.names[s.tenant_id]}: started {s.job_name} (run {s.run_id}{resumed})")
    for tenant_id, reason in sorted(result.skipped.items()):
        lines.append(f"{result.names[tenant_id]}: skipped ({reason})")
    for tenant_id, error in sorted(result.errors.items()):
        lines.append(f"{result.names[tenant_id]}: error: {error}")
    if not result.started:
        lines.append(f"nothing was due at {result.now.isoformat(timespec='seconds')}")
    return lines
