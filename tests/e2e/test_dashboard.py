"""The dashboard in a real browser against the real product, in the order a person would use it:
sign in, watch a sync live, pause and resume it, read the logs and the raw records, another
tenant sees none of it, and the pages work on a phone and label every input.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Console, Product, log_in, owner_rows, screenshot

pytestmark = pytest.mark.e2e


def in_query(**params: str) -> re.Pattern[str]:
    """A URL whose query string has these values (spaces as + or %20)."""
    parts = [
        re.escape(f"{name}=") + r"(\+|%20)".join(map(re.escape, value.split(" ")))
        for name, value in params.items()
    ]
    return re.compile(r"[?&]" + ".*".join(parts) + r"(&|$)")


def number(text: str) -> int:
    """A count as the card shows it ("1 098", with a thin space between thousands)."""
    return int(re.sub(r"\D", "", text) or 0)


async def card_counts(card: Any) -> tuple[int, int, int]:
    values = []
    for testid in ("extracted", "transformed", "loaded"):
        values.append(number(await card.get_by_test_id(testid).inner_text()))
    return values[0], values[1], values[2]


def queue_report(product: Product) -> str:
    """The runs and queue jobs as the database has them (for a failure's message)."""
    with psycopg.connect(product.db_url) as conn:
        runs = conn.execute(
            "SELECT id, etl_job_id, status, error_message FROM etl_runs ORDER BY id"
        ).fetchall()
        jobs = conn.execute(
            "SELECT run_id, job_type, status, count(*), max(last_error) FROM etl_job_queue "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
    return "runs: " + repr(runs) + "\nqueue: " + "\n  ".join(map(repr, jobs))


async def settled_counts(card: Any, within: float = 15) -> tuple[int, int, int]:
    """The card's counts once they stay the same for a second."""
    deadline = time.monotonic() + within
    last = await card_counts(card)
    while time.monotonic() < deadline:
        await card.page.wait_for_timeout(1000)
        now = await card_counts(card)
        if now == last:
            return now
        last = now
    raise AssertionError(f"the counts kept moving for {within}s: {last}")


async def test_login_form_lands_on_the_pipeline(browser: Any, product: Product) -> None:
    context = await browser.new_context(base_url=product.base_url)
    page = await context.new_page()
    await page.goto("/")
    await expect(page).to_have_url(f"{product.base_url}/login?next=%2F")
    await page.get_by_label("Email", exact=True).fill(product.operator.email)
    await page.get_by_label("Password", exact=True).fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    await screenshot(page, "login-wrong-password")
    await page.get_by_label("Email", exact=True).fill(product.operator.email)
    await page.get_by_label("Password", exact=True).fill(product.operator.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{product.base_url}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pipeline")
    await expect(page.locator(f"#job-card-{product.chain['WEX']['jira']}")).to_be_visible()
    await expect(page.get_by_text(product.operator.email)).to_be_visible()
    await screenshot(page, "pipeline-signed-in")
    await context.close()


async def test_force_start_shows_live_counts_without_reloading(
    browser: Any, product: Product
) -> None:
    page = await log_in(browser, product, product.operator)
    console = Console(page)
    navigations: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )
    await page.reload()  # the console listener sees this page load from its start
    await page.evaluate("window.sluiceE2eMarker = 'same document'")
    navigations.clear()
    card = page.locator(f"#job-card-{product.chain['WEX']['jira']}")
    await expect(card.get_by_test_id("job-status")).to_be_visible()
    await card.get_by_role("button", name="Force start").click()
    await expect(card.get_by_test_id("run-status")).to_have_text("run running")
    seen: list[tuple[int, int, int]] = []
    statuses: set[str] = set()
    deadline = time.monotonic() + 90
    shot = False
    while time.monotonic() < deadline:
        counts = await card_counts(card)
        if not seen or counts != seen[-1]:
            seen.append(counts)
        status = await card.get_by_test_id("run-status").inner_text()
        statuses.add(status)
        if not shot and counts[1] > 0 and status == "run running":
            await screenshot(page, "pipeline-running")
            shot = True
        if status == "run finished":
            break
        await page.wait_for_timeout(150)
    assert "run finished" in statuses, f"the run did not finish: {statuses}, counts {seen}"
    extracted, transformed, loaded = seen[-1]
    assert extracted > 0 and transformed > 0 and loaded > 0, seen
    assert [c[0] for c in seen] == sorted(c[0] for c in seen), f"extracted went down: {seen}"
    rising = [c for c in seen if 0 < c[0] < extracted]
    assert rising, f"the card showed no intermediate count on its way to {extracted}: {seen}"
    await screenshot(page, "pipeline-finished")
    assert await page.evaluate("window.sluiceE2eMarker") == "same document"
    assert navigations == [], f"the page navigated: {navigations}"
    assert console.errors == [], console.errors
    await page.context.close()


async def test_pause_and_resume_a_running_sync_from_its_card(
    browser: Any, product: Product
) -> None:
    page = await log_in(browser, product, product.operator)
    card = page.locator(f"#job-card-{product.chain['WEX']['github']}")
    await card.get_by_role("button", name="Force start").click()
    # Pause as soon as the run is live: the GitHub extraction is only a few pages long.
    await expect(card.get_by_test_id("run-status")).to_have_text("run running")
    await card.get_by_role("button", name="Pause").click()
    await expect(card.get_by_test_id("run-status")).to_have_text("run paused")
    await expect(card.get_by_test_id("job-status")).to_have_text("paused")
    await expect(card.get_by_role("button", name="Resume")).to_be_visible()
    await expect(card.get_by_role("button", name="Force start")).to_have_count(0)
    await screenshot(page, "pipeline-paused")
    paused_at = await settled_counts(card)  # jobs in flight park after their current page
    await card.get_by_role("button", name="Resume").click()
    await expect(card.get_by_test_id("run-status")).to_have_text("run running")
    await expect(card.get_by_role("button", name="Pause")).to_be_visible()
    try:
        await expect(card.get_by_test_id("run-status")).to_have_text("run finished", timeout=60_000)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{queue_report(product)}") from None
    final = await card_counts(card)
    assert all(f >= p for f, p in zip(final, paused_at, strict=True))
    assert final != paused_at and min(final) > 0, (paused_at, final)  # it went on after resume
    await screenshot(page, "pipeline-resumed-finished")
    await page.context.close()


@asynccontextmanager
async def new_log_stream(page: Any) -> AsyncIterator[None]:
    """Wait for the filtered list that the block's action swaps in to open its live stream:
    htmx has then wired the new filters, and the next action reaches them."""
    async with page.expect_request(re.compile(r"/live/logs\?")):
        yield


async def test_logs_filter_by_level_and_text(
    browser: Any, product: Product, wex_synced: int
) -> None:
    page = await log_in(browser, product, product.operator)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Logs").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Logs")
    lines = page.locator("#log-lines tr")
    await expect(lines.first).to_be_visible()
    total = await lines.count()
    await page.evaluate("window.sluiceE2eMarker = 'same document'")

    text = page.get_by_label("Message contains")
    await text.fill(f"run {wex_synced} finished")
    async with new_log_stream(page):
        await text.press("Enter")
    await expect(page).to_have_url(in_query(q=f"run {wex_synced} finished"))
    await expect(lines.first).to_contain_text(f"run {wex_synced} finished")
    messages = await page.locator("#log-lines .log-message").all_inner_texts()
    assert all(f"run {wex_synced} finished" in m for m in messages), messages
    assert 0 < len(messages) < total, (len(messages), total)
    await expect(lines.first.locator(".level-info")).to_have_text("info")

    await text.fill("started by")
    async with new_log_stream(page):
        await text.press("Enter")
    await expect(page).to_have_url(in_query(q="started by"))
    await expect(lines.first).to_contain_text("started by")
    messages = await page.locator("#log-lines .log-message").all_inner_texts()
    assert messages and all("started by" in m for m in messages), messages
    await screenshot(page, "logs-filtered-text")

    await text.fill("")
    async with new_log_stream(page):
        await page.get_by_label("Level at least").select_option("warning")
    await expect(page).to_have_url(in_query(level="warning"))
    await expect(page.get_by_label("Level at least")).to_have_value("warning")
    levels = await page.locator("#log-lines tr td:nth-child(2)").all_inner_texts()
    assert all(level.strip() in ("warning", "error") for level in levels), levels

    # A run cancelled in another tab: its warning and error lines stream into this list.
    pipeline = await page.context.new_page()
    await pipeline.goto("/")
    card = pipeline.locator(f"#job-card-{product.chain['WEX']['jira']}")
    await card.get_by_role("button", name="Force start").click()
    await card.get_by_role("button", name="Cancel run").click()
    await expect(card.get_by_test_id("run-status")).to_have_text("run cancelled")
    run_link = await card.get_by_role("link", name=re.compile(r"^Run \d+$")).inner_text()
    cancelled = f"run {run_link.split()[1]} cancelled"
    await expect(lines.filter(has_text=cancelled).first).to_be_visible()
    await expect(lines.filter(has_text=cancelled).locator(".level-warning").first).to_be_visible()
    levels = await page.locator("#log-lines tr td:nth-child(2)").all_inner_texts()
    assert levels and all(level.strip() in ("warning", "error") for level in levels), levels
    await screenshot(page, "logs-live-warnings")

    await page.get_by_label("Level at least").select_option("")
    await expect(page.locator("#log-lines .level-info").first).to_be_visible()
    assert await page.evaluate("window.sluiceE2eMarker") == "same document"
    await page.context.close()


async def test_raw_record_json_and_reprocess(
    browser: Any, product: Product, wex_synced: int
) -> None:
    page = await log_in(browser, product, product.operator)
    await page.goto("/raw")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Raw data")
    await page.get_by_label("Entity type").select_option("jira_issue")
    await expect(page).to_have_url(in_query(entity_type="jira_issue"))
    rows = page.locator("#raw-results tbody tr")
    await expect(rows.first).to_contain_text("jira_issue")
    assert all("jira_issue" in t for t in await rows.locator("td:nth-child(3)").all_inner_texts())
    await screenshot(page, "raw-list-filtered")
    raw_id = await rows.first.get_attribute("data-raw-id")
    assert raw_id is not None
    await rows.first.get_by_role("link", name=raw_id, exact=True).click()
    await expect(page).to_have_url(f"{product.base_url}/raw/{raw_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Raw record {raw_id}")
    body = json.loads(await page.get_by_test_id("raw-json").inner_text())
    [(external_id, stored)] = owner_rows(
        product, "SELECT external_id, raw_data FROM raw_extraction_data WHERE id = %s", (raw_id,)
    )
    assert body == stored and external_id in (body.get("id"), body.get("key"))
    await screenshot(page, "raw-record")

    await page.get_by_role("button", name="Reprocess this record").click()
    result = page.locator("#reprocess-result")
    await expect(result).to_contain_text("Queued 1 raw record for transform in run")
    match = re.search(r"in run (\d+)", await result.inner_text())
    assert match is not None
    run_id = int(match[1])
    await screenshot(page, "raw-reprocess-queued")
    deadline = time.monotonic() + 60
    while owner_rows(product, "SELECT status FROM etl_runs WHERE id = %s", (run_id,)) != [
        ("finished",)
    ]:
        assert time.monotonic() < deadline, f"reprocess run {run_id} did not finish"
        await page.wait_for_timeout(300)
    [(processed_by,)] = owner_rows(
        product,
        "SELECT count(*) FROM etl_job_queue WHERE run_id = %s AND job_type = 'transform' "
        "AND status = 'completed' AND payload->'raw_ids' @> to_jsonb(%s::bigint)",
        (run_id, int(raw_id)),
    )
    assert processed_by == 1
    await page.reload()
    await expect(page.get_by_test_id("raw-status")).to_have_text(re.compile("transformed|loaded"))
    await page.context.close()


async def test_another_tenant_sees_none_of_wex(
    browser: Any, product: Product, wex_synced: int
) -> None:
    wex_jobs = set(product.chain["WEX"].values())
    wex_runs = [
        r
        for (r,) in owner_rows(
            product, "SELECT id FROM etl_runs WHERE tenant_id = %s", (product.tenant_ids["WEX"],)
        )
    ]
    wex_raw_ids = {
        str(r)
        for (r,) in owner_rows(
            product,
            "SELECT id FROM raw_extraction_data WHERE tenant_id = %s",
            (product.tenant_ids["WEX"],),
        )
    }
    wex_raw = max(wex_raw_ids, key=int)
    page = await log_in(browser, product, product.apple)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pipeline")
    for job_id in product.chain["Apple"].values():
        await expect(page.locator(f"#job-card-{job_id}")).to_be_visible()
    for job_id in wex_jobs:
        await expect(page.locator(f"#job-card-{job_id}")).to_have_count(0)
    # Apple syncs the same sandbox: its own runs, lines and records, beside WEX's.
    card = page.locator(f"#job-card-{product.chain['Apple']['jira']}")
    await card.get_by_role("button", name="Force start").click()
    await expect(card.get_by_test_id("run-status")).to_have_text("run finished", timeout=60_000)
    text = await page.locator("main").inner_text()
    assert "wex" not in text.lower()
    for run_id in wex_runs:
        assert not re.search(rf"\bRun {run_id}\b", text), (run_id, text)
    await screenshot(page, "tenant-apple-pipeline")

    await page.goto("/logs")
    await expect(page.locator("#log-lines tr").first).to_be_visible()
    run_links = await page.locator("#log-lines a").all_inner_texts()
    assert run_links and not set(run_links) & {str(r) for r in wex_runs}, run_links
    assert "wex" not in (await page.locator("main").inner_text()).lower()
    await page.goto(f"/logs?run={wex_runs[0]}")
    await expect(page.locator("#log-lines tr")).to_have_count(0)

    await page.goto("/raw")
    await expect(page.locator("#raw-results tbody tr").first).to_be_visible()
    raw_ids = await page.locator("#raw-results tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.rawId)"
    )
    assert raw_ids and not set(raw_ids) & wex_raw_ids, raw_ids
    await screenshot(page, "tenant-apple-raw")

    wex_addresses = (
        f"/pipeline/jobs/{min(wex_jobs)}/card",
        f"/raw/{wex_raw}",
        f"/runs/{wex_runs[0]}",
        f"/api/v1/runs/{wex_runs[0]}",
        f"/api/v1/jobs/{min(wex_jobs)}",
        f"/api/v1/raw/{wex_raw}",
    )
    for path in wex_addresses:
        response = await page.goto(path)
        assert response is not None and response.status == 404, (path, response and response.status)
    await screenshot(page, "tenant-apple-404")
    await page.context.close()
    # The same addresses answer WEX's operator: the 404s above are the tenant boundary.
    wex = await log_in(browser, product, product.operator)
    for path in wex_addresses:
        response = await wex.goto(path)
        assert response is not None and response.status == 200, path
    await wex.context.close()


UNLABELLED_INPUTS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.title)
  .map(el => el.outerHTML)
