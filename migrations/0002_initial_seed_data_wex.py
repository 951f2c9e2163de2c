"""0002: the WEX tenant (enterprise) with its admin, workflow, mappings, settings, job chain."""

from __future__ import annotations

from psycopg import AsyncConnection

from migrations.seeding import TenantSeed, seed_tenant, unseed_tenant

SEED = TenantSeed(
    name="WEX",
    tier="enterprise",
    admin_email="admin@wex.com",
    commitment_step="To Do",
    settings={"orchestrator_interval_minutes": 60},
)


async def apply(conn: AsyncConnection[object]) -> list[str]:
    """Seed the tenant; returns the admin login notice to show once."""
    return await seed_tenant(conn, SEED)


async def rollback(conn: AsyncConnection[object]) -> None:
    """Remove the tenant and all of its rows."""
    await unseed_tenant(conn, SEED.name)
