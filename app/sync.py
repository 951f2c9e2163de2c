"""Starting a sync: one run, and an extract job per entity of each active integration."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import Connection
from app.integrations.registry import SYNC_ENTITIES
from app.queue import ops
from app.runs import create_run
from app.sqlstore import query
from app.stages.extract import extract_job


class SyncError(Exception):
    """A sync cannot start (no such integration, nothing active)."""


@dataclass(frozen=True)
class SyncRequest:
    """What to sync and who asked."""

    tenant_id: int
    integration_id: int | None = None
    trigger: str = "cli"
    triggered_by: str | None = None
    custom_query: str | None = None
    full: bool = False
    etl_job_id: int | None = None


async def start_sync(conn: Connection, request: SyncRequest) -> int:
    """In the caller's tenant transaction: open a run and enqueue its extract jobs."""
    cur = await conn.execute(query("integration_list_active"), {"id": request.integration_id})
    integrations = await cur.fetchall()
    if not integrations:
        if request.integration_id is not None:
            raise SyncError(
                f"integration {request.integration_id} does not exist for this tenant or is inactive"
            )
        raise SyncError(
            "this tenant has no active integration: add one with `sluice integration add`"
        )
    run_id = await create_run(
        conn,
        request.tenant_id,
        trigger=request.trigger,
        triggered_by=request.triggered_by,
        etl_job_id=request.etl_job_id,
        integration_id=request.integration_id,
    )
    jobs = [
        extract_job(
            request.tenant_id,
            row["id"],
            entity,
            run_id=run_id,
            custom_query=request.custom_query,
            full=request.full,
        )
        for row in integrations
        for entity in SYNC_ENTITIES.get(row["provider"], ())
    ]
    await ops.enqueue(conn, jobs)
    return run_id
