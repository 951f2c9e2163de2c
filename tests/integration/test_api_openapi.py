"""Walk the served OpenAPI document: every operation is called at least once with parameters
and bodies built from the document, and answers one of its documented statuses (never 5xx),
with a body that matches its documented model."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import Route

from app.web.api import OPERATIONS
from app.web.app import routes
from app.web.routing import API_PREFIX
from tests.integration.test_web_harness import (
    PASSWORD,
    ClientFactory,
    World,
    concrete_path,
    owner_rows,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

BY_ID = {op.operation_id: op for op in OPERATIONS}
# Actions in an order where each is allowed: a running run pauses, resumes, retries its
# dead letters and is cancelled; then a chain job is force-started, paused and resumed.
ACTION_ORDER = ["test", "retry", "cancel", "force-start", "pause", "resume"]
RUN_ACTIONS = {"pauseRun": 0, "resumeRun": 1, "retryRun": 2, "cancelRun": 3}
QUERY_VALUES: dict[str, Any] = {
    "q": "login timeout",
    "entity_type": "jira_status",
    "provider": "jira",
    "since": "2020-01-01T00:00:00Z",
    "until": "2100-01-01T00:00:00Z",
}


def phase(method: str, path: str, operation_id: str) -> tuple[int, int]:
    """Reads first, then creations, changes, actions, deletions, and logout last."""
    if operation_id == "logout":
        return (9, 0)
    if operation_id in RUN_ACTIONS:
        return (3, RUN_ACTIONS[operation_id])
    if method == "get":
        return (0, 0)
    if method == "delete":
        return (6, 0)
    if method == "patch":
        return (2, 0)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if "{" not in path:
        return (1, 0)
    return (4, ACTION_ORDER.index(last) if last in ACTION_ORDER else 0)


def query_value(name: str, schema: dict[str, Any], ids: dict[str, int]) -> Any:
    """A valid value for a query parameter, from its schema and the world's ids."""
    if name in ids:
        return ids[name]
    if name in QUERY_VALUES:
        return QUERY_VALUES[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), min(10, int(schema.get("maximum", 10))))
    if kind == "boolean":
        return "true"
    return "x"


def example(document: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The first example of an operation's body schema."""
    ref = spec["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema["examples"][0]


async def prepare(world: World, admin: httpx.AsyncClient) -> dict[str, int]:
    """The WEX ids the walk uses, with throwaway rows for the deleting operations."""
    ids = dict(world.ids["WEX"])
    ids["etl_job_id"] = ids["job_id"]
    for name, body in (
        ("integration_id", {"provider": "custom", "name": "to delete"}),
        ("user_id", {"email": "leaving@wex.com", "role": "viewer", "password": PASSWORD}),
        ("token_id", {"name": "to revoke"}),
    ):
        path = {"integration_id": "integrations", "user_id": "users", "token_id": "tokens"}[name]
        created = await admin.post(f"{API_PREFIX}/{path}", json=body)
        assert created.status_code == 201, created.text
        ids[f"delete_{name}"] = created.json()["id"]
    [(ids["pending_queue_job_id"],)] = owner_rows(
        world.url,
        "INSERT INTO etl_job_queue (tenant_id, job_type, payload) "
        "VALUES (%s, 'transform', '{}') RETURNING id",
        (world.tenant_ids["WEX"],),
    )
    # A dead letter in the running run, so that retrying the run has work to do.
    owner_rows(
        world.url,
        "UPDATE etl_job_queue SET status = 'failed', completed_at = now() WHERE id = ("
        "SELECT max(id) FROM etl_job_queue WHERE run_id = %s AND status = 'pending')",
        (ids["run_id"],),
    )
    return ids


async def test_the_document_describes_exactly_the_served_routes(
    world: World, web: ClientFactory
) -> None:
    document = (
        await web(world.account("WEX", "viewer").token).get(f"{API_PREFIX}/openapi.json")
    ).json()
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = {
        (method, re.sub(r"{(\w+):\w+}", r"{\1}", route.path))
        for route in routes()
        if isinstance(route, Route) and route.path.startswith(API_PREFIX)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert documented == served
    assert len(documented) == len(OPERATIONS)


async def test_every_operation_answers_as_documented(world: World, web: ClientFactory) -> None:
    admin = web(world.account("WEX", "admin").token)
    document = (await admin.get(f"{API_PREFIX}/openapi.json")).json()
    ids = await prepare(world, admin)
    session = web(ip="10.20.0.1")
    operations = sorted(
        (
            (phase(method, path, spec["operationId"]), path, method, spec)
            for path, item in document["paths"].items()
            for method, spec in item.items()
        ),
        key=lambda entry: entry[0],
    )
    called: dict[str, list[int]] = {}
    for _, path, method, spec in operations:
        operation_id = spec["operationId"]
        op = BY_ID[operation_id]
        path_ids = dict(ids)
        if method == "delete":
            for name in ("integration_id", "user_id", "token_id"):
                path_ids[name] = ids[f"delete_{name}"]
        if operation_id == "retryQueueJob":
            path_ids["queue_job_id"] = ids["failed_queue_job_id"]
        if operation_id == "cancelQueueJob":
            path_ids["queue_job_id"] = ids["pending_queue_job_id"]
        url = concrete_path(path, path_ids)
        params = [p for p in spec.get("parameters", []) if p["in"] == "query"]
        body = example(document, spec) if "requestBody" in spec else None
        if operation_id == "reprocessRaw":
            body = {"ids": [ids["raw_id"]]}
        if operation_id == "createTransformRequest":
            body = {"entity_type": "jira_status"}
        if operation_id == "login":
            body = {"email": world.account("WEX", "admin").email, "password": PASSWORD}
        client = session if operation_id in ("login", "logout") else admin
        if operation_id == "logout":
            client.headers["X-CSRF-Token"] = client.cookies["sluice_csrf"]
        variants: list[dict[str, Any]] = [{}]
        if params:
            variants.append(
                {
                    p["name"]: query_value(p["name"], p["schema"], path_ids)
                    for p in params
                    if p["name"] != "cursor"
                }
            )
        for query in variants:
            if any(p["required"] and p["name"] not in query for p in params):
                continue
            response = await client.request(method, url, params=query, json=body)
            status = response.status_code
            assert str(status) in spec["responses"], (operation_id, status, response.text)
            assert status < 400, (operation_id, query, status, response.text)
            called.setdefault(operation_id, []).append(status)
            if op.response is not None:
                op.response.model_validate_json(response.content)
            elif status == 204:
                assert response.content == b""
    documented = {spec["operationId"] for _, _, _, spec in operations}
    assert set(called) == documented
    assert len(documented) >= 40
