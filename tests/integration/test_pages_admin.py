"""The admin pages: users and API tokens, for admins only."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.test_web_harness import (
    PASSWORD,
    ClientFactory,
    World,
    owner_rows,
    web,
    web_db_url,
    world,
)
from tests.page_clients import signed_in

__all__ = ["web", "web_db_url", "world"]

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "a long enough passphrase"


def user_row(world: World, email: str) -> tuple[Any, ...]:
    """The user's role, active flag and name; () when there is no such user."""
    rows = owner_rows(
        world.url, "SELECT role, active, display_name FROM users WHERE email = %s", (email,)
    )
    return rows[0] if rows else ()


def token_revoked(world: World, token_id: int) -> bool:
    [(revoked,)] = owner_rows(
        world.url, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = %s", (token_id,)
    )
    return bool(revoked)


async def test_only_admins_see_the_admin_pages(world: World, web: ClientFactory) -> None:
    for role in ("viewer", "operator"):
        client = await signed_in(web, world.account("WEX", role).email)
        home = await client.get("/integrations")
        assert 'href="/admin/users"' not in home.text
        for path in ("/admin/users", "/admin/tokens"):
            response = await client.get(path)
            assert response.status_code == 403, (role, path)
            assert "admin role" in response.text
        refused = await client.post(
            "/admin/tokens", data={"name": "sneaky", "role": "viewer"}, headers=HTMX
        )
        assert refused.status_code == 403
    admin = await signed_in(web, world.account("WEX", "admin").email)
    users = await admin.get("/admin/users")
    assert users.status_code == 200 and users.text.count("<h1>") == 1
    rows = dict(re.findall(r'<tr id="user-(\d+)"(.*?)</tr>', users.text, re.S))
    viewer = world.account("WEX", "viewer")
    assert viewer.email in rows[str(viewer.user_id)]
    assert 'data-testid="user-state">active<' in rows[str(viewer.user_id)]
    assert '<option value="viewer" selected>Viewer</option>' in rows[str(viewer.user_id)]
    own = rows[str(world.account("WEX", "admin").user_id)]
    assert "you" in own and "Deactivate" not in own and "just now" in own  # last login
    assert "apple.com" not in users.text
    assert '<th scope="col">Last login</th>' in users.text
    tokens = await admin.get("/admin/tokens")
    assert tokens.status_code == 200
    assert "viewer token" in tokens.text and "operator@wex.com" in tokens.text
    for account in world.accounts.values():
        assert account.token not in tokens.text  # only prefixes
    assert "apple.com" not in tokens.text


