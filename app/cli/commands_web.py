"""`sluice web`: the dashboard, JSON API, health and metrics (uvicorn in this event loop)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from app.cli.errors import CommandError
from app.config import Settings

METRICS_TOKEN_ENV = "SLUICE_METRICS_TOKEN"  # noqa: S105 - a variable name


def default_port() -> int:
    """$PORT (as PaaS platforms set it) or 8000."""
    value = os.environ.get("PORT", "")
    return int(value) if value.isdigit() else 8000


def register(commands: Any) -> None:
    """Add the web command to the command tree."""
    web = commands.add_parser("web", help="serve the dashboard, the JSON API and /metrics")
    web.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 on a PaaS)",
    )
    web.add_argument(
        "--port", type=int, default=default_port(), help="port (default $PORT or 8000)"
    )
    web.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        metavar="IPS",
        help="proxies trusted for X-Forwarded-For/-Proto (default 127.0.0.1; '*' behind a PaaS router)",
    )
    web.set_defaults(handler=run_web)


async def run_web(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM."""
    import uvicorn

    from app.web.app import create_app

    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port (1-65535)", exit_code=2)
    metrics_token = os.environ.get(METRICS_TOKEN_ENV) or None
    if metrics_token is not None and len(metrics_token) < 32:
        raise CommandError(f"{METRICS_TOKEN_ENV} must be at least 32 characters long", exit_code=2)
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
        lifespan="on",
    )
    await uvicorn.Server(config).serve()
    return 0
