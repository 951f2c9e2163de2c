"""Raw ingest: push records for an integration; they enter the pipeline at transform.

The records are stored exactly as the extract stage stores a page (one raw row each, with
metadata), and transform jobs for them are enqueued in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from app.auth.roles import Role
from app.integrations.base import Page as ExtractPage
from app.integrations.base import RawRecord
from app.queue import ops
from app.queue.model import NewJob
from app.reprocess import CHUNK
from app.runs import create_run
from app.stages.extract import insert_raw_page
from app.transform.entities import ENTITY_TYPES
from app.web.api_integrations import integration_out
from app.web.problems import conflict
from app.web.routing import API_PREFIX, Call, Operation, json_response

MAX_RECORDS = 1000
MAX_INGEST_BYTES = 10 * 1024 * 1024


class IngestRecord(BaseModel):
    """One record as the source system returned it."""

    model_config = ConfigDict(extra="forbid")

    entity_type: str = Field(json_schema_extra={"enum": list(ENTITY_TYPES)})
    external_id: str | None = Field(None, max_length=500)
    data: dict[str, Any] = Field(description="the record's JSON, stored as received")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="e.g. issue_key for jira_dev_status, repository for github_pull_request",
    )

    @field_validator("entity_type")
    @classmethod
    def _known_entity(cls, value: str) -> str:
        if value not in ENTITY_TYPES:
            raise ValueError(f"unknown entity type: use one of {', '.join(ENTITY_TYPES)}")
        return value


class IngestBody(BaseModel):
    """A batch of records for one integration."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "records": [
                        {
                            "entity_type": "jira_status",
                            "external_id": "10001",
                            "data": {
                                "id": "10001",
                                "name": "In Progress",
                                "statusCategory": {"key": "indeterminate"},
                            },
                        }
                    ]
                }
            ]
        },
    )

    records: list[IngestRecord] = Field(min_length=1, max_length=MAX_RECORDS)


class IngestOut(BaseModel):
    """Where the records went: their raw ids and the run that transforms them."""

    run_id: int
    raw_ids: list[int]
    transform_jobs: int


async def ingest(call: Call) -> Response:
    """POST /ingest/{integration_id}."""
    integration_id, tenant_id = call.ids["integration_id"], call.user.tenant_id
    body = call.body_as(IngestBody)
    async with call.tenant() as conn:
        integration = await integration_out(conn, integration_id)
        if not integration.active:
            raise conflict(f"integration {integration_id} is inactive: activate it first")
        run_id = await create_run(
            conn,
            tenant_id,
            trigger="api",
            triggered_by=call.user.actor,
            integration_id=integration_id,
        )
        page = ExtractPage(
            records=[
                RawRecord(r.entity_type, r.external_id, r.data, r.metadata) for r in body.records
            ],
            checkpoint={},
            request={"source": "ingest", "pushed_by": call.user.actor},
        )
        raw_ids = await insert_raw_page(conn, tenant_id, integration_id, run_id, page)
        by_entity: dict[str, list[int]] = defaultdict(list)
        for record, raw_id in zip(body.records, raw_ids, strict=True):
            by_entity[record.entity_type].append(raw_id)
        jobs = [
            NewJob(
                tenant_id=tenant_id,
                job_type="transform",
                entity_type=entity,
                run_id=run_id,
                integration_id=integration_id,
                payload={"raw_ids": ids[i : i + CHUNK]},
            )
            for entity, ids in sorted(by_entity.items())
            for i in range(0, len(ids), CHUNK)
        ]
        await ops.enqueue(conn, jobs)
    out = IngestOut(run_id=run_id, raw_ids=raw_ids, transform_jobs=len(jobs))
    return json_response(out, 202, {"Location": f"{API_PREFIX}/runs/{run_id}"})


OPERATIONS = [
    Operation(
        "POST",
        "/ingest/{integration_id}",
        ingest,
        "ingestRaw",
        "Push raw records for an integration; they are transformed and loaded like extracted ones",
        "ingest",
        role=Role.OPERATOR,
        status=202,
        response=IngestOut,
        body=IngestBody,
        errors=(409,),
        max_body=MAX_INGEST_BYTES,
        description=f"Up to {MAX_RECORDS} records and {MAX_INGEST_BYTES // (1024 * 1024)} MiB "
        "per request (413 beyond). Works for any integration; a `custom` one exists for it.",
    ),
]
