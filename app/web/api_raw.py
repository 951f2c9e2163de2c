"""Raw extraction data: list, one record, and re-transforming a selection (no API calls)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from app.auth.roles import Principal, Role
from app.db import Connection
from app.reprocess import TransformRun, enqueue_transform_run
from app.sqlstore import query
from app.web.pagination import Page, PageQuery, RowId, Timestamp, page_of
from app.web.problems import Problem
from app.web.routing import API_PREFIX, Call, Operation, json_response
from app.web.rows import row_or_404

RawStatus = Literal["pending", "transformed", "loaded", "failed"]
MAX_SELECTION = 50_000


class RawOut(BaseModel):
    """A stored API record as listed (without its JSON)."""

    id: int
    integration_id: int
    run_id: int | None
    entity_type: str
    external_id: str | None
    processing_status: RawStatus
    error_details: Any
    created_at: datetime
    processed_at: datetime | None
    raw_bytes: int


class RawDetail(RawOut):
    """A stored API record with its JSON as received and its extraction metadata."""

    raw_data: Any
    extraction_metadata: dict[str, Any]


class RawListQuery(PageQuery):
    """Filters of the raw data list (newest first)."""

    entity_type: str | None = Field(None, max_length=100)
    processing_status: RawStatus | None = None
    integration_id: RowId | None = None
    since: Timestamp | None = Field(None, description="stored at or after (ISO 8601)")
    until: Timestamp | None = Field(None, description="stored before (ISO 8601)")


class RawGetQuery(BaseModel):
    """Options of one raw record."""

    model_config = ConfigDict(extra="forbid")

    pretty: bool = Field(False, description="indent the JSON for reading")


class RawSelection(BaseModel):
    """Raw rows to transform again: explicit `ids`, or filters (all rows when none)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"entity_type": "jira_issue", "processing_status": "failed"}]
        },
    )

    ids: list[RowId] | None = Field(None, min_length=1, max_length=10_000)
    entity_type: str | None = Field(None, max_length=100)
    integration_id: RowId | None = None
    processing_status: RawStatus | None = None
    since: Timestamp | None = None
    until: Timestamp | None = None
    latest_only: bool = Field(
        True, description="with filters: skip rows of which a newer version is stored"
    )

    @model_validator(mode="after")
    def _ids_or_filters(self) -> Self:
        filters = self.model_fields_set - {"ids", "latest_only"}
        if self.ids is not None and filters:
            raise ValueError(f"give ids or filters, not both (got {', '.join(sorted(filters))})")
        return self


class TransformRequestOut(BaseModel):
    """The run that re-transforms the selection: follow it at /api/v1/runs/{run_id}."""

    run_id: int
    raw_count: int
    transform_jobs: int


def _filters(q: RawListQuery | RawSelection) -> dict[str, Any]:
    return {
        "entity_type": q.entity_type,
        "processing_status": q.processing_status,
        "integration_id": q.integration_id,
        "since": q.since,
        "until": q.until,
    }


async def list_raw(call: Call) -> Page[RawOut]:
    """GET /raw."""
    q = call.query_as(RawListQuery)
    async with call.tenant() as conn:
        cur = await conn.execute(query("raw_page"), {**q.page_params(), **_filters(q)})
        rows = await cur.fetchall()
    return page_of(rows, q, RawOut)


async def get_raw(call: Call) -> Response:
    """GET /raw/{raw_id}."""
    raw_id = call.ids["raw_id"]
    async with call.tenant() as conn:
        row = await row_or_404(conn, "raw_detail", raw_id, "raw record")
    detail = RawDetail.model_validate(row)
    if not call.query_as(RawGetQuery).pretty:
        return json_response(detail)
    body = orjson.dumps(detail.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
    return Response(body, media_type="application/json")


async def selected_raw_ids(conn: Connection, selection: RawSelection) -> list[int]:
    """The tenant's raw row ids a selection names (404 for ids it cannot see)."""
    if selection.ids is not None:
        wanted = sorted(set(selection.ids))
        cur = await conn.execute(query("raw_existing_ids"), {"ids": wanted})
        found = {row["id"] for row in await cur.fetchall()}
        missing = [i for i in wanted if i not in found]
        if missing:
            shown = ", ".join(str(i) for i in missing[:20])
            raise Problem(404, f"raw records {shown} do not exist", kind="not-found")
        return wanted
    cur = await conn.execute(
        query("raw_select_for_transform"),
        {
            **_filters(selection),
            "latest_only": selection.latest_only,
            "max_rows": MAX_SELECTION + 1,
        },
    )
    ids = [row["id"] for row in await cur.fetchall()]
    if len(ids) > MAX_SELECTION:
        raise Problem(
            422,
            f"the filters select more than {MAX_SELECTION} raw rows: narrow them "
            "(entity_type, integration_id, since/until) and send several requests",
            kind="selection-too-large",
        )
    return ids


async def transform_selection(
    conn: Connection, user: Principal, selection: RawSelection, trigger: str
) -> TransformRun:
    """In the tenant's transaction: a run of transform jobs for the selected raw rows."""
    ids = await selected_raw_ids(conn, selection)
    if not ids:
        raise Problem(422, "no stored raw rows match: nothing to transform", kind="empty-selection")
    return await enqueue_transform_run(
        conn,
        user.tenant_id,
        ids,
        entity_type=selection.entity_type or "",
        trigger=trigger,
        triggered_by=user.actor,
    )


async def request_transform(call: Call) -> Response:
    """POST /transform-requests and /raw/reprocess: a run of transform jobs for the rows."""
    selection = call.body_as(RawSelection)
    async with call.tenant() as conn:
        queued = await transform_selection(conn, call.user, selection, trigger="api")
    out = TransformRequestOut(
        run_id=queued.run_id, raw_count=queued.raw_count, transform_jobs=len(queued.job_ids)
    )
    return json_response(out, 202, {"Location": f"{API_PREFIX}/runs/{queued.run_id}"})


def _transform_operation(path: str, operation_id: str, summary: str, tag: str) -> Operation:
    return Operation(
        "POST",
        path,
        request_transform,
        operation_id,
        summary,
        tag,
        role=Role.OPERATOR,
        status=202,
        response=TransformRequestOut,
        body=RawSelection,
        errors=(404,),
        description="Opens a run whose transform jobs read the stored rows (load and "
        "vectorize follow as usual); no request goes to Jira or GitHub.",
    )


OPERATIONS = [
    Operation(
        "GET",
        "/raw",
        list_raw,
        "listRaw",
        "List stored raw records by entity, status, integration and time",
        "raw",
        response=Page[RawOut],
        query=RawListQuery,
    ),
    Operation(
        "GET",
        "/raw/{raw_id}",
        get_raw,
        "getRaw",
        "One stored raw record with its JSON",
        "raw",
        response=RawDetail,
        query=RawGetQuery,
    ),
    _transform_operation(
        "/raw/reprocess", "reprocessRaw", "Reprocess a selection of raw records", "raw"
    ),
    _transform_operation(
        "/transform-requests",
        "createTransformRequest",
        "Re-transform a selection of raw records",
        "transform",
    ),
]
