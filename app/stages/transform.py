"""The transform stage: raw rows into load batches with pure transformers.

A row a transformer cannot read is marked `failed` with a precise `error_details`; the
rest of the batch goes on. The load job and the raw rows' new status commit together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from app.db import Connection
from app.load.batch import LoadBatch
from app.queue import ops
from app.queue.context import JobContext
from app.queue.model import NewJob
from app.sqlstore import query
from app.transform import entities
from app.transform.dispatch import TransformContext, transform_raw
from app.transform.errors import Failed
from app.transform.links import pattern_links
from app.transform.records import JiraIssueRecords, ProjectRecords, PullRequestRecords
from app.transform.workflow_metrics import WorkflowMapping, WorkflowStep, work_item_metrics


@dataclass(frozen=True)
class TenantRules:
    """What the transformers need from the tenant's configuration, read once per job."""

    mapping: WorkflowMapping
    status_categories: dict[str, str]
    status_names: dict[str, str]
    project_keys: frozenset[str]
    custom_fields: dict[str, str]


async def tenant_rules(conn: Connection, integration_id: int | None) -> TenantRules:
    """Workflow mapping, status catalog, project keys and custom-field mapping."""
    cur = await conn.execute(query("transform_workflow_steps"), {"integration_id": integration_id})
    status_steps: dict[str, WorkflowStep] = {}
    for row in await cur.fetchall():
        status_steps[row["status_from"]] = WorkflowStep(
            row["step_name"], row["step_category"], row["step_number"], row["is_commitment_point"]
        )
    cur = await conn.execute(
        query("transform_workflow_all_steps"), {"integration_id": integration_id}
    )
    steps = [
        WorkflowStep(r["step_name"], r["step_category"], r["step_number"], r["is_commitment_point"])
        for r in await cur.fetchall()
    ]
    cur = await conn.execute(query("transform_status_catalog"), {"integration_id": integration_id})
    categories: dict[str, str] = {}
    names: dict[str, str] = {}
    for row in await cur.fetchall():
        categories[row["external_id"]] = row["category"]
        categories[row["original_name"].casefold()] = row["category"]
        names[row["external_id"]] = row["original_name"]
    cur = await conn.execute(query("transform_project_keys"), {})
    keys = frozenset(row["key"] for row in await cur.fetchall())
    cur = await conn.execute(query("integration_get"), {"id": integration_id})
    integration = await cur.fetchone()
    settings = (integration or {}).get("settings") or {}
    return TenantRules(
        WorkflowMapping(status_steps, steps),
        categories,
        names,
        keys,
        dict(settings.get("custom_fields") or {}),
    )


def transform_rows(
    rows: list[dict[str, Any]], rules: TenantRules
) -> tuple[LoadBatch, list[dict[str, Any]]]:
    """Pure: raw rows into one load batch per integration, plus the failed rows' errors."""
    batch = LoadBatch()
    failures: list[dict[str, Any]] = []
    for row in rows:
        metadata = row["extraction_metadata"] or {}
        context = TransformContext(
            custom_field_mapping=rules.custom_fields,
            issue_key=metadata.get("issue_key") or row["external_id"],
            repository_full_name=metadata.get("repository"),
        )
        result = transform_raw(row["entity_type"], row["raw_data"], context)
        if isinstance(result, Failed):
            failures.append(
                {
                    "id": row["id"],
                    "error": {**result.error_details(), "entity_type": row["entity_type"]},
                }
            )
            continue
        batch.raw_ids.append(row["id"])
        add_records(batch, row["entity_type"], result.value, row["id"], rules)
    return batch, failures


def add_records(batch: LoadBatch, entity: str, value: Any, raw_id: int, rules: TenantRules) -> None:
    """Put one transformed raw record's records into the batch."""
    if entity == entities.JIRA_ISSUE:
        issue: JiraIssueRecords = value
        metrics = work_item_metrics(
            issue.work_item,
            issue.changelogs,
            rules.mapping,
            rules.status_categories,
            status_names=rules.status_names,
        )
        batch.add_work_item(issue.work_item, metrics, raw_id)
        for change in issue.changelogs:
            batch.add("changelogs", change)
    elif entity == entities.JIRA_PROJECT:
        project: ProjectRecords = value
        batch.add_project(project.project, project.wits)
    elif entity == entities.JIRA_STATUS:
        batch.add("statuses", value)
    elif entity == entities.JIRA_DEV_STATUS:
        for link in value:
            batch.add("links", link)
    elif entity == entities.GITHUB_REPOSITORY:
        batch.add("repositories", value)
    elif entity == entities.GITHUB_PULL_REQUEST:
        pull: PullRequestRecords = value
        batch.add_pull_request(pull.pull_request, raw_id)
        for review in pull.reviews:
            batch.add("prs_reviews", review)
        for commit in pull.commits:
            batch.add("prs_commits", commit)
        for comment in pull.comments:
            batch.add("prs_comments", comment)
        for link in pattern_links(pull.pull_request, rules.project_keys):
            batch.add("links", link)


async def transform(ctx: JobContext) -> None:
    """Transform the job's raw rows; enqueue one load job per integration."""
    job = ctx.job
    raw_ids = [int(i) for i in job.payload.get("raw_ids", [])]
    async with ctx.transaction() as conn:
        cur = await conn.execute(query("raw_get_many"), {"ids": raw_ids})
        rows = list(await cur.fetchall())
        by_integration: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_integration[row["integration_id"]].append(row)
        loads: list[NewJob] = []
        failures: list[dict[str, Any]] = []
        if any(row["entity_type"] == entities.GITHUB_PULL_REQUEST for row in rows):
            # Pattern links depend on the project keys: read them in turn with a load that
            # adds keys (it then transforms again what was read before it).
            await conn.execute(query("project_keys_lock_shared"), {"tenant_id": job.tenant_id})
        for integration_id, group in sorted(by_integration.items()):
            rules = await tenant_rules(conn, integration_id)
            batch, failed = transform_rows(group, rules)
            failures += failed
            if not batch.empty:
                loads.append(
                    NewJob(
                        tenant_id=job.tenant_id,
                        job_type="load",
                        entity_type=job.entity_type,
                        run_id=job.run_id,
                        integration_id=integration_id,
                        priority=job.priority,
                        payload=batch.to_payload(),
                    )
                )
        ok_ids = [i for load in loads for i in load.payload["raw_ids"]]
        await conn.execute(query("raw_mark_transformed"), {"ids": ok_ids})
        if failures:
            await conn.execute(
                query("raw_mark_failed"),
                {
                    "ids": [f["id"] for f in failures],
                    "errors": [Jsonb(f["error"]) for f in failures],
                },
            )
        await ops.enqueue(conn, loads)
        ctx.progress.update(records=len(ok_ids), failed=len(failures))
