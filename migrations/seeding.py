"""Shared seed data for the tenant migrations 0002-0004."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from psycopg import AsyncConnection
from psycopg.rows import tuple_row

from app.passwords import generate_password, hash_password

DEFAULT_SETTINGS: dict[str, tuple[object, str, str]] = {
    "orchestrator_interval_minutes": (60, "integer", "Minutes between two scheduled syncs"),
    "orchestrator_retry_interval_minutes": (15, "integer", "Minutes before a failed sync retries"),
    "orchestrator_enabled": (True, "boolean", "Run scheduled syncs for this tenant"),
    "extract_page_size": (100, "integer", "Records per API page when extracting"),
    "transform_batch_size": (500, "integer", "Raw records per transform job"),
    "load_batch_size": (1000, "integer", "Records per bulk upsert"),
    "max_retries": (5, "integer", "Attempts before a queue job is dead-lettered"),
    "retention_days": (30, "integer", "Days to keep finished queue jobs and processed raw rows"),
    "worker_concurrency": (4, "integer", "Concurrent jobs a worker runs for this tenant"),
    "global_pause": (False, "boolean", "Stop claiming this tenant's queue jobs"),
}

WORKFLOW_STEPS = (
    # step name, category
    ("Backlog", "to_do"),
    ("To Do", "to_do"),
    ("In Progress", "in_progress"),
    ("Code Review", "in_progress"),
    ("QA", "in_progress"),
    ("Done", "done"),
)

STATUS_MAPPINGS = {
    "Backlog": "Backlog",
    "Open": "Backlog",
    "New": "Backlog",
    "To Do": "To Do",
    "Selected for Development": "To Do",
    "Ready": "To Do",
    "In Progress": "In Progress",
    "In Development": "In Progress",
    "Code Review": "Code Review",
    "In Review": "Code Review",
    "QA": "QA",
    "Testing": "QA",
    "Done": "Done",
    "Closed": "Done",
    "Resolved": "Done",
}

WIT_HIERARCHIES = ((2, "Initiative"), (1, "Epic"), (0, "Story"), (-1, "Sub-task"))

WIT_MAPPINGS = {
    "Initiative": ("Initiative", 2),
    "Epic": ("Epic", 1),
    "Story": ("Story", 0),
    "User Story": ("Story", 0),
    "Task": ("Task", 0),
    "Bug": ("Bug", 0),
    "Defect": ("Bug", 0),
    "Improvement": ("Story", 0),
    "Sub-task": ("Sub-task", -1),
    "Subtask": ("Sub-task", -1),
}

JOB_CHAIN = (
    # job name, provider, execution order
    ("Jira", "jira", 1),
    ("GitHub", "github", 2),
    ("Vectorization", "vectorization", 3),
)


@dataclass(frozen=True)
class TenantSeed:
    """What one seed migration creates."""

    name: str
    tier: str
    admin_email: str
    commitment_step: str
    settings: dict[str, object] = field(default_factory=dict)


def admin_password(tenant: str) -> tuple[str, bool]:
    """The admin password from the environment, or a generated one (True when generated)."""
    for var in (f"SLUICE_ADMIN_PASSWORD_{tenant.upper()}", "SLUICE_ADMIN_PASSWORD"):
        value = os.environ.get(var)
        if value:
            return value, False
    return generate_password(), True


async def seed_tenant(conn: AsyncConnection[object], seed: TenantSeed) -> list[str]:
    """Insert one tenant with its admin, workflow, mappings, settings and job chain."""
    await conn.execute("SET LOCAL ROLE sluice_system")
    cur = conn.cursor(row_factory=tuple_row)
    await cur.execute(
        "INSERT INTO tenants (name, tier) VALUES (%s, %s) RETURNING id", (seed.name, seed.tier)
    )
    row = await cur.fetchone()
    assert row is not None
    tenant_id = int(row[0])

    password, generated = admin_password(seed.name)
    await cur.execute(
        "INSERT INTO users (tenant_id, email, display_name, role, password_hash) "
        "VALUES (%s, %s, %s, 'admin', %s)",
        (tenant_id, seed.admin_email, f"{seed.name} admin", hash_password(password)),
    )

    step_ids: dict[str, int] = {}
    for number, (step, category) in enumerate(WORKFLOW_STEPS, start=1):
        await cur.execute(
            "INSERT INTO workflows (tenant_id, step_name, step_number, step_category, "
            "is_commitment_point) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (tenant_id, step, number, category, step == seed.commitment_step),
        )
        step_row = await cur.fetchone()
        assert step_row is not None
        step_ids[step] = int(step_row[0])
    await cur.executemany(
        "INSERT INTO statuses_mappings (tenant_id, status_from, workflow_id) VALUES (%s, %s, %s)",
        [(tenant_id, status, step_ids[step]) for status, step in STATUS_MAPPINGS.items()],
    )
    await cur.executemany(
        "INSERT INTO wits_hierarchies (tenant_id, level_number, level_name) VALUES (%s, %s, %s)",
        [(tenant_id, level, name) for level, name in WIT_HIERARCHIES],
    )
    await cur.executemany(
        "INSERT INTO wits_mappings (tenant_id, wit_from, wit_to, hierarchy_level) "
        "VALUES (%s, %s, %s, %s)",
        [(tenant_id, src, dst, level) for src, (dst, level) in WIT_MAPPINGS.items()],
    )
    settings = {key: value for key, (value, _, _) in DEFAULT_SETTINGS.items()} | seed.settings
    await cur.executemany(
        "INSERT INTO system_settings (tenant_id, setting_key, setting_value, setting_type, "
        "description) VALUES (%s, %s, %s, %s, %s)",
        [
            (tenant_id, key, json.dumps(settings[key]), kind, description)
            for key, (_, kind, description) in DEFAULT_SETTINGS.items()
        ],
    )
    await cur.executemany(
        "INSERT INTO etl_jobs (tenant_id, job_name, provider, execution_order, status) "
        "VALUES (%s, %s, %s, %s, %s)",
        [
            (tenant_id, name, provider, order, "PENDING" if order == 1 else "READY")
            for name, provider, order in JOB_CHAIN
        ],
    )
    await conn.execute("RESET ROLE")
    if generated:
        return [
            f"{seed.name} admin: {seed.admin_email} / password {password} "
            f"(generated; shown once; set SLUICE_ADMIN_PASSWORD to choose it)"
        ]
    return [f"{seed.name} admin: {seed.admin_email} (password from the environment)"]


async def unseed_tenant(conn: AsyncConnection[object], name: str) -> None:
    """Remove one seeded tenant and everything it owns."""
    await conn.execute("SET LOCAL ROLE sluice_system")
    await conn.execute("DELETE FROM tenants WHERE lower(name) = lower(%s)", (name,))
    await conn.execute("RESET ROLE")
