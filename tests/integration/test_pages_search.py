"""The search page over the tenants' vectorized work items and pull requests."""

from __future__ import annotations

import re

import pytest

from app.config import load_settings
from app.db import open_pool
from app.stages.vectorize import vectorize_ids
from app.vectors.embedders import embedder_from_env
from app.vectors.service import shared_vector_store
from app.web.app import create_app
from tests.integration.test_web_harness import (
    SECRET_KEY,
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

HTMX = {"HX-Request": "true", "HX-Target": "search-results"}
SAME_TEXT = "Login page crashes when the session expires"


def _insert_work_item(world: World, tenant: str, key: str, summary: str) -> int:
    [(row_id,)] = owner_rows(
        world.url,
        "INSERT INTO work_items (tenant_id, integration_id, external_id, key, summary) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (world.tenant_ids[tenant], world.ids[tenant]["integration_id"], key, key, summary),
    )
    return int(row_id)


def _insert_pull_request(world: World, tenant: str, number: int, title: str) -> int:
    [(row_id,)] = owner_rows(
        world.url,
        "INSERT INTO prs (tenant_id, integration_id, external_id, repository_full_name, number, "
        "title, body, state, url) VALUES (%s, %s, %s, 'wex/web', %s, %s, '', 'open', %s) "
        "RETURNING id",
        (
            world.tenant_ids[tenant],
            world.ids[tenant]["integration_id"],
            f"PR{number}",
            number,
            title,
            f"https://github.example/wex/web/pull/{number}",
        ),
    )
    return int(row_id)


@pytest.fixture(scope="module")
async def indexed(world: World, web: ClientFactory) -> dict[str, int]:
    """One identical work item in each tenant, items of their own and a WEX pull request,
    vectorized by the vectorize stage's own code into the app's store."""
    ids = {
        "wex_same": _insert_work_item(world, "WEX", "WEX-1", SAME_TEXT),
        "wex_other": _insert_work_item(world, "WEX", "WEX-2", "Refund endpoint returns 500"),
        "apple_same": _insert_work_item(world, "Apple", "APL-1", SAME_TEXT),
        "apple_other": _insert_work_item(world, "Apple", "APL-2", "Battery report is wrong"),
        "wex_pr": _insert_pull_request(world, "WEX", 7, "Fix the login crash on session expiry"),
    }
    embedder = embedder_from_env()
    store = shared_vector_store(world.settings, embedder)
    pool = await open_pool(world.url, max_size=1)
    try:
        for tenant, items, prs in (
            ("WEX", [ids["wex_same"], ids["wex_other"]], [ids["wex_pr"]]),
            ("Apple", [ids["apple_same"], ids["apple_other"]], []),
        ):
            await vectorize_ids(pool, store, embedder, world.tenant_ids[tenant], items, prs)
    finally:
        await pool.close()
    return ids


def _hits(text: str) -> list[str]:
    return re.findall(r'data-search-hit="(\w+:\d+)"', text)


async def test_search_finds_only_the_tenants_own_items(
    world: World, web: ClientFactory, indexed: dict[str, int]
) -> None:
    wex = await session_client(web, world.account("WEX", "viewer").email)
    page = await wex.get("/search", params={"q": "login crash session expires"})
    assert page.status_code == 200 and "<h1>Search</h1>" in page.text
    hits = _hits(page.text)
    assert f"work_item:{indexed['wex_same']}" in hits
    assert f"pull_request:{indexed['wex_pr']}" in hits
    assert not {f"work_item:{indexed['apple_same']}", f"work_item:{indexed['apple_other']}"} & set(
        hits
    )
    assert 'href="http://127.0.0.1:9/browse/WEX-1"' in page.text  # the item in Jira
    assert 'href="https://github.example/wex/web/pull/7"' in page.text
    assert "APL-" not in page.text
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page.text
    assert '<label for="search-q">' in page.text

    apple = await session_client(web, world.account("Apple", "viewer").email)
    theirs = await apple.get("/search", params={"q": SAME_TEXT})
    assert _hits(theirs.text)[0] == f"work_item:{indexed['apple_same']}"
    assert all(hit.startswith("work_item:") for hit in _hits(theirs.text))
    assert "WEX-" not in theirs.text and "wex/web" not in theirs.text

    only_prs = await wex.get(
        "/search", params={"q": "login crash", "entity": "pull_request"}, headers=HTMX
    )
    assert only_prs.status_code == 200
    assert only_prs.text.lstrip().startswith('<section id="search-results"')
    assert _hits(only_prs.text) == [f"pull_request:{indexed['wex_pr']}"]


async def test_search_says_when_nothing_is_searchable_or_the_query_is_bad(
    world: World, web: ClientFactory, indexed: dict[str, int]
) -> None:
    apple = await session_client(web, world.account("Apple", "viewer").email)
    none_yet = await apple.get("/search", params={"q": "login", "entity": "pull_request"})
    assert none_yet.status_code == 200
    assert 'data-testid="search-nothing-indexed"' in none_yet.text
    assert "no pull requests of this tenant have been vectorized" in none_yet.text
    no_match = await apple.get("/search", params={"q": "zebra xylophone"})
    assert "No matches for “zebra xylophone”" in no_match.text
    empty = await apple.get("/search")
    assert empty.status_code == 200 and "Type a few words" in empty.text
    too_long = await apple.get("/search", params={"q": "x" * 1001})
    assert too_long.status_code == 422 and 'aria-invalid="true"' in too_long.text
    bad_entity = await apple.get("/search", params={"q": "login", "entity": "planets"})
    assert bad_entity.status_code == 422 and "Choose work items or pull requests" in bad_entity.text
    escaped = await apple.get("/search", params={"q": "<script>x</script>"})
    assert "<script>x</script>" not in escaped.text and "&lt;script&gt;" in escaped.text


async def test_search_unavailable_is_said_in_the_page(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = load_settings(
        {
            "SLUICE_HOME": str(tmp_path_factory.mktemp("no-qdrant")),
            "SLUICE_SECRET_KEY": SECRET_KEY,
            "QDRANT_URL": "http://127.0.0.1:9",
        }
    )
    app = create_app(settings, database_url=world.url, pool_size=2)
    async with serve(app) as client:
        viewer = await session_client(client, world.account("WEX", "viewer").email)
        page = await viewer.get("/search", params={"q": "login"})
        assert page.status_code == 200
        assert 'data-testid="search-unavailable"' in page.text
        assert "cannot reach Qdrant at http://127.0.0.1:9" in page.text
        fragment = await viewer.get("/search", params={"q": "login"}, headers=HTMX)
        assert fragment.status_code == 200 and "Search is unavailable right now" in fragment.text
