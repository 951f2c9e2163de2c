"""Tenant isolation, proven table by table and route by route.

- every tenant table (every table with a `tenant_id` column, read from the committed schema
  dump and checked against the live catalog) has row-level security enabled and forced, and
  every policy that can give the application role a row is bound to `app.tenant_id`;
- every route with a path parameter (API and pages, discovered from the served app) answers
  404 to every other tenant's ids, with a body that holds none of that tenant's data;
- random cross-tenant probes (hypothesis) never see another tenant's data.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from app.db import Connection
from app.web.app import create_app, routes
from migrations.tenancy import TENANT_TABLES
from tests.conftest import ROOT, migrated_clone
from tests.integration.test_web_harness import PASSWORD
from tests.reliability.harness import (
    GHOST_ID,
    HTMX,
    ID_KEYS,
    TENANTS,
    WORDS,
    Fetched,
    IdRoute,
    IsolationWorld,
    build_isolation_world,
    fetch,
    id_routes,
    request_options,
    serve_http,
)

SCHEMA_FILE = ROOT / "migrations" / "schema.sql"
TENANT_SETTING = "current_setting('app.tenant_id'"


def committed_relations() -> tuple[list[str], list[str]]:
    """(tables, views) of the committed schema dump that carry a tenant, `tenants` included."""
    tables, views = ["tenants"], []
    current: tuple[str, str] | None = None
    for line in SCHEMA_FILE.read_text().splitlines():
        if match := re.match(r"(TABLE|VIEW) (\w+)", line):
            current = (match[1], match[2])
        elif not line.strip():
            current = None
        elif current and line.split()[0] == "tenant_id":
            (tables if current[0] == "TABLE" else views).append(current[1])
    return sorted(set(tables)), sorted(views)


TABLES, VIEWS = committed_relations()

POLICIES = """
SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       pg_get_userbyid(c.relowner) AS owner,
       coalesce(json_agg(json_build_object(
           'name', p.polname, 'permissive', p.polpermissive, 'command', p.polcmd,
           'public', 0 = ANY (p.polroles),
           'roles', ARRAY(SELECT r.rolname FROM pg_roles r WHERE r.oid = ANY (p.polroles)),
           'using', pg_get_expr(p.polqual, p.polrelid),
           'check', pg_get_expr(p.polwithcheck, p.polrelid)))
         FILTER (WHERE p.polname IS NOT NULL), '[]') AS policies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
