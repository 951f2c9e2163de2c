"""Entry point of the `sluice` command: parses arguments and dispatches to a command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import uvloop

from app.cli import (
    commands_db,
    commands_demo,
    commands_integration,
    commands_queue,
    commands_scheduler,
    commands_search,
    commands_sync,
    commands_web,
)
from app.cli.errors import CLI_ERRORS, CommandError
from app.config import ConfigError, load_settings
from app.logging import configure_logging


class SluiceArgumentParser(argparse.ArgumentParser):
    """argparse with a pointer to --help in every usage error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nRun '{self.prog} --help' for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    parser = SluiceArgumentParser(
        prog="sluice", description="Postgres-native multi-tenant ETL for engineering data."
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=SluiceArgumentParser
    )
    commands_db.register(commands)
    commands_queue.register(commands)
    commands_integration.register(commands)
    commands_sync.register(commands)
    commands_demo.register(commands)
    commands_search.register(commands)
    commands_scheduler.register(commands)
    commands_web.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `sluice` command and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"sluice: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        # `sluice web` serves many streaming clients: it runs on uvloop (libuv).
        loop_factory = uvloop.new_event_loop if getattr(args, "uvloop", False) else None
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            result = runner.run(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:
        print(f"sluice: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except CLI_ERRORS as exc:
        print(f"sluice: error: {exc}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
