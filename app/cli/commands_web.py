"""`sluice web`: the dashboard, JSON API, health and metrics (uvicorn in this event loop)."""

from __future__ import annotations

import argparse
import os
import resource
import signal
from types import FrameType
from typing import Any

import structlog

from app.cli.errors import CommandError
from app.config import Settings

log = structlog.get_logger("sluice.web")

METRICS_TOKEN_ENV = "SLUICE_METRICS_TOKEN"  # noqa: S105 - a variable name
OPEN_FILES_WITHOUT_HARD_LIMIT = 65_536


def default_port() -> int:
    """$PORT (as PaaS platforms set it) or 8000."""
    value = os.environ.get("PORT", "")
    return int(value) if value.isdigit() else 8000


def default_host() -> str:
    """All interfaces when a PaaS assigns $PORT (its router must reach us), else loopback."""
    return "0.0.0.0" if os.environ.get("PORT") else "127.0.0.1"  # noqa: S104 - PaaS only


def open_files_target(soft: int, hard: int) -> int | None:
    """The soft RLIMIT_NOFILE to serve with, or None to keep `soft`.

    Every live dashboard holds a socket, and a shell's usual soft limit of 1,024 would
    refuse connections at about a thousand of them; the hard limit is what we may use."""
    if soft == resource.RLIM_INFINITY:
        return None
    target = hard if hard != resource.RLIM_INFINITY else OPEN_FILES_WITHOUT_HARD_LIMIT
    return target if target > soft else None


def raise_open_files_limit() -> None:
    """Raise this process's soft open-files limit to its hard limit (see open_files_target)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = open_files_target(soft, hard)
    if target is not None:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open files limit", soft=soft, error=str(exc))


def register(commands: Any) -> None:
    """Add the web command to the command tree."""
    web = commands.add_parser("web", help="serve the dashboard, the JSON API and /metrics")
    web.add_argument(
        "--host",
        default=default_host(),
        help="address to listen on (default 127.0.0.1, or 0.0.0.0 when $PORT is set)",
    )
    web.add_argument(
        "--port", type=int, default=default_port(), help="port (default $PORT or 8000)"
    )
    web.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        metavar="IPS",
        help="proxies whose X-Forwarded-For/-Proto are trusted "
        "(default $FORWARDED_ALLOW_IPS or 127.0.0.1; '*' behind a PaaS router)",
    )
    web.set_defaults(handler=run_web, uvloop=True)


async def run_web(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM."""
    import uvicorn

    from app.live.server import LiveEventsServer
    from app.web.app import create_app

    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port (1-65535)", exit_code=2)
    metrics_token = os.environ.get(METRICS_TOKEN_ENV) or None
    if metrics_token is not None and len(metrics_token) < 32:
        raise CommandError(f"{METRICS_TOKEN_ENV} must be at least 32 characters long", exit_code=2)
    raise_open_files_limit()
    app = create_app(settings, metrics_token=metrics_token)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        http="httptools",  # writes each event's chunk straight to the socket
        loop="none",  # the command's loop (uvloop) is already running
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    # uvicorn re-raises the signal that stopped it once it has shut down; a SIGTERM (a PaaS
    # stopping the dyno) is then a clean exit with status 0, not a death by signal.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        await LiveEventsServer(config, lambda: getattr(app.state, "live_hub", None)).serve()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM after uvicorn's graceful shutdown: nothing left to do."""
