"""Reading one row of the tenant by id for the API: the row, or a 404 problem."""

from __future__ import annotations

from typing import Any

from app.db import Connection
from app.sqlstore import query
from app.web.problems import not_found


async def row_or_404(conn: Connection, query_name: str, ident: int, what: str) -> dict[str, Any]:
    """The row the named query finds for `{"id": ident}` (RLS scopes it to the tenant)."""
    cur = await conn.execute(query(query_name), {"id": ident})
    row = await cur.fetchone()
    if row is None:
        raise not_found(what, ident)
    return dict(row)
