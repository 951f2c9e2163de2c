"""The load stage: a transformed batch into the final tables, in one transaction.

Rows are COPYed into per-session staging tables and upserted in dependency order; child
rows (changelogs, reviews, commits, comments, pattern links) are replaced with their
parent; links resolve whichever side arrived first; the raw rows become `loaded` and the
vectorize job is enqueued, all with the job's completion.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from app.db import Connection
from app.load.batch import STAGE_COLUMNS
from app.queue import ops
from app.queue.context import JobContext
from app.queue.model import ClaimedJob, NewJob
from app.sqlstore import query

RELINK_CHUNK = 200  # pull request raw rows per transform job when project keys are added
# Upserts in dependency order, after their staging tables are filled.
UPSERTS = (
    "load_wits",
    "load_projects",
    "load_projects_wits",
    "load_statuses",
    "load_repositories",
    "load_work_items",
    "load_changelogs_delete_stale",
    "load_changelogs",
    "load_prs",
    "load_prs_reviews_delete_stale",
    "load_prs_reviews",
    "load_prs_commits_delete_stale",
    "load_prs_commits",
    "load_prs_comments_delete_stale",
    "load_prs_comments",
    "load_links_delete_stale",
    "load_links",
    "load_links_resolve_items",
    "load_links_resolve_prs",
)
LINK_STEPS = frozenset(
    {"load_links_delete_stale", "load_links", "load_links_resolve_items", "load_links_resolve_prs"}
)
# Which staging tables each upsert reads: an upsert with nothing staged is skipped.
READS = {
    "load_wits": ("wits",),
    "load_projects": ("projects",),
    "load_projects_wits": ("projects_wits",),
    "load_statuses": ("statuses",),
    "load_repositories": ("repositories",),
    "load_work_items": ("work_items",),
    "load_changelogs_delete_stale": ("work_items",),
    "load_changelogs": ("changelogs",),
    "load_prs": ("prs",),
    "load_prs_reviews_delete_stale": ("prs",),
    "load_prs_reviews": ("prs_reviews",),
    "load_prs_commits_delete_stale": ("prs",),
    "load_prs_commits": ("prs_commits",),
    "load_prs_comments_delete_stale": ("prs",),
    "load_prs_comments": ("prs_comments",),
    "load_links_delete_stale": ("prs",),
    "load_links": ("links",),
    "load_links_resolve_items": ("work_items",),
    "load_links_resolve_prs": ("prs",),
}


async def copy_rows(conn: Connection, table: str, rows: list[list[Any]]) -> None:
    """Stream one staging table's rows with COPY."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(f"stage_{table}"),
        sql.SQL(", ").join(sql.Identifier(c) for c in STAGE_COLUMNS[table]),
    )
    async with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            await copy.write_row(row)


async def load_batch(
    conn: Connection, tenant_id: int, integration_id: int, tables: dict[str, list[list[Any]]]
) -> dict[str, list[Any]]:
    """Upsert one batch; returns the ids of work items and pull requests that changed, and
    the project keys it added (`new_project_keys`)."""
    await conn.execute(query("load_stage_tables"))
    for table, rows in tables.items():
        if table not in STAGE_COLUMNS:
            raise ValueError(f"load payload names an unknown table {table!r}")
        if rows:
            await copy_rows(conn, table, rows)
    params = {"tenant_id": tenant_id, "integration_id": integration_id}
    new_keys: list[str] = []
    if tables.get("projects"):
        cur = await conn.execute(query("load_projects_new_keys"), params)
        new_keys = [row["key"] for row in await cur.fetchall()]
        if new_keys:
            await conn.execute(query("project_keys_lock"), params)
    locked = False
    for name in UPSERTS:
        if any(tables.get(t) for t in READS[name]):
            if name in LINK_STEPS and not locked:
                await conn.execute(query("load_links_lock"), params)
                locked = True
            await conn.execute(query(name), params)
    cur = await conn.execute(query("load_loaded_ids"))
    row = await cur.fetchone()
    assert row is not None
    return {
        "work_item_ids": list(row["work_item_ids"]),
        "pr_ids": list(row["pr_ids"]),
        "new_project_keys": new_keys,
    }


async def relink_pull_requests(
    conn: Connection, job: ClaimedJob, integration_id: int, keys: list[str]
) -> int:
    """Transform again the pull requests whose pattern links missed new project keys (they
    were transformed before the projects loaded); returns how many raw rows."""
    cur = await conn.execute(
        query("raw_pull_requests_to_relink"), {"tenant_id": job.tenant_id, "keys": keys}
    )
    ids = [row["id"] for row in await cur.fetchall()]
    await ops.enqueue(
        conn,
        [
            NewJob(
                tenant_id=job.tenant_id,
                job_type="transform",
                entity_type="github_pull_request",
                run_id=job.run_id,
                priority=job.priority,
                payload={"raw_ids": ids[i : i + RELINK_CHUNK], "relink_keys": keys},
            )
            for i in range(0, len(ids), RELINK_CHUNK)
        ],
    )
    return len(ids)


async def load(ctx: JobContext) -> None:
    """Load the job's batch, mark its raw rows loaded and hand changed items to vectorize."""
    job = ctx.job
    tables = job.payload.get("tables") or {}
    raw_ids = [int(i) for i in job.payload.get("raw_ids", [])]
    integration_id = job.integration_id or int(job.payload.get("integration_id", 0))
    async with ctx.transaction() as conn:
        changed = await load_batch(conn, job.tenant_id, integration_id, tables)
        if changed["new_project_keys"]:
            ctx.progress["relinked_prs"] = await relink_pull_requests(
                conn, job, integration_id, changed["new_project_keys"]
            )
        await conn.execute(query("raw_mark_loaded"), {"ids": raw_ids})
        await conn.execute(
            query("load_payload_release"), {"tenant_id": job.tenant_id, "id": job.id}
        )
        if changed["work_item_ids"] or changed["pr_ids"]:
            await ops.enqueue(
                conn,
                [
                    NewJob(
                        tenant_id=job.tenant_id,
                        job_type="vectorize",
                        entity_type=job.entity_type,
                        run_id=job.run_id,
                        integration_id=integration_id,
                        priority=job.priority,
                        payload={
                            "work_item_ids": changed["work_item_ids"],
                            "pr_ids": changed["pr_ids"],
                        },
                    )
                ],
            )
        ctx.progress.update(
            records=sum(len(rows) for rows in tables.values()),
            work_items=len(changed["work_item_ids"]),
            prs=len(changed["pr_ids"]),
        )
