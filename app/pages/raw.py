"""The raw data pages: browse stored API records, read one, and transform them again.

Reprocessing reuses the API's selection and its run of transform jobs
(`app.web.api_raw.transform_selection`): the stored rows are read again, no request goes to
Jira or GitHub. Its outcome, or why nothing was queued, is shown next to the buttons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import Route

from app.auth.roles import Role
from app.db import Connection
from app.pages.guard import PageCall, page
from app.pages.render import is_htmx
from app.reprocess import TransformRun
from app.sqlstore import query
from app.web.api_raw import RawListQuery, RawSelection, transform_selection
from app.web.problems import Problem
from app.web.routing import MAX_ID
from app.web.rows import row_or_404

STATUSES = ("pending", "transformed", "loaded", "failed")
FILTERS = ("entity_type", "processing_status", "integration_id")
PRETTY_CAP = 200_000  # characters of indented JSON shown; the API serves the whole record
TRIGGER = "manual"


@dataclass(frozen=True)
class FilterField:
    """One select of the list's filters: its choices as (value, text)."""

    name: str
    label: str
    any: str
    choices: list[tuple[str, str]]


def _same(values: Iterable[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def pretty_json(value: Any, cap: int = PRETTY_CAP) -> tuple[str, bool]:
    """`value` as indented JSON, cut at a line end before `cap` characters; True when cut."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    if len(text) <= cap:
        return text, False
    cut = text.rfind("\n", 0, cap)
    return text[: cut if cut > 0 else cap], True


def _filter_values(call: PageCall) -> dict[str, str]:
    """The list's filters and cursor as given (blank means "any")."""
    params = call.request.query_params
    return {k: params[k].strip() for k in (*FILTERS, "cursor") if params.get(k, "").strip()}


def _list_query(given: dict[str, str]) -> tuple[RawListQuery, dict[str, str]]:
    """The validated filters, and a message by field for the ones that are not valid."""
    try:
        return RawListQuery.model_validate(given), {}
    except ValidationError as exc:
        errors = {str(e["loc"][0]): _field_message(str(e["loc"][0])) for e in exc.errors()}
        kept = {k: v for k, v in given.items() if k not in errors}
        return RawListQuery.model_validate(kept), errors


def _field_message(name: str) -> str:
    return {
        "entity_type": "Choose an entity type from the list.",
        "processing_status": f"Choose one of: {', '.join(STATUSES)}.",
        "integration_id": "Choose an integration from the list.",
        "cursor": "This paging link is not valid: start again from the newest records.",
    }.get(name, "This value is not valid.")


async def _transform_run(conn: Connection, run_id: str | None) -> TransformRun | None:
    """A reprocess run named in the URL (after a post without htmx), or None."""
    if not run_id or not run_id.isdigit() or len(run_id) > 18:
        return None
    cur = await conn.execute(query("raw_transform_run"), {"id": int(run_id)})
    row = await cur.fetchone()
    if row is None:
        return None
    return TransformRun(int(row["run_id"]), int(row["raw_count"]), list(row["job_ids"]))


def _list_url(filters: dict[str, str], **extra: str) -> str:
    chosen = {k: v for k, v in {**filters, **extra}.items() if v}
    return "/raw" + (f"?{urlencode(chosen)}" if chosen else "")


async def _list_context(call: PageCall, given: dict[str, str]) -> dict[str, Any]:
    """What the list page shows for these filters (invalid ones are ignored and named)."""
    q, errors = _list_query(given)
    filters = {k: v for k, v in given.items() if k in FILTERS and k not in errors}
    params = {
        **q.page_params(),
        "entity_type": q.entity_type,
        "processing_status": q.processing_status,
        "integration_id": q.integration_id,
        "since": None,
        "until": None,
    }
    async with call.tenant() as conn:
        cur = await conn.execute(query("raw_page"), params)
        rows = list(await cur.fetchall())
        cur = await conn.execute(query("raw_entity_types"), {})
        entity_types = [r["entity_type"] for r in await cur.fetchall()]
        cur = await conn.execute(query("raw_integration_choices"), {})
        integrations = list(await cur.fetchall())
        queued = await _transform_run(conn, call.request.query_params.get("queued_run"))
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return {
        "rows": rows,
        "filters": filters,
        "errors": errors,
        "filter_fields": [
            FilterField("entity_type", "Entity type", "All entity types", _same(entity_types)),
            FilterField("processing_status", "Status", "Any status", _same(STATUSES)),
            FilterField(
                "integration_id",
                "Integration",
                "All integrations",
                [(str(r["id"]), f"{r['name']} ({r['provider']})") for r in integrations],
            ),
        ],
        "older": _list_url(filters, cursor=str(rows[-1]["id"])) if more else None,
        "first_page": q.cursor is None,
        "newest": _list_url(filters),
        "queued": queued,
        "message": None,
    }


@page()
async def raw_list(call: PageCall) -> Response:
    """GET /raw: the tenant's stored records, newest first, filtered and paged by key."""
    context = await _list_context(call, _filter_values(call))
    status = 422 if context["errors"] else 200
    return call.page_or_fragment("raw.html", "_raw_rows.html", status, **context)


@page()
async def raw_record(call: PageCall) -> Response:
    """GET /raw/{raw_id}: one stored record, its error when it failed, its JSON."""
    raw_id = call.path_id("raw_id")
    async with call.tenant() as conn:
        row = await row_or_404(conn, "raw_detail", raw_id, "raw record")
        integration = await _integration_name(conn, row["integration_id"])
        queued = await _transform_run(conn, call.request.query_params.get("queued_run"))
    body, capped = pretty_json(row["raw_data"])
    metadata, _ = pretty_json(row["extraction_metadata"])
    error = row["error_details"] if isinstance(row["error_details"], dict) else None
    return call.page(
        "raw_record.html",
        row=row,
        integration=integration,
        body=body,
        capped=capped,
        metadata=metadata,
        error=error,
        error_text=None if error else _other_error(row["error_details"]),
        queued=queued,
        message=None,
    )


async def _integration_name(conn: Connection, integration_id: int) -> str:
    cur = await conn.execute(query("integration_detail"), {"id": integration_id})
    row = await cur.fetchone()
    return str(row["name"]) if row else f"integration {integration_id}"


def _other_error(details: Any) -> str | None:
    """Error details that are not the transform's {field, record, error}, as JSON text."""
    return None if details is None else pretty_json(details)[0]


async def _reprocess_answer(
    call: PageCall,
    fallback: str,
    queued: TransformRun | None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """The outcome next to the buttons (htmx); else a redirect to the page showing it, or
    the list again with the message when nothing was queued."""
    if is_htmx(call.request):
        return call.fragment(
            "_raw_reprocess_result.html", status=status, queued=queued, message=message
        )
    if queued is not None:
        sep = "&" if "?" in fallback else "?"
        return call.after_action(f"{fallback}{sep}queued_run={queued.run_id}")
    context = await _list_context(call, _form_filters(call))
    return call.page("raw.html", status=status, **{**context, "message": message})


def _form_filters(call: PageCall) -> dict[str, str]:
    """The list filters a reprocess form carries (the status is the button's business)."""
    return {k: call.form[k] for k in ("entity_type", "integration_id") if call.form.get(k)}


def _selection(call: PageCall) -> RawSelection:
    """The rows the list's form names: ticked ids, or every failed row of its filters."""
    if call.form.get("scope") == "failed":
        try:
            return RawSelection.model_validate(
                {**_form_filters(call), "processing_status": "failed"}
            )
        except ValidationError:
            raise Problem(422, "The filters are not valid: choose them again.") from None
    given = [v.strip() for v in call.form_lists.get("ids", []) if v.strip()]
    if not given:
        raise Problem(422, "Select at least one raw record to reprocess.")
    bad = [v for v in given if not v.isdigit() or not 1 <= int(v) <= MAX_ID]
    if bad:
        shown = ", ".join(repr(v[:20]) for v in bad[:5])
        raise Problem(422, f"Raw record ids are whole numbers; these are not: {shown}.")
    try:
        return RawSelection.model_validate({"ids": [int(v) for v in given]})
    except ValidationError:
        raise Problem(422, "Select at most 10,000 raw records at a time.") from None


@page(Role.OPERATOR)
async def reprocess_selection(call: PageCall) -> Response:
    """POST /raw/reprocess: transform the ticked rows, or all failed rows of the filters."""
    filters = _form_filters(call)
    try:
        selection = _selection(call)
        async with call.tenant() as conn:
            queued = await transform_selection(conn, call.user, selection, trigger=TRIGGER)
    except Problem as problem:
        return await _reprocess_answer(
            call, _list_url(filters), None, _sentence(problem.detail), problem.status
        )
    return await _reprocess_answer(call, _list_url(filters), queued)


@page(Role.OPERATOR)
async def reprocess_record(call: PageCall) -> Response:
    """POST /raw/{raw_id}/reprocess: transform one stored record again (404 if not the
    tenant's)."""
    raw_id = call.path_id("raw_id")
    async with call.tenant() as conn:
        selection = RawSelection.model_validate({"ids": [raw_id]})
        queued = await transform_selection(conn, call.user, selection, trigger=TRIGGER)
    return await _reprocess_answer(call, f"/raw/{raw_id}", queued)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]) if text else text


ROUTES = [
    Route("/raw", raw_list, methods=["GET"], name="raw_list"),
    Route("/raw/reprocess", reprocess_selection, methods=["POST"], name="raw_reprocess"),
    Route("/raw/{raw_id:int}", raw_record, methods=["GET"], name="raw_record"),
    Route(
        "/raw/{raw_id:int}/reprocess", reprocess_record, methods=["POST"], name="raw_reprocess_one"
    ),
]
