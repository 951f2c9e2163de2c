"""Named SQL queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.sqlstore import UnknownQueryError, parse_queries, query, query_names


def test_parse_splits_by_header() -> None:
    text = "-- file comment\n-- name: job_claim\nSELECT 1\n\n-- name: job_complete\nUPDATE x\nSET y = 1\n"
    assert parse_queries(text) == {"job_claim": "SELECT 1", "job_complete": "UPDATE x\nSET y = 1"}


def test_duplicate_names_are_an_error() -> None:
    with pytest.raises(ValueError, match="'a_b' is defined twice"):
        parse_queries("-- name: a_b\nSELECT 1\n-- name: a_b\nSELECT 2\n")


def test_duplicate_names_across_files_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "one.sql").write_text("-- name: x_y\nSELECT 1\n")
    (tmp_path / "two.sql").write_text("-- name: x_y\nSELECT 2\n")
    with pytest.raises(ValueError, match="more than one file"):
        query("x_y", tmp_path)


def test_project_queries_load_and_unknown_names_fail() -> None:
    names = query_names()
    assert "session_set_tenant" in names and "migration_lock" in names
    assert "set_config" in query("session_set_tenant").as_string(None)
    with pytest.raises(UnknownQueryError, match="no query named 'nope'"):
        query("nope")
