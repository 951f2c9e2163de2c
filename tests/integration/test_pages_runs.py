"""The run page: status, stages, queue jobs, log lines, its controls and its live stream."""

from __future__ import annotations

import re

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.live.model import LiveEvent
from app.live.sse import Frame
from app.pages.live import run_frame, run_stream_filter
from tests.integration.test_pages_logs import write_lines
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


def run_status(world: World, run_id: int) -> str:
    return str(owner_rows(world.url, "SELECT status FROM etl_runs WHERE id = %s", (run_id,))[0][0])


async def test_run_page_shows_status_stages_queue_jobs_and_log(
    world: World, web: ClientFactory
) -> None:
    wex = world.ids["WEX"]
    run_id = wex["run_id"]
    await write_lines(
        world,
        "WEX",
        [
            {"level": "info", "message": "run page first line", "run_id": run_id},
            {"level": "error", "message": "run page second line", "run_id": run_id},
            {"level": "info", "message": "a line of no run"},
        ],
    )
    operator = await session_client(web, world.account("WEX", "operator").email)
    page = await operator.get(f"/runs/{run_id}")
    assert page.status_code == 200
    text = page.text
    assert text.count("<h1>") == 1 and f"Run {run_id}" in text
    assert 'data-testid="run-status">running<' in text
    assert 'data-testid="run-trigger">api<' in text
    assert "WEX Jira" in text
    extract = re.search(r'<tr data-stage="extract">(.*?)</tr>', text, re.S)
    assert extract is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', extract[1])[:4] == ["2", "0", "0", "2"]
    jobs = re.findall(r'<tr id="queue-job-(\d+)">', text)
    assert jobs == sorted(jobs, key=int, reverse=True) and str(wex["queue_job_id"]) in jobs
    messages = re.findall(r'<td class="log-message">([^<]*)</td>', text)
    assert messages.index("run page first line") < messages.index("run page second line")
    assert "a line of no run" not in text
    newest = int(max(re.findall(r'<tr id="log-(\d+)"', text), key=int))
    assert f'sse-connect="/live/run?run={run_id}&amp;after={newest}"' in text
    assert f'hx-trigger="sse:run-{run_id}, sse:run-log-{run_id}"' in text
    assert f'sse-swap="run-log-{run_id}" hx-swap="beforeend"' in text
    assert ">Pause</button>" in text and ">Cancel</button>" in text
    assert ">Resume</button>" not in text and ">Retry failed</button>" not in text
    assert 'name="return" value="run"' in text
    summary = await operator.get(f"/runs/{run_id}/summary", headers=HTMX)
    assert summary.status_code == 200 and summary.text.lstrip().startswith(
        '<header class="run-head">'
    )
    live = await operator.get(f"/runs/{run_id}/live", headers=HTMX)
    assert live.text.lstrip().startswith('<div id="run-live"')


async def test_other_tenants_and_unknown_runs_are_404(world: World, web: ClientFactory) -> None:
    apple_run = world.ids["Apple"]["run_id"]
    operator = await session_client(web, world.account("WEX", "operator").email)
    for path in (f"/runs/{apple_run}", f"/runs/{apple_run}/summary", "/runs/999999", "/runs/0"):
        response = await operator.get(path)
        assert response.status_code == 404, path
        assert "does not exist" in response.text
    posted = await operator.post(
        f"/pipeline/runs/{apple_run}/pause", data={"return": "run"}, headers=HTMX
    )
    assert posted.status_code == 404
    assert run_status(world, apple_run) == "running"


async def test_viewer_sees_no_controls_and_may_not_post(world: World, web: ClientFactory) -> None:
    run_id = world.ids["WEX"]["run_id"]
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    page = await viewer.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert "<button" not in page.text.split('id="run-summary"')[1].split("</section>")[0]
    refused = await viewer.post(f"/pipeline/runs/{run_id}/pause", data={"return": "run"})
    assert refused.status_code == 403 and "operator role" in refused.text
    assert run_status(world, run_id) == "running"


