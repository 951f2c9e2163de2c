"""What gets vectorized: work item and pull request rows as texts with their point payloads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WORK_ITEM = "work_item"
PULL_REQUEST = "pull_request"
ENTITIES = (WORK_ITEM, PULL_REQUEST)
TEXT_CHARS = 500  # of a description or body, after the title
# Fixed forever: point ids derive from it, so re-vectorizing a row overwrites its point.
POINT_NAMESPACE = uuid.UUID("5d0c6d2e-8f3b-5a51-9a43-2b1f6f0e7c11")


def point_id(tenant_id: int, entity: str, row_id: int) -> str:
    """The point's id: the same tenant, entity and row always give the same id."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}: use {' or '.join(ENTITIES)}")
    return str(uuid.uuid5(POINT_NAMESPACE, f"{int(tenant_id)}:{entity}:{int(row_id)}"))


@dataclass(frozen=True)
class VectorDocument:
    """One row's text and the payload its point carries."""

    tenant_id: int
    entity: str
    row_id: int
    external_id: str
    key: str
    title: str
    url: str | None
    text: str

    @property
    def point_id(self) -> str:
        return point_id(self.tenant_id, self.entity, self.row_id)

    def payload(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "entity": self.entity,
            "row_id": self.row_id,
            "external_id": self.external_id,
            "key": self.key,
            "title": self.title,
            "url": self.url,
        }


def document_text(key: str, title: str | None, body: str | None) -> str:
    """Key, title and the start of the body: what a search is matched against."""
    parts = [key, (title or "").strip(), (body or "").strip()[:TEXT_CHARS]]
    return "\n".join(p for p in parts if p)


def jira_browse_url(base_url: str | None, key: str) -> str | None:
    return f"{base_url.rstrip('/')}/browse/{key}" if base_url else None


def work_item_document(tenant_id: int, row: Mapping[str, Any]) -> VectorDocument:
    """A `vector_work_items` row as a document."""
    key = str(row["key"])
    url = jira_browse_url(row.get("base_url"), key) if row.get("provider") == "jira" else None
    return VectorDocument(
        tenant_id=tenant_id,
        entity=WORK_ITEM,
        row_id=int(row["id"]),
        external_id=str(row["external_id"]),
        key=key,
        title=(row.get("summary") or "").strip(),
        url=url,
        text=document_text(key, row.get("summary"), row.get("description")),
    )


def pull_request_document(tenant_id: int, row: Mapping[str, Any]) -> VectorDocument:
    """A `vector_prs` row as a document; its key reads "org/repo#12"."""
    key = f"{row['repository_full_name']}#{row['number']}"
    return VectorDocument(
        tenant_id=tenant_id,
        entity=PULL_REQUEST,
        row_id=int(row["id"]),
        external_id=str(row["external_id"]),
        key=key,
        title=(row.get("title") or "").strip(),
        url=row.get("url"),
        text=document_text(key, row.get("title"), row.get("body")),
    )


def documents_from_rows(
    tenant_id: int,
    work_items: Iterable[Mapping[str, Any]] = (),
    pull_requests: Iterable[Mapping[str, Any]] = (),
) -> list[VectorDocument]:
    """Documents for one tenant's work item and pull request rows."""
    documents = [work_item_document(tenant_id, r) for r in work_items]
    documents.extend(pull_request_document(tenant_id, r) for r in pull_requests)
    return documents
