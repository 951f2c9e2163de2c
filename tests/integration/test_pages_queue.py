"""The queue page: depth by stage, throughput sparkline, dead letters and their retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.pages.queue import minute_series
from app.pages.sparkline import sparkline
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

HTMX = {"HX-Request": "true"}


def cell(html: str, stage: str, status: str) -> str:
    row = re.search(rf'<tr data-stage="{stage}">(.*?)</tr>', html, re.S)
    assert row is not None
    found = re.search(rf'data-status="{status}">([^<]*)<', row[1])
    assert found is not None
    return found[1]


def queue_status(world: World, job_id: int) -> str:
    rows = owner_rows(world.url, "SELECT status FROM etl_job_queue WHERE id = %s", (job_id,))
    return str(rows[0][0])


async def test_queue_page_shows_depth_throughput_and_dead_letters(
    world: World, web: ClientFactory
) -> None:
    wex = world.ids["WEX"]
    owner_rows(
        world.url,
        "UPDATE etl_job_queue SET status = 'completed', completed_at = now() WHERE id = %s",
        (wex["queue_job_id"],),
    )
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    page = await viewer.get("/queue")
    assert page.status_code == 200
    text = page.text
    assert text.count("<h1>") == 1
    assert cell(text, "extract", "pending") == "1" and cell(text, "extract", "completed") == "1"
    assert cell(text, "transform", "failed") == "1"
    assert re.search(r'<tr data-stage="extract">.*?oldest-pending">[^–<]+<', text, re.S)
    svg = re.search(
        r'<svg class="sparkline"[^>]*role="img"[^>]*aria-label="([^"]+)">\s*<title>', text
    )
    assert svg is not None and "1 in total" in svg[1]
    assert 'data-testid="throughput-total">1<' in text
    assert 'hx-trigger="every 5s"' in text
    assert f'<tr id="dead-letter-{wex["failed_queue_job_id"]}">' in text and "boom" in text
    assert f'id="dead-letter-{world.ids["Apple"]["failed_queue_job_id"]}"' not in text
    assert "<button" not in text.split('id="queue-dead-letters"')[1]  # a viewer has no controls
    assert 'name="selected"' not in text
    summary = await viewer.get("/queue/summary", headers=HTMX)
    assert summary.status_code == 200 and "<html" not in summary.text
    assert 'class="sparkline"' in summary.text
    refused = await viewer.post("/queue/retry", data={"only": str(wex["failed_queue_job_id"])})
    assert refused.status_code == 403
    assert queue_status(world, wex["failed_queue_job_id"]) == "failed"


async def test_operator_retries_a_dead_letter(world: World, web: ClientFactory) -> None:
    wex, apple = world.ids["WEX"], world.ids["Apple"]
    operator = await session_client(web, world.account("WEX", "operator").email)
    page = await operator.get("/queue")
    dead = wex["failed_queue_job_id"]
    assert f'name="only" value="{dead}"' in page.text
    assert f'name="selected" value="{dead}" checked' in page.text and "Retry all shown" in page.text
    assert (
        await operator.post("/queue/retry", data={"only": str(apple["failed_queue_job_id"])})
    ).status_code == 404
    assert queue_status(world, apple["failed_queue_job_id"]) == "failed"
    pending = await operator.post("/queue/retry", data={"only": str(wex["queue_job_id"] + 1)})
    assert pending.status_code == 409 and "only failed jobs" in pending.text
    assert (await operator.post("/queue/retry", data={"only": "x1"})).status_code == 422
    nothing = await operator.post("/queue/retry", data={}, headers=HTMX)
    assert nothing.status_code == 422 and "Tick at least one" in nothing.text
    assert (
        'aria-describedby="dead-letters-hint dead-letters-error"' in nothing.text
        and "<html" not in nothing.text
    )
    retried = await operator.post("/queue/retry", data={"only": str(dead)}, headers=HTMX)
    assert retried.status_code == 200, retried.text
    assert "1 queue job back in the queue" in retried.text
    assert f'id="dead-letter-{dead}"' not in retried.text
    assert queue_status(world, dead) == "pending"
    del operator.headers["X-CSRF-Token"]
    assert (await operator.post("/queue/retry", data={"only": str(dead)})).status_code == 403


async def test_retry_all_ticked_sends_every_ticked_dead_letter_back(
    world: World, web: ClientFactory
) -> None:
    apple = world.ids["Apple"]
    extra = [apple["queue_job_id"], apple["queue_job_id"] + 1]
    owner_rows(
        world.url,
        "UPDATE etl_job_queue SET status = 'failed', last_error = 'gone' WHERE id = ANY(%s)",
        (extra,),
    )
    operator = await session_client(web, world.account("Apple", "operator").email)
    ticked = [apple["failed_queue_job_id"], extra[0]]
    done = await operator.post(
        "/queue/retry",
        content="&".join(f"selected={i}" for i in ticked),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/queue"
    assert [queue_status(world, i) for i in [*ticked, extra[1]]] == ["pending", "pending", "failed"]


def test_sparkline_and_minute_series() -> None:
    now = datetime(2026, 11, 26, 12, 30, 40, tzinfo=UTC)
    rows = [
        {"minute": datetime(2026, 11, 26, 12, 30, tzinfo=UTC), "completed": 4},
        {"minute": datetime(2026, 11, 26, 11, 31, tzinfo=UTC), "completed": 2},
        {"minute": now - timedelta(hours=2), "completed": 9},  # outside the hour
    ]
    series = minute_series(rows, now)
    assert len(series) == 60 and series[0] == 2 and series[-1] == 4 and sum(series) == 6
    line = sparkline([0, 2, 4], width=100, height=20, pad=0)
    assert line.points == "0.0,20.0 50.0,10.0 100.0,0.0"
    assert line.peak == 4 and line.total == 6
    assert line.area.startswith("0.0,20 ") and line.area.endswith(" 100.0,20")
    flat = sparkline([0, 0], width=10, height=10, pad=1)
    assert flat.points == "1.0,9.0 9.0,9.0"
    assert sparkline([]).points == "" and sparkline([]).area == ""
