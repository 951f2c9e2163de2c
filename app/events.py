"""Live events on the `sluice_events` channel, and job log lines that also become events.

Publishers call these inside the transaction that makes the change, so an event fires
exactly when the change commits. Payloads are small JSON objects that always carry the
`tenant_id` (listeners filter on it) and a `kind`; a listener that needs more reads the
database.
"""

from __future__ import annotations

from typing import Any

import orjson
from psycopg.types.json import Jsonb

from app.db import Connection
from app.sqlstore import query

EVENTS_CHANNEL = "sluice_events"
MAX_PAYLOAD_BYTES = 7000  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes and more
LEVELS = ("debug", "info", "warning", "error")


def event_payload(tenant_id: int, kind: str, **data: Any) -> str:
    """The JSON text of one event; long strings are cut so the payload always fits."""
    body = {"tenant_id": tenant_id, "kind": kind, **data}
    text = orjson.dumps(body, default=str).decode()
    if len(text) <= MAX_PAYLOAD_BYTES:
        return text
    trimmed = {
        k: (v[:500] + "…" if isinstance(v, str) and len(v) > 500 else v) for k, v in body.items()
    }
    text = orjson.dumps(trimmed, default=str).decode()
    return (
        text
        if len(text) <= MAX_PAYLOAD_BYTES
        else orjson.dumps({"tenant_id": tenant_id, "kind": kind, "truncated": True}).decode()
    )


async def publish(conn: Connection, tenant_id: int, kind: str, **data: Any) -> None:
    """Notify listeners of a change, on commit of the caller's transaction."""
    await conn.execute(query("event_publish"), {"payload": event_payload(tenant_id, kind, **data)})


async def job_log(
    conn: Connection,
    tenant_id: int,
    level: str,
    message: str,
    *,
    run_id: int | None = None,
    queue_job_id: int | None = None,
    etl_job_id: int | None = None,
    context: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Write one job log line and publish it as a `log` event."""
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    cur = await conn.execute(
        query("job_log_insert"),
        {
            "tenant_id": tenant_id,
            "run_id": run_id,
            "etl_job_id": etl_job_id,
            "queue_job_id": queue_job_id,
            "level": level,
            "message": message,
            "context": Jsonb(context or {}),
            "actor": actor,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    await publish(
        conn,
        tenant_id,
        "log",
        id=row["id"],
        level=level,
        message=message,
        run_id=run_id,
        queue_job_id=queue_job_id,
        etl_job_id=etl_job_id,
        at=row["created_at"].isoformat(),
    )
