"""The settings page: the tenant's orchestrator settings, read by all, changed by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from app.auth.roles import Role
from app.pages.fields import FormState
from app.pages.guard import PageCall, page
from app.pages.render import is_htmx, when
from app.settings_store import SETTINGS, SettingsError, list_settings, update_settings

FORM_ERROR = "_form"  # a refusal that names no setting ("no setting to change")


def shown_value(value: object) -> str:
    """A setting's value as a form shows it ("true"/"false" for a switch)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def readable(setting: dict[str, Any], value: object) -> str:
    """A value for people: "on", "off", "60 minutes"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value} {setting['unit']}".strip()


def hint(setting: dict[str, Any], now: datetime) -> str:
    """What the setting means, what it accepts, its default and its last change."""
    if setting["type"] == "boolean":
        allowed = "on or off"
    else:
        allowed = f"{setting['minimum']} to {setting['maximum']} {setting['unit']}".strip()
    parts = [setting["description"], allowed, f"default {readable(setting, setting['default'])}"]
    if setting["updated_by"]:
        parts.append(f"changed by {setting['updated_by']} {when(setting['updated_at'], now)}")
    return " · ".join(parts)


def _context(
    call: PageCall,
    settings: list[dict[str, Any]],
    form: FormState | None = None,
    notice: str = "",
) -> dict[str, Any]:
    now = call.now()
    for setting in settings:
        setting["hint"] = hint(setting, now)
        setting["shown"] = readable(setting, setting["value"])
    values = {s["key"]: shown_value(s["value"]) for s in settings}
    return {"settings": settings, "form": form or FormState(values), "notice": notice}


@page()
async def settings_page(call: PageCall) -> Response:
    """GET /settings."""
    async with call.tenant() as conn:
        settings = await list_settings(conn, call.user.tenant_id)
    return call.page("settings.html", **_context(call, settings))


def labelled(problems: dict[str, str]) -> dict[str, str]:
    """The store's messages name a setting by its key; next to its field, by its label."""
    return {
        key: SETTINGS[key].label + message.removeprefix(key)
        if key in SETTINGS and message.startswith(key)
        else message
        for key, message in problems.items()
    }


def _answer(call: PageCall, status: int, context: dict[str, Any]) -> Response:
    """The form for htmx; otherwise the page (a refusal) or back to it (a save)."""
    if is_htmx(call.request):
        return call.fragment("_settings_form.html", status, **context)
    if status < 400:
        return call.after_action("/settings")
    return call.page("settings.html", status, **context)


def saved_notice(before: dict[str, Any], settings: list[dict[str, Any]]) -> str:
    """What a save changed, from and to, in people's words."""
    changed = [
        f"{s['label']} {readable(s, before[s['key']])} → {readable(s, s['value'])}"
        for s in settings
        if s["value"] != before[s["key"]]
    ]
    return "Saved: " + ("; ".join(changed) if changed else "nothing changed")


@page(Role.ADMIN)
async def settings_save(call: PageCall) -> Response:
    """POST /settings: every value is checked, and every refusal shown, before any is written."""
    changes = {key: call.form[key] for key in SETTINGS if key in call.form}
    async with call.tenant() as conn:
        current = await list_settings(conn, call.user.tenant_id)
        before = {s["key"]: s["value"] for s in current}
        try:
            await update_settings(conn, call.user.tenant_id, changes, call.user.actor)
        except SettingsError as exc:
            values = {s["key"]: changes.get(s["key"], shown_value(s["value"])) for s in current}
            form = FormState(values, labelled(exc.problems) or {FORM_ERROR: str(exc)})
            return _answer(call, 422, _context(call, current, form))
        settings = await list_settings(conn, call.user.tenant_id)
    return _answer(call, 200, _context(call, settings, notice=saved_notice(before, settings)))


ROUTES = [
    Route("/settings", settings_page, methods=["GET"], name="settings"),
    Route("/settings", settings_save, methods=["POST"], name="settings_save"),
]
