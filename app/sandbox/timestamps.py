"""Timestamp formats of the Jira and GitHub APIs, over integer epoch seconds."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]

_JQL_MOMENT = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$")
_RELATIVE_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60}


def system_clock() -> datetime:
    """Return the current UTC time; the default clock of the sandbox apps."""
    return datetime.now(UTC)


def epoch(moment: datetime) -> int:
    """Return whole epoch seconds of an aware (or UTC-naive) datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    """Return the aware UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


@functools.lru_cache(maxsize=8_192)
def _day(days: int) -> str:
    """Return the YYYY-MM-DD of a day number since the epoch."""
    t = time.gmtime(days * 86_400)
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"


def jira_time(seconds: int) -> str:
    """Format epoch seconds like Jira Cloud: 2024-01-05T10:11:12.000+0000."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, second = divmod(rest, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{second:02d}.000+0000"


def jira_date(seconds: int) -> str:
    """Format epoch seconds as a Jira date field: 2024-01-05."""
    t = time.gmtime(seconds)
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"


def github_time(seconds: int) -> str:
    """Format epoch seconds like GitHub: 2024-01-05T10:11:12Z."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, second = divmod(rest, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{second:02d}Z"


def iso_time(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC (for X-RateLimit-Reset)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_jql_moment(text: str, now: datetime) -> int:
    """Parse a JQL date ("2024-01-05 10:11", "2024/01/05", "-2d") as UTC epoch seconds."""
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        sign = -1 if relative.group(1) == "-" else 1
        amount = int(relative.group(2)) * _RELATIVE_UNITS[relative.group(3)]
        return epoch(now) + sign * amount
    match = _JQL_MOMENT.match(value)
    if match is None:
        raise ValueError(value)
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(value) from exc
    return epoch(moment)


def parse_github_moment(text: str) -> tuple[int, bool]:
    """Parse a GitHub search date or date-time; also say whether it was a bare date."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return epoch(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)), True
    normalized = value.replace("Z", "+00:00")
    moment = datetime.fromisoformat(normalized)
    return epoch(moment), False


def end_of_day(seconds: int) -> int:
    """Return the first second of the next UTC day after a date's midnight."""
    return epoch(from_epoch(seconds) + timedelta(days=1))
