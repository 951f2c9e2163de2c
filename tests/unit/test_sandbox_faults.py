"""Fault specs parse strictly, and injected faults arrive at their rate, deterministically."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from app.sandbox import FaultSpec, SandboxDataset, asgi_client, create_github_app, create_jira_app


@pytest.fixture(scope="module")
def dataset() -> SandboxDataset:
    """A tiny dataset: faults do not depend on data."""
    return SandboxDataset(issues=100, seed=1)


def test_spec_parses_every_part() -> None:
    spec = FaultSpec.parse(
        "5xx=0.10, 429=0.05,slow=0.02:3.0,truncate=0.01,seed=7,retry_after=2,"
        "incomplete=0.2,exempt=/user,exempt=/rest/api/3/myself,gql_nodes=5000"
    )
    assert spec == FaultSpec(
        server_errors=0.10,
        rate_limited=0.05,
        slow=0.02,
        slow_seconds=3.0,
        truncated=0.01,
        incomplete=0.2,
        retry_after=2,
        seed=7,
        exempt=("/user", "/rest/api/3/myself"),
        graphql_timeout_nodes=5000,
    )
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("slow=0.5").slow_seconds == 1.0
    assert FaultSpec.parse("") == FaultSpec.parse(None) == FaultSpec.parse("none") == FaultSpec()
    assert not FaultSpec().active and spec.active


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("5xx=abc", "5xx=abc"),
        ("5xx", "'5xx'"),
        ("bogus=0.1", "unknown fault 'bogus'"),
        ("429=1.5", "between 0 and 1"),
        ("slow=0.1:soon", "slow=0.1:soon"),
        ("seed=-3", "seed=-3"),
        ("retry_after=1.5", "retry_after=1.5"),
        ("exempt=user", "exempt=user"),
        ("5xx=0.7,429=0.5", "more than 1"),
    ],
)
def test_spec_errors_name_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(ValueError, match="Fault spec") as error:
        FaultSpec.parse(text)
    assert named in str(error.value)


async def statuses_of(spec: str, dataset: SandboxDataset, requests: int) -> list[int]:
    """Return the statuses of a run of /myself requests against a faulty Jira."""
    app = create_jira_app(dataset, faults=FaultSpec.parse(spec))
    async with asgi_client(app) as client:
        return [(await client.get("/rest/api/3/myself")).status_code for _ in range(requests)]


async def test_faults_arrive_at_their_rate_and_repeat_with_the_seed(
    dataset: SandboxDataset,
) -> None:
    spec = "5xx=0.2,429=0.1,seed=3"
    first = await statuses_of(spec, dataset, 1_000)
    again = await statuses_of(spec, dataset, 1_000)
    other = await statuses_of("5xx=0.2,429=0.1,seed=4", dataset, 1_000)
    counts = Counter(first)
    server_errors = sum(counts[s] for s in (500, 502, 503, 504))
    assert 160 <= server_errors <= 240
    assert 70 <= counts[429] <= 130
    assert {500, 502, 503, 504} <= set(counts)
    assert first == again
    assert first != other


async def test_jira_429_and_503_carry_retry_after_and_reset(dataset: SandboxDataset) -> None:
    now = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    app = create_jira_app(
        dataset, faults=FaultSpec.parse("429=0.5,5xx=0.5,retry_after=2"), clock=lambda: now
    )
    seen: dict[int, dict[str, str]] = {}
    async with asgi_client(app) as client:
        for _ in range(60):
            response = await client.get("/rest/api/3/myself")
            seen.setdefault(response.status_code, dict(response.headers))
            if response.status_code in (429, 503):
                assert "errorMessages" in response.json()
    assert seen[429]["retry-after"] == "2"
    assert seen[429]["x-ratelimit-reset"] == "2025-06-01T08:00:02Z"
    assert seen[429]["ratelimit-reason"] == "jira-quota-tenant-based"
    assert seen[503]["retry-after"] == "2"
    assert seen[502]["content-type"].startswith("text/html")
    assert app.state.faults.injected["429"] + app.state.faults.injected["5xx"] == 60


async def test_github_429_says_when_to_retry(dataset: SandboxDataset) -> None:
    app = create_github_app(dataset, faults=FaultSpec.parse("429=1.0,retry_after=3"))
    async with asgi_client(app) as client:
        response = await client.get("/user")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert "secondary rate limit" in response.json()["message"]


async def test_truncated_bodies_are_cut_in_half(dataset: SandboxDataset) -> None:
    clean = create_jira_app(dataset)
    faulty = create_jira_app(dataset, faults=FaultSpec.parse("truncate=1.0"))
    params = {"jql": "project = CORE", "fields": "summary"}
    async with asgi_client(clean) as client:
        whole = (await client.get("/rest/api/3/search/jql", params=params)).content
    async with asgi_client(faulty) as client:
        response = await client.get("/rest/api/3/search/jql", params=params)
    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    assert int(response.headers["content-length"]) == len(whole) // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_slow_responses_wait(dataset: SandboxDataset) -> None:
    app = create_jira_app(dataset, faults=FaultSpec.parse("slow=1.0:0.05"))
    async with asgi_client(app) as client:
        started = time.perf_counter()
        response = await client.get("/rest/api/3/myself")
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.05


async def test_exempt_paths_stay_clean(dataset: SandboxDataset) -> None:
    app = create_jira_app(dataset, faults=FaultSpec.parse("5xx=1.0,exempt=/rest/api/3/myself"))
    async with asgi_client(app) as client:
        myself = await client.get("/rest/api/3/myself")
        status = await client.get("/rest/api/3/status")
    assert myself.status_code == 200
    assert status.status_code in (500, 502, 503, 504)
    assert app.state.traffic.statuses[200] == 1


async def test_incomplete_search_results(dataset: SandboxDataset) -> None:
    app = create_github_app(dataset, faults=FaultSpec.parse("incomplete=1.0"))
    async with asgi_client(app) as client:
        body = (await client.get("/search/repositories", params={"q": "org:acme"})).json()
    assert body["incomplete_results"] is True
    assert body["total_count"] == 6
    assert len(body["items"]) == 3


async def test_large_graphql_pages_time_out(dataset: SandboxDataset) -> None:
    app = create_github_app(dataset, faults=FaultSpec.parse("gql_nodes=1000"))
    query = """query($first: Int!) { repository(owner: "acme", name: "core-api") {
      pullRequests(first: $first) { nodes { number commits(first: 100) { totalCount } } } } }"""
    async with asgi_client(app) as client:
        large = await client.post("/graphql", json={"query": query, "variables": {"first": 20}})
        small = await client.post("/graphql", json={"query": query, "variables": {"first": 5}})
    assert large.status_code == 502
    assert "timeout" in large.json()["errors"][0]["message"]
    assert small.status_code == 200
    assert len(small.json()["data"]["repository"]["pullRequests"]["nodes"]) == 5
