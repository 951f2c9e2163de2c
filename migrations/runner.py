"""Applies, lists, rolls back and drops migrations; serialised by an advisory lock.

Sluice's migrations are the Python files `NNNN_name.py` beside this module, each with
`async def apply(conn)` and, where meaningful, `async def rollback(conn)`. procrastinate's
schema is applied from the SQL it ships: its full schema on a new database (recording
its shipped migrations as the baseline), then any migration a newer release adds.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from psycopg import AsyncConnection

from app.sqlstore import query
from migrations.tenancy import secure_tenant_tables

MIGRATIONS_DIR = Path(__file__).resolve().parent
MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.py$")
SLUICE = "sluice"
PROCRASTINATE = "procrastinate"
# Any fixed 64-bit key: every `sluice migrate` waits for the one holding it.
ADVISORY_LOCK_KEY = 7_357_001_2026

Report = Callable[[str], None]


class MigrationError(Exception):
    """A migration request cannot be carried out."""


@dataclass(frozen=True)
class Migration:
    """One Sluice migration file."""

    number: int
    name: str
    path: Path

    @property
    def version(self) -> str:
        return f"{self.number:04d}"

    def load(self) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"migrations.m{self.version}", self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


@dataclass(frozen=True)
class MigrationStatus:
    """One line of `sluice migrate --status`."""

    component: str
    version: str
    name: str
    applied_at: str | None


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Sluice's migrations in order."""
    found = []
    for path in sorted(directory.iterdir()):
        match = MIGRATION_FILE.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path))
    return found


def procrastinate_migrations() -> list[str]:
    """The names of the SQL migrations that the installed procrastinate ships, in order."""
    from procrastinate.schema import SchemaManager

    return sorted(p.name for p in Path(SchemaManager.get_migrations_path()).glob("*.sql"))


def procrastinate_version() -> str:
    """The installed procrastinate release."""
    from importlib.metadata import version

    return version("procrastinate")


async def _locked(conn: AsyncConnection[Any], work: Callable[[], Awaitable[Any]]) -> Any:
    await conn.execute(query("migration_lock"), {"key": ADVISORY_LOCK_KEY})
    try:
        await conn.execute(query("migration_history_create"))
        return await work()
    finally:
        await conn.execute(query("migration_unlock"), {"key": ADVISORY_LOCK_KEY})


async def _applied(conn: AsyncConnection[Any], component: str) -> dict[str, str]:
    cur = await conn.execute(query("migration_history_list"), {"component": component})
    return {row["version"]: str(row["applied_at"]) for row in await cur.fetchall()}


async def apply_all(conn: AsyncConnection[Any], report: Report = print) -> int:
    """Apply every pending migration; return how many were applied. `conn` is autocommit."""

    async def work() -> int:
        count = 0
        done = await _applied(conn, SLUICE)
        for migration in discover():
            if migration.version in done:
                continue
            module = migration.load()
            async with conn.transaction():
                notices = await module.apply(conn)
                await conn.execute("RESET ROLE")
                await secure_tenant_tables(conn)
                await conn.execute(
                    query("migration_history_insert"),
                    {"component": SLUICE, "version": migration.version, "name": migration.name},
                )
            report(f"applied {migration.version}_{migration.name}")
            for notice in notices or []:
                report(f"  {notice}")
            count += 1
        return count + await _apply_procrastinate(conn, report)

    return int(await _locked(conn, work))


async def _apply_procrastinate(conn: AsyncConnection[Any], report: Report) -> int:
    from procrastinate.schema import SchemaManager

    shipped = procrastinate_migrations()
    done = await _applied(conn, PROCRASTINATE)
    if not done:
        async with conn.transaction():
            cur = await conn.execute(query("procrastinate_schema_exists"))
            row = await cur.fetchone()
            if not (row and row["present"]):
                await conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
            for name in shipped:
                await conn.execute(
                    query("migration_history_insert"),
                    {"component": PROCRASTINATE, "version": name, "name": "baseline"},
                )
        report(f"applied procrastinate schema ({len(shipped)} shipped migrations as baseline)")
        return 1
    count = 0
    for name in shipped:
        if name in done:
            continue
        text = (Path(SchemaManager.get_migrations_path()) / name).read_text()
        async with conn.transaction():
            await conn.execute(text)  # type: ignore[arg-type]
            await conn.execute(
                query("migration_history_insert"),
                {"component": PROCRASTINATE, "version": name, "name": "migration"},
            )
        report(f"applied procrastinate migration {name}")
        count += 1
    return count


async def status(conn: AsyncConnection[Any]) -> list[MigrationStatus]:
    """Every known migration with the time it was applied (None when pending)."""

    async def work() -> list[MigrationStatus]:
        done = await _applied(conn, SLUICE)
        lines = [
            MigrationStatus(SLUICE, m.version, m.name, done.get(m.version)) for m in discover()
        ]
        proc_done = await _applied(conn, PROCRASTINATE)
        shipped = procrastinate_migrations()
        applied = [proc_done[name] for name in shipped if name in proc_done]
        complete = len(applied) == len(shipped)
        lines.append(
            MigrationStatus(
                PROCRASTINATE,
                procrastinate_version(),
                f"schema ({len(applied)}/{len(shipped)} migrations)",
                max(applied) if complete and applied else None,
            )
        )
        return lines

    result: list[MigrationStatus] = await _locked(conn, work)
    return result


async def rollback_to(conn: AsyncConnection[Any], target: int, report: Report = print) -> int:
    """Roll back every applied Sluice migration numbered above `target`."""
    known = {m.number: m for m in discover()}
    if target != 0 and target not in known:
        numbers = ", ".join(f"{n:04d}" for n in sorted(known))
        raise MigrationError(
            f"unknown migration number {target}: use 0 (before all) or one of {numbers}"
        )

    async def work() -> int:
        done = await _applied(conn, SLUICE)
        count = 0
        for migration in sorted(known.values(), key=lambda m: -m.number):
            if migration.number <= target or migration.version not in done:
                continue
            module = migration.load()
            if not hasattr(module, "rollback"):
                raise MigrationError(f"migration {migration.version} cannot be rolled back")
            async with conn.transaction():
                await module.rollback(conn)
                await conn.execute(
                    query("migration_history_delete"),
                    {"component": SLUICE, "version": migration.version},
                )
            report(f"rolled back {migration.version}_{migration.name}")
            count += 1
        return count

    return int(await _locked(conn, work))


async def drop_all(conn: AsyncConnection[Any], report: Report = print) -> None:
    """Drop every object in the schema (Sluice's and procrastinate's): a disposable database."""

    async def work() -> None:
        async with conn.transaction():
            await conn.execute(query("schema_drop_all"))
            await conn.execute(query("schema_create"))
        report("dropped every table, view and function; run `sluice migrate` to rebuild")

    await conn.execute(query("migration_lock"), {"key": ADVISORY_LOCK_KEY})
    try:
        await work()
    finally:
        await conn.execute(query("migration_unlock"), {"key": ADVISORY_LOCK_KEY})
