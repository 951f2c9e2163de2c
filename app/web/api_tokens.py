"""API tokens of the caller's tenant (admin): create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.auth.roles import Principal, Role
from app.auth.tokens import create_api_token, revoke_api_token
from app.db import Connection
from app.sqlstore import query
from app.web.pagination import Page, PageQuery, page_of
from app.web.routing import API_PREFIX, Call, Operation, json_response, validation_problem
from app.web.rows import row_or_404


class TokenOut(BaseModel):
    """A token as listed: its prefix identifies it, the secret is never shown again."""

    id: int
    user_id: int
    user_email: str
    name: str
    token_prefix: str
    role: Literal["admin", "operator", "viewer"]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    """A new token: `token` is the only time the secret is shown."""

    token: str = Field(description="send as Authorization: Bearer <token>; shown only once")


class TokenListQuery(PageQuery):
    """Filters of the token list."""

    include_revoked: bool = Field(False, description="also list revoked tokens")


class TokenCreate(BaseModel):
    """A new token for the calling admin's user, with a role of its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "ci", "role": "operator", "expires_in_days": 90}]},
    )

    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "operator", "viewer"] = "viewer"
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="null: the token does not expire"
    )


async def _token(call: Call, token_id: int) -> TokenOut:
    async with call.tenant() as conn:
        row = await row_or_404(conn, "api_token_detail", token_id, "API token")
    return TokenOut.model_validate(row)


async def token_list(conn: Connection, q: TokenListQuery) -> Page[TokenOut]:
    """One page of the tenant's API tokens."""
    cur = await conn.execute(
        query("api_token_page"), {**q.page_params(), "include_revoked": q.include_revoked}
    )
    return page_of(await cur.fetchall(), q, TokenOut)


async def list_tokens(call: Call) -> Page[TokenOut]:
    """GET /tokens."""
    async with call.tenant() as conn:
        return await token_list(conn, call.query_as(TokenListQuery))


async def issue_token(
    conn: Connection, owner: Principal, body: TokenCreate, now: datetime
) -> TokenCreated:
    """A new token of `owner`, never with a role above theirs (422); its secret shown once."""
    role = Role(body.role)
    if not owner.allows(role):
        raise validation_problem(
            [
                {
                    "location": "body",
                    "field": "role",
                    "message": f"a token cannot have more rights than its owner "
                    f"({owner.role.value})",
                }
            ]
        )
    expires = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row, token = await create_api_token(
        conn,
        tenant_id=owner.tenant_id,
        user_id=owner.user_id,
        name=body.name,
        role=role,
        expires_at=expires,
    )
    return TokenCreated.model_validate({**row, "user_email": owner.email, "token": token})


async def add_token(call: Call) -> Response:
    """POST /tokens."""
    async with call.tenant() as conn:
        created = await issue_token(conn, call.user, call.body_as(TokenCreate), call.now())
    return json_response(created, 201, {"Location": f"{API_PREFIX}/tokens/{created.id}"})


async def get_token(call: Call) -> TokenOut:
    """GET /tokens/{token_id}."""
    return await _token(call, call.ids["token_id"])


async def withdraw_token(conn: Connection, token_id: int, now: datetime) -> TokenOut:
    """Revoke a token of the tenant at once (404 when unknown); the token as it is now."""
    await row_or_404(conn, "api_token_detail", token_id, "API token")
    await revoke_api_token(conn, token_id, now)
    return TokenOut.model_validate(
        await row_or_404(conn, "api_token_detail", token_id, "API token")
    )


async def revoke_token(call: Call) -> None:
    """DELETE /tokens/{token_id}: the token stops working at once."""
    async with call.tenant() as conn:
        await withdraw_token(conn, call.ids["token_id"], call.now())


OPERATIONS = [
    Operation(
        "GET",
        "/tokens",
        list_tokens,
        "listTokens",
        "List API tokens (prefixes only)",
        "tokens",
        role=Role.ADMIN,
        response=Page[TokenOut],
        query=TokenListQuery,
    ),
    Operation(
        "POST",
        "/tokens",
        add_token,
        "createToken",
        "Create an API token; the response holds the secret, shown once",
        "tokens",
        role=Role.ADMIN,
        status=201,
        response=TokenCreated,
        body=TokenCreate,
    ),
    Operation(
        "GET",
        "/tokens/{token_id}",
        get_token,
        "getToken",
        "One API token",
        "tokens",
        role=Role.ADMIN,
        response=TokenOut,
    ),
    Operation(
        "DELETE",
        "/tokens/{token_id}",
        revoke_token,
        "revokeToken",
        "Revoke an API token (effective at once)",
        "tokens",
        role=Role.ADMIN,
        status=204,
    ),
]
