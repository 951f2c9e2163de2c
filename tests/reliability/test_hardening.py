"""Input and auth hardening: hostile input is refused cleanly, every response carries the
security headers, and no secret ever leaves the server.

- oversized, malformed, mistyped and deeply nested bodies on every JSON operation and every
  page form answer 413, 400 or 415 (never 5xx); so do huge query strings and bad ids;
- every page, API answer, error, asset and event stream has a script policy without
  'unsafe-inline', frame-ancestors 'none', nosniff and a referrer policy;
- the integrations' token and the users' passwords appear in no log line, no response body,
  no event and no database row, after a full sync of three tenants and their sign-ins.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from psycopg import sql

from app.web.api import OPERATIONS
from app.web.app import create_app
from tests.integration.test_web_harness import (
    PASSWORD,
    ClientFactory,
    World,
    concrete_path,
    example_body,
    session_client,
    web,
    web_db_url,
    world,
)
from tests.reliability.harness import ID_KEYS, IdRoute, fetch, id_routes, request_options
from tests.reliability.observed import SANDBOX_TOKEN, WRONG_PASSWORD, SyncRecord

__all__ = ["web", "web_db_url", "world"]

BODY_OPERATIONS = [op for op in OPERATIONS if op.body is not None]
BAD_IDS = ("0", "-1", "00", str(2**63), str(2**64), "1e3", "abc", "%20", "1.5")
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def page_forms(world: World) -> list[IdRoute]:
    """Every page route that takes a form post (id or not), discovered from the app."""
    app = create_app(world.settings, database_url=world.url)
    found = [r for r in id_routes(app) if r.method == "POST" and not r.is_api]
    for route in app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if "POST" in methods and "{" not in path and not path.startswith("/api/"):
            found.append(IdRoute("POST", path, (), ()))
    return found


def own_path(route: IdRoute, ids: dict[str, int], app_words: list[dict[str, str]]) -> str:
    return route.concrete(ids, app_words[0] if app_words else None)


@pytest.fixture(scope="module")
async def admin(world: World, web: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    yield web(world.account("WEX", "admin").token)


@pytest.fixture(scope="module")
async def browser(world: World, web: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    yield await session_client(web, world.account("WEX", "admin").email, ip="10.77.0.1")


def assert_problem(response: httpx.Response, status: int, what: object) -> None:
    assert response.status_code == status, (what, response.status_code, response.text[:300])
    assert response.headers["content-type"] == PROBLEM, what
    assert response.json()["status"] == status, what


async def test_json_bodies_that_are_too_big_malformed_or_mistyped_are_refused(
    world: World, admin: httpx.AsyncClient
) -> None:
    assert len(BODY_OPERATIONS) >= 10
    ids = world.ids["WEX"]
    nested = "[" * 5000 + "]" * 5000
    for op in BODY_OPERATIONS:
        path = concrete_path(op.full_path, ids)
        json_type = {"Content-Type": "application/json"}
        too_big = b'{"name": "' + b"x" * op.max_body + b'"}'
        response = await admin.request(op.method, path, content=too_big, headers=json_type)
        assert_problem(response, 413, op)

        async def chunks(size: int = op.max_body + 1) -> AsyncIterator[bytes]:
            sent = 0
            while sent < size:  # no Content-Length: the limit holds while streaming too
                yield b" " * 65536
                sent += 65536

        response = await admin.request(op.method, path, content=chunks(), headers=json_type)
        assert_problem(response, 413, (op, "streamed"))
        for body in (b'{"name": ', b"{'a': 1}", b"\xff\xfe{}", b"", b"   ", b"NaN", b"1e99999"):
            response = await admin.request(op.method, path, content=body, headers=json_type)
            assert_problem(response, 400, (op, body))
        response = await admin.request(op.method, path, content=nested, headers=json_type)
        assert_problem(response, 400, (op, "nested"))
        for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            response = await admin.request(
                op.method,
                path,
                content=json.dumps(example_body(op)),
                headers={"Content-Type": media},
            )
            assert_problem(response, 415, (op, media))
        for shape in ("[]", '"text"', "3", "null", '{"unknown_field": "x"}'):
            response = await admin.request(op.method, path, content=shape, headers=json_type)
            assert_problem(response, 422, (op, shape, response.text))
            assert response.json()["type"] == "urn:sluice:problem:validation", response.text


async def test_page_forms_that_are_too_big_malformed_or_mistyped_are_refused(
    world: World, browser: httpx.AsyncClient, page_forms: list[IdRoute]
) -> None:
    app = create_app(world.settings, database_url=world.url)
    ids = world.ids["WEX"]
    assert {"/logout", "/login"} <= {r.path for r in page_forms} and len(page_forms) >= 6
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    for route in page_forms:
        if any(name not in ID_KEYS for name in route.id_params):
            route.id_keys()  # fails with what to add
        path = own_path(route, ids, route.word_choices(app))
        big = await browser.post(path, content=b"a=" + b"x" * (1024 * 1024), headers=form_type)
        assert big.status_code == 413, (route, big.status_code, big.text[:200])
        as_json = await browser.post(path, json={"csrf_token": "x", "a": 1})
        assert as_json.status_code == 415, (route, as_json.status_code, as_json.text[:200])
        crowded = "&".join(f"f{n}=1" for n in range(2000))
        many = await browser.post(path, content=crowded, headers=form_type)
        assert many.status_code == 400, (route, many.status_code, many.text[:200])
        broken = await browser.post(path, content=b"a=\xff\xfe%", headers=form_type)
        assert broken.status_code in (400, 403), (route, broken.status_code, broken.text[:200])


async def test_bad_ids_are_refused_with_404_on_every_route(
    world: World, admin: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    app = create_app(world.settings, database_url=world.url)
    routes = id_routes(app)
    assert len(routes) >= 25
    checked = 0
    for route in routes:
        if route.path.startswith("/live/"):
            continue
        words = route.word_choices(app)
        for bad in BAD_IDS:
            path = route.path
            for name in route.id_params:
                path = path.replace("{" + name + ":int}", bad)
            for name, word in (words[0] if words else {}).items():
                path = re.sub("{" + name + "(:[a-z]+)?}", word, path)
            options = request_options(route)
            for client in (admin, browser):
                response = await client.request(route.method, path, **options)
                assert response.status_code == 404, (route, bad, response.text[:200])
                assert "Traceback" not in response.text
                checked += 1
    assert checked >= 400


async def test_huge_and_hostile_query_strings_are_refused_cleanly(
    admin: httpx.AsyncClient, browser: httpx.AsyncClient, world: World
) -> None:
    app = create_app(world.settings, database_url=world.url)
    readable = [
        getattr(r, "path", "")
        for r in app.routes
        if "GET" in (getattr(r, "methods", None) or ()) and "{" not in getattr(r, "path", "{")
    ]
    readable = [p for p in readable if not p.startswith(("/live/", "/events", "/static"))]
    assert len(readable) >= 15
    hostile = [
        {"q": "x" * 60_000},
        {f"p{n}": "1" for n in range(3000)},
        {"cursor": "%%%", "limit": "-1", "since": "yesterday", "run_id": str(2**64)},
        {"integration_id": "1 OR 1=1", "status": "'; DROP TABLE users; --", "level": "\x00"},
        {"limit": "1e309", "offset": "NaN", "entity_type": "../../etc/passwd"},
    ]
    for path in readable:
        for params in hostile:
            for client in (admin, browser):
                got = await fetch(client, "GET", path, params=params)
                assert got.status < 500, (path, list(params)[:3], got.status, got.text[:300])
                if path.startswith("/api/v1/") and got.status >= 400:
                    assert got.headers["content-type"] == PROBLEM, (path, got.status)
                if path.startswith("/api/"):  # a page may show the query it was asked
                    assert "x" * 1000 not in got.text, f"{path} echoed a huge parameter back"


async def test_json_bodies_and_query_dates_must_have_the_documented_types(
    admin: httpx.AsyncClient,
) -> None:
    """The OpenAPI document is the contract: no "5" for 5, no 0 for false, no number of
    seconds or bare date for a date-time (found by the fuzz run)."""
    for body in (
        {"latest_only": 0},
        {"latest_only": "true"},
        {"ids": ["1"]},
        {"since": 1714521600},
        {"since": "1714521600"},
        {"since": "2024-05-01"},
    ):
        response = await admin.post("/api/v1/raw/reprocess", json=body)
        assert_problem(response, 422, body)
    for until in ("0.5", "1714521600", "2024-05-01", "yesterday"):
        response = await admin.get("/api/v1/raw", params={"until": until})
        assert_problem(response, 422, until)
        assert response.json()["errors"][0]["field"] == "until"
    for until in ("2024-05-01T00:00:00Z", "2024-05-01T00:00:00+02:00", "2024-05-01 10:00"):
        response = await admin.get("/api/v1/raw", params={"until": until})
        assert response.status_code == 200, (until, response.text)
    accepted = await admin.post(
        "/api/v1/raw/reprocess", json={"since": "2000-01-01T00:00:00Z", "latest_only": False}
    )
    assert accepted.status_code == 202, accepted.text


async def test_nul_characters_are_refused_in_queries_bodies_and_forms(
    world: World, admin: httpx.AsyncClient, browser: httpx.AsyncClient, page_forms: list[IdRoute]
) -> None:
    """PostgreSQL text cannot hold NUL: it is refused at the edge (found by the fuzz run,
    where it was a 500 in every text filter, field and record)."""
    app = create_app(world.settings, database_url=world.url)
    readable = [
        getattr(r, "path", "")
        for r in app.routes
        if "GET" in (getattr(r, "methods", None) or ()) and "{" not in getattr(r, "path", "{")
    ]
    filters = ("entity_type", "provider", "status", "level", "q", "text", "name", "search")
    for path in readable:
        if path.startswith(("/static", "/live/", "/events")):
            continue  # streams filter events in memory; an in-process client cannot end them
        for name in filters:
            got = await fetch(admin, "GET", path, params={name: "a\x00b"})
            assert got.status in (200, 303, 400, 422), (path, name, got.status, got.text[:200])
            if got.status == 422 and path.startswith("/api/"):
                assert "NUL" in got.text or "extra" in got.text.lower(), (path, got.text)
    ids = world.ids["WEX"]
    for op in BODY_OPERATIONS:
        body = json.dumps({"name": "a\x00", "records": [{"data": {"k\x00": 1}}]})
        response = await admin.request(
            op.method,
            concrete_path(op.full_path, ids),
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert_problem(response, 422, op)
        assert "NUL" in response.json()["errors"][0]["message"], op
    for route in page_forms:
        path = own_path(route, ids, route.word_choices(app))
        response = await browser.post(path, data={"name": "x\x00", "email": "\x00@x.com"})
        assert response.status_code == 400, (route, response.status_code, response.text[:200])


async def test_what_the_fuzz_run_found_stays_fixed(world: World, admin: httpx.AsyncClient) -> None:
    """Each of these was a 500: ids past bigint in filters, a JSON number past 64 bits in a
    stored record, and an integration token that cannot travel in an HTTP header."""
    huge = 2**64
    for path, params in (
        ("/api/v1/runs", {"etl_job_id": huge}),
        ("/api/v1/runs", {"integration_id": huge}),
        ("/api/v1/queue/jobs", {"run_id": huge}),
        ("/api/v1/raw", {"integration_id": 2**63}),
    ):
        assert_problem(await admin.get(path, params=params), 422, (path, params))
    assert_problem(await admin.post("/api/v1/raw/reprocess", json={"ids": [huge]}), 422, "ids")
    ingested = await admin.post(
        f"/api/v1/ingest/{world.ids['WEX']['integration_id']}",
        json={"records": [{"entity_type": "jira_status", "data": {"n": -(2**72), "m": huge}}]},
    )
    assert ingested.status_code == 202, ingested.text
    integration = world.ids["WEX"]["integration_id"]
    for token in ("j\x9a¨~\\", "tab\tinside", "naïve-token"):
        for response in (
            await admin.patch(f"/api/v1/integrations/{integration}", json={"token": token}),
            await admin.post(
                "/api/v1/integrations",
                json={"provider": "jira", "base_url": "https://jira.example", "token": token},
            ),
        ):
            assert_problem(response, 422, token)
            assert response.json()["errors"][0]["field"] == "token"
            assert token not in response.text
    tested = await admin.post(f"/api/v1/integrations/{integration}/test")
    assert tested.status_code == 200 and tested.json()["ok"] is False  # nothing listens there


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    directives = {}
    for part in header.split(";"):
        if words := part.split():
            directives[words[0].lower()] = [w.lower() for w in words[1:]]
    return directives


def assert_security_headers(what: str, headers: httpx.Headers) -> None:
    csp = headers.get("content-security-policy")
    assert csp, f"{what}: no Content-Security-Policy"
    directives = policy(csp)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, f"{what}: the policy does not restrict scripts"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, (what, csp)
    assert "*" not in scripts and "data:" not in scripts, (what, csp)
    assert directives.get("frame-ancestors") == ["'none'"], (what, csp)
    assert directives.get("object-src") == ["'none'"], (what, csp)
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ), what


async def test_every_response_carries_the_security_headers(
    three_tenant_sync: SyncRecord,
) -> None:
    """Pages, fragments, API answers and errors, redirects, assets, probes and streams."""
    record = three_tenant_sync
    app = create_app(record.services.settings, database_url=record.url)
    paths: set[tuple[str, str]] = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", None) or ("GET",):
            if method != "HEAD":
                paths.add((method, path))
    paths |= {("GET", "/static/sluice.css"), ("GET", "/no/such/page"), ("GET", "/static/nope")}
    checked = 0
    async with (
        httpx.AsyncClient(
            base_url=record.base_url,
            timeout=30,
            headers={"Authorization": f"Bearer {record.tokens['WEX']}"},
        ) as signed_in,
        httpx.AsyncClient(base_url=record.base_url, timeout=30) as anonymous,
        httpx.AsyncClient(base_url=record.base_url, timeout=30) as no_csrf,
    ):
        login = await no_csrf.post(
            "/api/v1/auth/login", json={"email": record.emails["WEX"], "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        for method, template in sorted(paths):
            path = re.sub(r"{[^}]+}", "1", template)
            for client in (signed_in, anonymous):
                if method != "GET" and client is signed_in:
                    # A write without its CSRF token: refused, so the shared sync stays as is.
                    got = await fetch(no_csrf, method, path, json={})
                    assert 400 <= got.status < 500, (method, path, got.status, got.text[:200])
                    assert_security_headers(f"{method} {path} -> {got.status}", got.headers)
                    continue
                for headers in ({}, {"HX-Request": "true"}):
                    got = await fetch(client, method, path, stream_s=0.1, headers=headers)
                    what = f"{method} {path} -> {got.status}"
                    assert_security_headers(what, got.headers)
                    if got.headers.get("content-type", "").startswith("text/html"):
                        assert "<script>" not in got.text and " onclick=" not in got.text, what
                    checked += 1
    assert checked >= 150


async def test_secrets_never_reach_logs_responses_events_or_the_database(
    three_tenant_sync: SyncRecord,
) -> None:
    record = three_tenant_sync
    secrets = [SANDBOX_TOKEN, PASSWORD, WRONG_PASSWORD, *record.tokens.values()]
    # What was observed is real: a sync that logged, signed-ins, pages with the raw data.
    events = {entry.get("event") for entry in record.logs}
    assert {"login", "login failed", "logout", "http request"} <= events, events
    assert len(record.records) > 100
    assert any(" GET /raw/" in key for key in record.bodies) and len(record.bodies) >= 90
    logs_text = repr(record.logs)
    records_text = "\n".join(record.records)
    bodies = "\n".join(record.bodies.values())
    streams = "\n".join(m.text for messages in record.streams.values() for m in messages)
    for secret in secrets:
        assert secret not in logs_text, "a secret reached a structlog event"
        assert secret not in records_text, "a secret reached a stdlib log record"
        assert secret not in bodies, "a secret reached a page or API response"
        assert secret not in streams, "a secret reached an event stream"
    # The password's hash and the token's ciphertext are all the database holds of them.
    with psycopg.connect(record.url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        raw_rows = conn.execute("SELECT count(*) FROM raw_extraction_data").fetchone()
        assert raw_rows is not None and raw_rows[0] > 100
        for table in tables:
            dump = conn.execute(
                sql.SQL("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {} t").format(
                    sql.Identifier(table)
                )
            ).fetchone()
            assert dump is not None
            for secret in secrets:
                assert secret not in dump[0], f"{table} holds a secret in clear"
        metadata = conn.execute(
            "SELECT extraction_metadata::text FROM raw_extraction_data"
        ).fetchall()
    for (text,) in metadata:
        lowered = text.lower()
        assert '"headers"' not in lowered and "authorization" not in lowered, text[:300]
        assert "bearer" not in lowered and "basic " not in lowered, text[:300]
