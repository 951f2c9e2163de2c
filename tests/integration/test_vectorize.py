"""The vectorize stage through a real worker into local-mode Qdrant; tenant-scoped search;
`sluice search`; and two processes sharing one local Qdrant folder."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.db import connect
from app.queue import ops
from app.queue.model import NewJob
from app.sandbox import SandboxDataset, SandboxServers
from app.services import Services, open_services
from app.stages import default_handlers
from app.stages.vectorize import vectorize
from app.vectors.documents import PULL_REQUEST, WORK_ITEM
from app.vectors.embedders import embedder_from_env
from app.vectors.lexical import LexicalEmbedder
from app.vectors.local_lease import LocalQdrantLease
from app.vectors.service import (
    close_shared_vector_stores,
    index_documents,
    search,
    shared_vector_store,
)
from app.vectors.store import VectorStore
from tests.conftest import ROOT, SluiceRunner
from tests.pipeline import (
    add_sandbox_integrations,
    open_jobs,
    running_worker,
    sandbox_settings,
    scalar,
    sync,
    wait_until,
)
from tests.unit.test_vectors_store import document

VECTORIZE = ("vectorize",)
SAME_TEXT = "Login page crashes when the session expires"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "sluice-home"  # the SLUICE_HOME that run_sluice gives the CLI too


@pytest.fixture
async def services(home: Path) -> AsyncIterator[Services]:
    async with open_services(sandbox_settings(home)) as opened:
        try:
            yield opened
        finally:
            await close_shared_vector_stores()


def seed(url: str) -> dict[str, dict[str, Any]]:
    """Two tenants with one identical work item each, plus items of their own."""
    rows = {
        "WEX": {
            "items": [
                ("WEX-1", SAME_TEXT),
                ("WEX-2", "Refund endpoint returns 500 for partial refunds"),
            ],
            "prs": [("wex/web", 7, "Fix the login crash on session expiry")],
        },
        "Apple": {
            "items": [("APL-1", SAME_TEXT), ("APL-2", "Battery report shows the wrong capacity")],
            "prs": [],
        },
    }
    seeded: dict[str, dict[str, Any]] = {}
    with psycopg.connect(url) as conn:
        for tenant, data in rows.items():
            row = conn.execute("SELECT id FROM tenants WHERE name = %s", (tenant,)).fetchone()
            assert row is not None
            tid = row[0]
            integration = conn.execute(
                "INSERT INTO integrations (tenant_id, provider, name, base_url) "
                "VALUES (%s, 'jira', 'jira', 'https://jira.example') RETURNING id",
                (tid,),
            ).fetchone()
            assert integration is not None
            item_ids = [
                conn.execute(
                    "INSERT INTO work_items (tenant_id, integration_id, external_id, key, summary, "
                    "description) VALUES (%s, %s, %s, %s, %s, 'Seen in production.') RETURNING id",
                    (tid, integration[0], key, key, summary),
                ).fetchone()[0]  # type: ignore[index]
                for key, summary in data["items"]
            ]
            pr_ids = [
                conn.execute(
                    "INSERT INTO prs (tenant_id, integration_id, external_id, repository_full_name, "
                    "number, title, body, state, url) VALUES (%s, %s, %s, %s, %s, %s, '', 'open', "
                    "%s) RETURNING id",
                    (tid, integration[0], f"PR{n}", repo, n, title, f"https://gh/{repo}/pull/{n}"),
                ).fetchone()[0]  # type: ignore[index]
                for repo, n, title in data["prs"]
            ]
            seeded[tenant] = {"id": tid, "work_item_ids": item_ids, "pr_ids": pr_ids}
    return seeded


async def enqueue_vectorize(url: str, tenant_id: int, payload: dict[str, Any]) -> int:
    conn = await connect(url, autocommit=True)
    async with conn:
        await conn.execute("SET ROLE sluice_system")
        [job_id] = await ops.enqueue(
            conn, [NewJob(tenant_id=tenant_id, job_type="vectorize", payload=payload)]
        )
    return job_id


def job_row(url: str, job_id: int) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT status, progress, last_error FROM etl_job_queue WHERE id = %s", (job_id,)
        ).fetchone()
    assert row is not None
    return {"status": row[0], "progress": row[1], "last_error": row[2]}


async def vectorize_jobs(
    url: str, services: Services, jobs: list[tuple[int, dict[str, Any]]]
) -> list[int]:
    ids = [await enqueue_vectorize(url, tid, payload) for tid, payload in jobs]
    async with running_worker(url, services, handlers={"vectorize": vectorize}, concurrency=4):
        await wait_until(lambda: open_jobs(url, VECTORIZE) == 0, 60, "vectorize jobs to finish")
    return ids


async def test_a_tenants_search_never_returns_another_tenants_items(
    fresh_db_url: str, services: Services
) -> None:
    seeded = seed(fresh_db_url)
    wex, apple = seeded["WEX"], seeded["Apple"]
    job_ids = await vectorize_jobs(
        fresh_db_url,
        services,
        [
            (t["id"], {"work_item_ids": t["work_item_ids"], "pr_ids": t["pr_ids"]})
            for t in (wex, apple)
        ],
    )
    first = job_row(fresh_db_url, job_ids[0])
    assert first["status"] == "completed", first
    assert first["progress"] | {"seconds": 0} == {
        "work_items": 2,
        "prs": 1,
        "points": 3,
        "deleted": 0,
        "seconds": 0,
        "embedder": "lexical",
        "collection": "sluice_lexical_384",
    }

    settings = services.settings
    as_wex = await search(wex["id"], "login page crash", settings=settings)
    as_apple = await search(apple["id"], "login page crash", settings=settings)
    assert [h.key for h in as_wex] == ["WEX-1", "wex/web#7"]
    assert as_wex[0].url == "https://jira.example/browse/WEX-1"
    assert [h.key for h in as_apple] == ["APL-1"]
    assert {h.tenant_id for h in as_apple} == {apple["id"]}
    # Apple's identical text scores the same, yet WEX's item is never among Apple's hits.
    assert as_apple[0].score == pytest.approx(as_wex[0].score)
    for text in (SAME_TEXT, "WEX-1 refund 500", "wex web fix login"):
        leaked = await search(apple["id"], text, limit=100, settings=settings)
        assert not {h.key for h in leaked} & {"WEX-1", "WEX-2", "wex/web#7"}, text
    assert [
        h.key for h in await search(wex["id"], "login", entity=PULL_REQUEST, settings=settings)
    ] == ["wex/web#7"]
    google = scalar(fresh_db_url, "SELECT id FROM tenants WHERE name = 'Google'")
    assert await search(google, SAME_TEXT, settings=settings) == []


async def test_revectorizing_overwrites_and_deleted_rows_lose_their_points(
    fresh_db_url: str, services: Services
) -> None:
    wex = seed(fresh_db_url)["WEX"]
    payload = {"work_item_ids": wex["work_item_ids"], "pr_ids": wex["pr_ids"]}
    await vectorize_jobs(fresh_db_url, services, [(wex["id"], payload)])
    store = shared_vector_store(services.settings, embedder_from_env())
    assert await store.count(wex["id"]) == 3

    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "UPDATE work_items SET summary = 'Billing export times out' WHERE id = %s",
            (wex["work_item_ids"][0],),
        )
        conn.execute("DELETE FROM work_items WHERE id = %s", (wex["work_item_ids"][1],))
    [job_id] = await vectorize_jobs(fresh_db_url, services, [(wex["id"], payload)])
    assert job_row(fresh_db_url, job_id)["progress"]["deleted"] == 1
    assert await store.count(wex["id"]) == 2
    assert await store.count(wex["id"], WORK_ITEM) == 1
    [hit] = await search(wex["id"], "billing export", settings=services.settings)
    assert (hit.key, hit.title) == ("WEX-1", "Billing export times out")


async def test_a_bad_payload_fails_the_job_at_once(fresh_db_url: str, services: Services) -> None:
    wex = seed(fresh_db_url)["WEX"]
    [job_id] = await vectorize_jobs(fresh_db_url, services, [(wex["id"], {"work_item_ids": ["x"]})])
    failed = job_row(fresh_db_url, job_id)
    assert failed["status"] == "failed" and "list of ids" in failed["last_error"]


async def test_sluice_search_prints_matches_for_the_tenant(
    fresh_db_url: str, services: Services, run_sluice: SluiceRunner
) -> None:
    seeded = seed(fresh_db_url)
    empty = run_sluice("search", "--tenant", "WEX", "login", database_url=fresh_db_url)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "no results for 'login' in WEX"

    await vectorize_jobs(
        fresh_db_url,
        services,
        [
            (t["id"], {"work_item_ids": t["work_item_ids"], "pr_ids": t["pr_ids"]})
            for t in seeded.values()
        ],
    )
    # The worker's lease may still be open: the CLI waits for its turn.
    found = await asyncio.to_thread(
        run_sluice, "search", "--tenant", "wex", "login page crash", database_url=fresh_db_url
    )
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert [line.split()[1] for line in lines] == ["WEX-1", "wex/web#7"]
    score, key, title = lines[0].split(None, 2)
    assert float(score) > 0 and key == "WEX-1" and title == SAME_TEXT
    limited = run_sluice(
        "search",
        "--tenant",
        "Apple",
        "login",
        "--limit",
        "1",
        "--entity",
        "work_item",
        database_url=fresh_db_url,
    )
    assert [line.split()[1] for line in limited.stdout.splitlines()] == ["APL-1"]

    unknown = run_sluice("search", "--tenant", "Nope", "login", database_url=fresh_db_url)
    assert unknown.returncode == 1
    assert "no tenant named 'Nope'; known tenants: WEX, Apple, Google" in unknown.stderr
    blank = run_sluice("search", "--tenant", "WEX", "  ", database_url=fresh_db_url)
    assert blank.returncode == 2 and "search text is empty" in blank.stderr


async def test_the_pipeline_hands_loaded_items_to_vectorize(
    fresh_db_url: str, services: Services
) -> None:
    stages = ("extract", "transform", "load", "vectorize")
    handlers = {**default_handlers(), "vectorize": vectorize}
    with SandboxServers(SandboxDataset(issues=40, repos=2, pull_requests=12)) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox)
        await sync(fresh_db_url)
        async with running_worker(fresh_db_url, services, handlers=handlers, concurrency=4):
            await wait_until(lambda: open_jobs(fresh_db_url, stages) == 0, 180, "the pipeline")
    tid = scalar(fresh_db_url, "SELECT id FROM tenants WHERE name = 'WEX'")
    items = scalar(fresh_db_url, "SELECT count(*) FROM work_items")
    prs = scalar(fresh_db_url, "SELECT count(*) FROM prs")
    assert items == 40 and prs == 12
    store = shared_vector_store(services.settings, embedder_from_env())
    assert await store.count(tid, WORK_ITEM) == items
    assert await store.count(tid, PULL_REQUEST) == prs
    key, summary = scalar(
        fresh_db_url, "SELECT array[key, summary] FROM work_items ORDER BY id LIMIT 1"
    )
    # Lexical scoring: other items may share the words, so the item must rank near the top.
    hits = await search(tid, summary, limit=5, entity=WORK_ITEM, settings=services.settings)
    assert key in [hit.key for hit in hits[:3]], (key, summary, [(h.key, h.title) for h in hits])
    assert all(hit.entity == WORK_ITEM for hit in hits)


TWO_PROCESS_WRITER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from app.vectors.lexical import LexicalEmbedder
    from app.vectors.local_lease import LocalQdrantLease
    from app.vectors.service import index_documents
    from app.vectors.store import VectorStore
    from tests.unit.test_vectors_store import document

    async def main():
        lease = LocalQdrantLease(Path(sys.argv[1]), linger=0.5)
        store = VectorStore(lease, "sluice_lexical_384", 384)
        started = time.monotonic()
        for batch in range(10):
            docs = [document(2, batch * 30 + i, f"apple battery report {i}") for i in range(30)]
            await index_documents(store, LexicalEmbedder(), docs)
            await asyncio.sleep(0.05)
        seconds = time.monotonic() - started
        await store.close()
        print(json.dumps({"opens": lease.opens, "seconds": seconds, "open_s": lease.open_seconds}))

    asyncio.run(main())
    """
)


