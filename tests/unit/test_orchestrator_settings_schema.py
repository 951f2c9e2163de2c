"""The settings schema: typed parsing with clear errors, and the seeded defaults."""

from __future__ import annotations

import pytest

from app.settings_store import (
    SETTINGS,
    SettingsError,
    parse_value,
    typed_settings,
    validate_changes,
)
from migrations.seeding import DEFAULT_SETTINGS


def test_the_schema_matches_what_the_migrations_seed() -> None:
    assert {key: (spec.default, spec.kind) for key, spec in SETTINGS.items()} == {
        key: (value, kind) for key, (value, kind, _) in DEFAULT_SETTINGS.items()
    }
    for key, spec in SETTINGS.items():
        assert parse_value(key, spec.default) == spec.default


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("max_retries", 3, 3),
        ("max_retries", "3", 3),
        ("max_retries", " 20 ", 20),
        ("max_retries", 0, 0),
        ("orchestrator_interval_minutes", 5.0, 5),
        ("global_pause", True, True),
        ("global_pause", "on", True),
        ("orchestrator_enabled", "False", False),
        ("orchestrator_enabled", "0", False),
    ],
)
def test_values_are_typed(key: str, raw: object, value: object) -> None:
    parsed = parse_value(key, raw)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("max_retries", "x", "max_retries must be an integer from 0 to 20, got 'x'"),
        ("max_retries", 21, "max_retries must be an integer from 0 to 20, got 21"),
        ("max_retries", True, "max_retries must be an integer from 0 to 20, got True"),
        ("max_retries", 2.5, "max_retries must be an integer from 0 to 20, got 2.5"),
        ("extract_page_size", 0, "extract_page_size must be an integer from 1 to 100, got 0"),
        ("global_pause", "maybe", "global_pause must be true or false, got 'maybe'"),
        ("global_pause", 1, "global_pause must be true or false, got 1"),
        ("colour", 1, "unknown setting 'colour': known settings are orchestrator_interval_minutes"),
    ],
)
def test_invalid_values_say_what_is_allowed(key: str, raw: object, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_value(key, raw)
    assert str(caught.value).startswith(message)


def test_all_problems_of_a_change_are_reported_together() -> None:
    with pytest.raises(SettingsError) as caught:
        validate_changes({"max_retries": -1, "retention_days": 2, "global_pause": "nope"})
    assert str(caught.value) == (
        "max_retries must be an integer from 0 to 20, got -1; "
        "global_pause must be true or false, got 'nope'"
    )
    with pytest.raises(SettingsError, match="no setting to change"):
        validate_changes({})


def test_stored_values_fall_back_to_defaults_when_missing_or_unreadable() -> None:
    values = typed_settings({"max_retries": 2, "retention_days": "lots"})
    assert values["max_retries"] == 2
    assert values["retention_days"] == 30
    assert values["worker_concurrency"] == 4
    assert set(values) == set(SETTINGS)
