"""Stage handlers for queue tests: each run writes a job_logs row with its job id, in the
same transaction that completes the job, after sleeping `payload["sleep"]` seconds."""

from __future__ import annotations

import asyncio

from psycopg.types.json import Jsonb

from app.queue.context import HandlerRegistry, JobContext


async def record_run(ctx: JobContext) -> None:
    await asyncio.sleep(float(ctx.job.payload.get("sleep", 0)))
    async with ctx.transaction() as conn:
        await conn.execute(
            "INSERT INTO job_logs (tenant_id, queue_job_id, level, message, context) "
            "VALUES (%s, %s, 'info', 'ran', %s)",
            (ctx.job.tenant_id, ctx.job.id, Jsonb({"worker": ctx.worker})),
        )


def registry() -> HandlerRegistry:
    return {stage: record_run for stage in ("extract", "transform", "load", "vectorize")}
