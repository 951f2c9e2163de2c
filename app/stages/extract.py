"""The extract stage: pages of raw API records into raw_extraction_data.

Each page commits in one tenant transaction with the job's advanced checkpoint, the
transform job for its raw rows and any follow-up extract jobs, so a restarted job resumes
after the last committed page (at most the page in flight is fetched again).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from app.crypto import CredentialError
from app.db import Connection, tenant_transaction
from app.events import job_log, publish
from app.integrations.base import ExtractOptions, IntegrationError, Page
from app.integrations.registry import provider_for
from app.integrations.store import load_integration
from app.orchestrator.parking import park_if_run_stopped
from app.queue import ops
from app.queue.context import JobContext
from app.queue.errors import PermanentJobError
from app.queue.model import NewJob
from app.settings_store import get_settings
from app.sqlstore import query

WATERMARK_BUFFER = timedelta(minutes=15)
CATALOG_PRIORITY = 3  # projects, statuses, repositories load before the items that use them
CATALOG_ENTITIES = ("jira_project", "jira_status", "github_repository")


def extract_job(
    tenant_id: int,
    integration_id: int,
    entity: str,
    *,
    run_id: int | None,
    params: dict[str, Any] | None = None,
    custom_query: str | None = None,
    full: bool = False,
) -> NewJob:
    """The queue job that extracts one entity of one integration."""
    return NewJob(
        tenant_id=tenant_id,
        job_type="extract",
        entity_type=entity,
        run_id=run_id,
        integration_id=integration_id,
        priority=CATALOG_PRIORITY if entity in CATALOG_ENTITIES else 5,
        payload={
            "integration_id": integration_id,
            "entity": entity,
            "params": params or {},
            "custom_query": custom_query,
            "full": full,
        },
    )


async def extract(ctx: JobContext) -> None:
    """Run one extract job from its checkpoint to the end."""
    job, services = ctx.job, ctx.services
    entity = str(job.payload.get("entity") or job.entity_type)
    integration_id = int(job.payload["integration_id"])
    started_at = _started_at(ctx, services.clock())
    params = job.payload.get("params") or {}
    scope = params.get("repository") or params.get("project")
    watermark_key = f"{entity}:{scope}" if scope else entity
    async with tenant_transaction(ctx.pool, job.tenant_id) as conn:
        try:
            integration = await load_integration(conn, services.cipher, integration_id)
        except (IntegrationError, CredentialError) as exc:
            raise PermanentJobError(str(exc)) from None
        full = job.payload.get("full")
        since = None if full else await _since(conn, integration_id, watermark_key)
        page_size = (
            job.payload.get("page_size")
            or (await get_settings(conn, job.tenant_id))["extract_page_size"]
        )
    provider = provider_for(integration, services.http)
    options = ExtractOptions(
        since=since,
        page_size=int(page_size),
        custom_query=job.payload.get("custom_query"),
        params=params,
    )
    checkpoint: dict[str, Any] = dict(job.progress.get("checkpoint") or {})
    counters = {k: int(job.progress.get(k, 0)) for k in ("pages", "records", "requests")}
    counters_f = float(job.progress.get("rate_limit_wait_s", 0.0))
    if not checkpoint.get("done"):
        try:
            async for page in provider.extract(entity, checkpoint, options):
                counters["pages"] += 1
                counters["records"] += len(page.records)
                counters["requests"] += int(page.request.get("requests", 1))
                counters_f += page.rate_limit_wait_s
                if await _commit_page(
                    ctx,
                    page,
                    integration_id,
                    started_at,
                    {**counters, "rate_limit_wait_s": round(counters_f, 1)},
                ):
                    return  # the run was paused or cancelled: parked after this page
        except IntegrationError as exc:
            raise PermanentJobError(f"{integration.label}: {exc}") from None
    async with ctx.transaction() as conn:
        if job.payload.get("custom_query") is None:
            await conn.execute(
                query("watermark_set"),
                {
                    "tenant_id": job.tenant_id,
                    "integration_id": integration_id,
                    "entity_type": watermark_key,
                    "watermark": started_at,
                },
            )
        await conn.execute(
            query("integration_touch_last_sync"), {"id": integration_id, "at": services.clock()}
        )


async def _commit_page(
    ctx: JobContext,
    page: Page,
    integration_id: int,
    started_at: datetime,
    counters: dict[str, Any],
) -> bool:
    """Commit one page with its checkpoint and handoffs; True when the job parked after it."""
    job = ctx.job
    async with tenant_transaction(ctx.pool, job.tenant_id) as conn:
        raw_ids = await insert_raw_page(conn, job.tenant_id, integration_id, job.run_id, page)
        await ctx.save_progress(
            conn, checkpoint=page.checkpoint, started_at=started_at.isoformat(), **counters
        )
        follow: list[NewJob] = []
        if raw_ids:
            follow.append(
                NewJob(
                    tenant_id=job.tenant_id,
                    job_type="transform",
                    entity_type=job.entity_type,
                    run_id=job.run_id,
                    integration_id=integration_id,
                    priority=job.priority,
                    payload={"raw_ids": raw_ids},
                )
            )
        follow += [
            extract_job(
                job.tenant_id,
                integration_id,
                f.entity,
                run_id=job.run_id,
                params=f.params,
                custom_query=job.payload.get("custom_query"),
                full=bool(job.payload.get("full")),
            )
            for f in page.followups
        ]
        await ops.enqueue(conn, follow)
        scope = (job.payload.get("params") or {}).get("project") or (
            job.payload.get("params") or {}
        ).get("repository")
        await job_log(
            conn,
            job.tenant_id,
            "info",
            f"{job.entity_type}{f' {scope}' if scope else ''}: page {counters['pages']} stored "
            f"{len(page.records)} records ({counters['records']} so far)",
            run_id=job.run_id,
            queue_job_id=job.id,
            context={
                "pages": counters["pages"],
                "records": counters["records"],
                "rate_limit_wait_s": counters.get("rate_limit_wait_s", 0),
            },
        )
        await publish(
            conn,
            job.tenant_id,
            "progress",
            run_id=job.run_id,
            job_id=job.id,
            job_type="extract",
            entity=job.entity_type,
            **counters,
        )
        return await park_if_run_stopped(conn, ctx)


async def insert_raw_page(
    conn: Connection, tenant_id: int, integration_id: int, run_id: int | None, page: Page
) -> list[int]:
    """Store each record of a page as one raw row with its extraction metadata."""
    if not page.records:
        return []
    request = {k: v for k, v in page.request.items() if k.lower() not in ("headers", "auth")}
    cur = await conn.execute(
        query("raw_insert_page"),
        {
            "tenant_id": tenant_id,
            "integration_id": integration_id,
            "run_id": run_id,
            "records": Jsonb(
                [
                    {
                        "entity_type": r.entity_type,
                        "external_id": r.external_id,
                        "raw_data": r.data,
                        "metadata": {
                            "request": request,
                            "checkpoint": page.checkpoint,
                            **r.metadata,
                        },
                    }
                    for r in page.records
                ]
            ),
        },
    )
    return [row["id"] for row in await cur.fetchall()]


def _started_at(ctx: JobContext, now: datetime) -> datetime:
    """When this job first started: the watermark it sets when it completes."""
    saved = ctx.job.progress.get("started_at")
    return datetime.fromisoformat(saved) if saved else now


async def _since(conn: Connection, integration_id: int, entity: str) -> datetime | None:
    cur = await conn.execute(
        query("watermark_get"), {"integration_id": integration_id, "entity_type": entity}
    )
    row = await cur.fetchone()
    return row["watermark"] - WATERMARK_BUFFER if row else None
