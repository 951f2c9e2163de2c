"""The sandbox GitHub behaves like repository search and the GraphQL pull request API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.sandbox import SandboxDataset, asgi_client, create_github_app

PULLS_QUERY = """
query Pulls($owner: String!, $name: String!, $first: Int!, $after: String, $nested: Int = 10) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...Pull }
    }
  }
  rateLimit { cost remaining resetAt }
}
fragment Pull on PullRequest {
  id number title body state createdAt updatedAt mergedAt closedAt
  additions deletions changedFiles headRefName baseRefName url author { login }
  commits(first: $nested) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { commit { oid message additions deletions committedDate author { name email date } } }
  }
  reviews(first: $nested) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id state body submittedAt author { login } }
  }
  comments(first: $nested) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id body createdAt updatedAt author { login } }
  }
  reviewThreads(first: $nested) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id isResolved path line comments(first: 10) { nodes { id body createdAt author { login } } } }
  }
}
"""

COMMITS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      commits(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { commit { oid } }
      }
    }
  }
}
"""


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        """Start at a fixed moment."""
        self.now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        """Return the current moment."""
        return self.now


@pytest.fixture(scope="module")
def dataset() -> SandboxDataset:
    """Six repositories with 400 pull requests."""
    return SandboxDataset(issues=800, seed=5)


