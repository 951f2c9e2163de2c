"""Users of the caller's tenant (admin): create, list, change, deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.responses import Response

from app.auth.roles import Principal, Role
from app.auth.users import UserExistsError, create_user, password_problem, update_user
from app.db import Connection
from app.sqlstore import query
from app.web.pagination import Page, PageQuery, page_of
from app.web.problems import conflict, not_found
from app.web.routing import API_PREFIX, Call, Operation, json_response, validation_problem
from app.web.rows import row_or_404

RoleName = Literal["admin", "operator", "viewer"]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class UserOut(BaseModel):
    """A user (never the password hash)."""

    id: int
    email: str
    display_name: str
    role: RoleName
    active: bool
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


class UserListQuery(PageQuery):
    """Filters of the user list."""

    include_inactive: bool = Field(False, description="also list deactivated users")


class UserCreate(BaseModel):
    """A new user of the caller's tenant."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ops@wex.com",
                    "display_name": "Ops",
                    "role": "operator",
                    "password": "a long enough passphrase",
                }
            ]
        },
    )

    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    display_name: str = Field("", max_length=200)
    role: RoleName
    password: SecretStr = Field(max_length=1024, description="at least 12 characters")


class UserPatch(BaseModel):
    """Changes to a user; absent fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"display_name": "Operations"}]}
    )

    display_name: str | None = Field(None, max_length=200)
    role: RoleName | None = None
    active: bool | None = None
    password: SecretStr | None = Field(None, max_length=1024)


def _check_password(password: SecretStr | None) -> None:
    if password is None:
        return
    problem = password_problem(password.get_secret_value())
    if problem:
        raise validation_problem([{"location": "body", "field": "password", "message": problem}])


async def _user(call: Call, user_id: int) -> UserOut:
    async with call.tenant() as conn:
        row = await row_or_404(conn, "user_detail", user_id, "user")
    return UserOut.model_validate(row)


async def user_list(conn: Connection, q: UserListQuery) -> Page[UserOut]:
    """One page of the tenant's users."""
    cur = await conn.execute(
        query("user_page"), {**q.page_params(), "include_inactive": q.include_inactive}
    )
    return page_of(await cur.fetchall(), q, UserOut)


async def list_users(call: Call) -> Page[UserOut]:
    """GET /users."""
    async with call.tenant() as conn:
        return await user_list(conn, call.query_as(UserListQuery))


async def register_user(conn: Connection, tenant_id: int, body: UserCreate) -> int:
    """Create a user of the tenant: 422 for a weak password, 409 for a taken email."""
    _check_password(body.password)
    try:
        return await create_user(
            conn,
            tenant_id=tenant_id,
            email=body.email,
            display_name=body.display_name,
            role=Role(body.role),
            password=body.password.get_secret_value(),
        )
    except UserExistsError as exc:
        raise conflict(f"{exc}: change that user instead") from None


async def add_user(call: Call) -> Response:
    """POST /users."""
    body = call.body_as(UserCreate)
    async with call.tenant() as conn:
        user_id = await register_user(conn, call.user.tenant_id, body)
    user = await _user(call, user_id)
    return json_response(user, 201, {"Location": f"{API_PREFIX}/users/{user_id}"})


async def get_user(call: Call) -> UserOut:
    """GET /users/{user_id}."""
    return await _user(call, call.ids["user_id"])


def _guard_self(principal: Principal, user_id: int, changes: dict[str, Any]) -> None:
    """An admin cannot lock themselves out: no self-demotion, no self-deactivation."""
    if user_id != principal.user_id:
        return
    if changes.get("active") is False:
        raise conflict("you cannot deactivate yourself: ask another admin")
    if changes.get("role") not in (None, "admin"):
        raise conflict("you cannot remove your own admin role: ask another admin")


async def change_user(
    conn: Connection,
    principal: Principal,
    user_id: int,
    changes: dict[str, Any],
    *,
    password: str | None,
    now: datetime,
) -> None:
    """Change a user of the tenant (404 when unknown); the caller keeps their own session."""
    _guard_self(principal, user_id, changes)
    found = await update_user(
        conn,
        user_id,
        changes,
        password=password,
        now=now,
        keep_session_id=principal.session_id if user_id == principal.user_id else None,
    )
    if not found:
        raise not_found("user", user_id)


async def patch_user(call: Call) -> UserOut:
    """PATCH /users/{user_id}."""
    user_id = call.ids["user_id"]
    body = call.body_as(UserPatch)
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    if any(value is None for value in changes.values()):
        nulls = [k for k, v in changes.items() if v is None]
        raise validation_problem(
            [{"location": "body", "field": k, "message": "cannot be null"} for k in nulls]
        )
    _check_password(body.password)
    password = body.password.get_secret_value() if body.password else None
    async with call.tenant() as conn:
        await change_user(conn, call.user, user_id, changes, password=password, now=call.now())
    return await _user(call, user_id)


async def deactivate_user(call: Call) -> None:
    """DELETE /users/{user_id}: deactivate, end the user's sessions, revoke their tokens."""
    async with call.tenant() as conn:
        await change_user(
            conn, call.user, call.ids["user_id"], {"active": False}, password=None, now=call.now()
        )


OPERATIONS = [
    Operation(
        "GET",
        "/users",
        list_users,
        "listUsers",
        "List the tenant's users",
        "users",
        role=Role.ADMIN,
        response=Page[UserOut],
        query=UserListQuery,
    ),
    Operation(
        "POST",
        "/users",
        add_user,
        "createUser",
        "Create a user (the password is stored as an argon2id hash)",
        "users",
        role=Role.ADMIN,
        status=201,
        response=UserOut,
        body=UserCreate,
        errors=(409,),
    ),
    Operation(
        "GET",
        "/users/{user_id}",
        get_user,
        "getUser",
        "One user",
        "users",
        role=Role.ADMIN,
        response=UserOut,
    ),
    Operation(
        "PATCH",
        "/users/{user_id}",
        patch_user,
        "updateUser",
        "Change a user's name, role, password or active flag",
        "users",
        role=Role.ADMIN,
        response=UserOut,
        body=UserPatch,
        errors=(409,),
        description="A new password or a deactivation ends the user's sessions at once.",
    ),
    Operation(
        "DELETE",
        "/users/{user_id}",
        deactivate_user,
        "deactivateUser",
        "Deactivate a user: sessions end and tokens are revoked at once",
        "users",
        role=Role.ADMIN,
        status=204,
        errors=(409,),
    ),
]
