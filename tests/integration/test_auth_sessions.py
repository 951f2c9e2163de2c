"""Sessions and tokens end at once; failed logins are throttled."""

from __future__ import annotations

from datetime import datetime

from app.web.app import create_app
from tests.integration.test_web_harness import (
    PASSWORD,
    ClientFactory,
    World,
    owner_rows,
    serve,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]


async def new_user(world: World, web: ClientFactory, email: str, role: str = "operator") -> int:
    admin = web(world.account("WEX", "admin").token)
    response = await admin.post(
        "/api/v1/users", json={"email": email, "role": role, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_revoked_token_stops_working_at_once(world: World, web: ClientFactory) -> None:
    admin = web(world.account("WEX", "admin").token)
    created = await admin.post("/api/v1/tokens", json={"name": "short-lived", "role": "operator"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith(created.json()["token_prefix"] + "_")
    bot = web(token)
    me = await bot.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "operator"
    assert me.json()["via"] == "token"
    revoked = await admin.delete(f"/api/v1/tokens/{created.json()['id']}")
    assert revoked.status_code == 204
    after = await bot.get("/api/v1/auth/me")
    assert after.status_code == 401
    assert after.json()["type"] == "urn:sluice:problem:unauthenticated"
    listed = (await admin.get("/api/v1/tokens?include_revoked=true")).json()["items"]
    entry = next(t for t in listed if t["id"] == created.json()["id"])
    assert entry["revoked_at"] is not None and "token" not in entry
    assert entry["last_used_at"] is not None


async def test_an_expired_token_is_refused(world: World, web: ClientFactory) -> None:
    admin = web(world.account("WEX", "admin").token)
    created = (
        await admin.post("/api/v1/tokens", json={"name": "expiring", "expires_in_days": 1})
    ).json()
    assert (await web(created["token"]).get("/api/v1/auth/me")).status_code == 200
    owner_rows(
        world.url,
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = %s",
        (created["id"],),
    )
    assert (await web(created["token"]).get("/api/v1/auth/me")).status_code == 401


async def test_a_logged_out_session_stops_working_at_once(world: World, web: ClientFactory) -> None:
    browser = await session_client(web, world.account("WEX", "operator").email)
    assert (await browser.get("/api/v1/auth/me")).json()["via"] == "session"
    stolen = browser.cookies["sluice_session"]
    out = await browser.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert any(
        c.startswith('sluice_session=""') or "Max-Age=0" in c
        for c in out.headers.get_list("set-cookie")
    )
    replay = web()
    replay.cookies.set("sluice_session", stolen)  # the old cookie, kept by an attacker
    response = await replay.get("/api/v1/auth/me")
    assert response.status_code == 401
    [(revoked,)] = owner_rows(
        world.url,
        "SELECT count(*) FROM user_sessions WHERE user_id = %s AND revoked_at IS NOT NULL",
        (world.account("WEX", "operator").user_id,),
    )
    assert revoked >= 1


async def test_logout_needs_a_session(world: World, web: ClientFactory) -> None:
    bearer = web(world.account("WEX", "admin").token)
    response = await bearer.post("/api/v1/auth/logout")
    assert response.status_code == 400
    assert "DELETE /api/v1/tokens" in response.json()["detail"]


async def test_deactivating_a_user_ends_sessions_and_tokens(
    world: World, web: ClientFactory
) -> None:
    user_id = await new_user(world, web, "leaver@wex.com")
    browser = await session_client(web, "leaver@wex.com")
    admin = web(world.account("WEX", "admin").token)
    owner_rows(
        world.url,
        "INSERT INTO api_tokens (tenant_id, user_id, name, token_prefix, token_hash, role) "
        "VALUES (%s, %s, 'leaver', 'slc_x', 'h', 'viewer')",
        (world.tenant_ids["WEX"], user_id),
    )
    assert (await admin.delete(f"/api/v1/users/{user_id}")).status_code == 204
    assert (await browser.get("/api/v1/auth/me")).status_code == 401
    [(open_tokens,)] = owner_rows(
        world.url,
        "SELECT count(*) FROM api_tokens WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )
    assert open_tokens == 0
    login = await web(ip="10.7.0.1").post(
        "/api/v1/auth/login", json={"email": "leaver@wex.com", "password": PASSWORD}
    )
    assert login.status_code == 401


async def test_a_demoted_users_session_loses_its_rights_at_once(
    world: World, web: ClientFactory
) -> None:
    user_id = await new_user(world, web, "demoted@wex.com", role="admin")
    browser = await session_client(web, "demoted@wex.com")
    assert (await browser.get("/api/v1/users")).status_code == 200
    admin = web(world.account("WEX", "admin").token)
    demoted = await admin.patch(f"/api/v1/users/{user_id}", json={"role": "viewer"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    assert (await browser.get("/api/v1/users")).status_code == 403


async def test_failed_logins_lock_the_account_with_retry_after(
    world: World, web: ClientFactory
) -> None:
    user_id = await new_user(world, web, "guessed@wex.com")
    client = web(ip="10.1.0.1")
    for _ in range(5):
        wrong = await client.post(
            "/api/v1/auth/login", json={"email": "guessed@wex.com", "password": "nope"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["detail"] == "wrong email or password"
    locked = await web(ip="10.1.0.2").post(
        "/api/v1/auth/login", json={"email": "guessed@wex.com", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert locked.json()["retry_after"] == int(locked.headers["retry-after"])
    [(failures, locked_until)] = owner_rows(
        world.url, "SELECT failed_logins, locked_until FROM users WHERE id = %s", (user_id,)
    )
    assert failures == 5 and isinstance(locked_until, datetime)
    # The lock lives in the database: a restarted process (a fresh app) still refuses...
    restarted = create_app(world.settings, database_url=world.url)
    async with serve(restarted) as other:
        refused = await other(ip="10.1.0.3").post(
            "/api/v1/auth/login", json={"email": "guessed@wex.com", "password": PASSWORD}
        )
        assert refused.status_code == 429
        # ...until the lock expires; a success then clears the count.
        owner_rows(
            world.url,
            "UPDATE users SET locked_until = now() - interval '1 second' WHERE id = %s",
            (user_id,),
        )
        ok = await other(ip="10.1.0.3").post(
            "/api/v1/auth/login", json={"email": "guessed@wex.com", "password": PASSWORD}
        )
        assert ok.status_code == 200
    [(failures, locked_until)] = owner_rows(
        world.url, "SELECT failed_logins, locked_until FROM users WHERE id = %s", (user_id,)
    )
    assert (failures, locked_until) == (0, None)


async def test_unknown_emails_are_throttled_like_known_ones(web: ClientFactory) -> None:
    client = web(ip="10.2.0.1")
    answers = [
        (
            await client.post(
                "/api/v1/auth/login", json={"email": "nobody@wex.com", "password": "x"}
            )
        ).status_code
        for _ in range(6)
    ]
    assert answers == [401] * 5 + [429]


async def test_one_address_failing_often_is_throttled(world: World, web: ClientFactory) -> None:
    client = web(ip="10.3.0.1")
    for n in range(20):
        response = await client.post(
            "/api/v1/auth/login", json={"email": f"probe{n}@wex.com", "password": "x"}
        )
        assert response.status_code == 401
    good = {"email": world.account("WEX", "viewer").email, "password": PASSWORD}
    blocked = await client.post("/api/v1/auth/login", json=good)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    elsewhere = await web(ip="10.3.0.2").post("/api/v1/auth/login", json=good)
    assert elsewhere.status_code == 200


async def test_the_login_form_reports_throttling(world: World, web: ClientFactory) -> None:
    browser = web(ip="10.4.0.1")
    await browser.get("/")  # a page: it sets the CSRF cookie
    fields = {"email": "form-nobody@wex.com", "password": "x"}
    for _ in range(5):
        csrf = browser.cookies["sluice_csrf"]
        response = await browser.post("/login", data={**fields, "csrf_token": csrf})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?error=invalid")
    response = await browser.post(
        "/login", data={**fields, "csrf_token": browser.cookies["sluice_csrf"]}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?error=throttled")
    assert int(response.headers["retry-after"]) > 0


async def test_the_same_email_in_two_tenants_logs_into_the_one_whose_password_matches(
    world: World, web: ClientFactory
) -> None:
    for tenant, password in (("WEX", "wex password one"), ("Apple", "apple password two")):
        admin = web(world.account(tenant, "admin").token)
        created = await admin.post(
            "/api/v1/users",
            json={"email": "shared@both.com", "role": "viewer", "password": password},
        )
        assert created.status_code == 201
    for tenant, password in (("WEX", "wex password one"), ("Apple", "apple password two")):
        client = web(ip="10.5.0.1")
        response = await client.post(
            "/api/v1/auth/login", json={"email": "shared@both.com", "password": password}
        )
        assert response.status_code == 200 and response.json()["user"]["tenant"] == tenant
    named = await web(ip="10.5.0.2").post(
        "/api/v1/auth/login",
        json={"email": "shared@both.com", "password": "wex password one", "tenant": "Apple"},
    )
    assert named.status_code == 401
