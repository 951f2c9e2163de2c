"""The pipeline page, its job cards and their controls, over the in-process app."""

from __future__ import annotations

import re

from tests.integration.test_web_harness import (
    ClientFactory,
    World,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

HTMX = {"HX-Request": "true"}


async def test_signed_out_visitors_go_to_login_and_come_back(web: ClientFactory) -> None:
    anonymous = web()
    response = await anonymous.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"
    fragment = await anonymous.get("/pipeline/jobs/1/card", headers=HTMX)
    assert fragment.status_code == 204
    assert fragment.headers["hx-redirect"].startswith("/login?next=")
    login = await anonymous.get("/login?next=/queue")
    assert login.status_code == 200
    assert 'name="next" value="/queue"' in login.text
    assert 'name="csrf_token"' in login.text
    evil = await anonymous.get("/login?next=//evil.example")
    assert 'name="next" value="/"' in evil.text


async def test_login_form_signs_in_and_lands_on_the_pipeline(
    world: World, web: ClientFactory
) -> None:
    browser = web()
    page = await browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    email = world.account("WEX", "operator").email
    wrong = await browser.post(
        "/login",
        data={"csrf_token": token[1], "email": email, "password": "nope", "next": "/"},
        follow_redirects=False,
    )
    assert wrong.status_code == 303 and "error=invalid" in wrong.headers["location"]
    shown = await browser.get(wrong.headers["location"])
    assert "Wrong email or password" in shown.text
    signed_in = await browser.post(
        "/login",
        data={
            "csrf_token": token[1],
            "email": email,
            "password": "correct horse battery staple",
            "next": "/",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    pipeline = await browser.get("/")
    assert pipeline.status_code == 200
    assert "<h1>Pipeline</h1>" in pipeline.text
    assert email in pipeline.text and "Log out" in pipeline.text


async def test_pipeline_shows_the_chain_with_controls_by_role(
    world: World, web: ClientFactory
) -> None:
    ids = world.ids["WEX"]
    operator = await session_client(web, world.account("WEX", "operator").email)
    page = await operator.get("/")
    assert page.status_code == 200
    cards = re.findall(r'id="job-card-(\d+)"', page.text)
    assert str(ids["job_id"]) in cards
    assert 'sse-connect="/live/pipeline"' in page.text
    assert f"sse:job-{ids['job_id']}" in page.text
    assert "Pause" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script>" not in page.text  # no inline scripts
    viewer = await session_client(web, world.account("WEX", "viewer").email)
    seen = await viewer.get("/")
    assert f'id="job-card-{ids["job_id"]}"' in seen.text
    assert "Force start" not in seen.text and "Pause" not in seen.text
    refused = await viewer.post(f"/pipeline/jobs/{ids['job_id']}/pause", headers=HTMX)
    assert refused.status_code == 403
    assert refused.headers["hx-retarget"] == "#flash"
    assert "operator role" in refused.text


async def test_card_actions_change_the_job_and_answer_with_its_card(
    world: World, web: ClientFactory
) -> None:
    apple = world.ids["Apple"]
    operator = await session_client(web, world.account("Apple", "operator").email)
    job_id = apple["job_id"]
    card = await operator.get(f"/pipeline/jobs/{job_id}/card", headers=HTMX)
    assert card.status_code == 200 and card.text.lstrip().startswith("<article")
    paused = await operator.post(f"/pipeline/jobs/{job_id}/pause", headers=HTMX)
    assert paused.status_code == 200, paused.text
    assert 'data-status="paused"' in paused.text
    assert "Resume" in paused.text
    resumed = await operator.post(f"/pipeline/jobs/{job_id}/resume", headers=HTMX)
    assert resumed.status_code == 200 and 'data-status="paused"' not in resumed.text
    again = await operator.post(f"/pipeline/jobs/{job_id}/resume", headers=HTMX)
    assert again.status_code == 409 and again.headers["hx-retarget"] == "#flash"
    assert 'class="flash flash-error"' in again.text
    unknown = await operator.post(f"/pipeline/jobs/{job_id}/explode", headers=HTMX)
    assert unknown.status_code == 404


async def test_writes_need_the_csrf_token_and_other_tenants_ids_are_404(
    world: World, web: ClientFactory
) -> None:
    wex_job = world.ids["WEX"]["job_id"]
    wex_run = world.ids["WEX"]["run_id"]
    operator = await session_client(web, world.account("Apple", "operator").email)
    assert (await operator.get(f"/pipeline/jobs/{wex_job}/card")).status_code == 404
    assert (await operator.post(f"/pipeline/jobs/{wex_job}/pause")).status_code == 404
    assert (await operator.post(f"/pipeline/runs/{wex_run}/cancel")).status_code == 404
    page404 = await operator.get(f"/pipeline/jobs/{wex_job}/card")
    assert "does not exist" in page404.text
    del operator.headers["X-CSRF-Token"]
    forged = await operator.post(f"/pipeline/jobs/{world.ids['Apple']['job_id']}/pause")
    assert forged.status_code == 403 and "CSRF" in forged.text
