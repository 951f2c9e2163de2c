"""Log in (JSON), log out, and who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.auth.csrf import CSRF_COOKIE
from app.auth.login import LoginError, LoginResult, LoginThrottledError, log_in
from app.auth.roles import Principal, Role
from app.auth.sessions import SESSION_COOKIE, SESSION_LIFETIME, revoke_session
from app.web.problems import Problem
from app.web.routing import Call, Operation, json_response
from app.web.state import WebState


class LoginBody(BaseModel):
    """Credentials for a session."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "admin@wex.com", "password": "correct horse battery"}]
        },
    )

    email: str = Field(min_length=3, max_length=320)
    password: SecretStr = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(
        None, max_length=200, description="the tenant's name, when the email exists in several"
    )


class Me(BaseModel):
    """The caller: user, tenant, role, and how they authenticated."""

    tenant_id: int
    tenant: str
    user_id: int
    email: str
    role: Literal["admin", "operator", "viewer"]
    via: Literal["session", "token"]
    token_name: str | None = None


class LoginOut(BaseModel):
    """A new session: the session cookie is set; repeat `csrf_token` in X-CSRF-Token."""

    user: Me
    csrf_token: str
    expires_at: datetime


def me_of(principal: Principal) -> Me:
    """The public view of a principal."""
    return Me(
        tenant_id=principal.tenant_id,
        tenant=principal.tenant_name,
        user_id=principal.user_id,
        email=principal.email,
        role=principal.role.value,
        via="token" if principal.via == "token" else "session",
        token_name=principal.token_name,
    )


def client_ip(request: HTTPConnection) -> str:
    """The client's address as the server sees it (uvicorn applies trusted proxy headers)."""
    return request.client.host if request.client else "unknown"


def set_session_cookies(
    response: Response, request: HTTPConnection, state: WebState, result: LoginResult, csrf: str
) -> None:
    """Set the session cookie and a fresh CSRF cookie (rotated at every login)."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        state.sessions.dumps(result.session),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, secure=secure, samesite="lax")


def clear_session_cookies(response: Response) -> None:
    """Remove the session and CSRF cookies from the browser."""
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, samesite="lax")


async def attempt_login(
    request: HTTPConnection,
    state: WebState,
    *,
    email: str,
    password: str,
    tenant: str | None,
) -> LoginResult:
    """Log in, logging the outcome (never the password)."""
    try:
        result = await log_in(
            state.pool,
            state.throttle,
            email=email,
            password=password,
            client_ip=client_ip(request),
            now=state.services.clock(),
            tenant=tenant or None,
        )
    except LoginThrottledError:
        structlog.get_logger("sluice.auth").warning(
            "login throttled", email=email, client_ip=client_ip(request)
        )
        raise
    except LoginError:
        structlog.get_logger("sluice.auth").info(
            "login failed", email=email, client_ip=client_ip(request)
        )
        raise
    structlog.get_logger("sluice.auth").info(
        "login", email=email, tenant_id=result.principal.tenant_id
    )
    return result


async def login(call: Call) -> Response:
    """POST /auth/login: open a session (cookie) for valid credentials."""
    body = call.body_as(LoginBody)
    try:
        result = await attempt_login(
            call.request,
            call.state,
            email=body.email,
            password=body.password.get_secret_value(),
            tenant=body.tenant,
        )
    except LoginThrottledError as exc:
        raise Problem(
            429,
            f"too many failed logins: try again in {exc.retry_after} seconds",
            kind="login-throttled",
            headers={"Retry-After": str(exc.retry_after)},
            retry_after=exc.retry_after,
        ) from None
    except LoginError:
        raise Problem(401, "wrong email or password", kind="invalid-credentials") from None
    csrf = call.state.csrf.issue()
    out = LoginOut(
        user=me_of(result.principal), csrf_token=csrf, expires_at=call.now() + SESSION_LIFETIME
    )
    response = json_response(out)
    set_session_cookies(response, call.request, call.state, result, csrf)
    return response


async def logout(call: Call) -> Response:
    """POST /auth/logout: end this session at once."""
    principal = call.user
    if principal.session_id is None:
        raise Problem(
            400,
            "a bearer token has no session to end: revoke it with DELETE /api/v1/tokens/{id}",
        )
    async with call.tenant() as conn:
        await revoke_session(conn, principal.session_id, call.now())
    structlog.get_logger("sluice.auth").info("logout", email=principal.email)
    response = Response(status_code=204)
    clear_session_cookies(response)
    return response


async def me(call: Call) -> Me:
    """GET /auth/me: the caller."""
    return me_of(call.user)


OPERATIONS = [
    Operation(
        "POST",
        "/auth/login",
        login,
        "login",
        "Log in: sets an HttpOnly session cookie and returns the CSRF token",
        "auth",
        role=None,
        response=LoginOut,
        body=LoginBody,
        errors=(401, 429),
        max_body=16 * 1024,
        description="Five failed logins for an email lock it (1 minute, doubling); too many "
        "failures from one address are refused too. Both answer 429 with Retry-After.",
    ),
    Operation(
        "POST",
        "/auth/logout",
        logout,
        "logout",
        "Log out: revokes the session server-side",
        "auth",
        role=Role.VIEWER,
        status=204,
        errors=(400,),
    ),
    Operation("GET", "/auth/me", me, "getMe", "The caller", "auth", response=Me),
]
