"""Named SQL queries from the `sql/` folder, loaded once per process.

Each file holds queries under headers of the form `-- name: query_name`; a query's
text runs to the next header. Python asks for a query by name: `queries()["job_claim"]`.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from psycopg import sql

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_HEADER = re.compile(r"^--\s*name:\s*([a-z][a-z0-9_]*)\s*$", re.MULTILINE)


class UnknownQueryError(KeyError):
    """No query with this name exists in sql/."""


def parse_queries(text: str, source: str = "<text>") -> dict[str, str]:
    """Split one file's text into {name: query}; duplicate names are an error."""
    found: dict[str, str] = {}
    parts = _HEADER.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in found:
            raise ValueError(f"query {name!r} is defined twice in {source}")
        found[name] = body.strip()
    return found


@functools.cache
def _all_queries(directory: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        for name, body in parse_queries(path.read_text(), str(path)).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined in more than one file of {directory}")
            queries[name] = body
    return queries


def query(name: str, directory: Path = SQL_DIR) -> sql.SQL:
    """The named query, ready to execute."""
    try:
        return sql.SQL(_all_queries(directory)[name])  # type: ignore[arg-type]
    except KeyError:
        raise UnknownQueryError(f"no query named {name!r} in {directory}") from None


def query_names(directory: Path = SQL_DIR) -> list[str]:
    """Every query name, sorted."""
    return sorted(_all_queries(directory))