@pytest.fixture
def github(dataset: SandboxDataset) -> Starlette:
    """The sandbox GitHub over the dataset."""
    return create_github_app(dataset)


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """Post a GraphQL query and return the JSON body."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_search_by_org_sorted_by_updated(dataset: SandboxDataset, github: Starlette) -> None:
    async with asgi_client(github) as client:
        response = await client.get(
            "/search/repositories",
            params={"q": "org:acme", "sort": "updated", "order": "asc", "per_page": 100},
        )
    body = response.json()
    assert response.status_code == 200
    assert body["total_count"] == 6 and body["incomplete_results"] is False
    names = [item["full_name"] for item in body["items"]]
    assert sorted(names) == sorted(r.full_name for r in dataset.repositories())
    updated = [item["updated_at"] for item in body["items"]]
    assert updated == sorted(updated)
    assert response.headers["x-ratelimit-limit"] == "30"
    assert response.headers["x-ratelimit-resource"] == "search"
    assert response.headers["x-ratelimit-remaining"] == "29"


async def test_several_repo_qualifiers_are_ored(github: Starlette) -> None:
    async with asgi_client(github) as client:
        body = (
            await client.get(
                "/search/repositories",
                params={"q": "repo:acme/core-api repo:acme/web-app repo:acme/missing"},
            )
        ).json()
    assert sorted(item["name"] for item in body["items"]) == ["core-api", "web-app"]


async def test_search_caps_at_1000_results_and_pushed_windows_split_it() -> None:
    dataset = SandboxDataset(issues=60, seed=2, repos=1_500)
    app = create_github_app(dataset, search_per_minute=1_000)
    pushed = sorted(repo.pushed for repo in dataset.repositories())
    middle = datetime.fromtimestamp(pushed[750], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen: set[str] = set()
    async with asgi_client(app) as client:
        everything = (await client.get("/search/repositories", params={"q": "org:acme"})).json()
        tenth = await client.get(
            "/search/repositories", params={"q": "org:acme", "per_page": 100, "page": 10}
        )
        eleventh = await client.get(
            "/search/repositories", params={"q": "org:acme", "per_page": 100, "page": 11}
        )
        for window in (f"pushed:<{middle}", f"pushed:>={middle}"):
            page = 1
            while True:
                body = (
                    await client.get(
                        "/search/repositories",
                        params={"q": f"org:acme {window}", "per_page": 100, "page": page},
                    )
                ).json()
                assert body["total_count"] <= 1_000
                seen.update(item["full_name"] for item in body["items"])
                if len(body["items"]) < 100:
                    break
                page += 1
    assert everything["total_count"] == 1_500
    assert len(tenth.json()["items"]) == 100
    assert eleventh.status_code == 422
    assert eleventh.json()["message"] == "Only the first 1000 search results are available"
    assert len(seen) == 1_500


async def test_pushed_ranges_and_comparisons(dataset: SandboxDataset, github: Starlette) -> None:
    repos = dataset.repositories()
    day = datetime.fromtimestamp(repos[0].pushed, UTC).strftime("%Y-%m-%d")
    expected_on_day = sum(
        datetime.fromtimestamp(r.pushed, UTC).strftime("%Y-%m-%d") == day for r in repos
    )
    async with asgi_client(github) as client:
        exact = (
            await client.get("/search/repositories", params={"q": f"org:acme pushed:{day}"})
        ).json()
        ranged = (
            await client.get(
                "/search/repositories", params={"q": f"org:acme pushed:2000-01-01..{day}"}
            )
        ).json()
        later = (
            await client.get("/search/repositories", params={"q": f"org:acme pushed:>{day}"})
        ).json()
        bad = await client.get("/search/repositories", params={"q": "org:acme pushed:>=soon"})
    assert exact["total_count"] == expected_on_day >= 1
    assert ranged["total_count"] + later["total_count"] == 6
    assert bad.status_code == 422


async def test_long_queries_and_too_many_operators_fail_validation(github: Starlette) -> None:
    long_query = " ".join(f"repo:acme/service-{n:05d}" for n in range(20))
    assert len(long_query) > 256
    six = "org:acme " + " ".join(["core OR api"] * 6)
    five = "org:acme " + " OR ".join(["core"] * 6)
    async with asgi_client(github) as client:
        too_long = await client.get("/search/repositories", params={"q": long_query})
        too_many = await client.get("/search/repositories", params={"q": six})
        fine = await client.get("/search/repositories", params={"q": five})
        missing = await client.get("/search/repositories")
    assert too_long.status_code == 422 == too_many.status_code == missing.status_code
    assert too_long.json()["message"] == "Validation Failed"
    assert "256 characters" in too_long.json()["errors"][0]["message"]
    assert "AND / OR / NOT" in too_many.json()["errors"][0]["message"]
    assert fine.status_code == 200


async def test_search_allows_30_requests_a_minute(dataset: SandboxDataset) -> None:
    clock = FrozenClock()
    app = create_github_app(dataset, clock=clock)
    async with asgi_client(app) as client:
        answers = [
            await client.get("/search/repositories", params={"q": "org:acme"}) for _ in range(31)
        ]
        clock.now += timedelta(seconds=61)
        after_reset = await client.get("/search/repositories", params={"q": "org:acme"})
    assert [a.status_code for a in answers[:30]] == [200] * 30
    limited = answers[30]
    assert limited.status_code == 403
    assert limited.json()["message"].startswith("API rate limit exceeded")
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) == int(clock.now.timestamp()) - 1
    assert after_reset.status_code == 200
    assert after_reset.headers["x-ratelimit-remaining"] == "29"


async def test_graphql_pages_every_pull_request_once_newest_first(
    dataset: SandboxDataset, github: Starlette
) -> None:
    expected = dataset.pull_requests("acme/web-app")
    numbers: list[int] = []
    updated: list[str] = []
    after = None
    async with asgi_client(github) as client:
        while True:
            body = await graphql(
                client, PULLS_QUERY, owner="acme", name="web-app", first=25, after=after
            )
            connection = body["data"]["repository"]["pullRequests"]
            assert connection["totalCount"] == len(expected)
            numbers.extend(node["number"] for node in connection["nodes"])
            updated.extend(node["updatedAt"] for node in connection["nodes"])
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    assert sorted(numbers) == [pull.number for pull in expected]
    assert updated == sorted(updated, reverse=True)
    assert body["data"]["rateLimit"]["cost"] == (1 + 25 * 4 + 25 * 10) // 100
    assert body["data"]["rateLimit"]["remaining"] < 5_000


async def test_pull_request_fields_match_the_dataset(
    dataset: SandboxDataset, github: Starlette
) -> None:
    async with asgi_client(github) as client:
        body = await graphql(client, PULLS_QUERY, owner="acme", name="core-api", first=5)
    node = body["data"]["repository"]["pullRequests"]["nodes"][0]
    pull = dataset.pull_request("acme/core-api", node["number"])
    assert pull is not None
    assert node["title"] == pull.title and node["headRefName"] == pull.head
    assert node["state"] == pull.state
    assert node["url"] == f"https://github.com/acme/core-api/pull/{pull.number}"
    assert node["commits"]["totalCount"] == pull.commit_count
    assert node["reviews"]["totalCount"] == pull.review_count
    assert node["comments"]["totalCount"] == pull.comment_count
    assert node["reviewThreads"]["totalCount"] == pull.thread_count
    assert (node["mergedAt"] is not None) == (pull.state == "MERGED")
    if pull.state == "MERGED":
        assert node["reviews"]["nodes"][-1]["state"] == "APPROVED"


async def test_nested_commits_beyond_100_are_paged_through_pull_request(
    dataset: SandboxDataset, github: Starlette
) -> None:
    big = next(
        pull for pull in dataset.pull_requests("acme/data-pipeline") if pull.commit_count > 100
    )
    oids: list[str] = []
    after = None
    pages = 0
    async with asgi_client(github) as client:
        while True:
            body = await graphql(
                client,
                COMMITS_QUERY,
                owner="acme",
                name="data-pipeline",
                number=big.number,
                first=100,
                after=after,
            )
            commits = body["data"]["repository"]["pullRequest"]["commits"]
            oids.extend(node["commit"]["oid"] for node in commits["nodes"])
            pages += 1
            if not commits["pageInfo"]["hasNextPage"]:
                break
            after = commits["pageInfo"]["endCursor"]
    assert pages == 2
    assert len(oids) == len(set(oids)) == big.commit_count > 100
    assert oids == [node["commit"]["oid"] for node in dataset.commits(big)]


@pytest.mark.parametrize(
    ("first", "kind"), [(101, "EXCESSIVE_PAGINATION"), (0, "INVALID_PAGINATION")]
)
async def test_first_outside_1_to_100_is_a_graphql_error(
    github: Starlette, first: int, kind: str
) -> None:
    async with asgi_client(github) as client:
        body = await graphql(client, PULLS_QUERY, owner="acme", name="core-api", first=first)
    assert "data" not in body
    assert body["errors"][0]["type"] == kind


async def test_missing_pagination_and_unknown_fields_are_errors(github: Starlette) -> None:
    async with asgi_client(github) as client:
        unbounded = await graphql(
            client,
            '{ repository(owner: "acme", name: "core-api") { pullRequests { totalCount } } }',
        )
        unknown = await graphql(
            client,
            '{ repository(owner: "acme", name: "core-api") { pullRequests(first: 1) { nodes { nope } } } }',
        )
        broken = await graphql(client, "{ repository(owner: ")
    assert unbounded["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert unknown["errors"][0]["message"] == "Field 'nope' doesn't exist on type 'PullRequest'"
    assert "Parse error" in broken["errors"][0]["message"]


async def test_unknown_repository_is_null_with_not_found(github: Starlette) -> None:
    async with asgi_client(github) as client:
        body = await graphql(client, PULLS_QUERY, owner="acme", name="nope", first=10)
    assert body["data"]["repository"] is None
    assert body["errors"][0]["type"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["repository"]


async def test_rate_limit_can_be_null_like_enterprise(dataset: SandboxDataset) -> None:
    app = create_github_app(dataset, rate_limit_null=True)
    async with asgi_client(app) as client:
        body = await graphql(client, PULLS_QUERY, owner="acme", name="core-api", first=1)
    assert body["data"]["rateLimit"] is None
    assert len(body["data"]["repository"]["pullRequests"]["nodes"]) == 1


async def test_graphql_points_run_out(dataset: SandboxDataset) -> None:
    app = create_github_app(dataset, graphql_points_per_hour=2, clock=FrozenClock())
    async with asgi_client(app) as client:
        answers = [
            await client.post("/graphql", json={"query": "{ viewer { login } }"}) for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 403]
    assert answers[0].json() == {"data": {"viewer": {"login": "sluice-sandbox"}}}
    assert answers[2].headers["x-ratelimit-remaining"] == "0"
    assert answers[2].json()["errors"][0]["type"] == "RATE_LIMITED"


async def test_touched_pull_requests_come_first(dataset: SandboxDataset) -> None:
    local = SandboxDataset(issues=200, seed=9)
    app = create_github_app(local)
    at = local.now + timedelta(hours=1)
    local.touch_pull_requests("acme/ops-tooling", [2, 5], at)
    async with asgi_client(app) as client:
        body = await graphql(client, PULLS_QUERY, owner="acme", name="ops-tooling", first=3)
    nodes = body["data"]["repository"]["pullRequests"]["nodes"]
    assert sorted(node["number"] for node in nodes[:2]) == [2, 5]
    assert nodes[0]["updatedAt"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert nodes[2]["updatedAt"] < nodes[0]["updatedAt"]


async def test_auth_user_and_rate_limit_endpoints(github: Starlette) -> None:
    async with asgi_client(github, token=None) as client:
        bad = await client.get("/user", headers={"Authorization": "Bearer wrong"})
        missing = await client.get("/user")
        legacy = await client.get("/user", headers={"Authorization": "token sandbox-token"})
        limits = await client.get("/rate_limit", headers={"Authorization": "Bearer sandbox-token"})
    assert bad.status_code == missing.status_code == 401
    assert bad.json()["message"] == "Bad credentials"
    assert legacy.status_code == 200 and legacy.json()["login"] == "sluice-sandbox"
    assert legacy.headers["x-ratelimit-resource"] == "core"
    assert int(legacy.headers["x-ratelimit-used"]) == 1
    resources = limits.json()["resources"]
    assert resources["search"]["limit"] == 30 and resources["core"]["limit"] == 5_000
    assert github.state.requests["/user"] == 3


def test_dev_status_and_pull_request_text_agree(dataset: SandboxDataset) -> None:
    linked = 0
    for index in range(dataset.issue_count):
        key = dataset.key_of(index)
        for pull in dataset.dev_status(index):
            linked += 1
            assert key in pull.issue_keys
            assert key in pull.title or key in pull.body
            if key in pull.title:
                assert key in pull.head
    assert linked >= dataset.pull_request_count * 0.85
    legacy = [
        pull
        for repo in dataset.repositories()
        for pull in dataset.pull_requests(repo.full_name)
        if pull.title.startswith("LEGACY-")
    ]
    assert legacy
    assert all(not key.startswith("LEGACY-") for pull in legacy for key in pull.issue_keys)
