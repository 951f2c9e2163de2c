"""The settings page: values for everyone, a validated form for admins."""

from __future__ import annotations

import re

from tests.integration.test_web_harness import (
    ClientFactory,
    World,
    owner_rows,
    web,
    web_db_url,
    world,
)
from tests.page_clients import signed_in

__all__ = ["web", "web_db_url", "world"]

HTMX = {"HX-Request": "true"}


def setting(world: World, tenant: str, key: str) -> object:
    rows = owner_rows(
        world.url,
        "SELECT setting_value FROM system_settings WHERE tenant_id = %s AND setting_key = %s",
        (world.tenant_ids[tenant], key),
    )
    return rows[0][0] if rows else None


def form_of(page: str) -> dict[str, str]:
    """The settings form's current values, as a browser would submit them."""
    values = dict(re.findall(r'name="(\w+)" type="number" value="([^"]*)"', page))
    for name, body in re.findall(
        r'<select id="[^"]+" name="(\w+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="(\w+)" selected>', body)
        assert chosen is not None
        values[name] = chosen[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return values | {"csrf_token": token[1]}


async def test_viewers_and_operators_read_admins_get_the_form(
    world: World, web: ClientFactory
) -> None:
    for role in ("viewer", "operator"):
        reader = await signed_in(web, world.account("WEX", role).email)
        page = await reader.get("/settings")
        assert page.status_code == 200
        assert page.text.count("<h1>") == 1
        row = re.search(
            r'<tr id="setting-orchestrator-interval-minutes">(.*?)</tr>', page.text, re.S
        )
        assert row is not None
        assert "Sync interval" in row[1] and ">60 minutes<" in row[1]
        assert (
            "Minutes between two scheduled syncs · 1 to 10080 minutes · default 60 minutes"
            in row[1]
        )
        assert '<form id="settings-form"' not in page.text
        assert 'type="number"' not in page.text and "<select" not in page.text
        assert "an admin can change them" in page.text
        refused = await reader.post("/settings", data={"max_retries": "3"})
        assert refused.status_code == 403
    admin = await signed_in(web, world.account("WEX", "admin").email)
    page = await admin.get("/settings")
    assert '<form id="settings-form"' in page.text
    assert re.search(
        r'<label for="setting-max-retries">Maximum retries</label>\s*<input id="setting-max-retries" '
        r'name="max_retries" type="number" value="5" required min="0" max="20"',
        page.text,
    )
    assert (
        'name="global_pause"' in page.text
        and '<option value="false" selected>Off</option>' in page.text
    )
    assert setting(world, "WEX", "max_retries") == 5


async def test_bad_values_are_all_reported_and_nothing_is_saved(
    world: World, web: ClientFactory
) -> None:
    admin = await signed_in(web, world.account("Apple", "admin").email)
    values = form_of((await admin.get("/settings")).text)
    bad = {
        **values,
        "max_retries": "21",
        "retention_days": "lots",
        "extract_page_size": "50",
        "global_pause": "maybe",
    }
    response = await admin.post("/settings", data=bad, headers=HTMX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="settings-form"')
    assert "Nothing was saved" in response.text
    for field, message in (
        ("max-retries", "Maximum retries must be an integer from 0 to 20, got &#39;21&#39;"),
        ("retention-days", "Retention must be an integer from 1 to 3650, got &#39;lots&#39;"),
        ("global-pause", "Pause the queue must be true or false, got &#39;maybe&#39;"),
    ):
        assert (
            f'<span class="field-error" id="setting-{field}-error">{message}</span>'
            in response.text
        )
        assert re.search(rf'id="setting-{field}"[^>]*aria-invalid="true"', response.text), field
    assert 'value="lots"' in response.text  # what was typed stays to be corrected
    assert not re.search(r'id="setting-extract-page-size"[^>]*aria-invalid', response.text)
    assert setting(world, "Apple", "max_retries") == 5
    assert setting(world, "Apple", "extract_page_size") == 100
    page = await admin.post("/settings", data={**bad, "max_retries": "-1"})
    assert page.status_code == 422 and "<h1>Settings</h1>" in page.text
    assert setting(world, "Apple", "extract_page_size") == 100


async def test_a_save_changes_the_database_and_confirms_in_the_page(
    world: World, web: ClientFactory
) -> None:
    admin = await signed_in(web, world.account("WEX", "admin").email)
    values = form_of((await admin.get("/settings")).text)
    apple_interval = setting(world, "Apple", "orchestrator_interval_minutes")
    saved = await admin.post(
        "/settings",
        data={**values, "orchestrator_interval_minutes": "30", "global_pause": "true"},
        headers=HTMX,
    )
    assert saved.status_code == 200, saved.text
    assert saved.text.lstrip().startswith('<form id="settings-form"')
    assert "Saved: Sync interval 60 minutes → 30 minutes; Pause the queue off → on" in saved.text
    assert 'name="orchestrator_interval_minutes" type="number" value="30"' in saved.text
    assert "changed by admin@wex.com just now" in saved.text
    assert setting(world, "WEX", "orchestrator_interval_minutes") == 30
    assert setting(world, "WEX", "global_pause") is True
    assert setting(world, "Apple", "orchestrator_interval_minutes") == apple_interval
    again = await admin.post("/settings", data=form_of(saved.text), headers=HTMX)
    assert "Saved: nothing changed" in again.text
    plain = await admin.post(
        "/settings", data={**form_of(saved.text), "global_pause": "false"}, follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/settings"
    assert setting(world, "WEX", "global_pause") is False
    viewer = await signed_in(web, world.account("WEX", "viewer").email)
    assert ">30 minutes<" in (await viewer.get("/settings")).text


async def test_a_save_needs_the_csrf_token(world: World, web: ClientFactory) -> None:
    admin = await signed_in(web, world.account("Apple", "admin").email)
    del admin.headers["X-CSRF-Token"]
    forged = await admin.post("/settings", data={"max_retries": "2"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert setting(world, "Apple", "max_retries") == 5
    signed_out = await web().post("/settings", data={"max_retries": "2"}, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")
