"""ETL runs: a run ends when its last queue job leaves the open statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.db import Connection
from app.events import job_log, publish
from app.orchestrator.chain import advance_chain
from app.sqlstore import query


async def create_run(
    conn: Connection,
    tenant_id: int,
    *,
    trigger: str,
    triggered_by: str | None = None,
    etl_job_id: int | None = None,
    integration_id: int | None = None,
) -> int:
    """Open a run (status running) and return its id."""
    cur = await conn.execute(
        query("run_create"),
        {
            "tenant_id": tenant_id,
            "etl_job_id": etl_job_id,
            "integration_id": integration_id,
            "trigger": trigger,
            "triggered_by": triggered_by,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["id"])


async def finish_run_if_done(
    conn: Connection, tenant_id: int, run_id: int, now: datetime | None = None
) -> dict[str, Any] | None:
    """Close the run when none of its jobs is open; call inside a transaction. A run of a
    chain job advances the chain (app.orchestrator) in the same transaction."""
    cur = await conn.execute(query("run_lock"), {"tenant_id": tenant_id, "run_id": run_id})
    if await cur.fetchone() is None:
        return None  # already ended
    cur = await conn.execute(
        query("run_finish_if_done"), {"tenant_id": tenant_id, "run_id": run_id, "now": now}
    )
    row = await cur.fetchone()
    if row is None:
        return None
    level = "info" if row["status"] == "finished" else "error"
    await job_log(
        conn,
        tenant_id,
        level,
        f"run {run_id} {row['status']}",
        run_id=run_id,
        etl_job_id=row["etl_job_id"],
    )
    await publish(
        conn, tenant_id, "run", run_id=run_id, status=row["status"], etl_job_id=row["etl_job_id"]
    )
    run = dict(row)
    if run["etl_job_id"] is not None:
        await advance_chain(conn, tenant_id, run, now)
    return run
