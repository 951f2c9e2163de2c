"""Migrations build exactly the committed schema and can be rolled back and re-applied."""

from __future__ import annotations

from pathlib import Path

from app.db import connect
from app.schema_dump import dump_schema
from migrations import runner

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "migrations" / "schema.sql"


async def test_migrated_schema_matches_committed_dump(template_url: str) -> None:
    conn = await connect(template_url, autocommit=True)
    async with conn:
        dumped = await dump_schema(conn)
    assert dumped == SCHEMA_FILE.read_text(), (
        "the migrations no longer build migrations/schema.sql: review the change, then "
        "regenerate it with `sluice db schema > migrations/schema.sql`"
    )


async def test_rollback_to_zero_and_reapply_rebuilds_the_same_schema(fresh_db_url: str) -> None:
    lines: list[str] = []
    conn = await connect(fresh_db_url, autocommit=True)
    async with conn:
        rolled = await runner.rollback_to(conn, 0, report=lines.append)
        assert rolled == 5
        assert lines[0] == "rolled back 0005_raw_data_storage"
        cur = await conn.execute("SELECT to_regclass('work_items') IS NULL AS gone")
        row = await cur.fetchone()
        assert row is not None and row["gone"]
        applied = await runner.apply_all(conn, report=lines.append)
        assert applied == 5  # procrastinate's schema stayed in place
        assert await dump_schema(conn) == SCHEMA_FILE.read_text()


async def test_status_lists_every_migration_applied(fresh_db_url: str) -> None:
    conn = await connect(fresh_db_url, autocommit=True)
    async with conn:
        lines = await runner.status(conn)
    assert [(line.component, line.version) for line in lines[:5]] == [
        ("sluice", "0001"),
        ("sluice", "0002"),
        ("sluice", "0003"),
        ("sluice", "0004"),
        ("sluice", "0005"),
    ]
    assert lines[5].component == "procrastinate"
    assert all(line.applied_at for line in lines)


async def test_seeds_create_three_tiers_with_one_commitment_point(fresh_db_url: str) -> None:
    conn = await connect(fresh_db_url, autocommit=True)
    async with conn:
        cur = await conn.execute(
            "SELECT t.name, t.tier, "
            "  (SELECT count(*) FROM workflows w WHERE w.tenant_id = t.id "
            "   AND w.is_commitment_point) AS commitment_points, "
            "  (SELECT array_agg(job_name ORDER BY execution_order) FROM etl_jobs j "
            "   WHERE j.tenant_id = t.id) AS chain, "
            "  (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.role = 'admin' "
            "   AND u.password_hash LIKE '$argon2id$%%') AS admins "
            "FROM tenants t ORDER BY t.id"
        )
        rows = await cur.fetchall()
    assert [(r["name"], r["tier"]) for r in rows] == [
        ("WEX", "enterprise"),
        ("Apple", "professional"),
        ("Google", "standard"),
    ]
    for row in rows:
        assert row["commitment_points"] == 1
        assert row["chain"] == ["Jira", "GitHub", "Vectorization"]
        assert row["admins"] == 1
