"""Opening a chain job's run, in the tenant's transaction.

- Jira/GitHub: a sync of the job's integration (`start_sync`: a run and its extract jobs).
- A retry of a failed run: a new run that takes over the failed run's dead-lettered queue
  jobs, pending again with their progress, so an extract job resumes at its checkpoint and
  the jobs that completed are not run again. The failed run stays in the history as failed;
  the new run's `stats.resumed_from_run_id` names it. Without jobs to take over, a fresh sync.
- Vectorization: one vectorize job per chunk of the work items and pull requests loaded
  since the job's last successful run started (all of them the first time).

A run with nothing to do ends at once, and the chain advances in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from app.db import Connection
from app.orchestrator.chain import advance_chain, write_chain
from app.orchestrator.decisions import mark_started
from app.orchestrator.journal import record
from app.orchestrator.model import VECTORIZATION, ChainJob, Started
from app.queue import ops
from app.queue.model import NewJob
from app.runs import create_run, finish_run_if_done
from app.sqlstore import query
from app.sync import SyncRequest, start_sync

VECTORIZE_CHUNK = 500  # ids per vectorize job


async def start_job(
    conn: Connection,
    tenant_id: int,
    chain: Sequence[ChainJob],
    job: ChainJob,
    now: datetime,
    *,
    trigger: str,
    actor: str,
) -> Started:
    """Open the job's run, mark the job RUNNING and log who started it."""
    resumed_from: int | None = None
    if job.provider == VECTORIZATION:
        run_id, details = await _start_vectorization(conn, tenant_id, job, trigger, actor)
    else:
        adoptable = await _adoptable(conn, tenant_id, job.failed_run_id)
        if adoptable:
            resumed_from = job.failed_run_id
            run_id, details = await _resume(conn, tenant_id, job, adoptable, trigger, actor)
        else:
            run_id = await start_sync(
                conn,
                SyncRequest(
                    tenant_id=tenant_id,
                    integration_id=job.integration_id,
                    trigger=trigger,
                    triggered_by=actor,
                    etl_job_id=job.id,
                ),
            )
            details = {}
    started = mark_started(job, run_id, now, resumed_from)
    await write_chain(conn, tenant_id, chain, [started if j.id == job.id else j for j in chain])
    how = f" (resuming run {resumed_from})" if resumed_from else ""
    await record(
        conn,
        tenant_id,
        f"{job.name} run {run_id} started by {actor}{how}",
        actor=actor,
        run_id=run_id,
        etl_job_id=job.id,
        context={"trigger": trigger, **details},
    )
    await close_run_if_done(conn, tenant_id, run_id, now)
    return Started(
        tenant_id=tenant_id,
        etl_job_id=job.id,
        job_name=job.name,
        run_id=run_id,
        trigger=trigger,
        resumed_from_run_id=resumed_from,
    )


async def close_run_if_done(
    conn: Connection, tenant_id: int, run_id: int, now: datetime | None = None
) -> dict[str, Any] | None:
    """End the run when none of its jobs is open, and advance its chain job."""
    run = await finish_run_if_done(conn, tenant_id, run_id, now)
    if run is not None:
        await advance_chain(conn, tenant_id, run, now)  # a no-op when runs.py already did it
    return run


async def _adoptable(conn: Connection, tenant_id: int, failed_run_id: int | None) -> list[int]:
    if failed_run_id is None:
        return []
    cur = await conn.execute(
        query("chain_adoptable_jobs"), {"tenant_id": tenant_id, "run_id": failed_run_id}
    )
    return [int(row["id"]) for row in await cur.fetchall()]


async def _resume(
    conn: Connection, tenant_id: int, job: ChainJob, ids: list[int], trigger: str, actor: str
) -> tuple[int, dict[str, Any]]:
    run_id = await create_run(
        conn,
        tenant_id,
        trigger=trigger,
        triggered_by=actor,
        etl_job_id=job.id,
        integration_id=job.integration_id,
    )
    cur = await conn.execute(
        query("chain_adopt_jobs"), {"tenant_id": tenant_id, "ids": ids, "new_run_id": run_id}
    )
    adopted = [int(row["id"]) for row in await cur.fetchall()]
    details = {"resumed_from_run_id": job.failed_run_id, "resumed_queue_jobs": adopted}
    await _set_stats(conn, tenant_id, run_id, details)
    await ops.notify(conn)
    return run_id, details


async def _start_vectorization(
    conn: Connection, tenant_id: int, job: ChainJob, trigger: str, actor: str
) -> tuple[int, dict[str, Any]]:
    run_id = await create_run(
        conn, tenant_id, trigger=trigger, triggered_by=actor, etl_job_id=job.id
    )
    cur = await conn.execute(
        query("chain_vectorize_candidates"), {"tenant_id": tenant_id, "etl_job_id": job.id}
    )
    row = await cur.fetchone()
    assert row is not None
    work_items, prs = list(row["work_item_ids"]), list(row["pr_ids"])
    payloads = [
        {"work_item_ids": work_items[i : i + VECTORIZE_CHUNK], "pr_ids": []}
        for i in range(0, len(work_items), VECTORIZE_CHUNK)
    ] + [
        {"work_item_ids": [], "pr_ids": prs[i : i + VECTORIZE_CHUNK]}
        for i in range(0, len(prs), VECTORIZE_CHUNK)
    ]
    await ops.enqueue(
        conn,
        [
            NewJob(
                tenant_id=tenant_id,
                job_type="vectorize",
                entity_type=VECTORIZATION,
                run_id=run_id,
                etl_job_id=job.id,
                payload=payload,
            )
            for payload in payloads
        ],
    )
    since = row["since"]
    details = {
        "work_items": len(work_items),
        "prs": len(prs),
        "since": since.isoformat() if since else None,
    }
    await _set_stats(conn, tenant_id, run_id, details)
    return run_id, details


async def _set_stats(conn: Connection, tenant_id: int, run_id: int, stats: dict[str, Any]) -> None:
    await conn.execute(
        query("chain_run_set_stats"),
        {"tenant_id": tenant_id, "run_id": run_id, "stats": Jsonb(stats)},
    )