async def test_admin_creates_a_user_who_can_sign_in(world: World, web: ClientFactory) -> None:
    admin = await signed_in(web, world.account("WEX", "admin").email)
    bad = await admin.post(
        "/admin/users",
        data={"email": "not-an-email", "display_name": "X", "role": "boss", "password": "short"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert bad.text.lstrip().startswith('<div id="users"')
    for field, message in (
        ("email", "enter an email address such as ops@example.com"),
        ("role", "choose admin, operator or viewer"),
        ("password", "the password must be at least 12 characters long"),
    ):
        assert f'<span class="field-error" id="new-user-{field}-error">{message}</span>' in bad.text
        assert re.search(rf'id="new-user-{field}"[^>]*aria-invalid="true"', bad.text), field
    assert 'value="not-an-email"' in bad.text and "short" not in bad.text
    assert user_row(world, "not-an-email") == ()

    created = await admin.post(
        "/admin/users",
        data={
            "email": "analyst@wex.com",
            "display_name": "Analyst",
            "role": "operator",
            "password": NEW_PASSWORD,
        },
        headers=HTMX,
    )
    assert created.status_code == 200, created.text
    assert "Created analyst@wex.com (operator)" in created.text
    assert re.search(
        r'<tr id="user-\d+" data-active="true">\s*<td class="wrap">analyst@wex.com', created.text
    )
    assert user_row(world, "analyst@wex.com") == ("operator", True, "Analyst")
    analyst = await signed_in(web, "analyst@wex.com", NEW_PASSWORD)
    assert (await analyst.get("/api/v1/auth/me")).json()["role"] == "operator"

    twice = await admin.post(
        "/admin/users",
        data={"email": "analyst@wex.com", "role": "viewer", "password": NEW_PASSWORD},
        headers=HTMX,
    )
    assert twice.status_code == 409
    assert re.search(
        r'id="new-user-email-error">a user with the email .*already exists', twice.text
    )
    assert user_row(world, "analyst@wex.com") == ("operator", True, "Analyst")


async def test_admin_changes_roles_and_deactivates_users(world: World, web: ClientFactory) -> None:
    apple = world.account("Apple", "viewer")
    admin = await signed_in(web, world.account("Apple", "admin").email)
    promoted = await admin.post(
        f"/admin/users/{apple.user_id}/role", data={"role": "operator"}, headers=HTMX
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.text.lstrip().startswith(f'<tr id="user-{apple.user_id}"')
    assert '<option value="operator" selected>' in promoted.text and "now operator" in promoted.text
    assert user_row(world, apple.email)[:2] == ("operator", True)
    bogus = await admin.post(
        f"/admin/users/{apple.user_id}/role", data={"role": "root"}, headers=HTMX
    )
    assert bogus.status_code == 422 and bogus.headers["hx-retarget"] == "#flash"
    own = world.account("Apple", "admin").user_id
    demote_self = await admin.post(
        f"/admin/users/{own}/role", data={"role": "viewer"}, headers=HTMX
    )
    assert demote_self.status_code == 409 and "ask another admin" in demote_self.text
    assert (await admin.post(f"/admin/users/{own}/deactivate")).status_code == 409

    off = await admin.post(f"/admin/users/{apple.user_id}/deactivate", headers=HTMX)
    assert 'data-testid="user-state">deactivated<' in off.text and "Reactivate" in off.text
    assert user_row(world, apple.email)[1] is False
    assert (await web(apple.token).get("/api/v1/auth/me")).status_code == 401  # tokens revoked
    on = await admin.post(f"/admin/users/{apple.user_id}/reactivate", follow_redirects=False)
    assert on.status_code == 303 and on.headers["location"] == "/admin/users"
    assert user_row(world, apple.email)[:2] == ("operator", True)
    await signed_in(web, apple.email, PASSWORD)  # can sign in again
    await admin.post(f"/admin/users/{apple.user_id}/role", data={"role": "viewer"})
    assert user_row(world, apple.email)[0] == "viewer"


async def test_a_new_token_is_shown_once_works_and_stops_when_revoked(
    world: World, web: ClientFactory
) -> None:
    admin = await signed_in(web, world.account("WEX", "admin").email)
    bad = await admin.post(
        "/admin/tokens",
        data={"name": "", "role": "god", "expires_in_days": "0"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    for field in ("name", "role", "expires-in-days"):
        assert re.search(rf'id="new-token-{field}"[^>]*aria-invalid="true"', bad.text), field
    assert "enter a number of days from 1 to 3650" in bad.text
    [(before,)] = owner_rows(world.url, "SELECT count(*) FROM api_tokens")

    made = await admin.post(
        "/admin/tokens",
        data={"name": "ci deploy", "role": "operator", "expires_in_days": "30"},
        headers=HTMX,
    )
    assert made.status_code == 201, made.text
    secret = re.search(
        r'<input id="new-token-secret" type="text" readonly value="([^"]+)"', made.text
    )
    assert secret is not None and secret[1].startswith("slc_")
    assert "it is not shown again" in made.text
    [(after,)] = owner_rows(world.url, "SELECT count(*) FROM api_tokens")
    assert after == before + 1
    [(token_id, role, days)] = owner_rows(
        world.url,
        "SELECT id, role, round(extract(epoch FROM expires_at - created_at) / 86400) "
        "FROM api_tokens WHERE name = 'ci deploy'",
    )
    assert role == "operator" and days == 30
    me = await web(secret[1]).get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "operator"
    listed = await admin.get("/admin/tokens")
    assert secret[1] not in listed.text and f'id="token-{token_id}"' in listed.text

    revoked = await admin.post(f"/admin/tokens/{token_id}/revoke", headers=HTMX)
    assert revoked.status_code == 200
    assert revoked.text.lstrip().startswith(f'<tr id="token-{token_id}" data-state="revoked"')
    assert "Revoke<" not in revoked.text
    assert token_revoked(world, token_id)
    assert (await web(secret[1]).get("/api/v1/auth/me")).status_code == 401

    plain = await admin.post("/admin/tokens", data={"name": "no js", "role": "viewer"})
    assert plain.status_code == 201 and "<h1>API tokens</h1>" in plain.text
    assert 'id="new-token-secret"' in plain.text


async def test_other_tenants_ids_are_404_and_writes_need_csrf(
    world: World, web: ClientFactory
) -> None:
    wex_viewer = world.account("WEX", "viewer")
    wex_token = world.ids["WEX"]["token_id"]
    apple_admin = await signed_in(web, world.account("Apple", "admin").email)
    for path, data in (
        (f"/admin/users/{wex_viewer.user_id}/role", {"role": "admin"}),
        (f"/admin/users/{wex_viewer.user_id}/deactivate", {}),
        (f"/admin/tokens/{wex_token}/revoke", {}),
    ):
        response = await apple_admin.post(path, data=data)
        assert response.status_code == 404, path
        assert "does not exist" in response.text
    assert user_row(world, wex_viewer.email)[:2] == ("viewer", True)
    assert not token_revoked(world, wex_token)
    del apple_admin.headers["X-CSRF-Token"]
    forged = await apple_admin.post(
        "/admin/users",
        data={"email": "forged@apple.com", "role": "admin", "password": NEW_PASSWORD},
    )
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert user_row(world, "forged@apple.com") == ()
    [(operator_token,)] = owner_rows(
        world.url,
        "SELECT id FROM api_tokens WHERE tenant_id = %s AND name = 'operator token'",
        (world.tenant_ids["Apple"],),
    )
    forged_revoke = await apple_admin.post(f"/admin/tokens/{operator_token}/revoke")
    assert forged_revoke.status_code == 403
    assert not token_revoked(world, operator_token)
