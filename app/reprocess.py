"""Replay: re-transform and reload stored raw rows without calling Jira or GitHub."""

from __future__ import annotations

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
    run_id = await create_run(conn, tenant_id, trigger=trigger, triggered_by=triggered_by)
    await ops.enqueue(
        conn,
        [
            NewJob(
                tenant_id=tenant_id,
                job_type="transform",
                entity_type=entity or "",
                run_id=run_id,
                priority=4,
                payload={"raw_ids": ids[i : i + CHUNK], "reprocess": True},
            )
            for i in range(0, len(ids), CHUNK)
        ],
    )
    return run_id, len(ids)
