"""The vectorize stage: the work items and pull requests a load changed, embedded into Qdrant.

The rows are read in a short tenant transaction, embedded in a thread and upserted by
deterministic point id (a retry overwrites, never duplicates); rows that no longer exist
lose their points. The job completes afterwards, with the counts as its progress.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.config import load_settings
from app.db import Connection, tenant_transaction
from app.queue.context import JobContext
from app.queue.errors import PermanentJobError, RetryableJobError
from app.sqlstore import query
from app.vectors.documents import PULL_REQUEST, TEXT_CHARS, WORK_ITEM, documents_from_rows
from app.vectors.embedders import Embedder, EmbedderError, embedder_from_env
from app.vectors.errors import VectorStoreBusyError, VectorStoreError
from app.vectors.service import index_documents, shared_vector_store
from app.vectors.store import VectorStore

BUSY_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class VectorizeCounts:
    """What one vectorize run did."""

    work_items: int
    prs: int
    points: int
    deleted: int
    seconds: float


async def read_rows(
    conn: Connection, tenant_id: int, work_item_ids: list[int], pr_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tenant's work item and pull request rows with these ids (missing ids are absent)."""
    params: dict[str, Any] = {"tenant_id": tenant_id, "text_chars": TEXT_CHARS}
    work_items: list[dict[str, Any]] = []
    prs: list[dict[str, Any]] = []
    if work_item_ids:
        cur = await conn.execute(query("vector_work_items"), {**params, "ids": work_item_ids})
        work_items = list(await cur.fetchall())
    if pr_ids:
        cur = await conn.execute(query("vector_prs"), {**params, "ids": pr_ids})
        prs = list(await cur.fetchall())
    return work_items, prs


async def vectorize_ids(
    pool: AsyncConnectionPool[Connection],
    store: VectorStore,
    embedder: Embedder,
    tenant_id: int,
    work_item_ids: list[int],
    pr_ids: list[int],
) -> VectorizeCounts:
    """Read, embed and upsert these rows of one tenant (the unit the benchmark times)."""
    started = time.perf_counter()
    async with tenant_transaction(pool, tenant_id) as conn:
        work_items, prs = await read_rows(conn, tenant_id, work_item_ids, pr_ids)
    documents = documents_from_rows(tenant_id, work_items, prs)
    points = await index_documents(store, embedder, documents)
    gone_items = set(work_item_ids) - {int(r["id"]) for r in work_items}
    gone_prs = set(pr_ids) - {int(r["id"]) for r in prs}
    deleted = await store.delete(tenant_id, WORK_ITEM, sorted(gone_items))
    deleted += await store.delete(tenant_id, PULL_REQUEST, sorted(gone_prs))
    return VectorizeCounts(
        work_items=len(work_items),
        prs=len(prs),
        points=points,
        deleted=deleted,
        seconds=round(time.perf_counter() - started, 3),
    )


def _ids(payload: dict[str, Any], name: str) -> list[int]:
    try:
        return sorted({int(i) for i in payload.get(name) or []})
    except (TypeError, ValueError) as exc:
        raise PermanentJobError(f"vectorize payload {name!r} must be a list of ids") from exc


async def vectorize(ctx: JobContext) -> None:
    """Embed the job's changed rows into the tenant's points, then complete the job."""
    job = ctx.job
    work_item_ids = _ids(job.payload, "work_item_ids")
    pr_ids = _ids(job.payload, "pr_ids")
    try:
        embedder = embedder_from_env()
    except EmbedderError as exc:
        raise PermanentJobError(str(exc)) from exc
    settings = ctx.services.settings if ctx.services is not None else load_settings()
    store = shared_vector_store(settings, embedder)
    try:
        counts = await vectorize_ids(
            ctx.pool, store, embedder, job.tenant_id, work_item_ids, pr_ids
        )
    except VectorStoreBusyError as exc:
        raise RetryableJobError(str(exc), retry_after=BUSY_RETRY_SECONDS) from exc
    except VectorStoreError as exc:
        raise RetryableJobError(str(exc)) from exc
    ctx.progress.update(asdict(counts), embedder=embedder.name, collection=store.collection)
    async with ctx.transaction():
        pass
