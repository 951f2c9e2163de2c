"""Flow metrics: cycle and lead time per completion month, charted and tabled, with the
work items behind every month.

The numbers come from the workflow metrics the transform computes per work item
(`cycle_time_seconds`, `lead_time_seconds`, `work_last_completed_at` of `work_items`);
PostgreSQL's `percentile_cont` gives the median, 75th and 90th percentile of each month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from app.db import Connection
from app.pages.charts import LineChart, Series, line_chart
from app.pages.guard import PageCall, page
from app.sqlstore import query
from app.vectors.documents import jira_browse_url
from app.web.problems import Problem
from app.web.routing import MAX_ID

MONTHS = 12
ITEMS_PER_PAGE = 50
MAX_TYPE_CHARS = 200
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Percentile:
    """One line of each chart: the column suffix, its name, and how it is drawn."""

    column: str
    label: str
    stroke: str
    dash: str | None
    marker: str


PERCENTILES = (
    Percentile("p50", "Median", "#1d4ed8", None, "circle"),
    Percentile("p75", "75th percentile", "#b45309", "8 4", "square"),
    Percentile("p90", "90th percentile", "#9d174d", "2 3", "diamond"),
)
MEASURES = (("cycle", "Cycle time"), ("lead", "Lead time"))


@dataclass(frozen=True)
class FlowFilters:
    """The project and work item type the metrics are narrowed to (None: all)."""

    project_id: int | None = None
    wit_name: str | None = None

    def params(self) -> dict[str, Any]:
        return {"project_id": self.project_id, "wit_name": self.wit_name}

    def query(self, **extra: str) -> str:
        """These filters (and `extra`) as a query string."""
        chosen = {"project": self.project_id, "type": self.wit_name, **extra}
        return urlencode({k: v for k, v in chosen.items() if v not in (None, "")})


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def last_months(now: datetime, count: int = MONTHS) -> list[date]:
    """The first days of the `count` months up to and including the month of `now`, oldest first."""
    current = month_start(now.astimezone(UTC).date())
    return [add_months(current, i - count + 1) for i in range(count)]


def as_utc(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_label(month: date) -> str:
    """A short month for an axis: "Mar 26"."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year % 100:02d}"


