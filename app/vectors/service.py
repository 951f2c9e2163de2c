"""Vectorize documents and search them: what the stage, the CLI and the web process call."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.config import Settings
from app.vectors.documents import VectorDocument
from app.vectors.embedders import Embedder, collection_name, embedder_from_env
from app.vectors.local_lease import LocalQdrantLease
from app.vectors.store import QdrantAccess, SearchHit, ServerAccess, VectorStore

EMBED_BATCH = 256


@dataclass
class _Shared:
    """One event loop's shared Qdrant accesses (by location) and stores (by collection)."""

    accesses: dict[tuple[str, str], QdrantAccess] = field(default_factory=dict)
    stores: dict[tuple[str, str, str], VectorStore] = field(default_factory=dict)


# Per event loop, because a client and a lease belong to the loop that opened them.
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shared] = weakref.WeakKeyDictionary()


def open_access(settings: Settings) -> QdrantAccess:
    """QDRANT_URL's server when set, else the local folder under SLUICE_HOME."""
    if settings.qdrant_url:
        return ServerAccess(settings.qdrant_url, settings.qdrant_api_key)
    return LocalQdrantLease(settings.qdrant_path)


def _location(settings: Settings) -> tuple[str, str]:
    if settings.qdrant_url:
        return ("server", f"{settings.qdrant_url}|{settings.qdrant_api_key or ''}")
    return ("local", str(settings.qdrant_path))


def shared_vector_store(settings: Settings, embedder: Embedder) -> VectorStore:
    """The process's store for these settings and this embedder, created on first use.

    Every job of a worker shares it: one server client, or one local lease, so a busy
    worker opens the local folder once rather than once per job.
    """
    shared = _SHARED.setdefault(asyncio.get_running_loop(), _Shared())
    location = _location(settings)
    collection = collection_name(embedder)
    store = shared.stores.get((*location, collection))
    if store is None:
        access = shared.accesses.get(location)
        if access is None:
            access = shared.accesses[location] = open_access(settings)
        store = shared.stores[(*location, collection)] = VectorStore(
            access, collection, embedder.dimensions
        )
    return store


async def close_shared_vector_stores() -> None:
    """Close this event loop's shared stores (at shutdown, and between tests)."""
    shared = _SHARED.pop(asyncio.get_running_loop(), _Shared())
    for access in shared.accesses.values():
        await access.close()


@asynccontextmanager
async def open_vector_store(settings: Settings, embedder: Embedder) -> AsyncIterator[VectorStore]:
    """A store of its own for a short-lived caller (the CLI), closed on exit."""
    store = VectorStore(open_access(settings), collection_name(embedder), embedder.dimensions)
    try:
        yield store
    finally:
        await store.close()


async def index_documents(
    store: VectorStore,
    embedder: Embedder,
    documents: Sequence[VectorDocument],
    batch_size: int = EMBED_BATCH,
) -> int:
    """Embed (in a thread) and upsert `documents` in batches; returns the points written."""
    written = 0
    for start in range(0, len(documents), batch_size):
        batch = documents[start : start + batch_size]
        vectors = await asyncio.to_thread(embedder.embed, [d.text for d in batch])
        written += await store.upsert(batch, vectors)
    return written


async def search_text(
    store: VectorStore,
    embedder: Embedder,
    tenant_id: int,
    text: str,
    limit: int = 10,
    entity: str | None = None,
) -> list[SearchHit]:
    """The tenant's best matches for a text query; matches with nothing in common with it
    (cosine 0 or below) are left out."""
    text = text.strip()
    if not text:
        raise ValueError("the search text is empty: give some words to look for")
    vector = await asyncio.to_thread(embedder.embed_query, text)
    return await store.search(tenant_id, vector, limit=limit, entity=entity, min_score=0.0)


async def search(
    tenant_id: int,
    text: str,
    limit: int = 10,
    entity: str | None = None,
    *,
    settings: Settings,
    embedder: Embedder | None = None,
) -> list[SearchHit]:
    """Search one tenant's work items and pull requests (the web and API entry point)."""
    embedder = embedder or embedder_from_env()
    store = shared_vector_store(settings, embedder)
    return await search_text(store, embedder, tenant_id, text, limit, entity)


async def count_points(
    tenant_id: int,
    entity: str | None = None,
    *,
    settings: Settings,
    embedder: Embedder | None = None,
) -> int:
    """How many of one tenant's records are searchable (0: nothing vectorized yet)."""
    embedder = embedder or embedder_from_env()
    return await shared_vector_store(settings, embedder).count(tenant_id, entity)
