"""The OpenAPI 3.1 document, built from the same operation table as the routes."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.auth.csrf import CSRF_COOKIE
from app.auth.sessions import SESSION_COOKIE
from app.web.problems import PROBLEM_MEDIA_TYPE
from app.web.routing import Operation

REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "description": "about:blank or urn:sluice:problem:<kind>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what happened and what to do"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "validation problems (422), one per field",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "enum": ["query", "body"]},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["location", "field", "message"],
            },
        },
        "retry_after": {"type": "integer", "description": "seconds to wait (429)"},
    },
    "required": ["type", "title", "status", "detail"],
}

DESCRIPTION = (
    "Sluice's JSON API. Authenticate with a session (POST /api/v1/auth/login sets an "
    f"HttpOnly `{SESSION_COOKIE}` cookie; state-changing requests then repeat the "
    f"`{CSRF_COOKIE}` cookie in an `X-CSRF-Token` header) or with an API token "
    "(`Authorization: Bearer slc_…`, created by an admin). Every request sees only its "
    "tenant's data: another tenant's ids answer 404. Errors are RFC 9457 problem details; "
    "lists take `limit` and `cursor` and answer `{items, next_cursor}`. "
    "`x-sluice-role` names the least role an operation needs (viewer < operator < admin)."
)


def _model_schemas(
    operations: Sequence[Operation],
) -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], Any], dict[str, Any]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in operations:
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        if op.response is not None:
            wanted[(op.response, "serialization")] = None
    refs, definitions = models_json_schema(list(wanted), ref_template=REF)
    schemas = {(model, mode): refs[(model, mode)] for model, mode in wanted}
    return schemas, dict(definitions.get("$defs", {}))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch and default."""
    branches = schema.get("anyOf")
    if not branches or {"type": "null"} not in branches:
        return schema
    rest = [b for b in branches if b != {"type": "null"}]
    plain = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**plain, **rest[0]} if len(rest) == 1 else {**plain, "anyOf": rest}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null({k: v for k, v in prop.items() if k != "title"})
        description = prop.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _responses(
    op: Operation, refs: dict[tuple[type[BaseModel], JsonSchemaMode], Any]
) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(op.status).phrase}
    if op.response is not None:
        schema = refs[(op.response, "serialization")]
        success["content"] = {"application/json": {"schema": schema}}
    elif op.status != 204:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    if op.status in (201, 202):
        success["headers"] = {"Location": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status): success}
    for code in op.statuses():
        if code == op.status:
            continue
        answer: dict[str, Any] = {
            "description": HTTPStatus(code).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
        }
        if code == 429:
            answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[str(code)] = answer
    return responses


def _operation(
    op: Operation,
    refs: dict[tuple[type[BaseModel], JsonSchemaMode], Any],
    components: dict[str, Any],
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "format": "int64", "minimum": 1},
        }
        for name in op.path_params
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query, components)
    entry: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": _responses(op, refs),
    }
    if op.description:
        entry["description"] = op.description
    if parameters:
        entry["parameters"] = parameters
    if op.body is not None:
        entry["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    if op.role is None:
        entry["security"] = []
    else:
        entry["x-sluice-role"] = op.role.value
    return entry


def openapi_document(operations: Sequence[Operation]) -> dict[str, Any]:
    """The whole document for `operations`."""
    refs, components = _model_schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.full_path, {})[op.method.lower()] = _operation(op, refs, components)
    components["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sluice API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token: slc_<prefix>_<secret>",
                },
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": tag} for tag in sorted({op.tag for op in operations})],
    }
