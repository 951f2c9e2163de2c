"""The vector store: tenant filter on every read, deterministic overwrites, local and server setup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import models
from qdrant_client.http.models import QueryResponse

from app.config import load_settings
from app.vectors.documents import PULL_REQUEST, WORK_ITEM, VectorDocument, documents_from_rows
from app.vectors.errors import VectorStoreError
from app.vectors.lexical import LexicalEmbedder
from app.vectors.local_lease import LocalQdrantLease
from app.vectors.service import (
    close_shared_vector_stores,
    index_documents,
    open_access,
    search,
    search_text,
    shared_vector_store,
)
from app.vectors.store import ServerAccess, VectorStore, tenant_filter


class RecordingClient:
    """Stands in for AsyncQdrantClient and records what the store asks of it."""

    def __init__(self, points: list[models.ScoredPoint] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.points = points or []

    async def collection_exists(self, name: str) -> bool:
        self.calls.append(("collection_exists", {"name": name}))
        return False

    async def create_collection(self, name: str, **kwargs: Any) -> bool:
        self.calls.append(("create_collection", {"name": name, **kwargs}))
        return True

    async def create_payload_index(self, name: str, field: str, **kwargs: Any) -> None:
        self.calls.append(("create_payload_index", {"field": field, **kwargs}))

    async def query_points(self, name: str, **kwargs: Any) -> QueryResponse:
        self.calls.append(("query_points", kwargs))
        return QueryResponse(points=self.points)


class FakeAccess:
    def __init__(self, client: RecordingClient, local: bool) -> None:
        self.client = client
        self.local = local

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        yield self.client

    async def close(self) -> None:
        pass


def document(tenant_id: int, row_id: int, title: str, entity: str = WORK_ITEM) -> VectorDocument:
    if entity == PULL_REQUEST:
        row = {"id": row_id, "external_id": f"PR{row_id}", "repository_full_name": "acme/api"}
        return documents_from_rows(
            tenant_id, pull_requests=[{**row, "number": row_id, "title": title, "body": ""}]
        )[0]
    row = {"id": row_id, "external_id": str(row_id), "key": f"T{tenant_id}-{row_id}"}
    return documents_from_rows(tenant_id, work_items=[{**row, "summary": title}])[0]


def test_tenant_filter_always_scopes_to_the_tenant() -> None:
    only_tenant = tenant_filter(3)
    assert only_tenant.must == [
        models.FieldCondition(key="tenant_id", match=models.MatchValue(value=3))
    ]
    with_entity = tenant_filter(3, "pull_request")
    assert with_entity.must is not None and len(with_entity.must) == 2
    assert with_entity.must[0] == only_tenant.must[0]


@pytest.mark.parametrize("bad", [None, 0, -1, True, "1", 1.0])
def test_tenant_filter_refuses_anything_but_a_tenant_id(bad: Any) -> None:
    with pytest.raises(ValueError, match="needs a tenant id"):
        tenant_filter(bad)


async def test_every_search_sends_the_tenant_condition() -> None:
    client = RecordingClient()
    store = VectorStore(FakeAccess(client, local=False), "sluice_lexical_384", 384)
    await store.search(5, [1.0] * 384, limit=3)
    await store.search(5, [1.0] * 384, entity="work_item")
    queries = [kwargs for name, kwargs in client.calls if name == "query_points"]
    assert len(queries) == 2
    for sent in queries:
        assert sent["query_filter"].must[0] == models.FieldCondition(
            key="tenant_id", match=models.MatchValue(value=5)
        )
    assert queries[0]["limit"] == 3


async def test_a_search_cannot_be_made_without_a_tenant() -> None:
    client = RecordingClient()
    store = VectorStore(FakeAccess(client, local=False), "c", 4)
    with pytest.raises(TypeError):
        await store.search(vector=[1.0, 0, 0, 0])  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="needs a tenant id"):
        await store.search(None, [1.0, 0, 0, 0])  # type: ignore[arg-type]
    assert not any(name == "query_points" for name, _ in client.calls)


async def test_points_of_another_tenant_in_a_reply_are_an_error() -> None:
    leaked = models.ScoredPoint(id=1, version=0, score=0.9, payload={"tenant_id": 2, "key": "X"})
    store = VectorStore(FakeAccess(RecordingClient([leaked]), local=False), "c", 4)
    with pytest.raises(VectorStoreError, match="another tenant"):
        await store.search(1, [1.0, 0, 0, 0])


async def test_a_server_collection_gets_cosine_and_tenant_payload_index() -> None:
    client = RecordingClient()
    store = VectorStore(FakeAccess(client, local=False), "sluice_lexical_384", 384)
    await store.search(1, [1.0] * 384)
    created = dict(client.calls)["create_collection"]
    assert created["vectors_config"] == models.VectorParams(
        size=384, distance=models.Distance.COSINE
    )
    indexes = {
        c["field"]: c["field_schema"] for n, c in client.calls if n == "create_payload_index"
    }
    assert indexes["tenant_id"].type == models.IntegerIndexType.INTEGER
    assert indexes["entity"] == models.PayloadSchemaType.KEYWORD


async def test_local_collections_skip_payload_indexes() -> None:
    client = RecordingClient()
    await VectorStore(FakeAccess(client, local=True), "c", 4).search(1, [1.0, 0, 0, 0])
    assert not any(name == "create_payload_index" for name, _ in client.calls)


def test_settings_choose_server_or_local(tmp_path: Path) -> None:
    base = {"SLUICE_HOME": str(tmp_path), "SLUICE_SECRET_KEY": "k" * 40}
    local = open_access(load_settings(base))
    assert isinstance(local, LocalQdrantLease) and local.path == tmp_path / "qdrant"
    server = open_access(load_settings({**base, "QDRANT_URL": "http://127.0.0.1:6333"}))
    assert isinstance(server, ServerAccess) and server.url == "http://127.0.0.1:6333"


@pytest.fixture
async def local_store(tmp_path: Path) -> AsyncIterator[VectorStore]:
    store = VectorStore(LocalQdrantLease(tmp_path / "qdrant"), "sluice_lexical_384", 384)
    try:
        yield store
    finally:
        await store.close()


async def test_local_store_keeps_tenants_apart(local_store: VectorStore) -> None:
    embedder = LexicalEmbedder()
    same_title = "Login page crashes when the session expires"
    docs = [
        document(1, 1, same_title),
        document(1, 2, "Refund endpoint returns 500"),
        document(2, 3, same_title),
        document(2, 4, "Login page crashes on Safari", PULL_REQUEST),
    ]
    assert await index_documents(local_store, embedder, docs) == 4
    one = await search_text(local_store, embedder, 1, "login crash session")
    two = await search_text(local_store, embedder, 2, "login crash session")
    assert [h.key for h in one] == ["T1-1"]  # the refund item shares no word with the query
    assert {h.tenant_id for h in one} == {1} and {h.tenant_id for h in two} == {2}
    assert {h.key for h in two} == {"T2-3", "acme/api#4"}
    only_prs = await search_text(local_store, embedder, 2, "login", entity=PULL_REQUEST)
    assert [h.key for h in only_prs] == ["acme/api#4"]
    assert await search_text(local_store, embedder, 3, "login") == []


async def test_revectorizing_overwrites_and_delete_removes(local_store: VectorStore) -> None:
    embedder = LexicalEmbedder()
    await index_documents(local_store, embedder, [document(1, 1, "Old title about caching")])
    await index_documents(local_store, embedder, [document(1, 1, "New title about billing")])
    assert await local_store.count(1) == 1
    [hit] = await search_text(local_store, embedder, 1, "billing")
    assert hit.title == "New title about billing" and hit.score > 0.3
    assert await local_store.delete(1, WORK_ITEM, [1, 99]) == 2
    assert await local_store.count(1) == 0


async def test_searching_before_anything_is_vectorized_finds_nothing(
    local_store: VectorStore,
) -> None:
    assert await search_text(local_store, LexicalEmbedder(), 1, "anything") == []
    assert await search_text(local_store, LexicalEmbedder(), 1, "the of and") == []
    with pytest.raises(ValueError, match="search text is empty"):
        await search_text(local_store, LexicalEmbedder(), 1, "   ")


async def test_shared_store_is_one_per_location_and_collection(tmp_path: Path) -> None:
    settings = load_settings({"SLUICE_HOME": str(tmp_path), "SLUICE_SECRET_KEY": "k" * 40})
    embedder = LexicalEmbedder()
    try:
        store = shared_vector_store(settings, embedder)
        assert shared_vector_store(settings, embedder) is store
        other = shared_vector_store(settings, LexicalEmbedder(dimensions=64))
        assert other is not store and other.access is store.access  # one lease per folder
        await index_documents(store, embedder, [document(4, 1, "Flaky worker shutdown test")])
        hits = await search(4, "flaky shutdown", settings=settings, embedder=embedder)
        assert [h.key for h in hits] == ["T4-1"]
    finally:
        await close_shared_vector_stores()
    assert shared_vector_store(settings, embedder) is not store
    await close_shared_vector_stores()


async def test_an_unreachable_server_is_a_clear_error() -> None:
    access = ServerAccess("http://127.0.0.1:9", timeout=2)  # discard port: nothing listens
    store = VectorStore(access, "sluice_lexical_384", 384)
    try:
        with pytest.raises(
            VectorStoreError, match=r"cannot reach Qdrant at http://127.0.0.1:9.*QDRANT_URL"
        ):
            await store.search(1, [1.0] * 384)
    finally:
        await store.close()
