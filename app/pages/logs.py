"""The logs page: the tenant's job log lines, newest first, filtered on the server, live.

The same filter serves the page (a query) and its live stream (`/live/logs`, a test of
each `log` event): minimum level, chain job, integration, run and a case-insensitive
substring of the message. A chain job or an integration keeps the lines of its jobs and
of their runs; the stream resolves those at connect time and adds each new run of a kept
job as its events go by.

The page is a snapshot and the stream carries the lines committed after it connects,
minus any line at or below the newest id the page showed (`after`), so no line shows
twice. Accepted gap: a matching line committed between the page's query and the stream's
connect (a moment at page load) only appears on the next load, as does one whose id is
below `after` because its transaction committed out of id order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.db import Connection, tenant_transaction
from app.events import LEVELS
from app.live.model import LiveEvent
from app.live.sse import EventFilter
from app.pages.guard import PageCall, page
from app.pages.render import render_text
from app.sqlstore import query
from app.web.routing import MAX_ID
from app.web.state import web_state

PAGE_SIZE = 200
MAX_TEXT = 200
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class LogFilter:
    """What the logs page shows: every field empty is every line."""

    level: str = ""  # the minimum level; "" is all
    job_id: int | None = None
    integration_id: int | None = None
    run_id: int | None = None
    text: str = ""
    before: int | None = None  # the page's cursor: lines older than this id

    @property
    def levels(self) -> list[str]:
        """The levels at or above the minimum."""
        return list(LEVELS[LEVEL_RANK.get(self.level, 0) :])

    @property
    def scoped(self) -> bool:
        """True when a chain job or an integration limits the lines to their jobs and runs."""
        return self.job_id is not None or self.integration_id is not None

    def params(self, **extra: object) -> dict[str, str]:
        """The filter as query parameters (empty fields left out), plus `extra`."""
        values: dict[str, object] = {
            "level": self.level,
            "job": self.job_id,
            "integration": self.integration_id,
            "run": self.run_id,
            "q": self.text,
            **extra,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def url(self, path: str = "/logs", **extra: object) -> str:
        """`path` with the filter (and `extra`) as its query string."""
        params = self.params(**extra)
        return f"{path}?{urlencode(params)}" if params else path


@dataclass
class LogScope:
    """The chain jobs and runs whose lines a job or integration filter keeps."""

    job_ids: set[int] = field(default_factory=set)
    run_ids: set[int] = field(default_factory=set)

    def learn(self, data: Mapping[str, Any]) -> None:
        """A run started by a kept job since connect is kept too (events name both ids)."""
        job_id, run_id = _int(data.get("etl_job_id")), _int(data.get("run_id"))
        if job_id in self.job_ids and run_id is not None:
            self.run_ids.add(run_id)

    def keeps(self, line: Mapping[str, Any]) -> bool:
        return line["etl_job_id"] in self.job_ids or line["run_id"] in self.run_ids


@dataclass(frozen=True)
class FilterChoices:
    """The tenant's chain jobs and integrations, for the filter's selects."""

    jobs: list[dict[str, Any]]
    integrations: list[dict[str, Any]]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def positive_id(text: str) -> int | None:
    """`text` as an id (1 to MAX_ID), or None when it is not one."""
    text = text.strip()
    if not _ID.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        return None
    return int(text)


def _parse_id(value: str, what: str, errors: dict[str, str], key: str) -> int | None:
    if not value.strip():
        return None
    if (parsed := positive_id(value)) is None:
        errors[key] = f"{what} is a whole number from 1 (got {value[:30]!r})"
    return parsed


def parse_filter(params: Mapping[str, str]) -> tuple[LogFilter, dict[str, str]]:
    """The filter of a request's query parameters, and a message per bad field."""
    errors: dict[str, str] = {}
    level = params.get("level", "").strip().lower()
    if level and level not in LEVEL_RANK:
        errors["level"] = f"choose a level: {', '.join(LEVELS)}"
        level = ""
    text = params.get("q", "")
    if len(text) > MAX_TEXT:
        errors["q"] = f"search for at most {MAX_TEXT} characters"
        text = ""
    elif "\x00" in text:
        errors["q"] = "the text cannot contain a NUL character"
        text = ""
    chosen = LogFilter(
        level=level,
        job_id=_parse_id(params.get("job", ""), "a job id", errors, "job"),
        integration_id=_parse_id(
            params.get("integration", ""), "an integration id", errors, "integration"
        ),
        run_id=_parse_id(params.get("run", ""), "a run id", errors, "run"),
        text=text.strip(),
        before=_parse_id(params.get("before", ""), "the page cursor", errors, "before"),
    )
    return chosen, errors


def unknown_choices(chosen: LogFilter, choices: FilterChoices) -> dict[str, str]:
    """A message per named job or integration the tenant does not have."""
    errors: dict[str, str] = {}
    if chosen.job_id is not None and chosen.job_id not in {j["id"] for j in choices.jobs}:
        errors["job"] = f"job {chosen.job_id} does not exist: pick one from the list"
    known = {i["id"] for i in choices.integrations}
    if chosen.integration_id is not None and chosen.integration_id not in known:
        errors["integration"] = (
            f"integration {chosen.integration_id} does not exist: pick one from the list"
        )
    return errors


