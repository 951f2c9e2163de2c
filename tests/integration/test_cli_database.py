"""The real `sluice` CLI against real databases (tier 3)."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.conftest import SluiceRunner


def test_migrate_applies_everything_and_status_lists_it(
    run_sluice: SluiceRunner, empty_db_url: str
) -> None:
    result = run_sluice(
        "migrate", database_url=empty_db_url, env={"SLUICE_ADMIN_PASSWORD": "correct horse battery"}
    )
    assert result.returncode == 0, result.stderr
    assert "applied 0001_initial_db_schema" in result.stdout
    assert "procrastinate schema" in result.stdout
    assert "correct horse battery" not in result.stdout + result.stderr
    status = run_sluice("migrate", "--status", database_url=empty_db_url)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert [line.split()[1] for line in lines[:5]] == ["0001", "0002", "0003", "0004", "0005"]
    assert lines[5].startswith("procrastinate")
    assert all("pending" not in line for line in lines)


def test_generated_admin_password_is_shown_once_and_works(
    run_sluice: SluiceRunner, empty_db_url: str
) -> None:
    from app.passwords import verify_password

    result = run_sluice("migrate", database_url=empty_db_url)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "WEX admin" in x)
    password = line.split("password ")[1].split(" ")[0]
    with psycopg.connect(empty_db_url) as conn:
        row = conn.execute(
            "SELECT password_hash FROM users WHERE email = 'admin@wex.com'"
        ).fetchone()
    assert row is not None and verify_password(row[0], password)
    again = run_sluice("migrate", database_url=empty_db_url)
    assert password not in again.stdout
    assert "database is up to date" in again.stdout


def test_two_concurrent_migrations_both_succeed_and_apply_once(
    run_sluice: SluiceRunner, empty_db_url: str
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run_sluice("migrate", database_url=empty_db_url), [1, 2]))
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    with psycopg.connect(empty_db_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM migration_history WHERE component = 'sluice'), "
            "(SELECT count(*) FROM tenants)"
        ).fetchone()
    assert counts == (5, 3)


def test_drop_all_then_apply_all_rebuilds(run_sluice: SluiceRunner, fresh_db_url: str) -> None:
    dropped = run_sluice("migrate", "--drop-all", database_url=fresh_db_url)
    assert dropped.returncode == 0, dropped.stderr
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute("SELECT to_regclass('tenants'), to_regclass('procrastinate_jobs')")
        assert row.fetchone() == (None, None)
    rebuilt = run_sluice("migrate", "--apply-all", database_url=fresh_db_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (3,)


def test_db_url_prints_the_database_url_in_use(run_sluice: SluiceRunner, fresh_db_url: str) -> None:
    result = run_sluice("db", "url", database_url=fresh_db_url)
    assert result.returncode == 0
    assert result.stdout.strip() == fresh_db_url


@pytest.mark.slow
def test_embedded_server_from_empty_home_serves_psql(run_sluice: SluiceRunner) -> None:
    psql = shutil.which("psql")
    try:
        migrated = run_sluice("migrate", env={"SLUICE_ADMIN_PASSWORD": "pw-for-test-only"})
        assert migrated.returncode == 0, migrated.stderr
        url = run_sluice("db", "url").stdout.strip()
        assert url.startswith("postgresql://")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (3,)
        if psql:
            out = subprocess.run(
                [psql, url, "-Atc", "SELECT string_agg(name, ',' ORDER BY id) FROM tenants"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert out.stdout.strip() == "WEX,Apple,Google"
        status = run_sluice("migrate", "--status")
        assert status.returncode == 0 and "pending" not in status.stdout
    finally:
        stopped = run_sluice("db", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout


def test_bad_input_gets_a_clear_message(run_sluice: SluiceRunner, fresh_db_url: str) -> None:
    unknown = run_sluice("migrate", "--rollback-to", "42", database_url=fresh_db_url)
    assert unknown.returncode == 1
    assert "unknown migration number 42" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    flag = run_sluice("migrate", "--frobnicate", database_url=fresh_db_url)
    assert flag.returncode == 2
    assert "unrecognized arguments: --frobnicate" in flag.stderr

    unreachable = run_sluice(
        "migrate", database_url="postgresql://sluice:hunter2secret@127.0.0.1:9/nowhere"
    )
    assert unreachable.returncode == 1
    assert "cannot connect to PostgreSQL at postgresql://sluice:***@127.0.0.1:9/nowhere" in (
        unreachable.stderr
    )
    assert "hunter2secret" not in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
