"""The integrations page: cards by role, admin forms, activation and the connection test."""

from __future__ import annotations

import re

import httpx

from app.crypto import CredentialCipher
from app.sandbox import DEFAULT_TOKEN, SandboxDataset, SandboxServers
from tests.integration.test_web_harness import (
    INTEGRATION_TOKEN,
    SECRET_KEY,
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
NEW_TOKEN = "page-made-token-4711"


async def browser(web: ClientFactory, world: World, tenant: str, role: str) -> httpx.AsyncClient:
    """A signed-in browser whose every answer is checked for integration tokens."""
    email = world.account(tenant, role).email
    return await signed_in(web, email, secrets=(NEW_TOKEN, DEFAULT_TOKEN))


def stored(world: World, integration_id: int) -> tuple[object, ...]:
    [row] = owner_rows(
        world.url,
        "SELECT name, base_url, username, base_search, active, credentials "
        "FROM integrations WHERE id = %s",
        (integration_id,),
    )
    return row


def token_of(world: World, integration_id: int) -> str:
    credentials = stored(world, integration_id)[5]
    assert isinstance(credentials, bytes)
    return CredentialCipher(SECRET_KEY).decrypt(credentials)


def integration_count(world: World) -> int:
    [(count,)] = owner_rows(world.url, "SELECT count(*) FROM integrations")
    return int(count)


async def test_cards_show_each_integration_and_controls_by_role(
    world: World, web: ClientFactory
) -> None:
    wex = world.ids["WEX"]["integration_id"]
    viewer = await browser(web, world, "WEX", "viewer")
    page = await viewer.get("/integrations")
    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    card = re.search(
        rf'<article class="card integration-card" id="integration-{wex}".*?</article>',
        page.text,
        re.S,
    )
    assert card is not None
    assert "WEX Jira" in card[0] and 'src="/static/logos/jira.svg"' in card[0]
    assert "http://127.0.0.1:9" in card[0] and "admin@wex.com" in card[0]
    assert '<dd data-testid="token-state">set</dd>' in card[0]
    assert 'data-testid="integration-state">active<' in card[0]
    assert f'href="/runs/{world.ids["WEX"]["run_id"]}"' in card[0]
    assert "Apple Jira" not in page.text
    assert "Test connection" not in page.text and "Add integration" not in page.text
    assert "Deactivate" not in page.text and "<summary>Edit" not in page.text

    operator = await browser(web, world, "WEX", "operator")
    seen = await operator.get("/integrations")
    assert "Test connection" in seen.text
    assert "Add integration" not in seen.text and "Deactivate" not in seen.text

    admin = await browser(web, world, "WEX", "admin")
    full = await admin.get("/integrations")
    assert "Add integration" in full.text and "Deactivate" in full.text
    assert 'type="password"' in full.text and 'autocomplete="off"' in full.text
    assert f'id="integration-{wex}-name" name="name" type="text" value="WEX Jira"' in full.text
    for refused in (
        "/integrations",
        f"/integrations/{wex}/edit",
        f"/integrations/{wex}/deactivate",
    ):
        response = await operator.post(refused, data={"name": "x"})
        assert response.status_code == 403, refused
    assert (await viewer.post(f"/integrations/{wex}/test")).status_code == 403
    assert stored(world, wex)[0] == "WEX Jira" and stored(world, wex)[4] is True


async def test_admin_adds_an_integration_and_bad_input_saves_nothing(
    world: World, web: ClientFactory
) -> None:
    admin = await browser(web, world, "Apple", "admin")
    before = integration_count(world)
    bad = await admin.post(
        "/integrations",
        data={"provider": "gitlab", "base_url": "ftp://nowhere", "token": " ", "name": "Bad"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert integration_count(world) == before
    assert 'id="new-integration-provider-error"' in bad.text
    assert "choose Jira or GitHub" in bad.text
    assert re.search(r'id="new-integration-base-url"[^>]*aria-invalid="true"', bad.text)
    assert "must be an http:// or https:// URL with a host" in bad.text
    assert 'id="new-integration-token-error">a token is required<' in bad.text
    assert 'value="Bad"' in bad.text  # what was typed stays, except the token

    added = await admin.post(
        "/integrations",
        data={
            "provider": "github",
            "base_url": "https://api.github.example/",
            "token": NEW_TOKEN,
            "base_search": "org:apple",
        },
        headers=HTMX,
    )
    assert added.status_code == 200, added.text
    assert added.text.lstrip().startswith('<div id="integrations"')
    assert "Added the integration GitHub api.github.example" in added.text
    [(new_id,)] = owner_rows(
        world.url, "SELECT id FROM integrations WHERE name = 'GitHub api.github.example'"
    )
    assert f'id="integration-{new_id}"' in added.text and "github.svg" in added.text
    assert stored(world, new_id)[1:5] == ("https://api.github.example", None, "org:apple", True)
    assert token_of(world, new_id) == NEW_TOKEN

    again = await admin.post(
        "/integrations",
        data={
            "provider": "jira",
            "name": "GitHub api.github.example",
            "base_url": "https://x.example",
            "token": "t0ken-abc",
        },
    )
    assert again.status_code == 409 and "choose another name" in again.text
    assert "<h1>Integrations</h1>" in again.text  # a whole page without htmx
    plain = await admin.post(
        "/integrations",
        data={"provider": "jira", "base_url": "https://plain.example", "token": "t0ken-abc"},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/integrations"
    assert integration_count(world) == before + 2


async def test_edit_keeps_the_token_unless_a_new_one_is_given(
    world: World, web: ClientFactory
) -> None:
    wex = world.ids["WEX"]["integration_id"]
    admin = await browser(web, world, "WEX", "admin")
    form = {"name": "WEX Jira", "base_url": "http://127.0.0.1:9", "username": "svc@wex.com"}
    kept = await admin.post(f"/integrations/{wex}/edit", data={**form, "token": ""}, headers=HTMX)
    assert kept.status_code == 200, kept.text
    assert kept.text.lstrip().startswith(
        f'<article class="card integration-card" id="integration-{wex}"'
    )
    assert "Saved WEX Jira" in kept.text and "svc@wex.com" in kept.text
    assert stored(world, wex)[2] == "svc@wex.com"
    assert token_of(world, wex) == INTEGRATION_TOKEN

    bad = await admin.post(
        f"/integrations/{wex}/edit",
        data={"name": "", "base_url": "nowhere", "username": "", "token": "other-token-1"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert f'id="integration-{wex}-name-error">a name is required<' in bad.text
    assert re.search(rf'id="integration-{wex}-base-url"[^>]*aria-invalid="true"', bad.text)
    assert '<details class="edit" open>' in bad.text
    assert stored(world, wex)[:3] == ("WEX Jira", "http://127.0.0.1:9", "svc@wex.com")
    assert token_of(world, wex) == INTEGRATION_TOKEN

    changed = await admin.post(
        f"/integrations/{wex}/edit",
        data={**form, "username": "admin@wex.com", "token": "replacement-token-9"},
        headers=HTMX,
    )
    assert changed.status_code == 200
    assert token_of(world, wex) == "replacement-token-9"
    assert "replacement-token-9" not in changed.text
    restored = await admin.post(
        f"/integrations/{wex}/edit",
        data={**form, "username": "admin@wex.com", "token": INTEGRATION_TOKEN},
        follow_redirects=False,
    )
    assert restored.status_code == 303
    assert token_of(world, wex) == INTEGRATION_TOKEN


async def test_deactivate_and_activate(world: World, web: ClientFactory) -> None:
    apple = world.ids["Apple"]["integration_id"]
    admin = await browser(web, world, "Apple", "admin")
    off = await admin.post(f"/integrations/{apple}/deactivate", headers=HTMX)
    assert off.status_code == 200
    assert 'data-testid="integration-state">inactive<' in off.text and ">Activate<" in off.text
    assert stored(world, apple)[4] is False
    on = await admin.post(f"/integrations/{apple}/activate", headers=HTMX)
    assert 'data-testid="integration-state">active<' in on.text
    assert stored(world, apple)[4] is True
    assert (await admin.post(f"/integrations/{apple}/explode")).status_code == 404


async def test_connection_test_reports_success_and_the_precise_error(
    world: World, web: ClientFactory
) -> None:
    admin = await browser(web, world, "WEX", "admin")
    operator = await browser(web, world, "WEX", "operator")
    refused = await operator.post(
        f"/integrations/{world.ids['WEX']['integration_id']}/test", headers=HTMX
    )
    assert refused.status_code == 200
    assert "Connection failed" in refused.text
    assert "cannot reach WEX Jira (http://127.0.0.1:9)" in refused.text
    with SandboxServers(SandboxDataset(issues=5, repos=1, pull_requests=1)) as sandbox:
        added = await admin.post(
            "/integrations",
            data={
                "provider": "jira",
                "name": "Sandbox Jira",
                "base_url": sandbox.jira_url,
                "username": "admin@wex.com",
                "token": DEFAULT_TOKEN,
            },
            headers=HTMX,
        )
        assert added.status_code == 200, added.text
        [(sandbox_id,)] = owner_rows(
            world.url, "SELECT id FROM integrations WHERE name = 'Sandbox Jira'"
        )
        ok = await operator.post(f"/integrations/{sandbox_id}/test", headers=HTMX)
        assert ok.status_code == 200
        assert "Connection OK" in ok.text
        assert f"Connected to Jira at {sandbox.jira_url} as" in ok.text
        await admin.post(
            f"/integrations/{sandbox_id}/edit",
            data={"name": "Sandbox Jira", "base_url": sandbox.jira_url, "token": NEW_TOKEN},
        )
        wrong = await operator.post(f"/integrations/{sandbox_id}/test", headers=HTMX)
        whole = await operator.post(f"/integrations/{sandbox_id}/test")
    assert "Connection failed" in wrong.text and "rejected the credentials" in wrong.text
    assert "(401)" in wrong.text
    assert whole.status_code == 200 and "<h1>Integrations</h1>" in whole.text
    assert 'data-testid="connection-result"' in whole.text


async def test_other_tenants_integrations_are_404_and_writes_need_csrf(
    world: World, web: ClientFactory
) -> None:
    wex = world.ids["WEX"]["integration_id"]
    apple_admin = await browser(web, world, "Apple", "admin")
    for path in ("edit", "test", "deactivate"):
        response = await apple_admin.post(
            f"/integrations/{wex}/{path}", data={"name": "Stolen", "base_url": "https://x.y"}
        )
        assert response.status_code == 404, path
        assert "integration" in response.text and "does not exist" in response.text
    assert stored(world, wex)[0] == "WEX Jira" and stored(world, wex)[4] is True
    del apple_admin.headers["X-CSRF-Token"]
    before = integration_count(world)
    forged = await apple_admin.post(
        "/integrations",
        data={"provider": "jira", "base_url": "https://forged.example", "token": "t0ken-abc"},
    )
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert integration_count(world) == before
