"""Health probes, metrics, security headers and the problem bodies of unknown routes."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from structlog.testing import capture_logs

from app.config import load_settings
from app.web import api_runs
from app.web.app import create_app
from tests.conftest import _drop_database
from tests.integration.test_web_harness import (
    ClientFactory,
    World,
    owner_rows,
    serve,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

METRICS_TOKEN = "m" * 40
SAMPLE = re.compile(r"^([a-z_]+)\{([^}]*)\} (\S+)$")


async def test_healthz_and_readyz_answer_without_login(web: ClientFactory) -> None:
    client = web()
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "migrations": "current"}


async def test_readyz_reports_a_pending_migration(world: World, web: ClientFactory) -> None:
    owner_rows(world.url, "DELETE FROM migration_history WHERE version = '0005'")
    try:
        ready = await web().get("/readyz")
    finally:
        owner_rows(
            world.url,
            "INSERT INTO migration_history (component, version, name) "
            "VALUES ('sluice', '0005', 'raw_data_storage')",
        )
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    body = ready.json()
    assert body["pending"] == ["0005_raw_data_storage"]
    assert "sluice migrate" in body["detail"]


async def test_readyz_reports_an_unreachable_database(
    fresh_db_url: str, server_url: str, tmp_path: Path
) -> None:
    settings = load_settings({"SLUICE_HOME": str(tmp_path), "SLUICE_SECRET_KEY": "s" * 40})
    app = create_app(settings, database_url=fresh_db_url, pool_size=1)
    async with serve(app) as client:
        assert (await client().get("/readyz")).status_code == 200
        _drop_database(server_url, urlsplit(fresh_db_url).path.lstrip("/"))
        ready = await client().get("/readyz")
        assert (await client().get("/healthz")).status_code == 200
    assert ready.status_code == 503
    assert ready.json()["detail"].startswith("the database is not reachable")


async def test_security_headers_on_every_answer(web: ClientFactory) -> None:
    for path in ("/healthz", "/api/v1/runs", "/nowhere"):
        response = await web().get(path)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    api = await web().get("/api/v1/runs")
    assert api.headers["cache-control"] == "no-store"


async def test_unknown_routes_and_methods_are_problem_details(web: ClientFactory) -> None:
    missing = await web().get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404 and missing.json()["title"] == "Not Found"
    wrong = await web().put("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405 and "GET" in wrong.headers["allow"]


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples by metric name; HELP and TYPE lines are checked for every family."""
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not an exposition line: {line!r}"
        name, labels, value = match.groups()
        pairs = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', labels))
        families.setdefault(name, []).append((pairs, float(value)))
    for name in families:
        assert name in typed or name.rsplit("_", 1)[0] in typed, name
    return families


async def test_metrics_need_a_token_and_are_scoped_to_its_tenant(
    world: World, web: ClientFactory
) -> None:
    anonymous = await web().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    response = await web(world.account("WEX", "viewer").token).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = parse_metrics(response.text)
    tenants = {labels["tenant"] for samples in families.values() for labels, _ in samples}
    assert tenants == {"WEX"}
    pending = {
        labels["stage"]: value
        for labels, value in families["sluice_queue_jobs"]
        if labels["status"] == "pending"
    }
    assert pending["extract"] >= 1
    failed = {labels["stage"]: value for labels, value in families["sluice_queue_failed_jobs"]}
    assert failed == {"transform": 1.0}
    ages = [value for _, value in families["sluice_queue_oldest_pending_seconds"]]
    assert ages and all(age >= 0 for age in ages)


async def test_the_metrics_token_sees_every_tenant(world: World, web: ClientFactory) -> None:
    owner_rows(
        world.url,
        "UPDATE etl_runs SET status = 'finished', finished_at = started_at + interval '90 seconds' "
        "WHERE id = %s AND tenant_id = %s",
        (world.ids["Apple"]["run_id"], world.tenant_ids["Apple"]),
    )
    response = await web(METRICS_TOKEN).get("/metrics")
    assert response.status_code == 200
    families = parse_metrics(response.text)
    tenants = {labels["tenant"] for labels, _ in families["sluice_queue_jobs"]}
    assert {"WEX", "Apple"} <= tenants
    count = {
        labels["tenant"]: v for labels, v in families.get("sluice_run_duration_seconds_count", [])
    }
    assert count["Apple"] == 1
    median = [
        v
        for labels, v in families["sluice_run_duration_seconds"]
        if labels == {"tenant": "Apple", "quantile": "0.5"}
    ]
    assert median == [90.0]
    wrong = await web("m" * 39 + "x").get("/metrics")
    assert wrong.status_code == 401


async def test_an_unexpected_error_is_a_500_problem_without_internals(
    world: World, web: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("internal detail 7f3a")

    monkeypatch.setattr(api_runs, "run_detail", broken)
    with capture_logs() as logs:
        response = await web(world.account("WEX", "viewer").token).get("/api/v1/runs/1")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "7f3a" not in response.text and "Traceback" not in response.text
    assert response.json()["detail"].startswith("the server failed")
    errors = [e for e in logs if e["event"] == "unhandled error"]
    assert errors and errors[0]["error_type"] == "RuntimeError"


async def test_pages_get_a_csrf_cookie_and_probes_do_not(web: ClientFactory) -> None:
    page = await web().get("/")
    assert page.cookies.get("sluice_csrf")
    for path in ("/healthz", "/api/v1/runs", "/metrics"):
        assert "sluice_csrf" not in (await web().get(path)).cookies, path


async def test_head_requests_and_out_of_range_ids(world: World, web: ClientFactory) -> None:
    viewer = web(world.account("WEX", "viewer").token)
    head = await viewer.head("/api/v1/runs")
    assert head.status_code == 200 and head.content == b""
    for run_id in ("0", "99999999999999999999"):
        response = await viewer.get(f"/api/v1/runs/{run_id}")
        assert response.status_code == 404, run_id
        assert response.headers["content-type"] == "application/problem+json"
    assert (await viewer.get("/api/v1/runs/abc")).status_code == 404
