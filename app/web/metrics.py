"""GET /metrics: queue and run metrics in the Prometheus text format (written by hand).

A user or token sees its own tenant's series (row-level security scopes the queries). With
`SLUICE_METRICS_TOKEN` set, a scraper sending that token as a bearer token gets every
tenant's series (the queries then run as the system role).
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.auth.request import authenticate
from app.db import Connection, system_transaction, tenant_transaction
from app.sqlstore import query
from app.web.problems import Problem, internal_error, problem_response
from app.web.state import WebState, web_state

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
QUANTILES = ("0.5", "0.9", "0.99")


@dataclass
class Metric:
    """One metric family: its samples are (name suffix, labels, value)."""

    name: str
    kind: str  # gauge or summary
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, labels: dict[str, str], value: float, suffix: str = "") -> None:
        """Append one sample."""
        self.samples.append((suffix, labels, value))


def escape_label(value: str) -> str:
    """A label value as the exposition format writes it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    """A sample value: integers without a fraction, NaN and infinities by name."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(metrics: Sequence[Metric]) -> str:
    """The text exposition of `metrics`."""
    lines: list[str] = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {metric.help}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for suffix, labels, value in metric.samples:
            pairs = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            lines.append(f"{metric.name}{suffix}{{{pairs}}} {format_value(value)}")
    return "\n".join(lines) + "\n"


def build_metrics(rows: dict[str, list[dict[str, Any]]]) -> list[Metric]:
    """The metric families from the metrics queries' rows (pure)."""
    jobs = Metric("sluice_queue_jobs", "gauge", "Open and dead-lettered queue jobs")
    failed = Metric("sluice_queue_failed_jobs", "gauge", "Dead-lettered (failed) queue jobs")
    for r in rows["metrics_queue_jobs"]:
        jobs.add({"tenant": r["tenant"], "stage": r["stage"], "status": r["status"]}, r["jobs"])
        if r["status"] == "failed":
            failed.add({"tenant": r["tenant"], "stage": r["stage"]}, r["jobs"])
    oldest = Metric(
        "sluice_queue_oldest_pending_seconds", "gauge", "Age of the oldest ready pending job"
    )
    for r in rows["metrics_queue_oldest_pending"]:
        oldest.add({"tenant": r["tenant"], "stage": r["stage"]}, max(0.0, r["seconds"]))
    finished = Metric(
        "sluice_queue_finished_last_hour",
        "gauge",
        "Queue jobs that completed, failed or were cancelled in the last hour (throughput)",
    )
    for r in rows["metrics_queue_finished"]:
        finished.add({"tenant": r["tenant"], "stage": r["stage"], "status": r["status"]}, r["jobs"])
    runs = Metric(
        "sluice_runs", "gauge", "Runs running or paused now, and runs that ended in the last day"
    )
    for r in rows["metrics_runs"]:
        runs.add({"tenant": r["tenant"], "status": r["status"]}, r["runs"])
    durations = Metric(
        "sluice_run_duration_seconds", "summary", "Durations of the runs that ended in the last day"
    )
    for r in rows["metrics_run_durations"]:
        for quantile, value in zip(QUANTILES, r["quantiles"] or [], strict=False):
            durations.add({"tenant": r["tenant"], "quantile": quantile}, value)
        durations.add({"tenant": r["tenant"]}, r["total_seconds"] or 0.0, "_sum")
        durations.add({"tenant": r["tenant"]}, r["runs"], "_count")
    return [jobs, failed, oldest, finished, runs, durations]


QUERIES = (
    "metrics_queue_jobs",
    "metrics_queue_oldest_pending",
    "metrics_queue_finished",
    "metrics_runs",
    "metrics_run_durations",
)


async def collect(conn: Connection, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Run every metrics query on `conn`."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in QUERIES:
        cur = await conn.execute(query(name), {"now": now})
        rows[name] = [dict(r) for r in await cur.fetchall()]
    return rows


def _metrics_token(request: Request, state: WebState) -> bool:
    """True when the request carries the configured all-tenants metrics token."""
    if not state.metrics_token:
        return False
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), state.metrics_token.encode()
    )


async def metrics(request: Request) -> Response:
    """GET /metrics."""
    try:
        state = web_state(request)
        now = state.services.clock()
        if _metrics_token(request, state):
            async with system_transaction(state.pool) as conn:
                rows = await collect(conn, now)
        else:
            principal = await authenticate(request, state.pool, state.sessions, now)
            if principal is None:
                raise Problem(
                    401,
                    "send a bearer token: an API token (its tenant's metrics) or "
                    "SLUICE_METRICS_TOKEN (every tenant's)",
                    kind="unauthenticated",
                    headers={"WWW-Authenticate": 'Bearer realm="sluice"'},
                )
            async with tenant_transaction(state.pool, principal.tenant_id) as conn:
                rows = await collect(conn, now)
        return Response(render(build_metrics(rows)), media_type=CONTENT_TYPE)
    except Problem as problem:
        return problem_response(problem, request.url.path)
    except Exception as exc:
        return internal_error(request.url.path, exc)


ROUTES = [Route("/metrics", metrics, methods=["GET"], name="metrics")]
