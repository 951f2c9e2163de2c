"""Jira custom fields: mapped ones to custom_field_01..10 as text, the rest to an overflow object."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias

from app.transform.records import CUSTOM_FIELD_COLUMNS

CustomFieldMapping: TypeAlias = Mapping[str, str]
"""Jira field id (e.g. "customfield_10016") -> column ("custom_field_01".."custom_field_10")."""

DEFAULT_STORY_POINTS_FIELD = "customfield_10016"
DEFAULT_DEV_SUMMARY_FIELD = "customfield_10000"
CUSTOM_FIELD_PREFIX = "customfield_"

_COLUMN_POSITIONS = {column: position for position, column in enumerate(CUSTOM_FIELD_COLUMNS)}
_OPTION_KEYS = ("value", "name", "displayName", "key", "id")


def custom_field_mapping_problems(mapping: CustomFieldMapping) -> list[str]:
    """Describe what is wrong with a mapping (unknown columns, columns used twice)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for field_id, column in mapping.items():
        if column not in _COLUMN_POSITIONS:
            problems.append(
                f"{field_id} maps to {column!r}: expected one of custom_field_01..custom_field_10"
            )
        elif column in seen:
            problems.append(f"{field_id} and {seen[column]} both map to {column}")
        else:
            seen[column] = field_id
    return problems


def column_positions(mapping: CustomFieldMapping) -> dict[str, int]:
    """Return field id -> column position (0..9); invalid or repeated columns are left out."""
    positions: dict[str, int] = {}
    taken: set[int] = set()
    for field_id, column in mapping.items():
        position = _COLUMN_POSITIONS.get(column)
        if position is not None and position not in taken:
            positions[field_id] = position
            taken.add(position)
    return positions


def custom_field_text(value: object) -> str | None:
    """Render a custom field value as text: options by their value, lists joined by ", "."""
    if value is None:
        return None
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if type(value) is list:
        rendered = [text for item in value if (text := custom_field_text(item)) is not None]
        return ", ".join(rendered) if rendered else None
    if type(value) is dict:
        return _option_text(value)
    return str(value)


def _option_text(option: dict[str, Any]) -> str:
    """Render an option object ({"value": ...}, a user, a cascading select) as text."""
    for key in _OPTION_KEYS:
        found = option.get(key)
        if found is not None and type(found) is not dict and type(found) is not list:
            text = custom_field_text(found) or ""
            child = option.get("child")
            if type(child) is dict:
                return f"{text} / {_option_text(child)}"
            return text
    return json.dumps(option, sort_keys=True, ensure_ascii=False, default=str)


def split_custom_fields(
    fields: dict[str, Any], positions: dict[str, int], used: frozenset[str]
) -> tuple[list[str | None], dict[str, Any] | None]:
    """Return the ten column values and the overflow object of an issue's custom fields."""
    columns: list[str | None] = [None] * len(CUSTOM_FIELD_COLUMNS)
    overflow: dict[str, Any] | None = None
    for field_id, value in fields.items():
        if not field_id.startswith(CUSTOM_FIELD_PREFIX):
            continue
        position = positions.get(field_id)
        if position is not None:
            columns[position] = custom_field_text(value)
        elif value is not None and field_id not in used:
            if overflow is None:
                overflow = {}
            overflow[field_id] = value
    return columns, overflow
