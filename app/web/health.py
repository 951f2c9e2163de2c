"""Health probes: /healthz (the process is up) and /readyz (database reachable, migrations current)."""

from __future__ import annotations

import functools

import psycopg
from psycopg_pool import PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sqlstore import query
from app.web.problems import Problem, problem_response
from app.web.state import web_state
from migrations import runner

READY_TIMEOUT_S = 5.0


@functools.cache
def expected_migrations() -> tuple[tuple[str, str, str], ...]:
    """(component, version, label) of every migration this code expects to be applied."""
    ours = [(runner.SLUICE, m.version, f"{m.version}_{m.name}") for m in runner.discover()]
    theirs = [
        (runner.PROCRASTINATE, name, f"procrastinate {name}")
        for name in runner.procrastinate_migrations()
    ]
    return tuple(ours + theirs)


def pending_migrations(applied: set[tuple[str, str]]) -> list[str]:
    """The expected migrations missing from `applied` (component, version) pairs."""
    return [
        label for comp, version, label in expected_migrations() if (comp, version) not in applied
    ]


async def healthz(request: Request) -> Response:
    """GET /healthz: the process answers (no database access)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """GET /readyz: 200 when the database answers and every migration is applied, else 503."""
    pool = web_state(request).pool
    try:
        async with pool.connection(timeout=READY_TIMEOUT_S) as conn:
            cur = await conn.execute(query("migration_history_versions"))
            applied = {(row["component"], row["version"]) for row in await cur.fetchall()}
    except psycopg.errors.UndefinedTable:
        applied = set()
    except (psycopg.Error, PoolTimeout) as exc:
        reason = type(exc).__name__
        return problem_response(
            Problem(503, f"the database is not reachable ({reason})", kind="not-ready"),
            request.url.path,
        )
    pending = pending_migrations(applied)
    if pending:
        return problem_response(
            Problem(
                503,
                f"{len(pending)} migration(s) pending ({', '.join(pending[:5])}): "
                "run `sluice migrate`",
                kind="not-ready",
                pending=pending,
            ),
            request.url.path,
        )
    return JSONResponse({"status": "ready", "database": "ok", "migrations": "current"})


ROUTES = [
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
    Route("/readyz", readyz, methods=["GET"], name="readyz"),
]
