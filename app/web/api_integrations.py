"""Integrations: create, list, change, delete, test the connection. Tokens are write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from starlette.responses import Response

from app.auth.roles import Role
from app.crypto import CredentialError
from app.db import Connection
from app.integrations.base import IntegrationError, provider_label
from app.integrations.registry import PROVIDERS, provider_for
from app.integrations.store import load_integration, validate_base_url
from app.sqlstore import query
from app.web.pagination import Page, PageQuery, page_of
from app.web.problems import conflict
from app.web.routing import API_PREFIX, Call, Operation, json_response, validation_problem
from app.web.rows import row_or_404

CUSTOM = "custom"  # receives raw records through POST /api/v1/ingest/{id}; nothing to extract
PROVIDER_CHOICES = [*sorted(PROVIDERS), CUSTOM]


class IntegrationOut(BaseModel):
    """An integration; its token is never returned, only whether one is stored."""

    id: int
    provider: str
    name: str
    base_url: str
    username: str | None
    base_search: str | None
    settings: dict[str, Any]
    active: bool
    has_token: bool
    last_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime


class IntegrationListQuery(PageQuery):
    """Filters of the integration list."""

    provider: str | None = Field(None, max_length=50)
    active: bool | None = None


def _check_provider(value: str) -> str:
    if value not in PROVIDER_CHOICES:
        raise ValueError(f"unknown provider: use one of {', '.join(PROVIDER_CHOICES)}")
    return value


class IntegrationCreate(BaseModel):
    """A new integration. `token` is stored encrypted and never shown again."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "provider": "jira",
                    "name": "Jira Cloud",
                    "base_url": "https://acme.atlassian.net",
                    "username": "me@acme.com",
                    "token": "an-api-token",
                }
            ]
        },
    )

    provider: str = Field(json_schema_extra={"enum": list(PROVIDER_CHOICES)})
    name: str | None = Field(None, min_length=1, max_length=200)
    base_url: str | None = Field(None, max_length=2000)
    token: SecretStr | None = Field(None, max_length=8192, description="write-only")
    username: str | None = Field(None, max_length=320)
    base_search: str | None = Field(None, max_length=4000)
    settings: dict[str, Any] = Field(default_factory=dict)
    active: bool = True

    _provider = field_validator("provider")(_check_provider)