LEFT JOIN pg_policy p ON p.polrelid = c.oid
WHERE c.relname = %(name)s AND c.relkind IN ('r', 'p')
GROUP BY c.oid
"""


def test_the_schema_dump_lists_the_tenant_tables() -> None:
    assert len(TABLES) >= 25 and len(VIEWS) >= 3
    assert {"tenants", "work_items", "raw_extraction_data", "etl_job_queue", "users"} <= set(TABLES)


async def test_every_tenant_table_of_the_catalog_is_checked_here(db: Connection) -> None:
    """A table added without refreshing the dump (or this list) fails here, not silently."""
    cur = await db.execute(TENANT_TABLES)
    assert sorted(row["table_name"] for row in await cur.fetchall()) == TABLES


@pytest.mark.parametrize("table", TABLES)
async def test_tenant_table_has_forced_rls_bound_to_the_tenant(db: Connection, table: str) -> None:
    cur = await db.execute(POLICIES, {"name": table})
    row = await cur.fetchone()
    assert row is not None, f"{table} is in the schema dump but not in the database"
    assert row["enabled"], f"{table}: row-level security is not enabled"
    assert row["forced"], f"{table}: row-level security is not forced (its owner bypasses it)"
    column = "id" if table == "tenants" else "tenant_id"
    app_policies = [p for p in row["policies"] if p["public"] or "sluice_app" in p["roles"]]
    assert app_policies, f"{table}: no policy lets the application role see its own rows"
    for policy in app_policies:
        # Permissive policies add up: every one the application role gets must be bound to
        # its tenant, both for the rows it reads and for the rows it writes.
        if not policy["permissive"]:
            continue
        for clause in ("using", "check"):
            text = policy[clause] or ""
            assert TENANT_SETTING in text and re.search(rf"\b{column}\b", text), (
                f"{table}: policy {policy['name']} {clause} is not bound to the tenant: {text!r}"
            )
        assert policy["command"] == "*", f"{table}: {policy['name']} covers only some commands"
    unbound = [p["name"] for p in row["policies"] if p not in app_policies]
    for policy in row["policies"]:
        if policy["name"] in unbound:
            assert policy["roles"] == ["sluice_system"], (table, policy)
    assert row["owner"] != "sluice_app"


@pytest.mark.parametrize("view", VIEWS)
async def test_tenant_view_cannot_bypass_rls(db: Connection, view: str) -> None:
    cur = await db.execute(
        "SELECT coalesce(c.reloptions, '{}') AS options, "
        "has_table_privilege('sluice_app', c.oid, 'SELECT') AS app_reads "
        "FROM pg_class c WHERE c.relname = %s AND c.relkind = 'v'",
        (view,),
    )
    row = await cur.fetchone()
    assert row is not None, view
    invoker = {"security_invoker=true", "security_invoker=on"} & set(row["options"])
    # A view runs as its owner unless security_invoker: then only the system role may read it.
    assert invoker or not row["app_reads"], f"{view} lets the application role bypass RLS"


# ---- every route with an id, over real HTTP -----------------------------------------------


@pytest.fixture(scope="module")
def isolation_db_url(server_url: str, template_url: str) -> Iterator[str]:
    with migrated_clone(server_url, "sluice_iso") as url:
        yield url


@pytest.fixture(scope="module")
async def iso_world(isolation_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return await build_isolation_world(isolation_db_url, tmp_path_factory.mktemp("iso-home"))


@pytest.fixture(scope="module")
def iso_app(iso_world: IsolationWorld) -> Starlette:
    return create_app(iso_world.settings, database_url=iso_world.url)


@pytest.fixture(scope="module")
async def clients(
    iso_world: IsolationWorld, iso_app: Starlette
) -> AsyncIterator[dict[tuple[str, str], httpx.AsyncClient]]:
    """Per (tenant, role): a bearer client; per (tenant, "session"): a signed-in browser."""
    async with serve_http(iso_app) as base_url:
        made: dict[tuple[str, str], httpx.AsyncClient] = {}
        for (tenant, role), account in iso_world.accounts.items():
            made[(tenant, role)] = httpx.AsyncClient(
                base_url=base_url, timeout=20, headers={"Authorization": f"Bearer {account.token}"}
            )
            if role == "admin":
                browser = httpx.AsyncClient(base_url=base_url, timeout=20)
                login = await browser.post(
                    "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
                )
                assert login.status_code == 200, login.text
                browser.headers["X-CSRF-Token"] = login.json()["csrf_token"]
                made[(tenant, "session")] = browser
        try:
            yield made
        finally:
            for client in made.values():
                await client.aclose()


def assert_no_foreign_data(world: IsolationWorld, tenant: str, what: str, got: Fetched) -> None:
    for marker in world.foreign_markers(tenant):
        assert marker not in got.text, f"{what}: another tenant's data reached {tenant}"
        assert marker not in str(got.headers), f"{what}: another tenant's data in the headers"


def client_kinds(route: IdRoute) -> list[tuple[str, bool]]:
    """(client, htmx) pairs a route is probed with: token and session; pages also by htmx."""
    kinds = [("admin", False), ("session", False)]
    return kinds if route.is_api else [*kinds, ("session", True)]


# ---- random probes -------------------------------------------------------------------------

BAD_IDS = (0, -1, 2**31, 2**63 - 1, 2**63, 2**64)


def list_routes(app: Starlette) -> list[str]:
    """GET routes without path parameters that are not event streams: lists and pages."""
    found = []
    for route in app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if "GET" not in methods or "{" in path or path in ("/events", "/api/v1/openapi.json"):
            continue
        if path.startswith(("/live/", "/static", "/healthz", "/readyz", "/metrics")):
            continue
        found.append(path)
    return found


@st.composite
def probes(draw: st.DrawFn, world: IsolationWorld, app: Starlette) -> dict[str, Any]:
    """A tenant and role, and a request carrying ids of other tenants (or odd ids)."""
    tenant = draw(st.sampled_from(TENANTS))
    client = draw(st.sampled_from(["admin", "operator", "viewer", "session"]))
    others = [t for t in TENANTS if t != tenant]
    foreign_ids = sorted({v for t in others for v in world.ids[t].values()})
    any_id = st.one_of(st.sampled_from(foreign_ids), st.sampled_from(BAD_IDS), st.integers(1, 40))
    strict = draw(st.booleans())
    owner = draw(st.sampled_from(others))
    # Any number may be the tenant's own row, so only reads take arbitrary ids: a write to
    # one's own row is no isolation question, and could revoke the probing tokens.
    candidates = [r for r in id_routes(app) if strict or r.method == "GET"]
    if draw(st.booleans()):
        route = draw(st.sampled_from(candidates))
        if strict:  # the right kind of id, of another tenant: must be refused
            ids = {key: world.ids[owner][key] for key in route.id_keys().values()}
        else:  # any number: may be the tenant's own row, never another's
            ids = {key: draw(any_id) for key in route.id_keys().values()}
        words = draw(st.sampled_from(route.word_choices(app)))
        path = route.concrete(ids, words) if min(ids.values(), default=1) >= 0 else None
        if path is None:  # a negative id matches no route: probe it on the raw template
            path = re.sub(r"{\w+:int}", "-1", route.path)
            path = re.sub(r"{\w+}", WORDS[0], path)
        return {
            "tenant": tenant,
            "client": client,
            "method": route.method,
            "path": path,
            "ghost": route.concrete(dict.fromkeys(ID_KEYS.values(), GHOST_ID), words),
            "options": request_options(route, htmx=draw(st.booleans()) and not route.is_api),
            "strict": strict,
        }
    path = draw(st.sampled_from(list_routes(app)))
    keys = draw(st.lists(st.sampled_from(sorted(ID_KEYS)), min_size=1, max_size=3, unique=True))
    params = {key: (world.ids[owner][ID_KEYS[key]] if strict else draw(any_id)) for key in keys}
    return {
        "tenant": tenant,
        "client": client,
        "method": "GET",
        "path": path,
        "options": {"params": params, "headers": HTMX if draw(st.booleans()) else {}},
        "strict": False,  # a filter by a foreign id lists nothing of that tenant, or refuses
    }


@pytest.fixture(scope="module")
def probe_strategy(iso_world: IsolationWorld, iso_app: Starlette) -> Any:
    return probes(iso_world, iso_app)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_cross_tenant_probes_never_leak(
    iso_world: IsolationWorld,
    probe_strategy: Any,
    clients: dict[tuple[str, str], httpx.AsyncClient],
    data: st.DataObject,
) -> None:
    probe = data.draw(probe_strategy)
    got = await fetch(
        clients[(probe["tenant"], probe["client"])],
        probe["method"],
        probe["path"],
        **probe["options"],
    )
    what = (
        f"{probe['tenant']} {probe['client']} {probe['method']} {probe['path']} {probe['options']}"
    )
    assert got.status < 500, (what, got.text[:300])
    if probe["strict"] and got.status not in (403, 404):
        ghost = await fetch(
            clients[(probe["tenant"], probe["client"])],
            probe["method"],
            probe["ghost"],
            **probe["options"],
        )
        assert 400 <= got.status < 500 and got.status == ghost.status, (what, got.status)
    assert not got.is_stream, what
    assert_no_foreign_data(iso_world, probe["tenant"], what, got)


def test_probes_resolve_paths_as_the_app_does() -> None:
    app = Starlette(routes=routes())
    route = IdRoute("POST", "/pipeline/runs/{run_id:int}/{action}", ("run_id",), ("action",))
    assert route.concrete({"run_id": 7}, {"action": "pause"}) == "/pipeline/runs/7/pause"
    assert route.word_choices(app) == route.word_choices() == [{"action": w} for w in WORDS]
    shadowed = IdRoute(
        "POST", "/integrations/{integration_id:int}/{action}", ("integration_id",), ("action",)
    )
    words = {c["action"] for c in shadowed.word_choices(app)}
    assert "edit" not in words and "test" not in words and "activate" in words  # own routes


# ---- every route with an id, every pair of tenants (last: its controls change rows) ----


async def test_every_route_with_an_id_answers_404_to_other_tenants_ids(
    iso_world: IsolationWorld,
    iso_app: Starlette,
    clients: dict[tuple[str, str], httpx.AsyncClient],
) -> None:
    found = id_routes(iso_app)
    pages = [r for r in found if not r.is_api]
    assert len(found) - len(pages) >= 20 and pages, [str(r) for r in found]
    probed = refused_early = 0
    for route in found:
        route.id_keys()  # every id parameter is known
        for tenant, other in itertools.permutations(TENANTS, 2):
            for words in route.word_choices(iso_app):
                path = route.concrete(iso_world.ids[other], words)
                for kind, htmx in client_kinds(route):
                    got = await fetch(
                        clients[(tenant, kind)], route.method, path, **request_options(route, htmx)
                    )
                    what = f"{tenant} {kind}{' htmx' if htmx else ''} {route.method} {path}"
                    if got.status != 404:
                        # Refused before the id is looked up (a form's own check): then the
                        # answer must be the one an id that exists nowhere gets.
                        ghost = await fetch(
                            clients[(tenant, kind)],
                            route.method,
                            route.concrete(dict.fromkeys(ID_KEYS.values(), GHOST_ID), words),
                            **request_options(route, htmx),
                        )
                        assert 400 <= got.status < 500 and got.status == ghost.status, (
                            what,
                            got.status,
                            got.text[:300],
                        )
                        refused_early += 1
                    assert not got.is_stream, what
                    assert_no_foreign_data(iso_world, tenant, what, got)
                    if route.is_api:
                        assert got.headers["content-type"] == "application/problem+json", what
                    probed += 1
    assert probed >= 300 and refused_early < probed / 10
    # The same routes with the tenant's own ids are not 404, so the probes above were not
    # answered by a missing route or a misspelt action: only by the other tenant's ids.
    google = iso_world.ids["Google"]
    for route in found:
        if route.is_api and route.method != "GET":
            continue  # the OpenAPI walk (tests/integration/test_api_openapi.py) calls these
        statuses = []
        for words in route.word_choices(iso_app):
            path = route.concrete(google, words)
            got = await fetch(
                clients[("Google", "session")], route.method, path, **request_options(route)
            )
            statuses.append(got.status)
            if got.status != 404:
                assert got.status < 500, (str(route), path, got.text[:300])
                assert_no_foreign_data(iso_world, "Google", path, got)
                break
        assert set(statuses) != {404}, f"{route}: no own id or word reaches it"
