"""The search page: the tenant's work items and pull requests by meaning, as you type."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import Route

from app.pages.guard import PageCall, page
from app.web.api_search import SearchQuery, indexed_count, search_hits
from app.web.problems import Problem

ENTITIES = (("work_item", "Work items"), ("pull_request", "Pull requests"))
ENTITY_LABELS = {"work_item": "Work item", "pull_request": "Pull request"}
LIMIT = 20


def _query(text: str, entity: str) -> tuple[SearchQuery | None, dict[str, str]]:
    """The validated query (None when there is nothing to search), or a message by field."""
    try:
        q = SearchQuery.model_validate({"q": text or "-", "entity": entity or None, "limit": LIMIT})
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors()}
        errors = {}
        if "q" in fields:
            errors["q"] = "Use at most 1,000 characters."
        if "entity" in fields:
            errors["entity"] = "Choose work items or pull requests (or both)."
        return None, errors
    return (q if text else None), {}


async def _results(call: PageCall, q: SearchQuery) -> dict[str, Any]:
    """The hits, or why there are none (nothing vectorized yet, or search unavailable)."""
    settings = call.state.services.settings
    tenant_id = call.user.tenant_id
    try:
        hits = await search_hits(settings, tenant_id, q)
        indexed = None if hits else await indexed_count(settings, tenant_id, q.entity)
    except Problem as problem:
        reason = problem.detail.removeprefix("search is unavailable: ")
        return {"hits": [], "unavailable": reason, "indexed": None}
    return {"hits": hits, "unavailable": None, "indexed": indexed}


@page()
async def search_page(call: PageCall) -> Response:
    """GET /search?q=&entity=: the best matches for the words, best first."""
    text = call.request.query_params.get("q", "").strip()
    entity = call.request.query_params.get("entity", "").strip()
    q, errors = _query(text, entity)
    found: dict[str, Any] = {"hits": [], "unavailable": None, "indexed": None}
    if q is not None:
        found = await _results(call, q)
    context = {
        "q": text,
        "entity": entity,
        "entities": ENTITIES,
        "labels": ENTITY_LABELS,
        "errors": errors,
        **found,
    }
    status = 422 if errors else 200
    return call.page_or_fragment("search.html", "_search_results.html", status, **context)


ROUTES = [Route("/search", search_page, methods=["GET"], name="search")]
