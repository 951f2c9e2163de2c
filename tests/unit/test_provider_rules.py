"""Provider-specific rules: rate-limit waits, JQL, search batching (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from app.integrations.github import batched_queries, github_rate_limit_wait
from app.integrations.jira import jira_rate_limit_wait, jql_for

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def response(
    status: int, headers: dict[str, str] | None = None, body: bytes = b"{}"
) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, content=body)


def test_jira_waits_follow_retry_after_then_reset_then_a_minute() -> None:
    assert jira_rate_limit_wait(response(429, {"Retry-After": "7"}), NOW) == 7.0
    reset = {"X-RateLimit-Reset": "2026-01-05T12:00:30Z"}
    assert jira_rate_limit_wait(response(429, reset), NOW) == 30.0
    assert jira_rate_limit_wait(response(429), NOW) == 60.0
    assert jira_rate_limit_wait(response(503, {"Retry-After": "2"}), NOW) == 2.0
    assert jira_rate_limit_wait(response(503), NOW) is None  # an outage, retried as a 5xx
    assert jira_rate_limit_wait(response(200), NOW) is None
    assert jira_rate_limit_wait(response(401), NOW) is None


def test_github_waits_follow_the_documented_order() -> None:
    now = 1_700_000_000.0
    assert github_rate_limit_wait(response(403, {"retry-after": "5"}), now) == 5.0
    exhausted = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 42)}
    assert github_rate_limit_wait(response(403, exhausted), now) == 42.0
    secondary = response(403, body=b'{"message": "You have exceeded a secondary rate limit"}')
    assert github_rate_limit_wait(secondary, now) == 60.0
    assert github_rate_limit_wait(response(429), now) == 60.0
    forbidden = response(403, body=b'{"message": "Resource not accessible by integration"}')
    assert github_rate_limit_wait(forbidden, now) is None  # a permission problem, not a limit


def test_incremental_jql_bounds_by_the_watermark_oldest_first() -> None:
    assert jql_for("project = CORE", None) == "(project = CORE) ORDER BY updated ASC"
    since = datetime(2026, 1, 5, 9, 7, tzinfo=UTC)
    assert jql_for("project in (A, B)", since) == (
        '(project in (A, B)) AND updated >= "2026-01-05 09:07" ORDER BY updated ASC'
    )


def test_repository_searches_are_batched_under_the_length_limit() -> None:
    repos = " ".join(f"repo:acme/service-number-{n:03d}" for n in range(40))
    queries = batched_queries(f"archived:false {repos}")
    assert len(queries) > 1
    for query in queries:
        assert len(query) + len(" pushed:2000-01-01..2000-01-01") <= 256
        assert query.startswith("archived:false ")
    found = [t for q in queries for t in q.split() if t.startswith("repo:")]
    assert found == repos.split()  # every repository once, in order
    assert batched_queries("org:acme") == ["org:acme"]
