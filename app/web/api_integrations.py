"""Integrations: create, list, change, delete, test the connection. Tokens are write-only."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from starlette.responses import Response

from app.auth.roles import Role
from app.crypto import CredentialCipher, CredentialError
from app.db import Connection
from app.integrations.registry import check_connection
from app.integrations.store import (
    CUSTOM,
    PROVIDER_CHOICES,
    IntegrationInputError,
    IntegrationNameTakenError,
    add_integration,
    load_integration,
    provider_problem,
    update_integration,
)
from app.services import Services
from app.sqlstore import query
from app.web.pagination import Page, PageQuery, page_of
from app.web.problems import Problem, conflict
from app.web.routing import API_PREFIX, Call, Operation, json_response, validation_problem
from app.web.rows import row_or_404


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
    if problem := provider_problem(value):
        raise ValueError(problem)
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


def input_problem(exc: IntegrationInputError) -> Problem:
    """The API's answer to refused integration values: 409 for a taken name, else 422."""
    if isinstance(exc, IntegrationNameTakenError):
        return conflict(str(exc))
    return validation_problem(
        [
            {"location": "body", "field": field, "message": message}
            for field, message in exc.problems.items()
        ]
    )


def secret_text(token: SecretStr | None) -> str | None:
    """The submitted token's text (None when absent)."""
    return token.get_secret_value() if token is not None else None


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


async def store_integration(
    conn: Connection, cipher: CredentialCipher, tenant_id: int, body: IntegrationCreate
) -> int:
    """Store a new integration of the tenant; IntegrationInputError when a value is refused."""
    return await add_integration(
        conn,
        cipher,
        tenant_id=tenant_id,
        provider=body.provider,
        base_url=body.base_url,
        token=secret_text(body.token),
        username=body.username,
        base_search=body.base_search,
        name=body.name,
        settings=body.settings,
        active=body.active,
    )


async def create_integration(call: Call) -> Response:
    """POST /integrations."""
    body = call.body_as(IntegrationCreate)
    async with call.tenant() as conn:
        try:
            new_id = await store_integration(
                conn, call.state.services.cipher, call.user.tenant_id, body
            )
        except IntegrationInputError as exc:
            raise input_problem(exc) from None
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
    async with call.tenant() as conn:
        current = await integration_out(conn, integration_id)
        try:
            await update_integration(
                conn,
                call.state.services.cipher,
                integration_id,
                provider=current.provider,
                changes=changes,
                token=secret_text(body.token),
            )
        except IntegrationInputError as exc:
            raise input_problem(exc) from None
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


TenantScope = Callable[[], AbstractAsyncContextManager[Connection]]


async def run_connection_test(
    tenant: TenantScope, services: Services, integration_id: int
) -> ConnectionTest:
    """Check an integration's stored URL and token against its source (404 when unknown).

    The database transaction ends before the source is called."""
    async with tenant() as conn:
        current = await integration_out(conn, integration_id)
        if current.provider == CUSTOM:
            return ConnectionTest(
                ok=True,
                message="a custom integration receives records through "
                f"POST {API_PREFIX}/ingest/{integration_id}; there is no connection to test",
            )
        try:
            config = await load_integration(conn, services.cipher, integration_id)
        except CredentialError as exc:
            return ConnectionTest(ok=False, message=str(exc))
    ok, message = await check_connection(config, services.http)
    return ConnectionTest(ok=ok, message=message)


async def connection_test(call: Call) -> ConnectionTest:
    """POST /integrations/{integration_id}/test: check the URL and token against the source."""
    return await run_connection_test(call.tenant, call.state.services, call.ids["integration_id"])


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
        create_integration,
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
        connection_test,
        "testIntegration",
        "Test the connection with the stored URL and token",
        "integrations",
        role=Role.OPERATOR,
        response=ConnectionTest,
    ),
]
