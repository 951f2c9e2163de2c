"""The sandbox Jira behaves like Jira Cloud's enhanced search, changelog and dev-status APIs."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.sandbox import SandboxDataset, asgi_client, create_jira_app
from app.sandbox.issues import EMBEDDED_HISTORY_LIMIT

ALL_PROJECTS = "project in (CORE, WEB, DATA, OPS)"


@pytest.fixture
def dataset() -> SandboxDataset:
    """A small dataset; fresh per test because some tests edit issues."""
    return SandboxDataset(issues=600, seed=7)


@pytest.fixture
def jira(dataset: SandboxDataset) -> Starlette:
    """The sandbox Jira over the dataset."""
    return create_jira_app(dataset)


async def search_all(
    client: httpx.AsyncClient, jql: str, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow nextPageToken to the end; return every issue and every page body."""
    issues: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        query = {"jql": jql, **params}
        if token:
            query["nextPageToken"] = token
        response = await client.get("/rest/api/3/search/jql", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        issues.extend(body["issues"])
        token = body.get("nextPageToken")
        if token is None:
            assert body["isLast"] is True
            return issues, pages
        assert body["isLast"] is False
        assert len(pages) < 1_000


def jql_moment(moment: datetime) -> str:
    """Format a moment as a JQL date."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


async def test_paging_by_token_returns_every_issue_exactly_once(
    dataset: SandboxDataset, jira: Starlette
) -> None:
    async with asgi_client(jira) as client:
        issues, pages = await search_all(
            client, f"{ALL_PROJECTS} ORDER BY key ASC", fields="summary,status", maxResults=100
        )
    keys = [issue["key"] for issue in issues]
    assert len(keys) == dataset.issue_count == 600
    assert set(keys) == {dataset.key_of(i) for i in range(600)}
    assert len(pages) == 6
    assert "startAt" not in pages[0] and "total" not in pages[0]
    assert keys[:3] == ["CORE-1", "CORE-2", "CORE-3"]
    assert keys[150] == "DATA-1"
    first = issues[0]
    assert set(first["fields"]) == {"summary", "status"}
    assert first["fields"]["summary"] == dataset.issue(0).fields["summary"]


async def test_history_budget_shortens_pages_but_skips_nothing(dataset: SandboxDataset) -> None:
    app = create_jira_app(dataset, history_budget=150)
    async with asgi_client(app) as client:
        issues, pages = await search_all(
            client, "project = WEB", fields="status", expand="changelog", maxResults=100
        )
    assert [i["key"] for i in issues] == [f"WEB-{n}" for n in range(1, 151)]
    assert max(len(page["issues"]) for page in pages) < 100
    assert len(pages) > 2


async def test_without_fields_only_ids_come_back(jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        response = await client.get(
            "/rest/api/3/search/jql", params={"jql": "project = OPS", "maxResults": 2}
        )
    issues = response.json()["issues"]
    assert issues == [
        {"id": "10003", "key": "OPS-1", "self": "http://sandbox/rest/api/3/issue/10003"},
        {"id": "10007", "key": "OPS-2", "self": "http://sandbox/rest/api/3/issue/10007"},
    ]


async def test_post_search_matches_get(jira: Starlette) -> None:
    body = {"jql": "project = CORE", "fields": ["summary", "updated"], "maxResults": 5}
    async with asgi_client(jira) as client:
        posted = (await client.post("/rest/api/3/search/jql", json=body)).json()
        got = (
            await client.get(
                "/rest/api/3/search/jql",
                params={"jql": "project = CORE", "fields": "summary,updated", "maxResults": 5},
            )
        ).json()
    assert posted == got
    assert len(posted["issues"]) == 5


async def test_embedded_changelog_is_truncated_and_the_endpoint_completes_it(
    dataset: SandboxDataset, jira: Starlette
) -> None:
    long_ones = [i for i in range(600) if dataset.changelog_total(i) > 100]
    assert long_ones, "the dataset should hold issues with more than 100 histories"
    index = long_ones[0]
    key = dataset.key_of(index)
    total = dataset.changelog_total(index)
    async with asgi_client(jira) as client:
        found = await client.get(
            "/rest/api/3/search/jql",
            params={"jql": f"key = {key}", "fields": "status,updated", "expand": "changelog"},
        )
        embedded = found.json()["issues"][0]["changelog"]
        histories = list(embedded["histories"])
        start = len(histories)
        pages = []
        while True:
            page = (
                await client.get(
                    f"/rest/api/3/issue/{key}/changelog",
                    params={"startAt": start, "maxResults": 500},
                )
            ).json()
            pages.append(page)
            histories.extend(page["values"])
            start += len(page["values"])
            if page["isLast"]:
                break
    assert embedded["total"] == total > EMBEDDED_HISTORY_LIMIT
    assert len(embedded["histories"]) == embedded["maxResults"] == EMBEDDED_HISTORY_LIMIT
    assert pages[0]["maxResults"] == 100 and pages[0]["total"] == total
    assert len(pages) == -(-(total - EMBEDDED_HISTORY_LIMIT) // 100)
    assert histories == dataset.issue(index).histories
    assert len({h["id"] for h in histories}) == total


async def test_changelog_ends_in_the_current_status(dataset: SandboxDataset) -> None:
    share_long = sum(dataset.changelog_total(i) > EMBEDDED_HISTORY_LIMIT for i in range(600)) / 600
    assert 0.02 < share_long < 0.09
    for index in range(600):
        issue = dataset.issue(index)
        transitions = [
            item for h in issue.histories for item in h["items"] if item["field"] == "status"
        ]
        moments = [h["created"] for h in issue.histories]
        assert moments == sorted(moments)
        if moments:
            assert issue.fields["updated"] >= moments[-1]
        if transitions:
            assert transitions[0]["fromString"] == "Backlog"
            assert transitions[-1]["toString"] == issue.fields["status"]["name"]
            for before, after in itertools.pairwise(transitions):
                assert before["to"] == after["from"]
        else:
            assert issue.fields["status"]["name"] == "Backlog"
        done = issue.fields["status"]["statusCategory"]["key"] == "done"
        assert (issue.fields["resolutiondate"] is not None) == done


async def test_changelog_of_unknown_issue_is_404(jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        response = await client.get("/rest/api/3/issue/NOPE-1/changelog")
        beyond = await client.get("/rest/api/3/issue/CORE-9999/changelog")
    assert response.status_code == 404 == beyond.status_code
    assert response.json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]


async def test_old_search_endpoints_are_gone(jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        for path in ("/rest/api/2/search", "/rest/api/3/search"):
            response = await client.get(path, params={"jql": "project = CORE"})
            assert response.status_code == 410
            assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]


@pytest.mark.parametrize("jql", ["", "   ", "ORDER BY key"])
async def test_unbounded_jql_is_400(jira: Starlette, jql: str) -> None:
    async with asgi_client(jira) as client:
        response = await client.get("/rest/api/3/search/jql", params={"jql": jql})
    assert response.status_code == 400
    assert response.json()["errorMessages"][0].startswith("Unbounded JQL queries")
    assert response.json()["errors"] == {}


@pytest.mark.parametrize(
    ("jql", "fragment"),
    [
        ("project in (CORE", "end of the query"),
        ("project = CORE AND", "end of the query"),
        ("project = NOPE", "'NOPE' does not exist"),
        ("assignee = bob", "Field 'assignee' does not exist"),
        ('updated >= "yesterday-ish"', "is invalid"),
        ("project = CORE ORDER BY summary", "Not able to sort"),
        ("project = CORE garbage", "Expecting either 'OR' or 'AND'"),
    ],
)
async def test_unparseable_or_unsupported_jql_is_400(
    jira: Starlette, jql: str, fragment: str
) -> None:
    async with asgi_client(jira) as client:
        response = await client.get("/rest/api/3/search/jql", params={"jql": jql})
    assert response.status_code == 400
    assert fragment in response.json()["errorMessages"][0]


async def test_foreign_page_token_is_400(jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        first = (
            await client.get(
                "/rest/api/3/search/jql", params={"jql": "project = CORE", "maxResults": 1}
            )
        ).json()
        reused = await client.get(
            "/rest/api/3/search/jql",
            params={"jql": "project = WEB", "nextPageToken": first["nextPageToken"]},
        )
        garbage = await client.get(
            "/rest/api/3/search/jql", params={"jql": "project = WEB", "nextPageToken": "xyz"}
        )
    assert reused.status_code == 400 == garbage.status_code
    assert "token" in reused.json()["errorMessages"][0]


async def test_incremental_jql_after_touch_returns_exactly_the_touched_issues(
    dataset: SandboxDataset, jira: Starlette
) -> None:
    at = dataset.now + timedelta(days=1)
    touched = [5, 17, 333]
    before = {i: dataset.issue(i) for i in touched}
    keys = dataset.touch(touched, at)
    watermark = jql_moment(at - timedelta(minutes=5))
    jql = f'({ALL_PROJECTS}) AND updated >= "{watermark}" ORDER BY updated ASC'
    async with asgi_client(jira) as client:
        jira.state.traffic.reset()
        issues, pages = await search_all(
            client, jql, fields="summary,status,updated", expand="changelog", maxResults=100
        )
    assert sorted(issue["key"] for issue in issues) == sorted(keys)
    assert dataset.keys_updated_since(at - timedelta(minutes=5)) == set(keys)
    assert jira.state.requests["/rest/api/3/search/jql"] == len(pages) == 1
    for issue in issues:
        index = dataset.issue_index(issue["key"])
        assert index is not None
        old = before[index]
        assert issue["fields"]["summary"] == f"{old.fields['summary']} (rev 1)"
        assert issue["fields"]["updated"] == at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        changelog = issue["changelog"]
        assert changelog["total"] == len(old.histories) + 1
        if changelog["total"] <= EMBEDDED_HISTORY_LIMIT:
            last = changelog["histories"][-1]["items"][0]
            assert last["fromString"] == old.fields["status"]["name"]
            assert last["toString"] == issue["fields"]["status"]["name"]
    assert dataset.touched() == {key: 1 for key in keys}


async def test_ordering_by_updated_rereads_an_issue_edited_mid_walk(
    dataset: SandboxDataset, jira: Starlette
) -> None:
    jql = "project = CORE ORDER BY updated ASC"
    async with asgi_client(jira) as client:
        first = (
            await client.get("/rest/api/3/search/jql", params={"jql": jql, "maxResults": 50})
        ).json()
        seen = [issue["key"] for issue in first["issues"]]
        moved = dataset.issue_index(seen[0])
        assert moved is not None
        dataset.touch([moved], dataset.now + timedelta(hours=2))
        token = first["nextPageToken"]
        while token:
            body = (
                await client.get(
                    "/rest/api/3/search/jql",
                    params={"jql": jql, "maxResults": 50, "nextPageToken": token},
                )
            ).json()
            seen.extend(issue["key"] for issue in body["issues"])
            token = body.get("nextPageToken")
    assert set(seen) == {f"CORE-{n}" for n in range(1, 151)}
    assert len(seen) == 151
    assert seen[-1] == seen[0]


async def test_wrong_or_missing_credentials_are_401(jira: Starlette) -> None:
    wrong_basic = base64.b64encode(b"me@example.com:nope").decode()
    right_basic = base64.b64encode(b"me@example.com:sandbox-token").decode()
    async with asgi_client(jira, token=None) as client:
        missing = await client.get("/rest/api/3/myself")
        wrong = await client.get(
            "/rest/api/3/myself", headers={"Authorization": f"Basic {wrong_basic}"}
        )
        bearer = await client.get(
            "/rest/api/3/myself", headers={"Authorization": "Bearer not-the-token"}
        )
        right = await client.get(
            "/rest/api/3/myself", headers={"Authorization": f"Basic {right_basic}"}
        )
    assert missing.status_code == wrong.status_code == bearer.status_code == 401
    assert "errorMessages" in wrong.json()
    assert right.status_code == 200
    assert right.json()["accountId"] == "sandbox-admin"


async def test_rate_limit_headers_and_request_counters(jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        one = await client.get("/rest/api/3/myself")
        two = await client.get("/rest/api/3/status")
        await client.get("/rest/api/3/status")
    assert one.headers["X-RateLimit-Limit"] == "1000"
    assert (
        int(two.headers["X-RateLimit-Remaining"]) == int(one.headers["X-RateLimit-Remaining"]) - 1
    )
    traffic = jira.state.traffic
    assert jira.state.requests["/rest/api/3/status"] == 2
    assert traffic.count("/rest/api/3/") == 3
    assert [r.path for r in traffic.recent][-1] == "/rest/api/3/status"
    assert traffic.statuses[200] == 3


async def test_enforced_rate_limit_answers_429_with_retry_after(dataset: SandboxDataset) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    app = create_jira_app(dataset, rate_limit_per_minute=2, clock=lambda: now)
    async with asgi_client(app) as client:
        statuses = [(await client.get("/rest/api/3/myself")) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[2]
    assert limited.headers["Retry-After"] == "60"
    assert limited.headers["X-RateLimit-Reset"] == "2025-06-01T00:01:00Z"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"


async def test_projects_issue_types_and_statuses(dataset: SandboxDataset, jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        page = (
            await client.get(
                "/rest/api/3/project/search",
                params={"expand": "issueTypes", "maxResults": 3, "startAt": 0},
            )
        ).json()
        rest = (
            await client.get("/rest/api/3/project/search", params={"maxResults": 3, "startAt": 3})
        ).json()
        statuses = (await client.get("/rest/api/3/status")).json()
        per_type = (await client.get("/rest/api/3/project/WEB/statuses")).json()
        unknown = await client.get("/rest/api/3/project/NOPE/statuses")
    assert page["total"] == 4 and page["isLast"] is False
    assert [p["key"] for p in page["values"] + rest["values"]] == ["CORE", "WEB", "DATA", "OPS"]
    assert rest["isLast"] is True and "issueTypes" not in rest["values"][0]
    levels = {t["name"]: t["hierarchyLevel"] for t in page["values"][0]["issueTypes"]}
    assert levels == {"Epic": 1, "Story": 0, "Task": 0, "Bug": 0, "Sub-task": -1}
    categories = {s["name"]: s["statusCategory"]["key"] for s in statuses}
    assert categories["Backlog"] == "new" and categories["Done"] == "done"
    assert categories["Blocked"] == "indeterminate"
    assert len(statuses) == len(dataset.statuses())
    assert [t["name"] for t in per_type] == ["Epic", "Story", "Task", "Bug", "Sub-task"]
    assert len(per_type[0]["statuses"]) == 8
    assert unknown.status_code == 404


async def test_dev_status_lists_the_pull_requests_that_name_the_issue(
    dataset: SandboxDataset, jira: Starlette
) -> None:
    with_dev = [i for i in range(600) if dataset.dev_status(i)]
    without = [i for i in range(600) if not dataset.dev_status(i)]
    assert with_dev and without
    index = with_dev[0]
    pulls = dataset.dev_status(index)
    async with asgi_client(jira) as client:
        detail = (
            await client.get(
                "/rest/dev-status/latest/issue/detail",
                params={
                    "issueId": str(10_000 + index),
                    "applicationType": "GitHub",
                    "dataType": "pullrequest",
                },
            )
        ).json()
        branches = (
            await client.get(
                "/rest/dev-status/latest/issue/detail",
                params={"issueId": str(10_000 + index), "dataType": "branch"},
            )
        ).json()
        empty = (
            await client.get(
                "/rest/dev-status/latest/issue/detail",
                params={"issueId": str(10_000 + without[0]), "dataType": "pullrequest"},
            )
        ).json()
        issue = (await client.get(f"/rest/api/3/issue/{dataset.key_of(index)}")).json()
    listed = detail["detail"][0]["pullRequests"]
    assert detail["errors"] == []
    assert [(p["repositoryName"], p["id"]) for p in listed] == [
        (pull.repository, f"#{pull.number}") for pull in pulls
    ]
    assert listed[0]["url"] == pulls[0].url
    assert listed[0]["status"] in ("OPEN", "MERGED", "DECLINED")
    key = dataset.key_of(index)
    assert all(key in pull.title or key in pull.body for pull in pulls)
    assert [b["name"] for b in branches["detail"][0]["branches"]] == [p.head for p in pulls]
    assert empty == {"errors": [], "detail": []}
    assert issue["fields"]["customfield_10000"].startswith("{pullrequest={dataType=pullrequest")
    summary = dataset.issue(without[0]).fields["customfield_10000"]
    assert summary == "{}"


async def test_single_issue_and_server_info(dataset: SandboxDataset, jira: Starlette) -> None:
    async with asgi_client(jira) as client:
        issue = (await client.get("/rest/api/3/issue/10004", params={"fields": "summary"})).json()
        info = (await client.get("/rest/api/3/serverInfo")).json()
    assert issue["key"] == "CORE-2"
    assert issue["fields"] == {"summary": dataset.issue(4).fields["summary"]}
    assert info["deploymentType"] == "Cloud"


def test_same_seed_same_data_other_seed_other_data() -> None:
    one, two, other = (
        SandboxDataset(500, seed=3),
        SandboxDataset(500, seed=3),
        SandboxDataset(500, seed=4),
    )
    for index in (0, 77, 499):
        assert json.dumps(one.issue(index).fields) == json.dumps(two.issue(index).fields)
        assert one.issue(index).histories == two.issue(index).histories
    assert [one.issue(i).fields["summary"] for i in range(40)] != [
        other.issue(i).fields["summary"] for i in range(40)
    ]
    assert one.pull_requests("acme/core-api") == two.pull_requests("acme/core-api")


def test_issue_mix_covers_types_parents_and_fields() -> None:
    dataset = SandboxDataset(2_000, seed=11)
    issues = [dataset.issue(i) for i in range(2_000)]
    types = {issue.fields["issuetype"]["name"] for issue in issues}
    assert types == {"Epic", "Story", "Task", "Bug", "Sub-task"}
    for issue in issues:
        parent = issue.fields["parent"]
        if issue.fields["issuetype"]["name"] == "Sub-task":
            assert parent is not None and parent["fields"]["issuetype"]["hierarchyLevel"] == 0
            assert parent["key"].split("-")[0] == issue.key.split("-")[0]
        elif parent is not None:
            assert parent["fields"]["issuetype"]["name"] == "Epic"
    assert any(issue.fields["assignee"] is None for issue in issues)
    assert any(issue.fields["customfield_10016"] is not None for issue in issues)
    assert any(issue.fields["customfield_10020"] for issue in issues)
    assert any(issue.fields["duedate"] for issue in issues)
    long_descriptions = [
        i
        for i in issues
        if i.fields["description"] and len(i.fields["description"]["content"]) > 50
    ]
    assert long_descriptions
    assert dataset.issue_index("CORE-1") == 0 and dataset.issue_index("10001") == 1
    assert dataset.issue_index("core-2") == 4 and dataset.issue_index("XYZ-1") is None
