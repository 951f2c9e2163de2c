"""A stable, version-independent text description of Sluice's schema.

The committed `migrations/schema.sql` is this dump of a freshly migrated database; a
test fails when the migrations and the dump disagree, so schema drift shows in review.
"""

from __future__ import annotations

from typing import Any

from app.sqlstore import query


async def dump_schema(conn: Any) -> str:
    """Tables with columns and RLS flags, constraints, indexes, policies, triggers, functions."""
    lines: list[str] = ["-- Sluice schema, as `sluice db schema` prints it. Do not edit by hand."]
    current = None
    for row in await _rows(conn, "schema_columns"):
        if row["table_name"] != current:
            current = row["table_name"]
            kind = "VIEW" if row["kind"] == "v" else "TABLE"
            rls = ""
            if row["rls"]:
                rls = " -- row level security" + (" (forced)" if row["force_rls"] else "")
            lines += ["", f"{kind} {current}{rls}"]
        parts = [f"    {row['column_name']} {row['data_type']}"]
        if row["not_null"]:
            parts.append("NOT NULL")
        if row["identity"]:
            parts.append("IDENTITY")
        elif row["default_expr"]:
            parts.append(f"DEFAULT {row['default_expr']}")
        lines.append(" ".join(parts))
    lines += ["", "-- constraints"]
    lines += [
        f"{r['table_name']}.{r['name']}: {r['definition']}"
        for r in await _rows(conn, "schema_constraints")
    ]
    lines += ["", "-- indexes"]
    lines += [f"{r['definition']}" for r in await _rows(conn, "schema_indexes")]
    lines += ["", "-- policies"]
    lines += [
        f"{r['table_name']}.{r['name']} {r['cmd']} TO {r['roles']} "
        f"USING ({r['qual']}) CHECK ({r['with_check']})"
        for r in await _rows(conn, "schema_policies")
    ]
    lines += ["", "-- triggers"]
    lines += [r["definition"] for r in await _rows(conn, "schema_triggers")]
    lines += ["", "-- functions"]
    lines += [f"{r['name']}({r['arguments']})" for r in await _rows(conn, "schema_functions")]
    return "\n".join(lines) + "\n"


async def _rows(conn: Any, name: str) -> list[dict[str, Any]]:
    cur = await conn.execute(query(name), {})
    return list(await cur.fetchall())
