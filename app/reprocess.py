"""Replay: re-transform and reload stored raw rows without calling Jira or GitHub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.db import Connection
from app.queue import ops
from app.queue.model import NewJob
from app.runs import create_run
from app.sqlstore import query
from app.transform.entities import ENTITY_TYPES

CHUNK = 200  # raw rows per transform job


class ReprocessError(Exception):
    """A reprocess request is malformed or selects nothing."""


@dataclass(frozen=True)
class TransformRun:
    """A run opened to re-transform stored raw rows: its id, the rows and its queue jobs."""

    run_id: int
    raw_count: int
    job_ids: list[int]


async def enqueue_transform_run(
    conn: Connection,
    tenant_id: int,
    raw_ids: list[int],
    *,
    entity_type: str = "",
    trigger: str,
    triggered_by: str | None,
) -> TransformRun:
    """In the tenant's transaction: a run with one transform job per CHUNK of `raw_ids`."""
    run_id = await create_run(conn, tenant_id, trigger=trigger, triggered_by=triggered_by)
    job_ids = await ops.enqueue(
        conn,
        [
            NewJob(
                tenant_id=tenant_id,
                job_type="transform",
                entity_type=entity_type,
                run_id=run_id,
                priority=4,
                payload={"raw_ids": raw_ids[i : i + CHUNK], "reprocess": True},
            )
            for i in range(0, len(raw_ids), CHUNK)
        ],
    )
    return TransformRun(run_id, len(raw_ids), job_ids)


async def start_reprocess(
    conn: Connection,
    tenant_id: int,
    *,
    entity: str | None = None,
    since: datetime | None = None,
    failed_only: bool = False,
    triggered_by: str = "cli",
    trigger: str = "cli",
) -> tuple[int, int]:
    """In the tenant's transaction: a run with transform jobs for the selected raw rows.
    Returns (run id, number of raw rows)."""
    if entity is not None and entity not in ENTITY_TYPES:
        raise ReprocessError(f"unknown entity {entity!r}: use one of {', '.join(ENTITY_TYPES)}")
    cur = await conn.execute(
        query("raw_select_for_reprocess"),
        {"entity": entity, "since": since, "failed_only": failed_only},
    )
    ids = [row["id"] for row in await cur.fetchall()]
    if not ids:
        raise ReprocessError("no stored raw rows match: nothing to reprocess")
    queued = await enqueue_transform_run(
        conn, tenant_id, ids, entity_type=entity or "", trigger=trigger, triggered_by=triggered_by
    )
    return queued.run_id, queued.raw_count
