"""Real-shaped raw records for the transform tests, built from the sandbox generators."""

from __future__ import annotations

import functools
from typing import Any

from app.sandbox.catalog import ISSUE_TYPES, STATUSES, Project, Status
from app.sandbox.dataset import SandboxDataset
from app.sandbox.devstatus import dev_status_detail
from app.sandbox.github_data import (
    PullRequest,
    comment_node,
    commit_node,
    review_node,
    thread_node,
)
from app.sandbox.timestamps import github_time

BASE_URL = "https://acme.atlassian.net/"


@functools.cache
def dataset() -> SandboxDataset:
    """One shared, never edited sandbox dataset."""
    return SandboxDataset(issues=400, seed=11, repos=4, pull_requests=240)


def issue_payload(index: int) -> dict[str, Any]:
    """An issue as search/jql returns it, with the changelog completed by the extractor."""
    return dataset().issue(index).to_api(BASE_URL, frozenset({"*all"}), True, 10_000)


def project_payload(project: Project) -> dict[str, Any]:
    """A project as /project/search?expand=issueTypes lists it."""
    return {
        "self": f"{BASE_URL}rest/api/3/project/{project.id}",
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": False,
        "style": "classic",
        "isPrivate": False,
        "issueTypes": [
            {
                "self": f"{BASE_URL}rest/api/3/issuetype/{t.id}",
                "description": f"{t.name} issues",
                **t.to_api(),
            }
            for t in ISSUE_TYPES
        ],
    }


def status_payload(status: Status) -> dict[str, Any]:
    """A status as /rest/api/3/status lists it."""
    rendered = status.to_api()
    rendered["self"] = f"{BASE_URL}rest/api/3/status/{status.id}"
    rendered["description"] = ""
    return rendered


def repository_payload(index: int) -> dict[str, Any]:
    """A repository as /search/repositories lists it."""
    return dataset().repositories()[index].to_api()


def _connection(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """A connection whose pages the extractor merged into one nodes list."""
    return {
        "totalCount": len(nodes),
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": nodes,
    }


def pull_request_node(pull: PullRequest) -> dict[str, Any]:
    """A GraphQL pull request node with fully paged commits, reviews, comments, threads."""
    seed = dataset().seed
    owner, _, name = pull.repository.partition("/")
    threads = []
    for position in range(pull.thread_count):
        thread = thread_node(pull, seed, position)
        thread["comments"] = _connection(thread.pop("comments"))
        threads.append(thread)
    return {
        "id": pull.node_id,
        "databaseId": 900_000_000 + pull.index,
        "number": pull.number,
        "title": pull.title,
        "body": pull.body,
        "state": pull.state,
        "isDraft": False,
        "merged": pull.state == "MERGED",
        "closed": pull.state != "OPEN",
        "createdAt": github_time(pull.created),
        "updatedAt": github_time(pull.updated),
        "mergedAt": github_time(pull.merged) if pull.merged else None,
        "closedAt": github_time(pull.closed) if pull.closed else None,
        "additions": pull.additions,
        "deletions": pull.deletions,
        "changedFiles": pull.changed_files,
        "headRefName": pull.head,
        "baseRefName": pull.base,
        "url": pull.url,
        "author": {"login": pull.author.login},
        "repository": {"name": name, "nameWithOwner": pull.repository, "owner": {"login": owner}},
        "commits": _connection([commit_node(pull, seed, k) for k in range(pull.commit_count)]),
        "reviews": _connection([review_node(pull, seed, k) for k in range(pull.review_count)]),
        "comments": _connection([comment_node(pull, seed, k) for k in range(pull.comment_count)]),
        "reviewThreads": _connection(threads),
    }


def dev_status_payload(index: int) -> dict[str, Any]:
    """The dev-status pullrequest detail of an issue."""
    return dev_status_detail(dataset(), index, "pullrequest")


def issue_with_dev_status() -> int:
    """The index of the first issue with pull requests in its development panel."""
    return next(i for i in range(dataset().issue_count) if dataset().dev_status(i))


def churned_issue() -> int:
    """The index of the first issue whose changelog is longer than search embeds (40)."""
    return next(i for i in range(dataset().issue_count) if dataset().changelog_total(i) > 45)


ALL_STATUSES = STATUSES


def test_payload_builders_give_api_shaped_records() -> None:
    issue = issue_payload(churned_issue())
    assert issue["changelog"]["total"] == len(issue["changelog"]["histories"]) > 45
    assert issue["fields"]["created"].endswith(".000+0000")
    pull = pull_request_node(dataset().pull(0))
    assert pull["commits"]["totalCount"] == len(pull["commits"]["nodes"]) >= 1
    assert dev_status_payload(issue_with_dev_status())["detail"][0]["pullRequests"]
