"""Integrations, users, tokens, settings, job control, search and pagination through the API."""

from __future__ import annotations

from app.crypto import CredentialCipher
from app.sandbox import DEFAULT_TOKEN, SandboxDataset, SandboxServers
from tests.integration.test_web_harness import (
    PASSWORD,
    SECRET_KEY,
    ClientFactory,
    World,
    owner_rows,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]


async def test_integrations_are_created_changed_and_deleted(
    world: World, web: ClientFactory
) -> None:
    admin = web(world.account("WEX", "admin").token)
    created = await admin.post(
        "/api/v1/integrations",
        json={
            "provider": "jira",
            "base_url": "https://acme.atlassian.net/",
            "username": "me@acme.com",
            "token": "first-token",
            "settings": {"custom_fields": {"customfield_10001": "team"}},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (
        body["name"] == "Jira acme.atlassian.net"
        and body["base_url"] == "https://acme.atlassian.net"
    )
    assert body["settings"] == {"custom_fields": {"customfield_10001": "team"}}
    assert created.headers["location"] == f"/api/v1/integrations/{body['id']}"
    assert set(body) >= {"has_token", "active"} and "token" not in body
    changed = await admin.patch(
        f"/api/v1/integrations/{body['id']}",
        json={"token": "second-token", "username": None, "active": False},
    )
    assert changed.status_code == 200
    assert changed.json()["username"] is None and changed.json()["active"] is False
    [(stored,)] = owner_rows(
        world.url, "SELECT credentials FROM integrations WHERE id = %s", (body["id"],)
    )
    assert CredentialCipher(SECRET_KEY).decrypt(stored) == "second-token"
    duplicate = await admin.patch(f"/api/v1/integrations/{body['id']}", json={"name": "WEX Jira"})
    assert duplicate.status_code == 409
    for bad in ({"base_url": "ftp://nowhere"}, {"name": None}, {"token": "  "}):
        response = await admin.patch(f"/api/v1/integrations/{body['id']}", json=bad)
        assert response.status_code == 422, bad
    assert (await admin.delete(f"/api/v1/integrations/{body['id']}")).status_code == 204
    assert (await admin.get(f"/api/v1/integrations/{body['id']}")).status_code == 404


async def test_an_integration_with_runs_is_deactivated_not_deleted(
    world: World, web: ClientFactory
) -> None:
    admin = web(world.account("WEX", "admin").token)
    integration_id = world.ids["WEX"]["integration_id"]
    refused = await admin.delete(f"/api/v1/integrations/{integration_id}")
    assert refused.status_code == 409 and '"active": false' in refused.json()["detail"]
    assert (await admin.get(f"/api/v1/integrations/{integration_id}")).status_code == 200
    [(linked,)] = owner_rows(
        world.url,
        "SELECT count(*) FROM etl_jobs WHERE integration_id = %s",
        (integration_id,),
    )
    assert linked == 1  # the refused delete changed nothing


async def test_creating_an_integration_checks_provider_url_and_token(
    world: World, web: ClientFactory
) -> None:
    admin = web(world.account("WEX", "admin").token)
    cases = [
        ({"provider": "gitlab", "base_url": "https://x.y", "token": "t"}, "provider"),
        ({"provider": "jira", "base_url": "https://x.y"}, "token"),
        ({"provider": "jira", "token": "t"}, "base_url"),
        ({"provider": "github", "base_url": "https://u:p@x.y", "token": "t"}, "base_url"),
        ({"provider": "jira", "base_url": "https://x.y", "token": "t", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        response = await admin.post("/api/v1/integrations", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    viewer = web(world.account("WEX", "viewer").token)
    assert (await viewer.get("/api/v1/integrations?provider=jira")).json()["items"]


async def test_lists_page_with_a_cursor(world: World, web: ClientFactory) -> None:
    admin = web(world.account("WEX", "admin").token)
    for n in range(5):
        created = await admin.post("/api/v1/tokens", json={"name": f"paging {n}"})
        assert created.status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await admin.get("/api/v1/tokens", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 8
    everything = (await admin.get("/api/v1/tokens", params={"limit": 500})).json()
    assert [t["id"] for t in everything["items"]] == seen and everything["next_cursor"] is None
    for bad in ({"limit": 0}, {"limit": 501}, {"cursor": "abc"}, {"colour": "red"}):
        assert (await admin.get("/api/v1/tokens", params=bad)).status_code == 422, bad


async def test_users_are_managed_by_admins(world: World, web: ClientFactory) -> None:
    admin = web(world.account("WEX", "admin").token)
    created = await admin.post(
        "/api/v1/users",
        json={
            "email": "new@wex.com",
            "display_name": "New",
            "role": "operator",
            "password": PASSWORD,
        },
    )
    assert created.status_code == 201
    user = created.json()
    assert user["role"] == "operator" and "password" not in user and "password_hash" not in user
    [(stored,)] = owner_rows(
        world.url, "SELECT password_hash FROM users WHERE id = %s", (user["id"],)
    )
    assert stored.startswith("$argon2id$")
    again = await admin.post(
        "/api/v1/users", json={"email": "NEW@wex.com", "role": "viewer", "password": PASSWORD}
    )
    assert again.status_code == 409
    renamed = await admin.patch(f"/api/v1/users/{user['id']}", json={"display_name": "Renamed"})
    assert renamed.json()["display_name"] == "Renamed"
    me = world.account("WEX", "admin").user_id
    for body in ({"role": "viewer"}, {"active": False}):
        assert (await admin.patch(f"/api/v1/users/{me}", json=body)).status_code == 409
    assert (await admin.delete(f"/api/v1/users/{me}")).status_code == 409
    assert (await admin.delete(f"/api/v1/users/{user['id']}")).status_code == 204
    active = [u["id"] for u in (await admin.get("/api/v1/users")).json()["items"]]
    assert user["id"] not in active
    everyone = (await admin.get("/api/v1/users?include_inactive=true")).json()["items"]
    assert user["id"] in [u["id"] for u in everyone]


async def test_settings_are_read_by_all_and_changed_by_admins(
    world: World, web: ClientFactory
) -> None:
    viewer = web(world.account("WEX", "viewer").token)
    settings = {s["key"]: s for s in (await viewer.get("/api/v1/settings")).json()["items"]}
    assert settings["orchestrator_interval_minutes"]["value"] == 60
    admin = web(world.account("WEX", "admin").token)
    changed = await admin.patch("/api/v1/settings", json={"orchestrator_interval_minutes": 30})
    assert changed.status_code == 200
    after = {s["key"]: s for s in changed.json()["items"]}
    assert after["orchestrator_interval_minutes"]["value"] == 30
    assert after["orchestrator_interval_minutes"]["updated_by"].startswith("token:admin token")
    refused = await admin.patch(
        "/api/v1/settings", json={"orchestrator_interval_minutes": 0, "nonsense": 1}
    )
    assert refused.status_code == 422
    assert "orchestrator_interval_minutes" in refused.json()["detail"]
    assert "nonsense" in refused.json()["detail"]
    apple = web(world.account("Apple", "viewer").token)
    apple_settings = {s["key"]: s for s in (await apple.get("/api/v1/settings")).json()["items"]}
    assert apple_settings["orchestrator_interval_minutes"]["value"] != 30
    assert apple_settings["orchestrator_interval_minutes"]["updated_by"] is None


async def test_job_control_starts_pauses_and_resumes_a_chain_job(
    world: World, web: ClientFactory
) -> None:
    operator = web(world.account("WEX", "operator").token)
    chain = (await operator.get("/api/v1/jobs")).json()["items"]
    assert [j["job_name"] for j in chain] == ["Jira", "GitHub", "Vectorization"]
    jira = chain[0]["id"]
    started = await operator.post(f"/api/v1/jobs/{jira}/force-start")
    assert started.status_code == 202, started.text
    run = started.json()["recent_runs"][0]
    assert run["trigger"] == "manual" and run["triggered_by"].startswith("token:operator")
    again = await operator.post(f"/api/v1/jobs/{chain[1]['id']}/force-start")
    assert again.status_code == 409
    paused = await operator.post(f"/api/v1/jobs/{jira}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "PAUSED"
    run_detail = (await operator.get(f"/api/v1/runs/{run['id']}")).json()
    assert run_detail["status"] == "paused"
    resumed = await operator.post(f"/api/v1/jobs/{jira}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "RUNNING"
    cancelled = await operator.post(f"/api/v1/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = await operator.post(f"/api/v1/runs/{run['id']}/cancel")
    assert twice.status_code == 409 and "is cancelled" in twice.json()["detail"]


async def test_search_answers_for_the_callers_tenant(world: World, web: ClientFactory) -> None:
    viewer = web(world.account("WEX", "viewer").token)
    response = await viewer.get("/api/v1/search", params={"q": "login timeout", "limit": 5})
    assert response.status_code == 200 and response.json() == {"items": []}
    assert (await viewer.get("/api/v1/search")).status_code == 422
    assert (await viewer.get("/api/v1/search", params={"q": "   "})).status_code == 422
    assert (
        await viewer.get("/api/v1/search", params={"q": "x", "entity": "pr"})
    ).status_code == 422


async def test_the_connection_test_reaches_the_source(world: World, web: ClientFactory) -> None:
    admin = web(world.account("WEX", "admin").token)
    with SandboxServers(SandboxDataset(issues=5, repos=1, pull_requests=1)) as sandbox:
        good = await admin.post(
            "/api/v1/integrations",
            json={
                "provider": "jira",
                "name": "Sandbox Jira",
                "base_url": sandbox.jira_url,
                "username": "admin@wex.com",
                "token": DEFAULT_TOKEN,
            },
        )
        ok = await admin.post(f"/api/v1/integrations/{good.json()['id']}/test")
        assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text
        await admin.patch(
            f"/api/v1/integrations/{good.json()['id']}", json={"token": "not-the-token-77"}
        )
        refused = await admin.post(f"/api/v1/integrations/{good.json()['id']}/test")
    assert refused.status_code == 200 and refused.json()["ok"] is False
    assert "not-the-token-77" not in refused.json()["message"]
