"""Flow metrics: monthly cycle and lead time percentiles against hand-computed values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.db import open_pool, tenant_transaction
from app.pages.flow import add_months, last_months, month_key, month_label
from app.sqlstore import query
from tests.integration.test_web_harness import (
    ClientFactory,
    World,
    owner_rows,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

DAY = 86400


def _one(world: World, sql: str, params: tuple[Any, ...]) -> int:
    [(value,)] = owner_rows(world.url, sql, params)
    return int(value)


def _item(
    world: World,
    tenant: str,
    key: str,
    completed: datetime,
    cycle_days: float | None,
    lead_days: float | None,
    project_id: int | None = None,
    wit_id: int | None = None,
) -> None:
    owner_rows(
        world.url,
        "INSERT INTO work_items (tenant_id, integration_id, external_id, key, summary, project_id, "
        "wit_id, work_last_completed_at, cycle_time_seconds, lead_time_seconds) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            world.tenant_ids[tenant],
            world.ids[tenant]["integration_id"],
            key,
            key,
            f"Summary of {key}",
            project_id,
            wit_id,
            completed,
            None if cycle_days is None else round(cycle_days * DAY),
            None if lead_days is None else round(lead_days * DAY),
        ),
    )


@pytest.fixture(scope="module")
def flow(world: World) -> dict[str, Any]:
    """WEX: five items this month, one two months ago, 55 three months ago, none last month,
    one 13 months ago and one reopened; Apple: one slow item this month."""
    wex = world.tenant_ids["WEX"]
    integration = world.ids["WEX"]["integration_id"]
    project = {
        key: _one(
            world,
            "INSERT INTO projects (tenant_id, integration_id, external_id, key, name) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (wex, integration, key, key, f"Project {key}"),
        )
        for key in ("ALPHA", "BETA")
    }
    wit = {
        name: _one(
            world,
            "INSERT INTO wits (tenant_id, integration_id, external_id, original_name) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (wex, integration, name, name),
        )
        for name in ("Story", "Bug", "Task")
    }
    months = last_months(datetime.now(UTC))
    at = {i: datetime(m.year, m.month, 1, 1, tzinfo=UTC) for i, m in enumerate(reversed(months))}
    a, b = project["ALPHA"], project["BETA"]
    this = at[0]
    _item(world, "WEX", "WEX-1", this, 1, 3, a, wit["Story"])
    _item(world, "WEX", "WEX-2", this + timedelta(hours=1), 2, 5, a, wit["Story"])
    _item(world, "WEX", "WEX-3", this + timedelta(hours=2), 4, 8, a, wit["Bug"])
    _item(world, "WEX", "WEX-4", this + timedelta(hours=3), 10, 20, b, wit["Bug"])
    _item(world, "WEX", "WEX-5", this + timedelta(hours=4), None, 30, a, wit["Task"])
    _item(world, "WEX", "WEX-REOPENED", this, None, None, a, wit["Story"])
    _item(world, "WEX", "WEX-OLD", as_month_start(add_months(months[0], -1)), 99, 99, a)
    _item(world, "WEX", "WEX-20", at[2] + timedelta(days=3), 0.5, 2, a, wit["Story"])
    owner_rows(
        world.url,
        "INSERT INTO work_items (tenant_id, integration_id, external_id, key, summary, "
        "work_last_completed_at, cycle_time_seconds, lead_time_seconds) "
        "SELECT %s, %s, 'M3-' || n, 'M3-' || n, 'Batch ' || n, %s, 86400, 86400 "
        "FROM generate_series(1, 55) n",
        (wex, integration, at[3]),
    )
    _item(world, "Apple", "APL-1", this, 1000, 1000)
    return {"months": months, "project": project, "wit": wit}


def as_month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _table(text: str) -> dict[str, list[str]]:
    """Month -> [items, cycle p50, p75, p90, lead p50, p75, p90] as shown."""
    rows = re.findall(r'<tr data-month="(\d{4}-\d{2})">(.*?)</tr>', text, re.S)
    return {month: re.findall(r'<td class="num">([^<]*)</td>', cells) for month, cells in rows}


def _month(flow: dict[str, Any], back: int) -> str:
    return month_key(flow["months"][-1 - back])


async def test_percentiles_equal_hand_computed_values(world: World, flow: dict[str, Any]) -> None:
    months = flow["months"]
    pool = await open_pool(world.url, max_size=1)
    try:
        async with tenant_transaction(pool, world.tenant_ids["WEX"]) as conn:
            cur = await conn.execute(
                query("flow_monthly"),
                {
                    "start": as_month_start(months[0]),
                    "end": as_month_start(add_months(months[-1], 1)),
                    "project_id": None,
                    "wit_name": None,
                },
            )
            rows = {row["month"]: row for row in await cur.fetchall()}
    finally:
        await pool.close()
    assert set(rows) == {_month(flow, 0), _month(flow, 2), _month(flow, 3)}
    this = rows[_month(flow, 0)]
    # cycle [1, 2, 4, 10] (WEX-5 has none): p50 at rank 1.5, p75 at 2.25, p90 at 2.7
    assert (this["items"], this["cycle_items"], this["lead_items"]) == (5, 4, 5)
    assert this["cycle_p50"] == pytest.approx(3.0)
    assert this["cycle_p75"] == pytest.approx(5.5)
    assert this["cycle_p90"] == pytest.approx(8.2)
    # lead [3, 5, 8, 20, 30]: p50 at rank 2, p75 at 3, p90 at 3.6
    assert this["lead_p50"] == pytest.approx(8.0)
    assert this["lead_p75"] == pytest.approx(20.0)
    assert this["lead_p90"] == pytest.approx(26.0)
    older = rows[_month(flow, 2)]
    assert (older["cycle_p50"], older["cycle_p90"], older["lead_p75"]) == (0.5, 0.5, 2.0)


async def test_the_page_charts_and_tables_the_last_twelve_months(
    world: World, web: ClientFactory, flow: dict[str, Any]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    page = await viewer.get("/metrics/flow")
    assert page.status_code == 200 and "<h1>Flow metrics</h1>" in page.text
    table = _table(page.text)
    assert list(table) == [month_key(m) for m in reversed(flow["months"])]
    assert table[_month(flow, 0)] == ["5", "3.0", "5.5", "8.2", "8.0", "20.0", "26.0"]
    assert table[_month(flow, 1)] == ["0", "–", "–", "–", "–", "–", "–"]  # a gap, not zeros
    assert table[_month(flow, 2)] == ["1", "0.5", "0.5", "0.5", "2.0", "2.0", "2.0"]
    assert table[_month(flow, 3)] == ["55", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0"]
    assert "99.0" not in page.text and "1000.0" not in page.text  # too old; another tenant

    assert page.text.count('role="img"') == 2
    assert '<title id="flow-chart-1-title">Cycle time per completion month</title>' in page.text
    assert "style=" not in page.text
    gap = month_label(flow["months"][-2])
    assert f"Median, {gap}:" not in page.text  # no point for the empty month
    this = month_label(flow["months"][-1])
    assert f"<title>Median, {this}: 3.0 days</title>" in page.text
    assert f"<title>90th percentile, {this}: 26.0 days</title>" in page.text
    link = f'href="/metrics/flow/items?month={_month(flow, 0)}"'
    assert link in page.text
    assert f'href="/metrics/flow/items?month={_month(flow, 1)}"' not in page.text

    apple = await session_client(web, world.account("Apple", "viewer").email)
    theirs = _table((await apple.get("/metrics/flow")).text)
    assert theirs[_month(flow, 0)] == ["1", *["1000.0"] * 6]
    assert theirs[_month(flow, 2)][0] == "0"


async def test_filters_narrow_to_a_project_and_a_type(
    world: World, web: ClientFactory, flow: dict[str, Any]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    beta = flow["project"]["BETA"]
    by_project = await viewer.get("/metrics/flow", params={"project": beta})
    assert f'<option value="{beta}" selected>BETA · Project BETA</option>' in by_project.text
    table = _table(by_project.text)
    assert table[_month(flow, 0)] == ["1", "10.0", "10.0", "10.0", "20.0", "20.0", "20.0"]
    assert table[_month(flow, 3)][0] == "0"
    assert f"/metrics/flow/items?project={beta}&amp;month={_month(flow, 0)}" in by_project.text
    bugs = _table((await viewer.get("/metrics/flow", params={"type": "Bug"})).text)
    # cycle [4, 10] -> 7, 8.5, 9.4; lead [8, 20] -> 14, 17, 18.8
    assert bugs[_month(flow, 0)] == ["2", "7.0", "8.5", "9.4", "14.0", "17.0", "18.8"]
    both = await viewer.get("/metrics/flow", params={"type": "Story", "project": beta})
    assert _table(both.text)[_month(flow, 0)][0] == "0"
    assert "No completed work items in these months" in both.text
    bad = await viewer.get("/metrics/flow", params={"project": "beta"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text


async def test_a_month_lists_its_work_items_page_by_page(
    world: World, web: ClientFactory, flow: dict[str, Any]
) -> None:
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    month = _month(flow, 0)
    items = await viewer.get("/metrics/flow/items", params={"month": month})
    assert items.status_code == 200
    keys = re.findall(r'<tr data-item="([^"]+)">', items.text)
    assert keys == ["WEX-1", "WEX-2", "WEX-3", "WEX-4", "WEX-5"]
    assert 'href="http://127.0.0.1:9/browse/WEX-4"' in items.text
    row = re.search(r'<tr data-item="WEX-4">(.*?)</tr>', items.text, re.S)
    assert row is not None
    assert "Summary of WEX-4" in row[1] and "<td>Bug</td>" in row[1]
    assert re.findall(r'<td class="num">([^<]*)</td>', row[1]) == ["10.0", "20.0"]
    bugs = await viewer.get("/metrics/flow/items", params={"month": month, "type": "Bug"})
    assert re.findall(r'<tr data-item="([^"]+)">', bugs.text) == ["WEX-3", "WEX-4"]

    batch = await viewer.get("/metrics/flow/items", params={"month": _month(flow, 3)})
    first = re.findall(r'<tr data-item="([^"]+)">', batch.text)
    assert len(first) == 50
    more = re.search(r'<a href="([^"]+)">More work items</a>', batch.text)
    assert more is not None
    second = await viewer.get(more[1].replace("&amp;", "&"))
    rest = re.findall(r'<tr data-item="([^"]+)">', second.text)
    assert len(rest) == 5 and not set(rest) & set(first)
    assert "More work items" not in second.text and "First page" in second.text

    empty = await viewer.get("/metrics/flow/items", params={"month": _month(flow, 1)})
    assert "No work item was completed in" in empty.text
    apple = await session_client(web, world.account("Apple", "viewer").email)
    theirs = await apple.get("/metrics/flow/items", params={"month": month})
    assert re.findall(r'<tr data-item="([^"]+)">', theirs.text) == ["APL-1"]
    for bad in ("2026-13", "March", ""):
        answer = await viewer.get("/metrics/flow/items", params={"month": bad})
        assert answer.status_code == 422 and "YYYY-MM" in answer.text
