"""Page forms checked by the API's own models and rules, their messages put next to fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.web.problems import Problem
from app.web.routing import field_errors

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass
class FormState:
    """What a form shows: the values to fill in and a message per refused field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        """The value to fill into field `name` ("" when none)."""
        return self.values.get(name) or ""


def submitted(form: dict[str, str], names: Iterable[str]) -> dict[str, str | None]:
    """The named fields, trimmed; an empty or missing field is None."""
    return {name: (form.get(name) or "").strip() or None for name in names}


def shown(fields: dict[str, str | None], secret: Iterable[str] = ()) -> dict[str, str]:
    """The values a re-rendered form fills back in: never a secret field's value."""
    hidden = set(secret)
    return {name: value or "" for name, value in fields.items() if name not in hidden}


def validated(
    model: type[M], data: dict[str, Any], messages: dict[str, str] | None = None
) -> tuple[M | None, dict[str, str]]:
    """The model built from `data`, or None and a message per field (`messages` override)."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in field_errors(exc, "form"):
            name = error["field"].split(".")[0]
            errors.setdefault(name, (messages or {}).get(name, error["message"]))
        return None, errors


def problem_fields(problem: Problem, fallback: str) -> dict[str, str]:
    """A refused change's messages by field; one without fields goes next to `fallback`."""
    listed = problem.extensions.get("errors") or []
    found = {str(e["field"]): str(e["message"]) for e in listed if isinstance(e, dict)}
    return found or {fallback: problem.detail}


def path_choice(path_params: Mapping[str, Any], name: str, choices: dict[str, T]) -> T:
    """What the path's `name` (an action) picks from `choices`, or a 404 naming the known ones."""
    value = str(path_params[name])
    if value not in choices:
        raise Problem(404, f"there is no {name} {value!r}: use {' or '.join(choices)}")
    return choices[value]
