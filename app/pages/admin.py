"""Admin pages: the tenant's users and API tokens (admins only).

Both reuse the API's rules: the same password rules, no admin locking themselves out, a
token never above its owner's role and its secret shown once, in the answer that made it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import Route

from app.auth.roles import Role
from app.auth.users import password_problem
from app.db import Connection
from app.pages.fields import (
    FormState,
    path_choice,
    problem_fields,
    shown,
    submitted,
    validated,
)
from app.pages.guard import PageCall, page
from app.pages.render import is_htmx
from app.web.api_tokens import (
    TokenCreate,
    TokenCreated,
    TokenListQuery,
    issue_token,
    token_list,
    withdraw_token,
)
from app.web.api_users import (
    UserCreate,
    UserListQuery,
    UserOut,
    change_user,
    register_user,
    user_list,
)
from app.web.pagination import MAX_LIMIT
from app.web.problems import Problem
from app.web.rows import row_or_404

ROLE_CHOICES = [(role.value, role.value.title()) for role in reversed(Role)]
USER_MESSAGES = {
    "email": "enter an email address such as ops@example.com",
    "role": "choose admin, operator or viewer",
}
TOKEN_MESSAGES = {
    "role": "choose admin, operator or viewer",
    "expires_in_days": "enter a number of days from 1 to 3650, or leave it empty",
}
USER_ACTIVE = {"deactivate": (False, "deactivated"), "reactivate": (True, "reactivated")}


def _cursor(call: PageCall) -> str | None:
    return call.request.query_params.get("cursor") or None


def _list_query(model: type[Any], call: PageCall, **flags: bool) -> Any:
    """The API's list query for one page of the table (a malformed cursor is a 422)."""
    try:
        return model.model_validate({"limit": MAX_LIMIT, "cursor": _cursor(call), **flags})
    except ValidationError:
        raise Problem(422, "the cursor is not valid: follow the page's own links") from None


# -- users ---------------------------------------------------------------------------------


async def _users_context(
    call: PageCall, conn: Connection, form: FormState | None = None, notice: str = ""
) -> dict[str, Any]:
    users = await user_list(conn, _list_query(UserListQuery, call, include_inactive=True))
    return {
        "users": users.items,
        "next_cursor": users.next_cursor,
        "form": form or FormState({"role": "viewer"}),
        "notice": notice,
        "roles": ROLE_CHOICES,
    }


@page(Role.ADMIN)
async def users_page(call: PageCall) -> Response:
    """GET /admin/users: the tenant's users, active or not, and a form for a new one."""
    async with call.tenant() as conn:
        context = await _users_context(call, conn)
    return call.page("admin_users.html", **context)


def _user_problems(call: PageCall) -> tuple[UserCreate | None, FormState]:
    """The new user, or the form with a message per refused field (all at once)."""
    fields = submitted(call.form, ("email", "display_name", "role"))
    password = call.form.get("password", "")  # as typed: spaces count
    data = {key: value for key, value in fields.items() if value is not None}
    body, errors = validated(UserCreate, {**data, "password": password}, USER_MESSAGES)
    if problem := password_problem(password):
        errors["password"] = problem
    form = FormState(shown(fields), errors)
    return (None if errors else body), form


@page(Role.ADMIN)
async def user_create(call: PageCall) -> Response:
    """POST /admin/users: a new user with an initial password."""
    body, form = _user_problems(call)
    status, notice = 422, ""
    async with call.tenant() as conn:
        if body is not None:
            try:
                await register_user(conn, call.user.tenant_id, body)
                status, notice = 200, f"Created {body.email} ({body.role})"
                form = FormState({"role": "viewer"})
            except Problem as problem:
                if problem.status not in (409, 422):
                    raise
                status, form.errors = problem.status, problem_fields(problem, "email")
        context = await _users_context(call, conn, form, notice)
    return _region(call, status, "/admin/users", "admin_users.html", "_users.html", context)


def _region(
    call: PageCall, status: int, url: str, template: str, partial: str, context: dict[str, Any]
) -> Response:
    """After a create: the page's region for htmx; else the page (refused) or a redirect."""
    if is_htmx(call.request):
        return call.fragment(partial, status, **context)
    if status < 400 and not context.get("created"):
        return call.after_action(url)
    return call.page(template, status, **context)