"""


async def test_pages_fit_a_phone_and_label_every_input(
    browser: Any, product: Product, wex_synced: int
) -> None:
    page = await log_in(browser, product, product.operator, width=375)
    [(raw_id,)] = owner_rows(
        product,
        "SELECT max(id) FROM raw_extraction_data WHERE tenant_id = %s",
        (product.tenant_ids["WEX"],),
    )
    console = Console(page)
    for path, name in (
        ("/", "pipeline"),
        (f"/runs/{wex_synced}", "run"),
        ("/integrations", "integrations"),
        ("/logs", "logs"),
        ("/queue", "queue"),
        ("/raw", "raw"),
        (f"/raw/{raw_id}", "raw-record"),
        ("/search?q=login", "search"),
        ("/metrics/flow", "flow"),
        ("/settings", "settings"),
    ):
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        await screenshot(page, f"mobile-{name}")
        assert width <= 375 + 1, f"{path} scrolls sideways at 375 px: {width} px wide"
        unlabelled = await page.evaluate(UNLABELLED_INPUTS)
        assert unlabelled == [], f"{path} has inputs without a label: {unlabelled}"
    assert console.errors == [], console.errors
    signed_out = await browser.new_context(
        base_url=product.base_url, viewport={"width": 375, "height": 800}
    )
    login = await signed_out.new_page()
    await login.goto("/login")
    assert await login.evaluate("document.documentElement.scrollWidth") <= 376
    assert await login.evaluate(UNLABELLED_INPUTS) == []
    await screenshot(login, "mobile-login")
    await signed_out.close()
    await page.context.close()
