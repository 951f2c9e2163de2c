"""Jira's development-panel (dev-status) payloads, built from the GitHub side of the dataset."""

from __future__ import annotations

from typing import Any

from app.sandbox.catalog import PEOPLE
from app.sandbox.dataset import SandboxDataset, dev_state
from app.sandbox.github_data import PullRequest, commit_node, review_node
from app.sandbox.timestamps import jira_time

DATA_TYPES = ("pullrequest", "branch", "repository")
_INSTANCE = {
    "singleInstance": True,
    "baseUrl": "https://github.com",
    "name": "GitHub",
    "typeName": "GitHub",
    "id": "github",
    "type": "github",
}


def _avatar(login: str) -> str:
    """Return an avatar address for a GitHub login."""
    return f"https://avatars.githubusercontent.com/{login}"


def _repository_url(pull: PullRequest) -> str:
    """Return the web address of a pull request's repository."""
    return f"https://github.com/{pull.repository}"


def dev_status_detail(dataset: SandboxDataset, index: int, data_type: str) -> dict[str, Any]:
    """Return the dev-status detail of an issue for pullrequest, branch or repository."""
    pulls = dataset.dev_status(index)
    if not pulls:
        return {"errors": [], "detail": []}
    detail: dict[str, Any] = {"branches": [], "pullRequests": [], "repositories": []}
    if data_type == "pullrequest":
        detail["pullRequests"] = [_pull_request(dataset, pull) for pull in pulls]
        detail["branches"] = [_branch(dataset, pull) for pull in pulls]
    elif data_type == "branch":
        detail["branches"] = [_branch(dataset, pull) for pull in pulls]
    else:
        detail["repositories"] = _repositories(dataset, pulls, dataset.key_of(index))
    detail["_instance"] = _INSTANCE
    return {"errors": [], "detail": [detail]}


def _pull_request(dataset: SandboxDataset, pull: PullRequest) -> dict[str, Any]:
    """Render one pull request as the development panel lists it."""
    repo = dataset.repository(pull.repository)
    reviewers: dict[str, bool] = {}
    for position in range(pull.review_count):
        review = review_node(pull, dataset.seed, position)
        login = review["author"]["login"]
        reviewers[login] = reviewers.get(login, False) or review["state"] == "APPROVED"
    repo_url = _repository_url(pull)
    return {
        "author": {"name": pull.author.display_name, "avatar": _avatar(pull.author.login)},
        "id": f"#{pull.number}",
        "name": pull.title,
        "commentCount": pull.comment_count,
        "source": {"branch": pull.head, "url": f"{repo_url}/tree/{pull.head}"},
        "destination": {"branch": pull.base, "url": f"{repo_url}/tree/{pull.base}"},
        "reviewers": [
            {"name": _display_name(login), "avatar": _avatar(login), "approved": approved}
            for login, approved in reviewers.items()
        ],
        "status": dev_state(pull.state),
        "url": pull.url,
        "lastUpdate": jira_time(pull.updated),
        "repositoryId": str(repo.id) if repo else "",
        "repositoryName": pull.repository,
        "repositoryUrl": repo_url,
        "repositoryAvatarUrl": _avatar(pull.repository.partition("/")[0]),
    }


def _branch(dataset: SandboxDataset, pull: PullRequest) -> dict[str, Any]:
    """Render the head branch of a pull request as the development panel lists it."""
    repo = dataset.repository(pull.repository)
    repo_url = _repository_url(pull)
    last = commit_node(pull, dataset.seed, pull.commit_count - 1)["commit"]
    return {
        "name": pull.head,
        "url": f"{repo_url}/tree/{pull.head}",
        "createPullRequestUrl": f"{repo_url}/compare/{pull.head}?expand=1",
        "repository": {
            "id": str(repo.id) if repo else "",
            "name": pull.repository,
            "url": repo_url,
            "avatar": _avatar(pull.repository.partition("/")[0]),
        },
        "lastCommit": {
            "id": last["oid"],
            "displayId": last["oid"][:7],
            "authorTimestamp": last["committedDate"],
            "url": f"{repo_url}/commit/{last['oid']}",
            "author": {"name": last["author"]["name"]},
            "message": last["message"],
        },
    }


def _repositories(
    dataset: SandboxDataset, pulls: list[PullRequest], key: str
) -> list[dict[str, Any]]:
    """Render the commits that name the issue key, grouped by repository."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for pull in pulls:
        commits = grouped.setdefault(pull.repository, [])
        if key not in pull.title:
            continue
        commit = commit_node(pull, dataset.seed, 0)["commit"]
        commits.append(
            {
                "id": commit["oid"],
                "displayId": commit["oid"][:7],
                "authorTimestamp": commit["committedDate"],
                "url": f"{_repository_url(pull)}/commit/{commit['oid']}",
                "author": {"name": commit["author"]["name"]},
                "fileCount": commit["changedFilesIfAvailable"],
                "merge": False,
                "message": commit["message"],
                "files": [],
            }
        )
    rendered = []
    for full_name, commits in grouped.items():
        repo = dataset.repository(full_name)
        rendered.append(
            {
                "id": str(repo.id) if repo else "",
                "name": full_name,
                "url": f"https://github.com/{full_name}",
                "avatar": _avatar(full_name.partition("/")[0]),
                "commits": commits,
            }
        )
    return rendered


def _display_name(login: str) -> str:
    """Return the display name of a sandbox GitHub login."""
    return next((p.display_name for p in PEOPLE if p.login == login), login)
