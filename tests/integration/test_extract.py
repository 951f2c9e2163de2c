"""Extraction from the sandbox Jira and GitHub over real HTTP into real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from app.sandbox import SandboxDataset, SandboxServers
from app.services import Services, open_services
from tests.conftest import ROOT
from tests.pipeline import (
    add_sandbox_integrations,
    now,
    open_jobs,
    running_worker,
    sandbox_settings,
    scalar,
    sync,
    wait_until,
)

EXTRACT = ("extract",)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(sandbox_settings(tmp_path)) as opened:
        yield opened


def raw_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT entity_type, count(DISTINCT external_id) FROM raw_extraction_data GROUP BY 1"
        ).fetchall()
    return dict(rows)


async def extract_all(url: str, services: Services, timeout: float = 120, **config: object) -> None:
    async with running_worker(url, services, stages=EXTRACT, concurrency=4, **config) as worker:
        await wait_until(lambda: open_jobs(url, EXTRACT) == 0, timeout, "extraction to finish")
        assert not worker.stopping.is_set()


async def test_full_sync_stores_everything_the_sandbox_has(
    fresh_db_url: str, services: Services
) -> None:
    with SandboxServers(SandboxDataset(issues=600, repos=4, pull_requests=150)) as sandbox:
        data = sandbox.dataset
        await add_sandbox_integrations(fresh_db_url, services, sandbox)
        await sync(fresh_db_url)
        await extract_all(fresh_db_url, services)
    with_dev = sum(1 for i in range(data.issue_count) if data.dev_status(i))
    assert raw_counts(fresh_db_url) == {
        "jira_issue": 600,
        "jira_project": len(data.projects()),
        "jira_status": len(data.statuses()),
        "jira_dev_status": with_dev,
        "github_repository": 4,
        "github_pull_request": 150,
    }
    # Every changelog history, including those beyond the 40 embedded in search results.
    histories = scalar(
        fresh_db_url,
        "SELECT sum(jsonb_array_length(raw_data->'changelog'->'histories')) "
        "FROM raw_extraction_data WHERE entity_type = 'jira_issue'",
    )
    assert histories == sum(data.changelog_total(i) for i in range(600))
    assert any(data.changelog_total(i) > 40 for i in range(600))
    pulls = [p for r in data.repositories() for p in data.pull_requests(r.full_name)]
    for field, expected in (
        ("commits", sum(p.commit_count for p in pulls)),
        ("reviews", sum(p.review_count for p in pulls)),
        ("comments", sum(p.comment_count for p in pulls)),
    ):
        stored = scalar(
            fresh_db_url,
            "SELECT sum(jsonb_array_length(raw_data->%s->'nodes')) "
            "FROM raw_extraction_data WHERE entity_type = 'github_pull_request'",
            (field,),
        )
        assert stored == expected, field
    assert any(p.commit_count > 25 for p in pulls)  # nested paging was needed
    # Each page handed its raw rows to a transform job in the same transaction.
    handed = scalar(
        fresh_db_url,
        "SELECT sum(jsonb_array_length(payload->'raw_ids')) "
        "FROM etl_job_queue WHERE job_type = 'transform'",
    )
    assert handed == scalar(fresh_db_url, "SELECT count(*) FROM raw_extraction_data")


async def test_incremental_sync_fetches_only_changed_issues(
    fresh_db_url: str, services: Services
) -> None:
    with SandboxServers(SandboxDataset(issues=400, repos=2, pull_requests=20)) as sandbox:
        ids = await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("jira",))
        await sync(fresh_db_url)
        await extract_all(fresh_db_url, services)
        first = scalar(
            fresh_db_url,
            "SELECT count(*) FROM raw_extraction_data WHERE entity_type = 'jira_issue'",
        )
        touched = sandbox.dataset.touch([3, 17, 42, 399], at=now())
        sandbox.jira_app.state.traffic.reset()
        await sync(fresh_db_url, integration_id=ids["jira"])
        await extract_all(fresh_db_url, services)
        traffic = sandbox.jira_app.state.traffic
        # One page per project (issues are extracted per project): just the changes.
        assert traffic.count("/rest/api/3/search/jql") == len(sandbox.dataset.projects())
        assert traffic.count("/rest/api/3/issue/") <= 4  # changelog pages of touched issues only
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute(
            "SELECT external_id, raw_data->'fields'->>'summary' FROM raw_extraction_data "
            "WHERE entity_type = 'jira_issue' ORDER BY id OFFSET %s",
            (first,),
        ).fetchall()
    assert sorted(key for key, _ in rows) == sorted(touched)
    assert all(summary.endswith("(rev 1)") for _, summary in rows)


@pytest.mark.slow
async def test_sigkilled_extraction_resumes_from_its_checkpoint(
    fresh_db_url: str, services: Services, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": fresh_db_url,
        "SLUICE_HOME": str(tmp_path / "home"),
        "SLUICE_SECRET_KEY": "t" * 40,
        "SLUICE_LOG_FORMAT": "json",
    }
    cmd = [
        sys.executable,
        "-m",
        "app.cli.main",
        "worker",
        "--stages",
        "extract",
        "--concurrency",
        "1",
        "--stall-timeout",
        "1",
        "--heartbeat-interval",
        "0.3",
    ]
    with SandboxServers(
        SandboxDataset(issues=3000, repos=1, pull_requests=5), faults="slow=1.0:0.05"
    ) as sandbox:
        ids = await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("jira",))
        await sync(fresh_db_url, integration_id=ids["jira"])
        kills = 0
        for _ in range(2):
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            target = 600 * (kills + 1)
            await wait_until(
                lambda t=target: (
                    scalar(  # type: ignore[misc]
                        fresh_db_url,
                        "SELECT count(*) FROM raw_extraction_data WHERE entity_type = 'jira_issue'",
                    )
                    >= t
                ),
                90,
                f"{target} issues stored",
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
        pages_before_restart = sandbox.jira_app.state.traffic.count("/rest/api/3/search/jql")
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await wait_until(lambda: open_jobs(fresh_db_url, EXTRACT) == 0, 120, "the resumed sync")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        pages_total = sandbox.jira_app.state.traffic.count("/rest/api/3/search/jql")
    distinct, total = (
        scalar(
            fresh_db_url,
            "SELECT count(DISTINCT external_id) FROM raw_extraction_data "
            "WHERE entity_type = 'jira_issue'",
        ),
        scalar(
            fresh_db_url,
            "SELECT count(*) FROM raw_extraction_data WHERE entity_type = 'jira_issue'",
        ),
    )
    assert distinct == 3000
    assert total == 3000  # a killed page's transaction rolled back: nothing doubled
    # Pages are up to 100 issues (fewer when changelogs are long); each kill re-fetches at
    # most the page that was in flight.
    committed_pages = scalar(
        fresh_db_url,
        "SELECT sum((progress->>'pages')::int) FROM etl_job_queue WHERE entity_type = 'jira_issue'",
    )
    assert pages_total <= committed_pages + kills
    assert pages_before_restart >= 1


async def test_faults_are_survived_with_exact_counts(fresh_db_url: str, services: Services) -> None:
    faults = "5xx=0.10,429=0.05,retry_after=1,seed=11"
    with SandboxServers(
        SandboxDataset(issues=500, repos=3, pull_requests=60), faults=faults
    ) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox)
        await sync(fresh_db_url)
        await extract_all(fresh_db_url, services, timeout=180)
        injected = dict(sandbox.jira_app.state.faults.injected)
    assert sum(injected.values()) > 10, injected
    counts = raw_counts(fresh_db_url)
    assert counts["jira_issue"] == 500 and counts["github_pull_request"] == 60
    assert scalar(fresh_db_url, "SELECT count(*) FROM etl_job_queue WHERE status = 'failed'") == 0


async def test_truncated_body_fails_the_attempt_and_the_retry_succeeds(
    fresh_db_url: str, services: Services
) -> None:
    with SandboxServers(
        SandboxDataset(issues=300, repos=1, pull_requests=5),
        faults="truncate=0.08,seed=5,exempt=/rest/api/3/myself",
    ) as sandbox:
        ids = await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("jira",))
        await sync(fresh_db_url, integration_id=ids["jira"])
        await extract_all(fresh_db_url, services, timeout=180)
        truncated = sandbox.jira_app.state.faults.injected.get("truncate", 0)
    assert truncated >= 1
    assert raw_counts(fresh_db_url)["jira_issue"] == 300
    retried = scalar(
        fresh_db_url,
        "SELECT count(*) FROM etl_job_queue WHERE error_details::text LIKE '%%malformed JSON%%'",
    )
    assert retried >= 1
    assert scalar(fresh_db_url, "SELECT count(*) FROM etl_job_queue WHERE status = 'failed'") == 0


async def test_wrong_token_fails_at_once_with_a_clear_message(
    fresh_db_url: str, services: Services
) -> None:
    with SandboxServers(SandboxDataset(issues=50, repos=1, pull_requests=5)) as sandbox:
        await add_sandbox_integrations(fresh_db_url, services, sandbox, token="not-the-token")
        await sync(fresh_db_url)
        await extract_all(fresh_db_url, services)
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute(
            "SELECT entity_type, status, retry_count, last_error FROM etl_job_queue "
            "WHERE job_type = 'extract' ORDER BY id"
        ).fetchall()
    assert len(rows) == 3  # projects, statuses, repositories (issues follow projects)
    for entity, status, attempts, error in rows:
        assert (status, attempts) == ("failed", 1), entity
        assert "rejected the credentials" in error and "(401)" in error
        assert "Check the token" in error
        assert "not-the-token" not in error
    assert scalar(fresh_db_url, "SELECT count(*) FROM raw_extraction_data") == 0


async def test_more_than_1000_repositories_are_found_by_date_windows(
    fresh_db_url: str, services: Services
) -> None:
    with SandboxServers(
        SandboxDataset(issues=10, repos=1300, pull_requests=1300), search_per_minute=10_000
    ) as sandbox:
        ids = await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("github",))
        await sync(fresh_db_url, integration_id=ids["github"])

        def repositories_done() -> bool:
            return (
                scalar(
                    fresh_db_url,
                    "SELECT count(*) FROM etl_job_queue WHERE entity_type = "
                    "'github_repository' AND status = 'completed'",
                )
                == 1
            )

        async with running_worker(fresh_db_url, services, stages=EXTRACT, concurrency=2):
            await wait_until(repositories_done, 120, "repository discovery")
        queries = [
            r.query
            for r in sandbox.github_app.state.traffic.recent
            if r.path == "/search/repositories"
        ]
    assert raw_counts(fresh_db_url)["github_repository"] == 1300
    assert any("pushed%3A" in q or "pushed:" in q for q in queries)
    assert (
        scalar(
            fresh_db_url,
            "SELECT count(*) FROM etl_job_queue WHERE job_type = 'extract' AND entity_type = 'github_pull_request'",
        )
        == 1300
    )
