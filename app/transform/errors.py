"""Transform outcomes: records, or a precise error naming the record, the field and the value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

T = TypeVar("T")

_SHOWN_CHARS = 60


@dataclass(frozen=True, slots=True)
class RecordError:
    """What was wrong with one field of one raw record."""

    external_id: str
    field: str
    message: str

    def error_details(self) -> dict[str, str]:
        """Return the `error_details` stored on the failed raw row."""
        return {"field": self.field, "record": self.external_id, "error": self.message}

    def __str__(self) -> str:
        """Render as `record field: message` for logs."""
        return f"{self.external_id} {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """A transformed raw record; `skipped` lists malformed nested entries left out."""

    value: T
    skipped: tuple[RecordError, ...] = ()


@dataclass(frozen=True, slots=True)
class Failed:
    """A raw record that could not be transformed (at least one error)."""

    errors: tuple[RecordError, ...]

    @property
    def error(self) -> RecordError:
        """Return the first error, the one reported on the raw row."""
        return self.errors[0]

    def error_details(self) -> dict[str, str]:
        """Return `{"field", "record", "error"}` of the first error."""
        return self.errors[0].error_details()


TransformResult: TypeAlias = Ok[T] | Failed


def describe_value(value: object) -> str:
    """Render a found value briefly for an error message (JSON-like, truncated)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return json.dumps(value[:_SHOWN_CHARS], ensure_ascii=False)[:-1] + '…"'
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return f"an object with {len(value)} keys" if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)} items" if value else "an empty list"
    return f"a {type(value).__name__}"


def expected(external_id: str, field: str, wanted: str, found: object) -> RecordError:
    """Build the error for a field that holds the wrong kind of value."""
    return RecordError(external_id, field, f"expected {wanted}, found {describe_value(found)}")


def record_label(raw: object, *keys: str) -> str:
    """Return the first present identifier of a raw record (for error messages)."""
    if isinstance(raw, dict):
        for key in keys:
            value = raw.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
    return "<unidentified>"
