"""0004: the Google tenant (standard) with its admin, workflow, mappings, settings, job chain."""

from __future__ import annotations

from psycopg import AsyncConnection

from migrations.seeding import TenantSeed, seed_tenant, unseed_tenant

SEED = TenantSeed(
    name="Google",
    tier="standard",
    admin_email="admin@google.com",
    commitment_step="In Progress",
    settings={"orchestrator_interval_minutes": 240},
)


async def apply(conn: AsyncConnection[object]) -> list[str]:
    """Seed the tenant; returns the admin login notice to show once."""
    return await seed_tenant(conn, SEED)


async def rollback(conn: AsyncConnection[object]) -> None:
    """Remove the tenant and all of its rows."""
    await unseed_tenant(conn, SEED.name)
