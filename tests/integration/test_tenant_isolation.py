"""Row-level security: a tenant transaction sees and writes only its own rows."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from app.db import Connection
from tests.conftest import as_tenant, tenant_ids

TENANT_TABLES = """
SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
       array(SELECT p.policyname::text FROM pg_policies p
             WHERE p.schemaname = current_schema() AND p.tablename = c.relname
             ORDER BY 1) AS policies
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
              AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY 1
"""


async def tenant_tables(conn: Connection) -> list[dict[str, object]]:
    cur = await conn.execute(TENANT_TABLES)
    return list(await cur.fetchall())


async def add_rows_for_every_tenant(conn: Connection, tenants: dict[str, int]) -> None:
    """Give the tables the seeds leave empty a row for each tenant."""
    for name, tenant in tenants.items():
        cur = await conn.execute(
            "INSERT INTO integrations (tenant_id, provider, name, base_url) "
            "VALUES (%s, 'jira', %s, 'https://example.invalid') RETURNING id",
            (tenant, f"{name} Jira"),
        )
        row = await cur.fetchone()
        assert row is not None
        await conn.execute(
            "INSERT INTO raw_extraction_data (tenant_id, integration_id, entity_type, raw_data) "
            "VALUES (%s, %s, 'jira_issues', '{}')",
            (tenant, row["id"]),
        )
        await conn.execute(
            "INSERT INTO etl_job_queue (tenant_id, job_type, entity_type) "
            "VALUES (%s, 'extract', 'jira_issues')",
            (tenant,),
        )
        await conn.execute(
            "INSERT INTO job_logs (tenant_id, level, message) VALUES (%s, 'info', 'hello')",
            (tenant,),
        )


async def test_every_tenant_table_has_forced_rls_and_both_policies(db: Connection) -> None:
    tables = await tenant_tables(db)
    assert len(tables) >= 25
    names = {t["name"] for t in tables}
    assert {"work_items", "etl_job_queue", "raw_extraction_data", "users", "prs"} <= names
    for table in tables:
        assert table["rls"], f"{table['name']}: row-level security is not enabled"
        assert table["forced"], f"{table['name']}: row-level security is not forced"
        assert table["policies"] == ["system_access", "tenant_isolation"], table["name"]
    cur = await db.execute(
        "SELECT relrowsecurity AND relforcerowsecurity AS ok FROM pg_class WHERE relname = 'tenants'"
    )
    row = await cur.fetchone()
    assert row is not None and row["ok"]


async def test_app_role_cannot_bypass_rls(db: Connection) -> None:
    cur = await db.execute(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
        "WHERE rolname IN ('sluice_app', 'sluice_system') ORDER BY 1"
    )
    rows = await cur.fetchall()
    assert [(r["rolname"], r["rolsuper"], r["rolbypassrls"]) for r in rows] == [
        ("sluice_app", False, False),
        ("sluice_system", False, False),
    ]


async def test_wex_transaction_sees_only_wex_rows_in_every_table(db: Connection) -> None:
    tenants = await tenant_ids(db)
    await add_rows_for_every_tenant(db, tenants)
    wex = tenants["WEX"]
    tables = [str(t["name"]) for t in await tenant_tables(db)]
    # As the owner, other tenants' rows exist in these tables.
    totals = {}
    for table in tables:
        cur = await db.execute(
            sql.SQL(
                "SELECT count(*) AS n, count(*) FILTER (WHERE tenant_id <> %s) AS others FROM {}"
            ).format(sql.Identifier(table)),
            (wex,),
        )
        row = await cur.fetchone()
        assert row is not None
        totals[table] = row
    populated = [t for t in tables if totals[t]["others"] > 0]
    assert len(populated) >= 10, populated

    await as_tenant(db, wex)
    for table in tables:
        cur = await db.execute(
            sql.SQL("SELECT tenant_id FROM {}").format(sql.Identifier(table))  # no WHERE
        )
        seen = {row["tenant_id"] for row in await cur.fetchall()}
        assert seen <= {wex}, f"{table} leaked tenants {seen - {wex}}"
        expected = totals[table]["n"] - totals[table]["others"]
        cur = await db.execute(
            sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        )
        row = await cur.fetchone()
        assert row is not None and row["n"] == expected, table
    cur = await db.execute("SELECT name FROM tenants")
    assert [r["name"] for r in await cur.fetchall()] == ["WEX"]


async def test_insert_of_another_tenants_row_is_refused(db: Connection) -> None:
    tenants = await tenant_ids(db)
    await as_tenant(db, tenants["WEX"])
    for statement, params in [
        ("INSERT INTO job_logs (tenant_id, level, message) VALUES (%s, 'info', 'x')", ()),
        ("INSERT INTO etl_job_queue (tenant_id, job_type) VALUES (%s, 'extract')", ()),
        (
            "INSERT INTO system_settings (tenant_id, setting_key, setting_value, setting_type) "
            "VALUES (%s, 'k', '1', 'integer')",
            (),
        ),
    ]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            async with db.transaction():  # a savepoint, so the next statement can run
                await db.execute(statement, (tenants["Apple"], *params))
    # Moving one's own row to another tenant is refused too.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        async with db.transaction():
            await db.execute(
                "UPDATE system_settings SET tenant_id = %s WHERE setting_key = 'max_retries'",
                (tenants["Apple"],),
            )


async def test_no_tenant_set_sees_nothing(db: Connection) -> None:
    await as_tenant(db, None)
    for table in [str(t["name"]) for t in await tenant_tables(db)] + ["tenants"]:
        cur = await db.execute(
            sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        )
        row = await cur.fetchone()
        assert row is not None and row["n"] == 0, table


async def test_system_role_sees_every_tenant(db: Connection) -> None:
    await db.execute("SET LOCAL ROLE sluice_system")
    cur = await db.execute("SELECT count(DISTINCT tenant_id) AS n FROM users")
    row = await cur.fetchone()
    assert row is not None and row["n"] == 3