def month_title(month: date) -> str:
    """A month for a heading or a table: "Mar 2026"."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def parse_month(text: str) -> date | None:
    """A `YYYY-MM` month, or None when it is not one."""
    found = MONTH.match(text)
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        return None
    return date(int(found[1]), int(found[2]), 1)


def _filters(call: PageCall) -> tuple[FlowFilters, dict[str, str]]:
    """The filters of the query string, and a message by field for the invalid ones."""
    params = call.request.query_params
    errors: dict[str, str] = {}
    project_text = params.get("project", "").strip()
    project_id = None
    if project_text:
        if project_text.isdigit() and 1 <= int(project_text) <= MAX_ID:
            project_id = int(project_text)
        else:
            errors["project"] = "Choose a project from the list."
    wit_name = params.get("type", "").strip() or None
    if wit_name is not None and len(wit_name) > MAX_TYPE_CHARS:
        errors["type"] = "Choose a work item type from the list."
        wit_name = None
    return FlowFilters(project_id, wit_name), errors


async def _choices(conn: Connection) -> dict[str, Any]:
    """The projects and work item types the filters offer."""
    cur = await conn.execute(query("flow_project_choices"), {})
    projects = list(await cur.fetchall())
    cur = await conn.execute(query("flow_type_choices"), {})
    types = [row["original_name"] for row in await cur.fetchall()]
    return {"projects": projects, "types": types}


def flow_charts(months: list[date], by_month: dict[str, dict[str, Any]]) -> list[LineChart]:
    """The cycle time and the lead time chart: one line per percentile, gaps for empty months."""
    labels = [month_label(m) for m in months]
    span = f"{month_label(months[0])} to {month_label(months[-1])}"
    charts = []
    for measure, name in MEASURES:
        series = [
            Series(
                p.label,
                [_value(by_month.get(month_key(m)), f"{measure}_{p.column}") for m in months],
                stroke=p.stroke,
                dash=p.dash,
                marker=p.marker,
            )
            for p in PERCENTILES
        ]
        desc = (
            f"{name} in days of the work items completed each month, {span}: median "
            "(solid line, circles), 75th percentile (dashed, squares) and 90th percentile "
            "(dotted, diamonds). Months without completed items are gaps. The table below "
            "lists the same numbers."
        )
        charts.append(line_chart(f"{name} per completion month", desc, labels, series))
    return charts


def _value(row: dict[str, Any] | None, column: str) -> float | None:
    if row is None or row[column] is None:
        return None
    return float(row[column])


@page()
async def flow_page(call: PageCall) -> Response:
    """GET /metrics/flow: cycle and lead time percentiles of the last 12 months."""
    filters, errors = _filters(call)
    months = last_months(call.now())
    window = {"start": as_utc(months[0]), "end": as_utc(add_months(months[-1], 1))}
    async with call.tenant() as conn:
        cur = await conn.execute(query("flow_monthly"), {**window, **filters.params()})
        by_month = {row["month"]: dict(row) for row in await cur.fetchall()}
        choices = await _choices(conn)
    table = [
        {
            "month": month_key(m),
            "label": month_title(m),
            "row": by_month.get(month_key(m)),
            "items_url": f"/metrics/flow/items?{filters.query(month=month_key(m))}",
        }
        for m in reversed(months)
    ]
    return call.page(
        "flow.html",
        status=422 if errors else 200,
        charts=flow_charts(months, by_month),
        table=table,
        measures=MEASURES,
        percentiles=PERCENTILES,
        filters=filters,
        errors=errors,
        **choices,
    )


@page()
async def flow_items(call: PageCall) -> Response:
    """GET /metrics/flow/items?month=YYYY-MM: the work items completed that month."""
    filters, errors = _filters(call)
    params = call.request.query_params
    month = parse_month(params.get("month", "").strip())
    if month is None:
        raise Problem(422, "Give the month as YYYY-MM, for example month=2026-03.")
    if errors:
        raise Problem(422, " ".join(errors.values()))
    cursor_text = params.get("cursor", "").strip()
    if cursor_text and not (cursor_text.isdigit() and int(cursor_text) <= MAX_ID):
        raise Problem(422, "This paging link is not valid: start again from the first page.")
    cursor = int(cursor_text) if cursor_text else None
    async with call.tenant() as conn:
        cur = await conn.execute(
            query("flow_items"),
            {
                "start": as_utc(month),
                "end": as_utc(add_months(month, 1)),
                "cursor": cursor,
                "limit": ITEMS_PER_PAGE + 1,
                **filters.params(),
            },
        )
        rows = [dict(row) for row in await cur.fetchall()]
        choices = await _choices(conn)
    more = len(rows) > ITEMS_PER_PAGE
    rows = rows[:ITEMS_PER_PAGE]
    for row in rows:
        row["url"] = (
            jira_browse_url(row["base_url"], row["key"]) if row["provider"] == "jira" else None
        )
    key = month_key(month)
    return call.page(
        "flow_items.html",
        month=key,
        month_label=month_title(month),
        items=rows,
        next_url=(
            f"/metrics/flow/items?{filters.query(month=key, cursor=str(rows[-1]['id']))}"
            if more
            else None
        ),
        first_url=f"/metrics/flow/items?{filters.query(month=key)}" if cursor else None,
        back_url="/metrics/flow" + (f"?{filters.query()}" if filters.query() else ""),
        filters=filters,
        **choices,
    )


ROUTES = [
    Route("/metrics/flow", flow_page, methods=["GET"], name="flow_metrics"),
    Route("/metrics/flow/items", flow_items, methods=["GET"], name="flow_items"),
]
