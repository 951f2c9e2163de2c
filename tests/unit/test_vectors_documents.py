"""Documents: texts, payloads and deterministic point ids from work item and PR rows."""

from __future__ import annotations

import uuid

import pytest

from app.vectors.documents import (
    PULL_REQUEST,
    TEXT_CHARS,
    WORK_ITEM,
    documents_from_rows,
    point_id,
)


def test_point_ids_are_deterministic_uuids_per_tenant_entity_and_row() -> None:
    first = point_id(1, WORK_ITEM, 42)
    assert first == point_id(1, WORK_ITEM, 42)
    assert uuid.UUID(first).version == 5
    assert len({first, point_id(2, WORK_ITEM, 42), point_id(1, PULL_REQUEST, 42)}) == 3
    assert point_id(1, WORK_ITEM, 43) != first
    # The scheme is part of the stored data: changing it would orphan every point.
    assert first == str(
        uuid.uuid5(uuid.UUID("5d0c6d2e-8f3b-5a51-9a43-2b1f6f0e7c11"), "1:work_item:42")
    )


def test_point_id_rejects_unknown_entities() -> None:
    with pytest.raises(ValueError, match="unknown entity 'epic'"):
        point_id(1, "epic", 1)


def test_work_item_rows_become_documents_with_browse_urls() -> None:
    [doc] = documents_from_rows(
        7,
        work_items=[
            {
                "id": 11,
                "external_id": "10011",
                "key": "WEX-11",
                "summary": "  Login page crashes ",
                "description": "x" * (TEXT_CHARS + 100),
                "provider": "jira",
                "base_url": "https://wex.atlassian.net/",
            }
        ],
    )
    assert doc.point_id == point_id(7, WORK_ITEM, 11)
    assert doc.text == "WEX-11\nLogin page crashes\n" + "x" * TEXT_CHARS
    assert doc.payload() == {
        "tenant_id": 7,
        "entity": "work_item",
        "row_id": 11,
        "external_id": "10011",
        "key": "WEX-11",
        "title": "Login page crashes",
        "url": "https://wex.atlassian.net/browse/WEX-11",
    }


def test_pull_request_rows_are_keyed_org_repo_number() -> None:
    [doc] = documents_from_rows(
        7,
        pull_requests=[
            {
                "id": 5,
                "external_id": "PR_kw1",
                "repository_full_name": "acme/api",
                "number": 12,
                "title": "Retry Jira calls",
                "body": None,
                "url": "https://github.com/acme/api/pull/12",
            }
        ],
    )
    assert (doc.entity, doc.key, doc.title) == (PULL_REQUEST, "acme/api#12", "Retry Jira calls")
    assert doc.text == "acme/api#12\nRetry Jira calls"
    assert doc.payload()["url"] == "https://github.com/acme/api/pull/12"


def test_rows_without_text_still_embed_their_key() -> None:
    [doc] = documents_from_rows(
        1,
        work_items=[
            {"id": 1, "external_id": "1", "key": "ABC-1", "summary": None, "description": None}
        ],
    )
    assert doc.text == "ABC-1" and doc.title == "" and doc.url is None
