"""Roles, grants and row-level security shared by the migrations.

Every table with a `tenant_id` column (and `tenants` itself, keyed by `id`) gets row-level
security enabled and forced, a policy for `sluice_app` bound to `app.tenant_id`, and a
policy for `sluice_system`, the role of the few named cross-tenant operations. The runner
calls `secure_tenant_tables` after every migration, so a new table cannot escape it.
"""

from __future__ import annotations

from psycopg import AsyncConnection, sql
from psycopg.rows import tuple_row

APP_ROLE = "sluice_app"
SYSTEM_ROLE = "sluice_system"
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::integer"

CREATE_ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_app') THEN
        CREATE ROLE sluice_app NOLOGIN NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_system') THEN
        CREATE ROLE sluice_system NOLOGIN NOBYPASSRLS;
    END IF;
END
$$;
"""

TENANT_TABLES = """
SELECT c.relname AS table_name,
       CASE WHEN c.relname = 'tenants' THEN 'id' ELSE 'tenant_id' END AS tenant_column
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
  AND c.relkind IN ('r', 'p')
  AND (c.relname = 'tenants' OR EXISTS (
        SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
ORDER BY c.relname
"""

OWNER_RIGHTS_VIEWS = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'v'
  AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
  AND NOT coalesce('security_invoker=on' = ANY (c.reloptions), false)
"""


async def ensure_roles(conn: AsyncConnection[object]) -> None:
    """Create the application roles once per cluster and let the login user assume them."""
    await conn.execute(CREATE_ROLES)
    for role in (APP_ROLE, SYSTEM_ROLE):
        await conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))
        await conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role))
        )


async def grant_table_access(conn: AsyncConnection[object]) -> None:
    """Give both roles DML on every table and use of every sequence in the schema."""
    for role in (APP_ROLE, SYSTEM_ROLE):
        ident = sql.Identifier(role)
        await conn.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(ident)
        )
        await conn.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident)
        )
    # A view without security_invoker (PostgreSQL 14) runs as its owner and would bypass
    # row-level security, so only the system role may read it.
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(OWNER_RIGHTS_VIEWS)
        views = [str(name) for (name,) in await cur.fetchall()]
    for view in views:
        await conn.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}").format(
                sql.Identifier(view), sql.Identifier(APP_ROLE)
            )
        )


async def secure_tenant_tables(conn: AsyncConnection[object]) -> list[str]:
    """Enable and force RLS with both policies on every tenant table; return their names."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(TENANT_TABLES)
        tables = [(str(name), str(column)) for name, column in await cur.fetchall()]
    for table, column in tables:
        await _secure_table(conn, table, column)
    await grant_table_access(conn)
    return [table for table, _ in tables]


async def _secure_table(conn: AsyncConnection[object], table: str, column: str) -> None:
    ident = sql.Identifier(table)
    col = sql.Identifier(column)
    await conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident))
    await conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(ident))
    await conn.execute(sql.SQL("DROP POLICY IF EXISTS tenant_isolation ON {}").format(ident))
    await conn.execute(sql.SQL("DROP POLICY IF EXISTS system_access ON {}").format(ident))
    await conn.execute(
        sql.SQL(
            "CREATE POLICY tenant_isolation ON {table} TO {role} "
            "USING ({col} = {setting}) WITH CHECK ({col} = {setting})"
        ).format(
            table=ident,
            role=sql.Identifier(APP_ROLE),
            col=col,
            setting=sql.SQL(TENANT_SETTING),  # type: ignore[arg-type]
        )
    )
    await conn.execute(
        sql.SQL(
            "CREATE POLICY system_access ON {table} TO {role} USING (true) WITH CHECK (true)"
        ).format(table=ident, role=sql.Identifier(SYSTEM_ROLE))
    )
