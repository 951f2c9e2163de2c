"""The tenant's settings: read (any role), change (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel

from app.auth.roles import Role
from app.settings_store import SettingsError, list_settings, update_settings
from app.web.problems import Problem
from app.web.routing import Call, Operation


class SettingOut(BaseModel):
    """One setting with its value, allowed range, default and last change."""

    key: str
    value: int | bool
    type: str
    minimum: int | None
    maximum: int | None
    default: int | bool
    description: str
    updated_at: datetime | None
    updated_by: str | None


class SettingsOut(BaseModel):
    """Every known setting of the tenant."""

    items: list[SettingOut]


class SettingsPatch(RootModel[dict[str, Any]]):
    """Settings to change, by key; every value is checked before any is written."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"orchestrator_interval_minutes": 30}]}
    )


async def get_settings(call: Call) -> SettingsOut:
    """GET /settings."""
    async with call.tenant() as conn:
        rows = await list_settings(conn, call.user.tenant_id)
    return SettingsOut(items=[SettingOut.model_validate(row) for row in rows])


async def patch_settings(call: Call) -> SettingsOut:
    """PATCH /settings."""
    changes = call.body_as(SettingsPatch).root
    async with call.tenant() as conn:
        try:
            await update_settings(conn, call.user.tenant_id, changes, call.user.actor)
        except SettingsError as exc:
            raise Problem(422, str(exc), kind="validation") from None
        rows = await list_settings(conn, call.user.tenant_id)
    return SettingsOut(items=[SettingOut.model_validate(row) for row in rows])


OPERATIONS = [
    Operation(
        "GET",
        "/settings",
        get_settings,
        "getSettings",
        "The tenant's settings",
        "settings",
        response=SettingsOut,
    ),
    Operation(
        "PATCH",
        "/settings",
        patch_settings,
        "updateSettings",
        "Change settings (all values are validated before any is written)",
        "settings",
        role=Role.ADMIN,
        response=SettingsOut,
        body=SettingsPatch,
    ),
]
