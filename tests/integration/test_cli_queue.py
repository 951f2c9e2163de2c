"""`sluice queue stats` and `sluice worker` argument handling (real CLI)."""

from __future__ import annotations

import json

import psycopg

from tests.conftest import SluiceRunner


def test_queue_stats_reports_counts_dead_letters_and_throughput(
    run_sluice: SluiceRunner, fresh_db_url: str
) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "INSERT INTO etl_job_queue (tenant_id, job_type, status, completed_at, last_error) "
            "SELECT t.id, 'extract', s.status, now(), s.err FROM tenants t, (VALUES "
            "('pending', NULL), ('completed', NULL), ('completed', NULL), "
            "('failed', 'Jira rejected the token (401)')) AS s(status, err) "
            "WHERE t.name = 'Apple'"
        )
    result = run_sluice("queue", "stats", "--json", database_url=fresh_db_url)
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    overview = {(r["tenant"], r["status"]): r["jobs"] for r in stats["overview"]}
    assert overview == {("Apple", "pending"): 1, ("Apple", "completed"): 2, ("Apple", "failed"): 1}
    assert [r["last_error"] for r in stats["failed"]] == ["Jira rejected the token (401)"]
    assert sum(r["completed"] for r in stats["throughput"]) == 2

    table = run_sluice("queue", "stats", database_url=fresh_db_url)
    assert table.returncode == 0
    assert "Apple" in table.stdout and "Dead letters" in table.stdout


def test_worker_refuses_bad_arguments_clearly(run_sluice: SluiceRunner, fresh_db_url: str) -> None:
    bad_stage = run_sluice("worker", "--stages", "extract,nap", database_url=fresh_db_url)
    assert bad_stage.returncode == 2 and "unknown stage(s) nap" in bad_stage.stderr
    bad_tenant = run_sluice(
        "worker",
        "--handlers",
        "tests.queue_handlers:registry",
        "--tenant",
        "Acme",
        database_url=fresh_db_url,
    )
    assert bad_tenant.returncode == 1
    assert "no tenant named 'Acme'; known tenants: WEX, Apple, Google" in bad_tenant.stderr
    bad_handlers = run_sluice("worker", "--handlers", "nowhere.module:x", database_url=fresh_db_url)
    assert bad_handlers.returncode == 2 and "cannot load handlers" in bad_handlers.stderr
    both = run_sluice("worker", "--tenant", "WEX", "--tier", "standard", database_url=fresh_db_url)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    zero = run_sluice("worker", "--concurrency", "0", database_url=fresh_db_url)
    assert zero.returncode == 2 and "0 is not a positive integer" in zero.stderr