async def _user_row(call: PageCall, conn: Connection, user_id: int, notice: str) -> Response:
    user = UserOut.model_validate(await row_or_404(conn, "user_detail", user_id, "user"))
    return call.after_action(
        "/admin/users", "_user_row.html", u=user, notice=notice, roles=ROLE_CHOICES
    )


@page(Role.ADMIN)
async def user_role(call: PageCall) -> Response:
    """POST /admin/users/{user_id}/role: give a user another role."""
    user_id = call.path_id("user_id")
    role = call.form.get("role", "")
    if role not in {r.value for r in Role}:
        raise Problem(422, "choose the role admin, operator or viewer")
    async with call.tenant() as conn:
        await change_user(conn, call.user, user_id, {"role": role}, password=None, now=call.now())
        return await _user_row(call, conn, user_id, f"now {role}")


@page(Role.ADMIN)
async def user_active(call: PageCall) -> Response:
    """POST /admin/users/{user_id}/deactivate|reactivate (deactivating ends sessions, tokens)."""
    user_id = call.path_id("user_id")
    active, done = path_choice(call.request.path_params, "action", USER_ACTIVE)
    async with call.tenant() as conn:
        await change_user(
            conn, call.user, user_id, {"active": active}, password=None, now=call.now()
        )
        return await _user_row(call, conn, user_id, done)


# -- API tokens ----------------------------------------------------------------------------


async def _tokens_context(
    call: PageCall,
    conn: Connection,
    form: FormState | None = None,
    created: TokenCreated | None = None,
) -> dict[str, Any]:
    tokens = await token_list(conn, _list_query(TokenListQuery, call, include_revoked=True))
    return {
        "tokens": tokens.items,
        "next_cursor": tokens.next_cursor,
        "form": form or FormState({"role": "viewer", "expires_in_days": "90"}),
        "created": created,
        "roles": [(value, label) for value, label in ROLE_CHOICES if call.user.allows(Role(value))],
    }


@page(Role.ADMIN)
async def tokens_page(call: PageCall) -> Response:
    """GET /admin/tokens: the tenant's API tokens (never their secrets) and a form for one."""
    async with call.tenant() as conn:
        context = await _tokens_context(call, conn)
    return call.page("admin_tokens.html", **context)


@page(Role.ADMIN)
async def token_create(call: PageCall) -> Response:
    """POST /admin/tokens: a new token of the signed-in admin; its secret is shown once."""
    fields = submitted(call.form, ("name", "role", "expires_in_days"))
    body, errors = validated(
        TokenCreate,
        {key: value for key, value in fields.items() if value is not None},
        TOKEN_MESSAGES,
    )
    form = FormState(shown(fields), errors)
    created, status = None, 422
    async with call.tenant() as conn:
        if body is not None:
            try:
                created, status = await issue_token(conn, call.user, body, call.now()), 201
                form = FormState({"role": "viewer", "expires_in_days": "90"})
            except Problem as problem:
                if problem.status != 422:
                    raise
                form.errors = problem_fields(problem, "name")
        context = await _tokens_context(call, conn, form, created)
    return _region(call, status, "/admin/tokens", "admin_tokens.html", "_tokens.html", context)


@page(Role.ADMIN)
async def token_revoke(call: PageCall) -> Response:
    """POST /admin/tokens/{token_id}/revoke: the token stops working at once."""
    async with call.tenant() as conn:
        token = await withdraw_token(conn, call.path_id("token_id"), call.now())
    return call.after_action("/admin/tokens", "_token_row.html", t=token, notice="revoked")


ROUTES = [
    Route("/admin/users", users_page, methods=["GET"], name="admin_users"),
    Route("/admin/users", user_create, methods=["POST"], name="admin_user_create"),
    Route("/admin/users/{user_id:int}/role", user_role, methods=["POST"], name="admin_user_role"),
    Route(
        "/admin/users/{user_id:int}/{action}",
        user_active,
        methods=["POST"],
        name="admin_user_active",
    ),
    Route("/admin/tokens", tokens_page, methods=["GET"], name="admin_tokens"),
    Route("/admin/tokens", token_create, methods=["POST"], name="admin_token_create"),
    Route(
        "/admin/tokens/{token_id:int}/revoke",
        token_revoke,
        methods=["POST"],
        name="admin_token_revoke",
    ),
]
