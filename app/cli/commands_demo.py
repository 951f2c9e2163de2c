"""`sluice demo`: the one command that shows the product."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.commands_queue import positive_int
from app.config import Settings
from app.demo import DemoOptions, run_demo


def register(commands: Any) -> None:
    """Add the demo command."""
    demo = commands.add_parser("demo", help="run everything with sandbox data, then sync")
    demo.add_argument(
        "--issues", type=positive_int, default=2000, help="sandbox issues (default 2,000)"
    )
    demo.add_argument(
        "--port", type=positive_int, default=8000, help="port of the web dashboard (default 8000)"
    )
    demo.add_argument("--concurrency", type=positive_int, default=4)
    demo.set_defaults(handler=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice demo`."""
    options = DemoOptions(issues=args.issues, concurrency=args.concurrency, port=args.port)
    return await run_demo(settings, options)