async def filter_choices(conn: Connection) -> FilterChoices:
    """The tenant's jobs and integrations."""
    jobs = await (await conn.execute(query("log_filter_jobs"))).fetchall()
    integrations = await (await conn.execute(query("log_filter_integrations"))).fetchall()
    return FilterChoices([dict(j) for j in jobs], [dict(i) for i in integrations])


async def log_scope(conn: Connection, chosen: LogFilter) -> LogScope | None:
    """The jobs and runs a scoped filter keeps (None: not scoped)."""
    if not chosen.scoped:
        return None
    cur = await conn.execute(
        query("log_scope"), {"job_id": chosen.job_id, "integration_id": chosen.integration_id}
    )
    row = await cur.fetchone()
    assert row is not None
    return LogScope(set(row["job_ids"]), set(row["run_ids"]))


async def log_lines(
    conn: Connection, chosen: LogFilter, limit: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], int | None]:
    """The newest matching lines before the filter's cursor, and the next (older) cursor."""
    scope = await log_scope(conn, chosen)
    cur = await conn.execute(
        query("log_page"),
        {
            "before": chosen.before,
            "levels": chosen.levels,
            "run_id": chosen.run_id,
            "text": chosen.text or None,
            "scoped": scope is not None,
            "job_ids": sorted(scope.job_ids) if scope else [],
            "run_ids": sorted(scope.run_ids) if scope else [],
            "limit": limit + 1,
        },
    )
    rows = [page_line(row) for row in await cur.fetchall()]
    older = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], older


def page_line(row: Mapping[str, Any]) -> dict[str, Any]:
    """A line as read from job_logs, its time in UTC like the streamed lines'."""
    return {**row, "at": row["at"].astimezone(UTC)}


def event_line(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """A `log` event's data as a line like the page's rows, or None when it is not one."""
    line_id, level, message = _int(data.get("id")), data.get("level"), data.get("message")
    if line_id is None or level not in LEVEL_RANK or not isinstance(message, str):
        return None
    try:
        at = datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return None
    return {
        "id": line_id,
        "level": level,
        "message": message,
        "run_id": _int(data.get("run_id")),
        "queue_job_id": _int(data.get("queue_job_id")),
        "etl_job_id": _int(data.get("etl_job_id")),
        "at": at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC),
    }


def line_matches(chosen: LogFilter, scope: LogScope | None, line: Mapping[str, Any]) -> bool:
    """The stream's side of the page query: does `line` pass the filter?"""
    return (
        LEVEL_RANK[line["level"]] >= LEVEL_RANK.get(chosen.level, 0)
        and (chosen.run_id is None or line["run_id"] == chosen.run_id)
        and (not chosen.text or chosen.text.lower() in line["message"].lower())
        and (scope is None or scope.keeps(line))
    )


def log_row(event: LiveEvent) -> str | None:
    """The `/live/logs` renderer: a `log` event as the table row the page renders."""
    if event.kind != "log" or (line := event_line(event.data)) is None:
        return None
    return render_text("_log_line.html", line=line)


def stream_position(params: Mapping[str, str]) -> int:
    """The stream's `after`: the newest line id the page already shows (400 when bad)."""
    text = params.get("after", "").strip() or "0"
    if not _ID.fullmatch(text):
        raise HTTPException(400, "after is the newest log line id the page shows (0 or more)")
    return int(text)


async def log_stream_filter(request: Request, tenant_id: int) -> EventFilter:
    """The `/live/logs` filter from the page's query parameters (400 when one is bad)."""
    chosen, errors = parse_filter(request.query_params)
    after = stream_position(request.query_params)
    scope: LogScope | None = None
    if not errors:
        async with tenant_transaction(web_state(request).pool, tenant_id) as conn:
            errors = unknown_choices(chosen, await filter_choices(conn))
            scope = await log_scope(conn, chosen)
    if errors:
        raise HTTPException(400, "; ".join(f"{k}: {v}" for k, v in errors.items()))

    def accept(event: LiveEvent) -> bool:
        if scope is not None:
            scope.learn(event.data)
        if event.kind != "log" or (line := event_line(event.data)) is None:
            return False
        return line["id"] > after and line_matches(chosen, scope, line)

    return accept


@page()
async def logs_page(call: PageCall) -> Response:
    """GET /logs: the filtered lines, newest first; htmx gets the filters and list only."""
    chosen, errors = parse_filter(call.request.query_params)
    async with call.tenant() as conn:
        choices = await filter_choices(conn)
        errors = {**unknown_choices(chosen, choices), **errors}
        lines, older = ([], None) if errors else await log_lines(conn, chosen)
    newest = max((line["id"] for line in lines), default=0)
    live_url = None
    if not errors and chosen.before is None:
        live_url = chosen.url("/live/logs", after=newest)
    return call.page_or_fragment(
        "logs.html",
        "_logs_body.html",
        status=422 if errors else 200,
        chosen=chosen,
        errors=errors,
        choices=choices,
        entered=dict(call.request.query_params),
        levels=LEVELS,
        lines=lines,
        older_url=chosen.url(before=older) if older else None,
        live_url=live_url,
    )


ROUTES = [Route("/logs", logs_page, methods=["GET"], name="logs")]
