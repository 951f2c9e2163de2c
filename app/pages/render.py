"""Jinja2 rendering for pages: one environment per process, filters for times and counts."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def when(value: datetime | None, now: datetime | None = None) -> str:
    """A timestamp for people: "3 min ago", "in 2 h", or the date when far away."""
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    delta = (value - now).total_seconds()
    seconds = abs(delta)
    if seconds < 45:
        text = "just now" if delta <= 0 else "in a moment"
        return text
    if seconds < 5400:
        amount = f"{round(seconds / 60)} min"
    elif seconds < 36 * 3600:
        amount = f"{round(seconds / 3600)} h"
    else:
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return f"in {amount}" if delta > 0 else f"{amount} ago"


def duration(value: float | timedelta | None) -> str:
    """A duration for people: "850 ms", "42 s", "3 min 5 s", "2 h 10 min"."""
    if value is None:
        return "–"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def number(value: float | int | None) -> str:
    """A count with thousands separators (a thin space never breaks a line)."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u202f")
    return f"{int(value):,}".replace(",", "\u202f")


def iso(value: datetime | None) -> str:
    """A machine-readable timestamp for `<time datetime=…>`."""
    return "" if value is None else value.isoformat()


@functools.cache
def environment() -> Environment:
    """The process's template environment (autoescaping on, undefined names are errors)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, duration=duration, number=number, iso=iso)
    return env


def render_text(template: str, **context: Any) -> str:
    """One template (page or `_partial`) as text."""
    return environment().get_template(template).render(**context)


def is_htmx(request: Request) -> bool:
    """True for an htmx request (which wants a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"


def html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """An HTML response; pages are per user, so never cached."""
    return HTMLResponse(
        text, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )
