"""Per-tenant dynamic settings: a typed schema, validated changes, and change notifications.

Settings live in `system_settings` (one row per tenant and key, the value as JSON). Every
process reads them when it needs them; `update_settings` validates a change, writes it with
who made it, re-times chain jobs waiting on a changed interval, writes a job_logs line and
sends `NOTIFY sluice_settings` ({"tenant_id": …, "keys": […]}), all in the caller's
transaction, so listeners hear of a change only once it is committed. `SettingsWatcher`
is the listening side: long-running processes (a worker dedicated to a tenant, the
scheduler) apply a change without a restart.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from psycopg.types.json import Jsonb

from app.db import Connection, DatabaseUnavailableError, connect
from app.events import job_log, publish
from app.sqlstore import query

SETTINGS_CHANNEL = "sluice_settings"
log = structlog.get_logger("sluice.settings")


class SettingsError(ValueError):
    """A settings change is refused; the message says which value and what is allowed.

    `problems` holds each refused key's own message (empty when no key is to blame)."""

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


@dataclass(frozen=True)
class SettingSpec:
    """One known setting: its type, bounds, default and meaning."""

    kind: str  # "integer" or "boolean"
    default: int | bool
    description: str
    minimum: int | None = None
    maximum: int | None = None
    label: str = ""
    unit: str = ""  # what an integer counts: "minutes", "records", …

    def rule(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.kind == "boolean":
            return "true or false"
        return f"an integer from {self.minimum} to {self.maximum}"


SETTINGS: dict[str, SettingSpec] = {
    "orchestrator_interval_minutes": SettingSpec(
        "integer",
        60,
        "Minutes between two scheduled syncs",
        1,
        10_080,
        label="Sync interval",
        unit="minutes",
    ),
    "orchestrator_retry_interval_minutes": SettingSpec(
        "integer",
        15,
        "Minutes before a failed sync retries",
        1,
        1_440,
        label="Retry interval",
        unit="minutes",
    ),
    "orchestrator_enabled": SettingSpec(
        "boolean", True, "Run scheduled syncs for this tenant", label="Scheduled syncs"
    ),
    "extract_page_size": SettingSpec(
        "integer",
        100,
        "Records per API page when extracting",
        1,
        100,
        label="Extract page size",
        unit="records",
    ),
    "transform_batch_size": SettingSpec(
        "integer",
        500,
        "Raw records per transform job",
        1,
        10_000,
        label="Transform batch size",
        unit="raw records",
    ),
    "load_batch_size": SettingSpec(
        "integer",
        1000,
        "Records per bulk upsert",
        1,
        50_000,
        label="Load batch size",
        unit="records",
    ),
    "max_retries": SettingSpec(
        "integer",
        5,
        "Attempts before a queue job is dead-lettered; failed runs in a row before a chain "
        "job is set aside (FAILED)",
        0,
        20,
        label="Maximum retries",
        unit="attempts",
    ),
    "retention_days": SettingSpec(
        "integer",
        30,
        "Days to keep finished queue jobs and processed raw rows",
        1,
        3_650,
        label="Retention",
        unit="days",
    ),
    "worker_concurrency": SettingSpec(
        "integer",
        4,
        "Concurrent jobs a worker runs for this tenant",
        1,
        256,
        label="Worker concurrency",
        unit="jobs",
    ),
    "global_pause": SettingSpec(
        "boolean", False, "Stop claiming this tenant's queue jobs", label="Pause the queue"
    ),
}

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
# Changing one of these re-times the chain jobs waiting on it.
_WAIT_REASONS = {
    "orchestrator_interval_minutes": "interval",
    "orchestrator_retry_interval_minutes": "retry",
}


def parse_value(key: str, raw: object) -> int | bool:
    """The typed value for a known key, from JSON or form text, or a SettingsError."""
    spec = SETTINGS.get(key)
    if spec is None:
        raise SettingsError(f"unknown setting {key!r}: known settings are {', '.join(SETTINGS)}")
    problem = SettingsError(f"{key} must be {spec.rule()}, got {raw!r}")
    if spec.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise problem
    if isinstance(raw, bool):
        raise problem
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().lstrip("+-").isdigit():
        value = int(raw.strip())
    else:
        raise problem
    assert spec.minimum is not None and spec.maximum is not None
    if not spec.minimum <= value <= spec.maximum:
        raise problem
    return value


def validate_changes(changes: Mapping[str, object]) -> dict[str, int | bool]:
    """Every change typed and checked; all problems are reported together."""
    if not changes:
        raise SettingsError("no setting to change")
    typed: dict[str, int | bool] = {}
    problems: dict[str, str] = {}
    for key, raw in changes.items():
        try:
            typed[key] = parse_value(key, raw)
        except SettingsError as exc:
            problems[key] = str(exc)
    if problems:
        raise SettingsError("; ".join(problems.values()), problems)
    return typed


def typed_settings(stored: Mapping[str, object]) -> dict[str, int | bool]:
    """Stored values typed, with the default for a key that is missing or unreadable."""
    result: dict[str, int | bool] = {}
    for key, spec in SETTINGS.items():
        if key not in stored:
            result[key] = spec.default
            continue
        try:
            result[key] = parse_value(key, stored[key])
        except SettingsError as exc:
            log.warning("stored setting is invalid; using its default", error=str(exc))
            result[key] = spec.default
    return result


async def get_settings(conn: Connection, tenant_id: int) -> dict[str, int | bool]:
    """The tenant's settings, every known key present and typed."""
    cur = await conn.execute(query("settings_list"), {"tenant_id": tenant_id})
    return typed_settings(
        {row["setting_key"]: row["setting_value"] for row in await cur.fetchall()}
    )


async def list_settings(conn: Connection, tenant_id: int) -> list[dict[str, Any]]:
    """Each known setting with its value, bounds, meaning and last change (for a settings page)."""
    cur = await conn.execute(query("settings_list"), {"tenant_id": tenant_id})
    rows = {row["setting_key"]: row for row in await cur.fetchall()}
    values = typed_settings({key: row["setting_value"] for key, row in rows.items()})
    return [
        {
            "key": key,
            "value": values[key],
            "type": spec.kind,
            "minimum": spec.minimum,
            "maximum": spec.maximum,
            "default": spec.default,
            "description": spec.description,
            "label": spec.label,
            "unit": spec.unit,
            "updated_at": rows[key]["updated_at"] if key in rows else None,
            "updated_by": rows[key]["updated_by"] if key in rows else None,
        }
        for key, spec in SETTINGS.items()
    ]


async def update_settings(
    conn: Connection, tenant_id: int, changes: Mapping[str, object], actor: str
) -> dict[str, int | bool]:
    """Validate and write changes in the caller's transaction; returns all settings after it.

    Nothing is written when any value is invalid. Only keys whose value differs are written,
    logged and announced on `sluice_settings`."""
    typed = validate_changes(changes)
    before = await get_settings(conn, tenant_id)
    cur = await conn.execute(
        query("settings_upsert"),
        {
            "tenant_id": tenant_id,
            "actor": actor,
            "changes": Jsonb(
                [
                    {
                        "key": key,
                        "value": value,
                        "type": SETTINGS[key].kind,
                        "description": SETTINGS[key].description,
                    }
                    for key, value in typed.items()
                ]
            ),
        },
    )
    changed = sorted(row["setting_key"] for row in await cur.fetchall())
    if not changed:
        return before
    for key in changed:
        reason = _WAIT_REASONS.get(key)
        if reason is not None:
            await conn.execute(
                query("settings_retime_waiting_jobs"),
                {"tenant_id": tenant_id, "reason": reason, "minutes": typed[key]},
            )
    summary = ", ".join(f"{key} {before[key]!r} → {typed[key]!r}" for key in changed)
    await job_log(
        conn,
        tenant_id,
        "info",
        f"settings changed by {actor}: {summary}",
        actor=actor,
        context={"settings": {key: typed[key] for key in changed}},
    )
    await conn.execute(
        query("settings_notify"),
        {"payload": json.dumps({"tenant_id": tenant_id, "keys": changed})},
    )
    await publish(conn, tenant_id, "settings", keys=changed)
    return {**before, **{key: typed[key] for key in changed}}


@dataclass(frozen=True)
class SettingsChange:
    """A tenant's settings after a change (or at start), and which keys changed."""

    tenant_id: int
    keys: tuple[str, ...]
    values: dict[str, int | bool]


SettingsCallback = Callable[[SettingsChange], Awaitable[None] | None]


class SettingsWatcher:
    """LISTEN on sluice_settings and hand each committed change to a callback.

    With `tenant_id`, only that tenant's changes are delivered, and its current settings are
    delivered once at start (and again after a lost connection, since a change may have been
    missed meanwhile). `ready` is set once the watcher listens."""

    def __init__(
        self,
        url: str,
        on_change: SettingsCallback,
        *,
        tenant_id: int | None = None,
        max_backoff: float = 5.0,
    ) -> None:
        self.url = url
        self.on_change = on_change
        self.tenant_id = tenant_id
        self.max_backoff = max_backoff
        self.ready = asyncio.Event()

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after a lost connection."""
        delay = 0.2
        while True:
            listener: Connection | None = None
            reader: Connection | None = None
            try:
                listener = await connect(self.url, autocommit=True)
                await listener.execute(f"LISTEN {SETTINGS_CHANNEL}")
                reader = await connect(self.url, autocommit=True)
                await reader.execute("SET ROLE sluice_system")
                if self.tenant_id is not None:
                    await self._deliver(reader, self.tenant_id, tuple(SETTINGS))
                self.ready.set()
                delay = 0.2
                async for note in listener.notifies():
                    parsed = _parse_payload(note.payload)
                    if parsed is None:
                        continue
                    tenant_id, keys = parsed
                    if self.tenant_id is None or tenant_id == self.tenant_id:
                        await self._deliver(reader, tenant_id, keys)
            except (psycopg.OperationalError, OSError, DatabaseUnavailableError) as exc:
                log.warning("settings listener lost its connection", error=str(exc))
                self.ready.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            finally:
                for conn in (listener, reader):
                    if conn is not None:
                        await conn.close()

    async def _deliver(self, reader: Connection, tenant_id: int, keys: tuple[str, ...]) -> None:
        values = await get_settings(reader, tenant_id)
        try:
            result = self.on_change(SettingsChange(tenant_id, keys, values))
            if inspect.isawaitable(result):
                await result
        except Exception:  # one bad callback must not end the listening
            log.exception("applying a settings change failed", tenant_id=tenant_id, keys=keys)


def _parse_payload(payload: str) -> tuple[int, tuple[str, ...]] | None:
    try:
        data = json.loads(payload)
        return int(data["tenant_id"]), tuple(str(k) for k in data.get("keys") or ())
    except (ValueError, TypeError, KeyError):
        log.warning("ignoring a malformed settings notification", payload=payload[:200])
        return None