async def test_controls_answer_with_the_status_section(world: World, web: ClientFactory) -> None:
    wex = world.ids["WEX"]
    run_id = wex["run_id"]
    operator = await session_client(web, world.account("WEX", "operator").email)
    paused = await operator.post(
        f"/pipeline/runs/{run_id}/pause", data={"return": "run"}, headers=HTMX
    )
    assert paused.status_code == 200, paused.text
    assert paused.text.lstrip().startswith('<header class="run-head">')
    assert 'data-testid="run-status">paused<' in paused.text
    assert f"Run {run_id} paused" in paused.text and ">Resume</button>" in paused.text
    assert run_status(world, run_id) == "paused"
    again = await operator.post(
        f"/pipeline/runs/{run_id}/pause", data={"return": "run"}, headers=HTMX
    )
    assert again.status_code == 409 and again.headers["hx-retarget"] == "#flash"
    resumed = await operator.post(
        f"/pipeline/runs/{run_id}/resume", data={"return": "run"}, follow_redirects=False
    )
    assert resumed.status_code == 303 and resumed.headers["location"] == f"/runs/{run_id}"
    assert run_status(world, run_id) == "running"
    failed_job = wex["queue_job_id"] + 1
    owner_rows(
        world.url,
        "UPDATE etl_job_queue SET status = 'failed', last_error = 'page 3 refused', "
        "retry_count = 6, completed_at = now() WHERE id = %s",
        (failed_job,),
    )
    page = await operator.get(f"/runs/{run_id}")
    assert ">Retry failed</button>" in page.text and "page 3 refused" in page.text
    retried = await operator.post(
        f"/pipeline/runs/{run_id}/retry", data={"return": "run"}, headers=HTMX
    )
    assert retried.status_code == 200 and "retrying its failed jobs" in retried.text
    status = owner_rows(world.url, "SELECT status FROM etl_job_queue WHERE id = %s", (failed_job,))
    assert status == [("pending",)]
    del operator.headers["X-CSRF-Token"]
    forged = await operator.post(f"/pipeline/runs/{run_id}/cancel", data={"return": "run"})
    assert forged.status_code == 403 and run_status(world, run_id) == "running"


async def test_queue_jobs_page_newest_first(world: World, web: ClientFactory) -> None:
    wex = world.ids["WEX"]
    run_id, oldest = wex["run_id"], wex["queue_job_id"]
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    older = await viewer.get(f"/runs/{run_id}/queue?cursor={oldest + 1}", headers=HTMX)
    assert older.status_code == 200
    assert re.findall(r'<tr id="queue-job-(\d+)">', older.text) == [str(oldest)]
    assert "Newest jobs" in older.text
    full = await viewer.get(f"/runs/{run_id}?cursor={oldest + 1}")
    assert re.findall(r'<tr id="queue-job-(\d+)">', full.text) == [str(oldest)]
    for bad in ("x", "-1", "1" * 30):
        assert (await viewer.get(f"/runs/{run_id}?cursor={bad}")).status_code == 422


def _event(seq: int, kind: str, **data: object) -> LiveEvent:
    return LiveEvent(seq, f"e-{seq}", 1, kind, {"tenant_id": 1, "kind": kind, **data}, "{}")


async def test_run_stream_frames_and_filter(world: World, web: ClientFactory) -> None:
    at = "2026-11-26T12:00:00+00:00"
    line = _event(1, "log", id=40, level="warning", message="parked", run_id=7, at=at)
    framed = run_frame(line)
    assert isinstance(framed, Frame) and framed.event == "run-log-7"
    assert framed.data.lstrip().startswith('<tr id="log-40"') and "parked" in framed.data
    for kind in ("run", "progress", "job", "etl_job"):
        assert run_frame(_event(2, kind, run_id=7, etl_job_id=3)) == Frame("run-7", "e-2")
    assert run_frame(_event(3, "settings", keys=["x"])) is None

    def request(query: str) -> Request:
        return Request({"type": "http", "query_string": query.encode(), "headers": []})

    accept = await run_stream_filter(request("run=7&after=40"), 1)
    assert not accept(line)  # the page already shows it
    assert accept(_event(4, "log", id=41, level="info", message="next", run_id=7, at=at))
    assert accept(_event(5, "run", run_id=7, status="finished"))
    assert not accept(_event(6, "run", run_id=8, status="finished"))
    for bad in ("run=x", "run=0", "", "run=7&after=-2", "run=" + "9" * 5000):
        with pytest.raises(HTTPException) as refused:
            await run_stream_filter(request(bad), 1)
        assert refused.value.status_code == 400
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    assert (await viewer.get("/live/run?run=abc")).status_code == 400