async def test_two_processes_share_the_local_folder(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    embedder = LexicalEmbedder()
    lease = LocalQdrantLease(folder, linger=0.5)
    store = VectorStore(lease, "sluice_lexical_384", 384)
    await index_documents(store, embedder, [document(1, 0, "warm up")])  # creates the collection
    other = subprocess.Popen(
        [sys.executable, "-c", TWO_PROCESS_WRITER, str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        searches = []
        for batch in range(10):
            docs = [document(1, batch * 30 + i, f"wex login crash {i}") for i in range(30)]
            await index_documents(store, embedder, docs)
            began = time.monotonic()
            hits = await search_local(store, embedder)
            searches.append(time.monotonic() - began)
            assert hits and {h.tenant_id for h in hits} == {1}
        ours = time.monotonic() - started
        out, err = await asyncio.to_thread(other.communicate, timeout=120)
    finally:
        if other.poll() is None:
            other.kill()
    assert other.returncode == 0, err
    theirs = json.loads(out.strip().splitlines()[-1])
    assert await store.count(1) == 300 and await store.count(2) == 300
    battery = await search_local(store, embedder, tenant_id=2, text="battery report")
    assert battery and {h.tenant_id for h in battery} == {2}
    await store.close()
    # Both processes wrote all their batches, taking turns; neither waited out a timeout.
    assert theirs["seconds"] < 60 and ours < 60, (theirs, ours)
    print(
        f"\ntwo processes: ours {ours:.2f}s ({lease.opens} opens, {lease.open_seconds:.2f}s opening),"
        f" theirs {theirs['seconds']:.2f}s ({theirs['opens']} opens), "
        f"slowest search {max(searches):.2f}s"
    )


async def search_local(
    store: VectorStore, embedder: LexicalEmbedder, tenant_id: int = 1, text: str = "login crash"
) -> list[Any]:
    from app.vectors.service import search_text

    return await search_text(store, embedder, tenant_id, text, limit=5)
