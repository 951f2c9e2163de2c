"""Search the tenant's vectorized work items and pull requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.config import Settings
from app.web.problems import Problem
from app.web.routing import Call, Operation, validation_problem


class SearchQuery(BaseModel):
    """What to look for."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=1000, description="the text to look for")
    limit: int = Field(10, ge=1, le=100)
    entity: Literal["work_item", "pull_request"] | None = None


class SearchHitOut(BaseModel):
    """One match: how close, which record, and where it lives."""

    score: float
    entity: str
    key: str
    title: str
    external_id: str
    url: str | None
    row_id: int


class SearchOut(BaseModel):
    """The best matches, best first (records sharing nothing with the query are left out)."""

    items: list[SearchHitOut]


@contextmanager
def vector_store_available() -> Iterator[None]:
    """Turn an embedder or Qdrant failure into a 503 problem saying what is wrong."""
    # Imported here: the Qdrant client takes most of a second to import.
    from app.vectors.embedders import EmbedderError
    from app.vectors.errors import VectorStoreError

    try:
        yield
    except (EmbedderError, VectorStoreError) as exc:
        raise Problem(503, f"search is unavailable: {exc}", kind="unavailable") from None


async def search_hits(settings: Settings, tenant_id: int, q: SearchQuery) -> list[SearchHitOut]:
    """The tenant's best matches for the query (503 when search is unavailable)."""
    from app.vectors.service import search as search_vectors

    with vector_store_available():
        hits = await search_vectors(tenant_id, q.q, q.limit, q.entity, settings=settings)
    return [
        SearchHitOut(
            score=h.score,
            entity=h.entity,
            key=h.key,
            title=h.title,
            external_id=h.external_id,
            url=h.url,
            row_id=h.row_id,
        )
        for h in hits
    ]


async def indexed_count(settings: Settings, tenant_id: int, entity: str | None = None) -> int:
    """How many of the tenant's records are searchable (503 when search is unavailable)."""
    from app.vectors.service import count_points

    with vector_store_available():
        return await count_points(tenant_id, entity, settings=settings)


async def search(call: Call) -> SearchOut:
    """GET /search."""
    q = call.query_as(SearchQuery)
    if not q.q.strip():
        raise validation_problem(
            [{"location": "query", "field": "q", "message": "give some words to look for"}]
        )
    return SearchOut(items=await search_hits(call.state.services.settings, call.user.tenant_id, q))


OPERATIONS = [
    Operation(
        "GET",
        "/search",
        search,
        "search",
        "Search work items and pull requests",
        "search",
        response=SearchOut,
        query=SearchQuery,
        errors=(503,),
    ),
]
