"""0003: the Apple tenant (professional) with its admin, workflow, mappings, settings, job chain."""

from __future__ import annotations

from psycopg import AsyncConnection

from migrations.seeding import TenantSeed, seed_tenant, unseed_tenant

SEED = TenantSeed(
    name="Apple",
    tier="professional",
    admin_email="admin@apple.com",
    commitment_step="To Do",
    settings={"orchestrator_interval_minutes": 120},
)


async def apply(conn: AsyncConnection[object]) -> list[str]:
    """Seed the tenant; returns the admin login notice to show once."""
    return await seed_tenant(conn, SEED)


async def rollback(conn: AsyncConnection[object]) -> None:
    """Remove the tenant and all of its rows."""
    await unseed_tenant(conn, SEED.name)