class IntegrationPatch(BaseModel):
    """Changes to an integration; absent fields stay, null clears username/base_search."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": True}]})

    name: str | None = Field(None, min_length=1, max_length=200)
    base_url: str | None = Field(None, max_length=2000)
    token: SecretStr | None = Field(None, max_length=8192, description="write-only")
    username: str | None = Field(None, max_length=320)
    base_search: str | None = Field(None, max_length=4000)
    settings: dict[str, Any] | None = None
    active: bool | None = None


class ConnectionTest(BaseModel):
    """The outcome of a connection test."""

    ok: bool
    message: str


def _url(value: str | None, required: bool) -> str:
    if not value:
        if required:
            raise validation_problem(
                [{"location": "body", "field": "base_url", "message": "a base URL is required"}]
            )
        return ""
    try:
        return validate_base_url(value)
    except IntegrationError as exc:
        raise validation_problem(
            [{"location": "body", "field": "base_url", "message": str(exc)}]
        ) from None


async def integration_out(conn: Connection, integration_id: int) -> IntegrationOut:
    """One integration of the tenant, or a 404."""
    row = await row_or_404(conn, "integration_detail", integration_id, "integration")
    return IntegrationOut.model_validate(row)


async def list_integrations(call: Call) -> Page[IntegrationOut]:
    """GET /integrations."""
    q = call.query_as(IntegrationListQuery)
    async with call.tenant() as conn:
        cur = await conn.execute(
            query("integration_page"),
            {**q.page_params(), "provider": q.provider, "active": q.active},
        )
        rows = await cur.fetchall()
    return page_of(rows, q, IntegrationOut)


async def add_integration(call: Call) -> Response:
    """POST /integrations."""
    body = call.body_as(IntegrationCreate)
    pulls = body.provider != CUSTOM
    token = body.token.get_secret_value().strip() if body.token else ""
    if pulls and not token:
        raise validation_problem(
            [{"location": "body", "field": "token", "message": "a token is required"}]
        )
    url = _url(body.base_url, required=pulls)
    name = body.name or f"{provider_label(body.provider)} {urlsplit(url).netloc or 'ingest'}"
    cipher = call.state.services.cipher
    async with call.tenant() as conn:
        try:
            async with conn.transaction():
                cur = await conn.execute(
                    query("integration_insert"),
                    {
                        "tenant_id": call.user.tenant_id,
                        "provider": body.provider,
                        "name": name,
                        "base_url": url,
                        "username": body.username or None,
                        "credentials": cipher.encrypt(token) if token else None,
                        "base_search": body.base_search or None,
                    },
                )
        except psycopg.errors.UniqueViolation:
            raise conflict(f"an integration named {name!r} exists: choose another name") from None
        row = await cur.fetchone()
        assert row is not None
        new_id = int(row["id"])
        await conn.execute(
            query("integration_update"),
            {
                "id": new_id,
                "changes": Jsonb({"settings": body.settings, "active": body.active}),
                "credentials": None,
            },
        )
        if pulls:
            await conn.execute(
                query("etl_job_link_integration"),
                {"integration_id": new_id, "provider": body.provider},
            )
        created = await integration_out(conn, new_id)
    return json_response(created, 201, {"Location": f"{API_PREFIX}/integrations/{new_id}"})


async def get_integration(call: Call) -> IntegrationOut:
    """GET /integrations/{integration_id}."""
    async with call.tenant() as conn:
        return await integration_out(conn, call.ids["integration_id"])


async def patch_integration(call: Call) -> IntegrationOut:
    """PATCH /integrations/{integration_id}."""
    integration_id = call.ids["integration_id"]
    body = call.body_as(IntegrationPatch)
    changes = body.model_dump(exclude_unset=True, exclude={"token"})
    for key in ("name", "base_url", "settings", "active"):
        if key in changes and changes[key] is None:
            raise validation_problem(
                [{"location": "body", "field": key, "message": "cannot be null"}]
            )
    token = body.token.get_secret_value().strip() if body.token else None
    if body.token is not None and not token:
        raise validation_problem(
            [{"location": "body", "field": "token", "message": "the token cannot be empty"}]
        )
    async with call.tenant() as conn:
        current = await integration_out(conn, integration_id)
        if "base_url" in changes:
            changes["base_url"] = _url(changes["base_url"], required=current.provider != CUSTOM)
        credentials = call.state.services.cipher.encrypt(token) if token else None
        try:
            async with conn.transaction():
                await conn.execute(
                    query("integration_update"),
                    {"id": integration_id, "changes": Jsonb(changes), "credentials": credentials},
                )
        except psycopg.errors.UniqueViolation:
            raise conflict(f"an integration named {changes.get('name')!r} exists") from None
        return await integration_out(conn, integration_id)


async def delete_integration(call: Call) -> None:
    """DELETE /integrations/{integration_id}: with its extracted and loaded data."""
    integration_id = call.ids["integration_id"]
    async with call.tenant() as conn:
        await integration_out(conn, integration_id)
        try:
            async with conn.transaction():
                await conn.execute(query("integration_unlink_jobs"), {"id": integration_id})
                await conn.execute(query("integration_delete"), {"id": integration_id})
        except psycopg.errors.ForeignKeyViolation:
            raise conflict(
                f"integration {integration_id} has sync runs in its history: deactivate it "
                'with PATCH {"active": false} instead'
            ) from None


async def check_connection(call: Call) -> ConnectionTest:
    """POST /integrations/{integration_id}/test: check the URL and token against the source."""
    integration_id = call.ids["integration_id"]
    async with call.tenant() as conn:
        current = await integration_out(conn, integration_id)
        if current.provider == CUSTOM:
            return ConnectionTest(
                ok=True,
                message="a custom integration receives records through "
                f"POST {API_PREFIX}/ingest/{integration_id}; there is no connection to test",
            )
        try:
            config = await load_integration(conn, call.state.services.cipher, integration_id)
        except CredentialError as exc:
            return ConnectionTest(ok=False, message=str(exc))
    try:
        message = await provider_for(config, call.state.services.http).validate_connection()
        ok = True
    except IntegrationError as exc:
        message, ok = str(exc), False
    if config.token:
        message = message.replace(config.token, "[redacted]")
    return ConnectionTest(ok=ok, message=message)


OPERATIONS = [
    Operation(
        "GET",
        "/integrations",
        list_integrations,
        "listIntegrations",
        "List integrations",
        "integrations",
        response=Page[IntegrationOut],
        query=IntegrationListQuery,
    ),
    Operation(
        "POST",
        "/integrations",
        add_integration,
        "createIntegration",
        "Create an integration (the token is encrypted at rest and never returned)",
        "integrations",
        role=Role.ADMIN,
        status=201,
        response=IntegrationOut,
        body=IntegrationCreate,
        errors=(409,),
    ),
    Operation(
        "GET",
        "/integrations/{integration_id}",
        get_integration,
        "getIntegration",
        "One integration",
        "integrations",
        response=IntegrationOut,
    ),
    Operation(
        "PATCH",
        "/integrations/{integration_id}",
        patch_integration,
        "updateIntegration",
        "Change an integration (a new token replaces the stored one)",
        "integrations",
        role=Role.ADMIN,
        response=IntegrationOut,
        body=IntegrationPatch,
        errors=(409,),
    ),
    Operation(
        "DELETE",
        "/integrations/{integration_id}",
        delete_integration,
        "deleteIntegration",
        "Delete an integration with its raw and loaded data",
        "integrations",
        role=Role.ADMIN,
        status=204,
        errors=(409,),
        description="Refused (409) once the integration has sync runs: deactivate it instead.",
    ),
    Operation(
        "POST",
        "/integrations/{integration_id}/test",
        check_connection,
        "testIntegration",
        "Test the connection with the stored URL and token",
        "integrations",
        role=Role.OPERATOR,
        response=ConnectionTest,
    ),
]
