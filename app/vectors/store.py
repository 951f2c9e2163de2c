"""The vector store: one Qdrant collection per embedder, every search scoped to one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from app.vectors.documents import ENTITIES, VectorDocument, point_id
from app.vectors.errors import VectorStoreError

UPSERT_BATCH = 256


class QdrantAccess(Protocol):
    """How a store reaches Qdrant for one operation: a server client, or a local lease."""

    @property
    def local(self) -> bool: ...

    def session(self) -> AbstractAsyncContextManager[AsyncQdrantClient]: ...

    async def close(self) -> None: ...


class ServerAccess:
    """A Qdrant server by URL: one client, shared by every operation of the process."""

    local = False

    def __init__(self, url: str, api_key: str | None = None, timeout: int = 30) -> None:
        self.url = url
        # check_compatibility would make a blocking HTTP request inside the event loop.
        self._client = AsyncQdrantClient(
            url=url, api_key=api_key, timeout=timeout, check_compatibility=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncQdrantClient]:
        try:
            yield self._client
        except (ResponseHandlingException, httpx.TransportError) as exc:
            raise VectorStoreError(
                f"cannot reach Qdrant at {self.url}: {exc}. Check QDRANT_URL, or unset it "
                "to use the local folder under SLUICE_HOME"
            ) from exc
        except UnexpectedResponse as exc:
            hint = (
                "check QDRANT_API_KEY"
                if exc.status_code in (401, 403)
                else "see the Qdrant server's log"
            )
            raise VectorStoreError(
                f"Qdrant at {self.url} refused the request ({exc.status_code}): "
                f"{exc.content.decode(errors='replace')[:200]}; {hint}"
            ) from exc

    async def close(self) -> None:
        await self._client.close()


@dataclass(frozen=True)
class SearchHit:
    """One match of a tenant's search."""

    score: float
    entity: str
    key: str
    title: str
    external_id: str
    url: str | None
    row_id: int
    tenant_id: int


def tenant_filter(tenant_id: int, entity: str | None = None) -> models.Filter:
    """The condition every search carries: this tenant's points only (and one entity)."""
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 1:
        raise ValueError(f"a search needs a tenant id (a positive integer), not {tenant_id!r}")
    must: list[models.Condition] = [
        models.FieldCondition(key="tenant_id", match=models.MatchValue(value=tenant_id))
    ]
    if entity is not None:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}: use {' or '.join(ENTITIES)}")
        must.append(models.FieldCondition(key="entity", match=models.MatchValue(value=entity)))
    return models.Filter(must=must)


def _hit(point: models.ScoredPoint) -> SearchHit:
    payload: dict[str, Any] = point.payload or {}
    return SearchHit(
        score=float(point.score),
        entity=str(payload.get("entity", "")),
        key=str(payload.get("key", "")),
        title=str(payload.get("title", "")),
        external_id=str(payload.get("external_id", "")),
        url=payload.get("url"),
        row_id=int(payload.get("row_id", 0)),
        tenant_id=int(payload.get("tenant_id", 0)),
    )


class VectorStore:
    """Points of one embedder's collection: upserts by deterministic id, tenant-scoped reads."""

    def __init__(self, access: QdrantAccess, collection: str, dimensions: int) -> None:
        self.access = access
        self.collection = collection
        self.dimensions = dimensions
        self._ready_client: AsyncQdrantClient | None = None

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncQdrantClient]:
        async with self.access.session() as client:
            if client is not self._ready_client:
                await self._ensure_collection(client)
                self._ready_client = client
            yield client

    async def _ensure_collection(self, client: AsyncQdrantClient) -> None:
        """Create the collection (cosine) if missing and, on a server, its payload indexes."""
        if not await client.collection_exists(self.collection):
            try:
                await client.create_collection(
                    self.collection,
                    vectors_config=models.VectorParams(
                        size=self.dimensions, distance=models.Distance.COSINE
                    ),
                )
            except UnexpectedResponse:
                if not await client.collection_exists(self.collection):
                    raise  # not the race with another worker creating it first
        if not self.access.local:  # local mode ignores payload indexes (and warns); idempotent
            await client.create_payload_index(
                self.collection,
                "tenant_id",
                field_schema=models.IntegerIndexParams(
                    type=models.IntegerIndexType.INTEGER, lookup=True, range=False
                ),
            )
            await client.create_payload_index(
                self.collection, "entity", field_schema=models.PayloadSchemaType.KEYWORD
            )

    async def upsert(
        self, documents: Sequence[VectorDocument], vectors: Sequence[Sequence[float]]
    ) -> int:
        """Write one point per document (overwriting its previous version); returns the count."""
        if len(documents) != len(vectors):
            raise ValueError(f"{len(documents)} documents but {len(vectors)} vectors")
        points = [
            models.PointStruct(id=d.point_id, vector=list(v), payload=d.payload())
            for d, v in zip(documents, vectors, strict=True)
        ]
        for start in range(0, len(points), UPSERT_BATCH):
            async with self._session() as client:
                await client.upsert(
                    self.collection, points=points[start : start + UPSERT_BATCH], wait=True
                )
        return len(points)

    async def delete(self, tenant_id: int, entity: str, row_ids: Iterable[int]) -> int:
        """Remove the points of rows that no longer exist."""
        ids: list[models.ExtendedPointId] = [point_id(tenant_id, entity, r) for r in row_ids]
        if not ids:
            return 0
        async with self._session() as client:
            await client.delete(
                self.collection, points_selector=models.PointIdsList(points=ids), wait=True
            )
        return len(ids)

    async def search(
        self,
        tenant_id: int,
        vector: Sequence[float],
        *,
        limit: int = 10,
        entity: str | None = None,
        min_score: float | None = None,
    ) -> list[SearchHit]:
        """The tenant's best matches for `vector` scoring above `min_score`; never another
        tenant's points."""
        query_filter = tenant_filter(tenant_id, entity)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if not any(vector):
            return []  # nothing to compare with (e.g. a query of stopwords only)
        async with self._session() as client:
            response = await client.query_points(
                self.collection,
                query=list(vector),
                query_filter=query_filter,
                limit=limit,
                with_payload=True,
                score_threshold=min_score,
            )
        hits = [_hit(p) for p in response.points]
        # The filter already guarantees this; a leak would be a bug worth failing loudly on.
        if any(h.tenant_id != tenant_id for h in hits):
            raise VectorStoreError(f"Qdrant returned points of another tenant than {tenant_id}")
        return hits

    async def count(self, tenant_id: int, entity: str | None = None) -> int:
        """How many points the tenant has (optionally of one entity)."""
        query_filter = tenant_filter(tenant_id, entity)
        async with self._session() as client:
            result = await client.count(self.collection, count_filter=query_filter, exact=True)
        return int(result.count)

    async def close(self) -> None:
        await self.access.close()
