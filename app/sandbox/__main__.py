"""Command line: python -m app.sandbox [--issues N] [--port P] [--faults SPEC] [--seed S]."""

from __future__ import annotations

import argparse
import sys

from app.sandbox.access import DEFAULT_TOKEN
from app.sandbox.faults import SPEC_EXAMPLE, FaultSpec
from app.sandbox.server import DEFAULT_PORT, serve


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve the sandbox until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="sluice sandbox",
        description="Serve the sandbox Jira on PORT and the sandbox GitHub on PORT+1.",
    )
    parser.add_argument("--issues", type=int, default=3_000, help="issues to generate")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Jira port; GitHub is +1")
    parser.add_argument("--faults", default="", help=f"fault spec, e.g. {SPEC_EXAMPLE}")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    parser.add_argument("--repos", type=int, default=6, help="GitHub repositories")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the token both servers accept")
    args = parser.parse_args(argv)
    try:
        spec = FaultSpec.parse(args.faults)
    except ValueError as exc:
        parser.error(str(exc))
    serve(args.issues, args.port, spec, args.seed, repos=args.repos, token=args.token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
