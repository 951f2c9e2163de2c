"""The security properties of the web process, route by route.

- every route except login, health and static assets refuses an anonymous request;
- a viewer cannot control jobs (nor change anything an operator or admin may);
- a user or token of one tenant gets 404 for every id of another tenant on every route;
- a state-changing request authenticated by cookie without a valid CSRF token is refused.
"""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer
from starlette.routing import Mount, Route

from app.auth.roles import Role
from app.pages.routes import ROUTES as PAGE_ROUTES
from app.web.api import OPERATIONS
from app.web.app import STATIC_DIR, routes
from tests.integration.test_web_harness import (
    PASSWORD,
    ClientFactory,
    World,
    concrete_path,
    example_body,
    owner_rows,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

PUBLIC = {
    ("GET", "/login"),  # the sign-in page
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/login"),
}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Dashboard pages (their event streams apart): signed-out visitors are redirected to sign in.
PAGES = {
    route.path
    for route in PAGE_ROUTES
    if isinstance(route, Route) and not route.path.startswith("/live/")
}


def every_route() -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, static files apart."""
    found = []
    for route in routes():
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route) and route.methods
        found += [(method, route.path) for method in sorted(route.methods) if method != "HEAD"]
    return found


async def test_every_route_but_login_health_and_static_refuses_anonymous_requests(
    web: ClientFactory,
) -> None:
    client = web()
    await client.get("/")  # a page gives a CSRF cookie, so only authentication can refuse
    csrf = client.cookies["sluice_csrf"]
    checked = 0
    for method, template in every_route():
        path = concrete_path(template, {})
        response = await client.request(
            method,
            path,
            headers={"X-CSRF-Token": csrf},
            data={"csrf_token": csrf} if template in ("/login", "/logout") else None,
            json={} if method in WRITES and template not in ("/login", "/logout") else None,
        )
        if (method, template) in PUBLIC:
            assert response.status_code != 401, (method, path)
            continue
        checked += 1
        if template in PAGES:  # a page sends the visitor to sign in, and back afterwards
            assert response.status_code == 303, (method, path, response.text)
            assert response.headers["location"].startswith("/login?next="), (method, path)
            continue
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 401
    assert checked >= 40
    static = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
    if static:
        asset = await client.get(f"/static/{static[0].relative_to(STATIC_DIR).as_posix()}")
        assert asset.status_code == 200


async def test_unknown_forged_and_malformed_credentials_are_refused(
    world: World, web: ClientFactory
) -> None:
    valid = world.account("WEX", "admin").token
    prefix, _, _ = valid.rpartition("_")
    for header in (
        f"Bearer {prefix}_{'x' * 43}",  # right shape, unknown secret
        "Bearer not-a-token",
        f"Basic {valid}",
        "Bearer ",
    ):
        response = await web().get("/api/v1/auth/me", headers={"Authorization": header})
        assert response.status_code == 401, header
    forged = URLSafeTimedSerializer("another key" * 4, salt="sluice-session").dumps(
        {"t": world.tenant_ids["WEX"], "s": "guess"}
    )
    client = web()
    client.cookies.set("sluice_session", forged)
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_a_session_cookie_cannot_be_moved_to_another_tenant(
    world: World, web: ClientFactory
) -> None:
    wex = await session_client(web, world.account("WEX", "viewer").email)
    cookie = wex.cookies["sluice_session"]
    payload, _, signature = cookie.partition(".")
    other = web()
    other.cookies.set("sluice_session", cookie.replace(payload, payload[::-1], 1))
    assert (await other.get("/api/v1/auth/me")).status_code == 401
    assert signature  # the cookie is signed
    assert (await wex.get("/api/v1/auth/me")).json()["tenant"] == "WEX"


async def test_a_viewer_cannot_control_jobs_or_change_anything(
    world: World, web: ClientFactory
) -> None:
    runs_before = owner_rows(world.url, "SELECT count(*), max(id) FROM etl_runs")
    viewer_token = web(world.account("WEX", "viewer").token)
    viewer_session = await session_client(web, world.account("WEX", "viewer").email)
    operator = web(world.account("WEX", "operator").token)
    ids = world.ids["WEX"]
    guarded = [op for op in OPERATIONS if op.role in (Role.OPERATOR, Role.ADMIN)]
    assert {"forceStartJob", "pauseRun", "cancelRun", "retryQueueJob"} <= {
        op.operation_id for op in guarded
    }
    for op in guarded:
        path = concrete_path(op.full_path, ids)
        for client in (viewer_token, viewer_session):
            response = await client.request(op.method, path, json=example_body(op))
            assert response.status_code == 403, (op.operation_id, response.text)
            assert "needs the" in response.json()["detail"]
        if op.role is Role.ADMIN:
            response = await operator.request(op.method, path, json=example_body(op))
            assert response.status_code == 403, op.operation_id
    assert owner_rows(world.url, "SELECT count(*), max(id) FROM etl_runs") == runs_before
    [(status,)] = owner_rows(
        world.url, "SELECT status FROM etl_runs WHERE id = %s", (ids["run_id"],)
    )
    assert status == "running"


async def test_another_tenants_ids_answer_404_on_every_route(
    world: World, web: ClientFactory
) -> None:
    apple = world.ids["Apple"]
    wex_clients = [
        web(world.account("WEX", "admin").token),
        await session_client(web, world.account("WEX", "admin").email),
    ]
    with_ids = [op for op in OPERATIONS if op.path_params]
    assert len(with_ids) >= 20
    for op in with_ids:
        path = concrete_path(op.full_path, apple)
        for client in wex_clients:
            response = await client.request(op.method, path, json=example_body(op))
            assert response.status_code == 404, (op.operation_id, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    # Nothing of Apple's changed.
    [(active, revoked, user_active, run_status)] = owner_rows(
        world.url,
        "SELECT (SELECT active FROM integrations WHERE id = %s), "
        "(SELECT revoked_at FROM api_tokens WHERE id = %s), "
        "(SELECT active FROM users WHERE id = %s), (SELECT status FROM etl_runs WHERE id = %s)",
        (apple["integration_id"], apple["token_id"], apple["user_id"], apple["run_id"]),
    )
    assert (active, revoked, user_active, run_status) == (True, None, True, "running")
    admin = wex_clients[0]
    for path in ("/api/v1/transform-requests", "/api/v1/raw/reprocess"):
        response = await admin.post(path, json={"ids": [apple["raw_id"]]})
        assert response.status_code == 404
    for path in (
        f"/api/v1/runs?integration_id={apple['integration_id']}",
        f"/api/v1/queue/jobs?run_id={apple['run_id']}",
        f"/api/v1/raw?integration_id={apple['integration_id']}",
    ):
        response = await admin.get(path)
        assert response.status_code == 200 and response.json()["items"] == [], path


async def test_apple_sees_its_own_ids_and_not_wexs(world: World, web: ClientFactory) -> None:
    apple = web(world.account("Apple", "viewer").token)
    for template, key in (
        ("/api/v1/integrations/{id}", "integration_id"),
        ("/api/v1/runs/{id}", "run_id"),
        ("/api/v1/raw/{id}", "raw_id"),
        ("/api/v1/queue/jobs/{id}", "queue_job_id"),
        ("/api/v1/jobs/{id}", "job_id"),
    ):
        own = await apple.get(template.format(id=world.ids["Apple"][key]))
        assert own.status_code == 200, template
        theirs = await apple.get(template.format(id=world.ids["WEX"][key]))
        assert theirs.status_code == 404, template
    listed = (await apple.get("/api/v1/integrations")).json()["items"]
    assert [i["name"] for i in listed] == ["Apple Jira"]


async def test_cookie_writes_without_a_valid_csrf_token_are_refused(
    world: World, web: ClientFactory
) -> None:
    admin = await session_client(web, world.account("WEX", "admin").email)
    good = admin.headers.pop("X-CSRF-Token")
    ids = world.ids["WEX"]
    attempts = [
        ("PATCH", "/api/v1/settings", {"orchestrator_interval_minutes": 5}),
        ("POST", f"/api/v1/runs/{ids['run_id']}/pause", None),
        ("DELETE", f"/api/v1/tokens/{ids['token_id']}", None),
        ("POST", "/api/v1/tokens", {"name": "sneaky"}),
        ("POST", "/api/v1/auth/logout", None),
    ]
    for method, path, body in attempts:
        for header in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": good + "x"}):
            response = await admin.request(method, path, json=body, headers=header)
            assert response.status_code == 403, (method, path, header)
            assert response.json()["type"] == "urn:sluice:problem:csrf"
    [(interval, revoked, tokens)] = owner_rows(
        world.url,
        "SELECT (SELECT setting_value FROM system_settings WHERE tenant_id = %s "
        "AND setting_key = 'orchestrator_interval_minutes'), "
        "(SELECT revoked_at FROM api_tokens WHERE id = %s), "
        "(SELECT count(*) FROM api_tokens WHERE name = 'sneaky')",
        (world.tenant_ids["WEX"], ids["token_id"]),
    )
    assert (interval, revoked, tokens) == (60, None, 0)
    assert (await admin.get("/api/v1/auth/me")).status_code == 200  # still logged in
    # The same request with the token goes through; a bearer token needs none.
    ok = await admin.post("/api/v1/tokens", json={"name": "fine"}, headers={"X-CSRF-Token": good})
    assert ok.status_code == 201
    bearer = web(world.account("WEX", "admin").token)
    assert (await bearer.post("/api/v1/tokens", json={"name": "ci"})).status_code == 201


async def test_form_posts_without_a_valid_csrf_token_are_refused(
    world: World, web: ClientFactory
) -> None:
    email = world.account("WEX", "viewer").email
    browser = web(ip="10.9.0.1")
    await browser.get("/")  # a page: it sets the CSRF cookie
    csrf = browser.cookies["sluice_csrf"]
    form = {"email": email, "password": PASSWORD}
    for fields in (form, {**form, "csrf_token": "forged"}, {**form, "csrf_token": csrf[:-1]}):
        response = await browser.post("/login", data=fields)
        assert response.status_code == 403
        assert "sluice_session" not in response.cookies
    stranger = web(ip="10.9.0.1")  # a cross-site form: the field, but not the cookie
    response = await stranger.post("/login", data={**form, "csrf_token": csrf})
    assert response.status_code == 403
    response = await browser.post("/login", data={**form, "csrf_token": csrf, "next": "/runs"})
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    assert (await browser.get("/api/v1/auth/me")).json()["email"] == email
    fresh = browser.cookies["sluice_csrf"]
    assert fresh != csrf  # rotated at login
    assert (await browser.post("/logout", data={"next": "/"})).status_code == 403
    assert (await browser.get("/api/v1/auth/me")).status_code == 200
    out = await browser.post("/logout", data={"csrf_token": fresh})
    assert out.status_code == 303 and out.headers["location"] == "/login"


async def test_login_redirects_only_within_the_site(world: World, web: ClientFactory) -> None:
    browser = web(ip="10.9.0.2")
    await browser.get("/")  # a page: it sets the CSRF cookie
    csrf = browser.cookies["sluice_csrf"]
    fields = {"email": world.account("WEX", "viewer").email, "password": PASSWORD}
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = await browser.post("/login", data={**fields, "csrf_token": csrf, "next": target})
        assert response.status_code == 303 and response.headers["location"] == "/"
        csrf = browser.cookies["sluice_csrf"]


async def test_session_cookie_flags(world: World, web: ClientFactory) -> None:
    client = web()
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": world.account("WEX", "viewer").email, "password": PASSWORD},
    )
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("sluice_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    csrf = next(c for c in cookies if c.startswith("sluice_csrf="))
    assert "HttpOnly" not in csrf  # a page's script may read it to send the header


async def test_login_forms_must_be_small_and_urlencoded(web: ClientFactory) -> None:
    browser = web(ip="10.9.0.3")
    await browser.get("/")
    csrf = browser.cookies["sluice_csrf"]
    big = await browser.post("/login", data={"csrf_token": csrf, "email": "x" * 20_000})
    assert big.status_code == 413 and big.json()["type"] == "urn:sluice:problem:payload-too-large"
    as_json = await browser.post("/login", json={"csrf_token": csrf})
    assert as_json.status_code == 415
    crowded = await browser.post("/login", data={f"f{n}": "1" for n in range(30)})
    assert crowded.status_code == 400
