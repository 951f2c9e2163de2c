"""The logs page: server-side filters, paging, validation, and its live stream."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.db import open_pool, tenant_transaction
from app.events import job_log
from app.live.model import LiveEvent
from app.pages.logs import event_line, line_matches, log_row, log_stream_filter, parse_filter
from app.web.state import WebState
from tests.integration.test_web_events import served
from tests.integration.test_web_harness import (
    ClientFactory,
    World,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

HTMX = {"HX-Request": "true", "HX-Target": "logs-body"}


async def write_lines(world: World, tenant: str, lines: list[dict[str, Any]]) -> None:
    """Job log lines written (and published) the way every stage writes them."""
    pool = await open_pool(world.url, max_size=1)
    try:
        async with tenant_transaction(pool, world.tenant_ids[tenant]) as conn:
            for line in lines:
                await job_log(conn, world.tenant_ids[tenant], **line)
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def seeded(world: World) -> World:
    """WEX and Apple lines of every level, tied to runs, chain jobs or nothing."""
    wex, apple = world.ids["WEX"], world.ids["Apple"]
    await write_lines(
        world,
        "WEX",
        [
            {"level": "info", "message": "WEX alpha page stored", "run_id": wex["run_id"]},
            {"level": "warning", "message": "WEX Beta will retry", "etl_job_id": wex["job_id"]},
            {
                "level": "error",
                "message": "WEX gamma <b>failed</b>",
                "run_id": wex["run_id"],
                "queue_job_id": wex["queue_job_id"],
            },
            {"level": "debug", "message": "WEX delta detail"},
        ],
    )
    await write_lines(
        world,
        "Apple",
        [{"level": "error", "message": "Apple alpha secret", "run_id": apple["run_id"]}],
    )
    return world


def shown(html: str) -> list[str]:
    """The messages of the rendered log rows, in page order."""
    return re.findall(r'<td class="log-message">([^<]*)</td>', html)


async def test_logs_page_lists_the_tenants_lines_newest_first(
    seeded: World, web: ClientFactory
) -> None:
    viewer = await session_client(web, seeded.account("WEX", "viewer").email)
    page = await viewer.get("/logs")
    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    messages = shown(page.text)
    assert messages[:4] == [
        "WEX delta detail",
        "WEX gamma &lt;b&gt;failed&lt;/b&gt;",  # escaped, never markup
        "WEX Beta will retry",
        "WEX alpha page stored",
    ]
    assert "Apple alpha secret" not in page.text
    assert 'sse-connect="/live/logs?after=' in page.text
    assert 'sse-swap="log" hx-swap="afterbegin"' in page.text
    assert '<th scope="col">Message</th>' in page.text
    assert 'for="log-q"' in page.text and 'for="log-level"' in page.text
    assert f'<option value="{seeded.ids["WEX"]["job_id"]}">Jira</option>' in page.text


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("level=warning", ["WEX Beta", "WEX gamma"], ["WEX alpha", "WEX delta"]),
        ("level=error", ["WEX gamma"], ["WEX Beta", "WEX alpha", "WEX delta"]),
        ("q=ALPHA", ["WEX alpha"], ["WEX Beta", "WEX gamma", "Apple alpha"]),
        ("run={run_id}", ["WEX alpha", "WEX gamma"], ["WEX Beta", "WEX delta"]),
        ("job={job_id}", ["WEX Beta"], ["WEX alpha", "WEX gamma", "WEX delta"]),
        ("job={other_job_id}", [], ["WEX Beta", "WEX alpha", "WEX gamma"]),
        (
            "integration={integration_id}",
            ["WEX alpha", "WEX Beta", "WEX gamma"],
            ["WEX delta"],
        ),
        ("level=warning&run={run_id}&q=GAMMA", ["WEX gamma"], ["WEX alpha", "WEX Beta"]),
    ],
)
async def test_filters_filter_on_the_server(
    seeded: World, web: ClientFactory, query: str, present: list[str], absent: list[str]
) -> None:
    ids = seeded.ids["WEX"]
    viewer = await session_client(web, seeded.account("WEX", "viewer").email)
    url = "/logs?" + query.format(**ids, other_job_id=ids["job_id"] + 1)
    page = await viewer.get(url)
    assert page.status_code == 200, page.text
    messages = " | ".join(shown(page.text))
    for text in present:
        assert text in messages
    for text in absent:
        assert text not in messages
    assert "Apple" not in messages
    fragment = await viewer.get(url, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="logs-body">')
    assert "<html" not in fragment.text
    assert messages == " | ".join(shown(fragment.text))
    assert 'hx-push-url="true"' in fragment.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("level=loud", "level", "choose a level"),
        ("run=abc", "run", "a run id is a whole number"),
        ("run=0", "run", "a run id is a whole number"),
        ("job=99999", "job", "job 99999 does not exist"),
        ("integration=-3", "integration", "an integration id is a whole number"),
        ("q=" + "x" * 201, "q", "at most 200 characters"),
        ("q=a%00b", "q", "NUL"),
    ],
)
async def test_a_bad_filter_is_422_with_the_message_at_its_field(
    seeded: World, web: ClientFactory, query: str, field: str, message: str
) -> None:
    viewer = await session_client(web, seeded.account("WEX", "viewer").email)
    page = await viewer.get(f"/logs?{query}")
    assert page.status_code == 422
    assert f'aria-describedby="log-{field}-error"' in page.text
    assert 'aria-invalid="true"' in page.text
    error = re.search(rf'id="log-{field}-error" class="field-error">([^<]*)<', page.text)
    assert error is not None and message in error[1]
    assert "sse-connect" not in page.text and not shown(page.text)
    fragment = await viewer.get(f"/logs?{query}", headers=HTMX)
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert "hx-retarget" not in fragment.headers  # the form itself shows the error


async def test_another_tenants_job_or_integration_is_refused(
    seeded: World, web: ClientFactory
) -> None:
    apple = seeded.ids["Apple"]
    viewer = await session_client(web, seeded.account("WEX", "viewer").email)
    for query in (f"job={apple['job_id']}", f"integration={apple['integration_id']}"):
        page = await viewer.get(f"/logs?{query}")
        assert page.status_code == 422 and "does not exist" in page.text
    other_run = await viewer.get(f"/logs?run={apple['run_id']}")
    assert other_run.status_code == 200 and not shown(other_run.text)


async def test_older_link_pages_back_200_at_a_time(seeded: World, web: ClientFactory) -> None:
    await write_lines(
        seeded,
        "Apple",
        [{"level": "info", "message": f"bulk line {i:03d}"} for i in range(205)],
    )
    viewer = await session_client(web, seeded.account("Apple", "viewer").email)
    first = await viewer.get("/logs?q=bulk")
    messages = shown(first.text)
    assert len(messages) == 200
    assert messages[0] == "bulk line 204" and messages[-1] == "bulk line 005"
    older = re.search(r'<a href="(/logs\?[^"]*before=\d+[^"]*)"', first.text)
    assert older is not None
    second = await viewer.get(older[1].replace("&amp;", "&"))
    assert shown(second.text) == [f"bulk line {i:03d}" for i in (4, 3, 2, 1, 0)]
    assert "sse-connect" not in second.text  # older pages are not live
    assert "Newest lines" in second.text
    assert (await viewer.get("/logs?before=x")).status_code == 422


def log_event(tenant_id: int, seq: int, **data: Any) -> LiveEvent:
    body = {"tenant_id": tenant_id, "kind": "log", **data}
    return LiveEvent(seq, f"e-{seq}", tenant_id, "log", body, "{}")


def stream_request(state: WebState, query: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/live/logs",
            "query_string": query.encode(),
            "headers": [],
            "state": {"web": state},
        }
    )


async def test_stream_filter_and_row_follow_the_page_filters(seeded: World) -> None:
    wex = seeded.ids["WEX"]
    tenant = seeded.tenant_ids["WEX"]
    at = "2026-11-26T12:00:00+00:00"
    pool = await open_pool(seeded.url, max_size=1)
    try:
        state = WebState(pool, None, None, None, None)  # type: ignore[arg-type]
        accept = await log_stream_filter(
            stream_request(state, f"level=warning&integration={wex['integration_id']}&after=10"),
            tenant,
        )
        kept = log_event(tenant, 1, id=11, level="error", message="x", run_id=wex["run_id"], at=at)
        assert accept(kept)
        assert not accept(log_event(tenant, 2, id=12, level="info", message="x", run_id=1, at=at))
        assert not accept(log_event(tenant, 3, id=10, level="error", message="x", run_id=1, at=at))
        assert not accept(log_event(tenant, 4, id=13, level="error", message="x", at=at))
        # A run the integration's chain job starts after connect is followed from then on.
        new_run = LiveEvent(
            5, "e-5", tenant, "etl_job", {"etl_job_id": wex["job_id"], "run_id": 777}, "{}"
        )
        assert not accept(new_run)
        assert accept(log_event(tenant, 6, id=14, level="warning", message="x", run_id=777, at=at))
        for bad in ("level=loud", "run=x", "after=-1", "job=99999", "q=a%00"):
            with pytest.raises(HTTPException) as refused:
                await log_stream_filter(stream_request(state, bad), tenant)
            assert refused.value.status_code == 400
    finally:
        await pool.close()
    chosen, errors = parse_filter({"q": "BETA", "level": "info"})
    assert not errors
    beta = event_line({"id": 1, "level": "warning", "message": "a beta line", "at": at})
    assert beta is not None and line_matches(chosen, None, beta)
    debug = event_line({"id": 2, "level": "debug", "message": "beta", "at": at})
    assert debug is not None and not line_matches(chosen, None, debug)
    row = log_row(log_event(tenant, 7, id=15, level="error", message="<i>x</i>", run_id=3, at=at))
    assert row is not None and row.lstrip().startswith('<tr id="log-15"')
    assert "&lt;i&gt;x&lt;/i&gt;" in row and 'href="/runs/3"' in row
    assert '<time datetime="2026-11-26T12:00:00+00:00">2026-11-26 12:00:00</time>' in row
    assert log_row(LiveEvent(8, "e-8", tenant, "progress", {"run_id": 3}, "{}")) is None
    assert log_row(log_event(tenant, 9, truncated=True)) is None


async def test_the_live_stream_carries_only_the_tenants_matching_lines(seeded: World) -> None:
    token = seeded.account("WEX", "viewer").token
    async with served(seeded) as base:
        client = httpx.AsyncClient(
            base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )
        async with client:
            assert (await client.get("/live/logs?level=loud")).status_code == 400
            received: list[str] = []
            async with client.stream("GET", "/live/logs?level=warning&q=stream") as stream:
                assert stream.status_code == 200
                await asyncio.sleep(0.3)  # subscribed
                await write_lines(
                    seeded, "Apple", [{"level": "error", "message": "Apple stream secret"}]
                )
                await write_lines(
                    seeded,
                    "WEX",
                    [
                        {"level": "info", "message": "WEX stream quiet"},
                        {"level": "warning", "message": "WEX stream other words"},
                        {"level": "error", "message": "WEX stream loud"},
                    ],
                )

                async def read() -> None:
                    event = ""
                    async for line in stream.aiter_lines():
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:") and event == "log":
                            received.append(line[5:].strip())
                            if "WEX stream loud" in line:
                                return

                await asyncio.wait_for(read(), 10)
    rows = "\n".join(received)
    assert "WEX stream other words" in rows and "WEX stream loud" in rows
    assert "Apple" not in rows and "WEX stream quiet" not in rows
    assert any(row.startswith('<tr id="log-') for row in received)  # rows, never JSON
