"""Typed reading of raw JSON values, collecting precise errors instead of raising."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from app.transform.errors import RecordError, expected

INT32_MAX = 2_147_483_647


def parse_timestamp(text: str) -> datetime | None:
    """Parse a Jira or GitHub ISO 8601 timestamp (offset optional: UTC) or return None."""
    if len(text) < 16 or text[10] not in "Tt ":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def parse_date(text: str) -> date | None:
    """Parse a YYYY-MM-DD date or return None."""
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class FieldReader:
    """Reads the fields of one raw record, remembering every field that had the wrong shape."""

    __slots__ = ("errors", "prefix", "record")

    def __init__(self, record: str, prefix: str = "") -> None:
        """Read fields of `record` (external id or key); field names are under `prefix`."""
        self.record = record
        self.prefix = prefix
        self.errors: list[RecordError] = []

    def fail(self, field: str, wanted: str, found: object) -> None:
        """Remember that a field held something other than what was wanted."""
        self.errors.append(expected(self.record, self.prefix + field, wanted, found))

    def text(self, value: object, field: str) -> str | None:
        """Return a string or null."""
        if value is None or type(value) is str:
            return value
        self.fail(field, "text", value)
        return None

    def required_text(self, value: object, field: str) -> str:
        """Return a non-empty string; record an error otherwise."""
        if type(value) is str and value:
            return value
        self.fail(field, "non-empty text", value)
        return ""

    def identifier(self, value: object, field: str, *, required: bool = False) -> str | None:
        """Return an id given as a string or an integer, as text."""
        if type(value) is str:
            if value or not required:
                return value
        elif type(value) is int:
            return str(value)
        elif value is None and not required:
            return None
        self.fail(field, "an id (text or integer)", value)
        return None

    def integer(self, value: object, field: str) -> int | None:
        """Return a 32-bit integer or null."""
        if value is None:
            return None
        if type(value) is int and -INT32_MAX - 1 <= value <= INT32_MAX:
            return value
        self.fail(field, "a 32-bit integer", value)
        return None

    def number(self, value: object, field: str) -> float | None:
        """Return a finite number or null."""
        if value is None:
            return None
        if type(value) is float:
            if math.isfinite(value):
                return value
        elif type(value) is int:
            return float(value)
        self.fail(field, "a finite number", value)
        return None

    def flag(self, value: object, field: str) -> bool | None:
        """Return a boolean or null."""
        if value is None or type(value) is bool:
            return value
        self.fail(field, "true or false", value)
        return None

    def timestamp(self, value: object, field: str) -> datetime | None:
        """Return an aware datetime from an ISO 8601 timestamp, or null."""
        if value is None:
            return None
        if type(value) is str:
            moment = parse_timestamp(value)
            if moment is not None:
                return moment
        self.fail(field, "an ISO 8601 timestamp", value)
        return None

    def day(self, value: object, field: str) -> date | None:
        """Return a date from YYYY-MM-DD, or null."""
        if value is None:
            return None
        if type(value) is str:
            found = parse_date(value)
            if found is not None:
                return found
        self.fail(field, "a date (YYYY-MM-DD)", value)
        return None

    def mapping(self, value: object, field: str) -> dict[str, Any] | None:
        """Return an object or null."""
        if value is None or type(value) is dict:
            return value
        self.fail(field, "an object", value)
        return None

    def listing(self, value: object, field: str) -> list[Any]:
        """Return a list; null counts as empty."""
        if type(value) is list:
            return value
        if value is not None:
            self.fail(field, "a list", value)
        return []

    def labelled(self, value: object, field: str, keys: tuple[str, ...]) -> str | None:
        """Return the first text under `keys` of an object such as a user or a priority."""
        if value is None:
            return None
        if type(value) is not dict:
            self.fail(field, "an object", value)
            return None
        for key in keys:
            found = value.get(key)
            if type(found) is str and found:
                return found
        for key in keys:
            found = value.get(key)
            if found is not None and type(found) is not str:
                self.fail(f"{field}.{key}", "text", found)
                return None
        return None
