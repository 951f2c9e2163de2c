"""The operation table, the routes and the OpenAPI document agree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.routing import Route

from app.auth.roles import Role
from app.web.api import OPERATIONS, document
from app.web.pagination import Page, PageQuery, page_of
from app.web.problems import Problem, problem_response
from app.web.routing import Operation, build_routes


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_every_reference_resolves_and_every_operation_is_unique() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[-1] in schemas
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)
    json.dumps(doc)  # serialisable as is


def test_operations_document_their_security_and_errors() -> None:
    doc = document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            if op["operationId"] == "login":
                assert op["security"] == [] and {"401", "429"} <= set(responses)
                continue
            assert op["x-sluice-role"] in {"viewer", "operator", "admin"}
            assert "401" in responses, (method, path)
            if op["x-sluice-role"] != "viewer" or method != "get":
                assert "403" in responses, (method, path)
            else:
                assert "403" not in responses, (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= set(responses)
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                name = schema["$ref"].rsplit("/", 1)[-1]
                assert doc["components"]["schemas"][name]["examples"], name
            for code, answer in responses.items():
                if int(code) >= 400:
                    assert "application/problem+json" in answer["content"]


def test_no_component_or_parameter_exposes_a_secret_field_for_reading() -> None:
    doc = document()
    for name, schema in doc["components"]["schemas"].items():
        properties = schema.get("properties", {})
        assert "credentials" not in properties and "password_hash" not in properties
        assert "token_hash" not in properties
        if name.startswith(("Integration", "Page_Integration")) and name != "IntegrationCreate":
            assert name == "IntegrationPatch" or "token" not in properties, name


def test_routes_group_methods_by_path_and_refuse_duplicates() -> None:
    routes = build_routes(OPERATIONS)
    assert all(isinstance(r, Route) for r in routes)
    paths = [r.path for r in routes]
    assert len(paths) == len(set(paths))
    assert "/api/v1/integrations/{integration_id:int}" in paths

    async def handler(call: Any) -> None:
        return None

    twice = [
        Operation("GET", "/x", handler, "a", "A", "t"),
        Operation("GET", "/x", handler, "b", "B", "t"),
    ]
    with pytest.raises(ValueError, match="defined twice"):
        build_routes(twice)


def test_documented_statuses_follow_the_operation() -> None:
    async def handler(call: Any) -> None:
        return None

    op = Operation(
        "POST", "/things/{thing_id}", handler, "x", "X", "t", role=Role.OPERATOR, body=PageQuery
    )
    assert op.statuses() == [200, 400, 401, 403, 404, 413, 415, 422]
    anonymous = Operation("GET", "/open", handler, "y", "Y", "t", role=None)
    assert anonymous.statuses() == [200]


def test_problem_bodies_follow_rfc_9457() -> None:
    response = problem_response(
        Problem(429, "wait", kind="login-throttled", headers={"Retry-After": "5"}, retry_after=5),
        "/api/v1/auth/login",
    )
    assert response.media_type == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert json.loads(bytes(response.body)) == {
        "type": "urn:sluice:problem:login-throttled",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "wait",
        "instance": "/api/v1/auth/login",
        "retry_after": 5,
    }
    plain = json.loads(bytes(problem_response(Problem(404, "gone")).body))
    assert plain["type"] == "about:blank" and "instance" not in plain


def test_page_of_reports_a_cursor_only_when_more_rows_follow() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):
        id: int

    query = PageQuery(limit=2)
    assert query.page_params() == {"cursor": None, "limit": 3}
    full: Page[Item] = page_of([{"id": 9}, {"id": 7}, {"id": 5}], query, Item)
    assert [i.id for i in full.items] == [9, 7] and full.next_cursor == "7"
    last: Page[Item] = page_of([{"id": 3}], query, Item)
    assert last.next_cursor is None
    assert json.loads(full.model_dump_json()) == {
        "items": [{"id": 9}, {"id": 7}],
        "next_cursor": "7",
    }
    assert PageQuery(cursor="7").after() == 7


def test_a_viewer_get_documents_no_403_but_a_write_does() -> None:
    async def handler(call: Any) -> None:
        return None

    read = Operation("GET", "/r", handler, "r", "R", "t")
    write = Operation("POST", "/w", handler, "w", "W", "t")
    assert 403 not in read.statuses() and 403 in write.statuses()
