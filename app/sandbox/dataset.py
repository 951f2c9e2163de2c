"""SandboxDataset: the deterministic Jira and GitHub data behind the sandbox servers."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from app.sandbox.catalog import ISSUE_TYPES, PROJECTS, STATUSES, IssueType, Project, Status
from app.sandbox.github_data import (
    PullRequest,
    PullRequestLayout,
    PullTimeline,
    Repository,
    comment_node,
    commit_node,
    generate_pull_request,
    generate_repository,
    pull_timeline,
    repository_index,
    review_node,
    thread_node,
)
from app.sandbox.issues import (
    DAY,
    HeaderTable,
    IssueLinks,
    IssueWindow,
    SandboxIssue,
    build_header_table,
    generate_issue,
    touched_issue,
)
from app.sandbox.timestamps import epoch, jira_time

DEFAULT_NOW = datetime(2025, 6, 1, tzinfo=UTC)
_CACHE_SIZE = 4_096


class SandboxDataset:
    """Generated Jira issues and GitHub pull requests, with a small overlay of edits."""

    def __init__(
        self,
        issues: int = 3_000,
        seed: int = 42,
        repos: int = 6,
        pull_requests: int | None = None,
        projects: int = 4,
        org: str = "acme",
        now: datetime = DEFAULT_NOW,
    ) -> None:
        """Describe the data; nothing is generated until it is asked for."""
        if issues < 0 or repos < 1 or not 1 <= projects <= len(PROJECTS):
            raise ValueError(
                f"Sandbox needs issues >= 0, repos >= 1 and 1..{len(PROJECTS)} projects"
            )
        self.seed = seed
        self.now = now
        end = epoch(now) - 3_600
        self.window = IssueWindow(seed, issues, PROJECTS[:projects], end - 730 * DAY, end)
        pulls = issues // 2 if pull_requests is None else pull_requests
        self.layout = PullRequestLayout(seed, org, repos, max(pulls, 0), self.window)
        self.revision = 0
        self._table: HeaderTable | None = None
        self._issue_touches: dict[int, list[int]] = {}
        self._drifted: dict[int, dict[str, Any]] = {}
        self._pull_touches: dict[int, int] = {}
        self._issues: OrderedDict[int, SandboxIssue] = OrderedDict()
        self._pulls: OrderedDict[int, PullRequest] = OrderedDict()
        self._repositories: list[Repository] | None = None
        self._orders: dict[str, tuple[int, list[int]]] = {}
        self._key_offsets = self._project_offsets()

    @property
    def issue_count(self) -> int:
        """Return how many issues the dataset holds."""
        return self.window.count

    @property
    def end(self) -> int:
        """Return the epoch second after which generated data holds no activity."""
        return self.window.end

    def projects(self) -> tuple[Project, ...]:
        """Return the projects, in id order."""
        return self.window.projects

    def statuses(self) -> tuple[Status, ...]:
        """Return every status of the workflow."""
        return STATUSES

    def issue_types(self) -> tuple[IssueType, ...]:
        """Return every issue type."""
        return ISSUE_TYPES

    def headers(self) -> HeaderTable:
        """Return the per-issue header table, built on first use."""
        if self._table is None:
            self._table = build_header_table(self.window)
        return self._table

    def issue(self, index: int) -> SandboxIssue:
        """Return the issue at an index with its full changelog and edits applied."""
        cached = self._issues.get(index)
        if cached is not None:
            self._issues.move_to_end(index)
            return cached
        if not 0 <= index < self.window.count:
            raise IndexError(index)
        table = self.headers()
        links = IssueLinks(self._parent_of(table, index), self.dev_summary(index))
        issue = generate_issue(self.window, table, index, links)
        for revision, moment in enumerate(self._issue_touches.get(index, ()), start=1):
            issue = touched_issue(issue, moment, revision)
        if index in self._drifted:
            issue = replace(issue, fields={**issue.fields, **self._drifted[index]})
        self._issues[index] = issue
        if len(self._issues) > _CACHE_SIZE:
            self._issues.popitem(last=False)
        return issue

    def issue_index(self, id_or_key: str) -> int | None:
        """Return the index of an issue id or key, or None when there is no such issue."""
        text = id_or_key.strip()
        if text.isdigit():
            index = int(text) - 10_000
        else:
            project_key, _, number = text.upper().rpartition("-")
            keys = [p.key for p in self.window.projects]
            if project_key not in keys or not number.isdigit() or int(number) < 1:
                return None
            index = (int(number) - 1) * len(keys) + keys.index(project_key)
        return index if 0 <= index < self.window.count else None

    def key_of(self, index: int) -> str:
        """Return the key of the issue at an index."""
        return self.window.key_of(index)

    def changelog_total(self, index: int) -> int:
        """Return the real number of changelog histories of an issue."""
        return len(self.issue(index).histories)

    def created_at(self, index: int) -> int:
        """Return the creation epoch second of an issue."""
        return self.headers().created[index]

    def updated_at(self, index: int) -> int:
        """Return the last update epoch second of an issue, edits included."""
        touches = self._issue_touches.get(index)
        return touches[-1] if touches else self.headers().updated[index]

    def key_rank(self, index: int) -> int:
        """Return the position of an issue in ORDER BY key order."""
        count = len(self.window.projects)
        return self._key_offsets[index % count] + index // count

    def order(self, field: str) -> list[int]:
        """Return every issue index sorted by a field (key, updated or created), then key."""
        cached = self._orders.get(field)
        if cached is not None and cached[0] == self.revision:
            return cached[1]
        indexes = list(range(self.window.count))
        if field == "key":
            indexes.sort(key=self.key_rank)
        elif field == "updated":
            indexes.sort(key=lambda i: (self.updated_at(i), self.key_rank(i)))
        else:
            indexes.sort(key=lambda i: (self.created_at(i), self.key_rank(i)))
        self._orders[field] = (self.revision, indexes)
        return indexes

    def touch(self, indexes: Iterable[int], at: datetime) -> list[str]:
        """Edit issues at a moment (summary, one more transition, updated); return their keys."""
        moment = epoch(at)
        keys = []
        for index in indexes:
            if moment < self.updated_at(index):
                raise ValueError(f"Cannot edit {self.key_of(index)} before its last update")
            self._issue_touches.setdefault(index, []).append(moment)
            self._issues.pop(index, None)
            keys.append(self.key_of(index))
        self.revision += 1
        return keys

    def drift(self, index: int, field: str, value: Any) -> str:
        """Serve one field of an issue with a value of an unexpected shape (schema drift, e.g.
        `summary` as an object); return the issue's key."""
        if not 0 <= index < self.window.count:
            raise IndexError(index)
        self._drifted.setdefault(index, {})[field] = value
        self._issues.pop(index, None)
        return self.key_of(index)

    def keys_updated_since(self, moment: datetime) -> set[str]:
        """Return the keys of issues updated at or after a moment (what incremental JQL finds)."""
        floor = epoch(moment)
        return {self.key_of(i) for i in range(self.window.count) if self.updated_at(i) >= floor}

    def touched(self) -> dict[str, int]:
        """Return the keys of edited issues with how many edits each received."""
        return {self.key_of(i): len(moments) for i, moments in self._issue_touches.items()}

    def dev_status(self, index: int) -> list[PullRequest]:
        """Return the pull requests that mention an issue (what dev-status lists)."""
        return [self.pull(g) for g in self.layout.pulls_of_issue(index)]

    def dev_summary(self, index: int) -> str:
        """Return the dev-summary custom field of an issue: "{}" without development data."""
        pulls = [self._timeline(g) for g in self.layout.pulls_of_issue(index)]
        if not pulls:
            return "{}"
        states = {pull.state for pull in pulls}
        state = "OPEN" if "OPEN" in states else "MERGED" if "MERGED" in states else "DECLINED"
        overall = {
            "count": len(pulls),
            "lastUpdated": jira_time(max(pull.updated for pull in pulls)),
            "stateCount": sum(1 for pull in pulls if dev_state(pull.state) == state),
            "state": state,
            "dataType": "pullrequest",
            "open": state == "OPEN",
        }
        cached = {
            "cachedValue": {
                "errors": [],
                "summary": {
                    "pullrequest": {
                        "overall": overall,
                        "byInstanceType": {"GitHub": {"count": len(pulls), "name": "GitHub"}},
                    }
                },
            },
            "isStale": False,
        }
        return (
            f"{{pullrequest={{dataType=pullrequest, state={state}, "
            f"stateCount={overall['stateCount']}}}, json={json.dumps(cached)}}}"
        )

    @property
    def pull_request_count(self) -> int:
        """Return how many pull requests exist across all repositories."""
        return self.layout.pull_request_count

    @property
    def org(self) -> str:
        """Return the GitHub organization that owns every repository."""
        return self.layout.org

    def repositories(self) -> list[Repository]:
        """Return every repository in index order (pushed covers its latest PR update)."""
        if self._repositories is None:
            latest: dict[int, int] = {}
            for g in range(self.layout.pull_request_count):
                repo = self.layout.repository_of(g)
                latest[repo] = max(latest.get(repo, 0), self._timeline(g).updated)
            self._repositories = [
                generate_repository(self.layout, j, latest.get(j))
                for j in range(self.layout.repository_count)
            ]
        return self._repositories

    def repository(self, full_name: str) -> Repository | None:
        """Return a repository by owner/name (case-insensitive), or None."""
        owner, _, name = full_name.partition("/")
        if owner.lower() != self.layout.org.lower():
            return None
        index = repository_index(name)
        if index is None or index >= self.layout.repository_count:
            return None
        return self.repositories()[index]

    def pull(self, index: int, *, cache: bool = True) -> PullRequest:
        """Return the pull request at a global index, edits applied."""
        found = self._pulls.get(index)
        if found is not None:
            return found
        pull = generate_pull_request(self.layout, self.headers(), index)
        if index in self._pull_touches:
            pull = pull.touched(self._pull_touches[index])
        if cache:
            self._pulls[index] = pull
            if len(self._pulls) > _CACHE_SIZE:
                self._pulls.popitem(last=False)
        return pull

    def _timeline(self, index: int) -> PullTimeline:
        """Return the state and times of a pull request without generating its text."""
        timeline = pull_timeline(self.layout, self.headers(), index)[0]
        if index in self._pull_touches:
            return replace(timeline, updated=self._pull_touches[index])
        return timeline

    def pull_requests(self, full_name: str) -> list[PullRequest]:
        """Return a repository's pull requests by number."""
        repo = self.repository(full_name)
        if repo is None:
            return []
        count = self.layout.pull_count_in(repo.index)
        return [self.pull(self.layout.pull_index(repo.index, n)) for n in range(1, count + 1)]

    def pull_request(self, full_name: str, number: int) -> PullRequest | None:
        """Return one pull request of a repository, or None."""
        repo = self.repository(full_name)
        if repo is None or not 1 <= number <= self.layout.pull_count_in(repo.index):
            return None
        return self.pull(self.layout.pull_index(repo.index, number))

    def commits(self, pull: PullRequest) -> list[dict[str, Any]]:
        """Return every commit node of a pull request, as GraphQL serves them."""
        return [commit_node(pull, self.seed, k) for k in range(pull.commit_count)]

    def reviews(self, pull: PullRequest) -> list[dict[str, Any]]:
        """Return every review node of a pull request."""
        return [review_node(pull, self.seed, k) for k in range(pull.review_count)]

    def comments(self, pull: PullRequest) -> list[dict[str, Any]]:
        """Return every conversation comment node of a pull request."""
        return [comment_node(pull, self.seed, k) for k in range(pull.comment_count)]

    def review_threads(self, pull: PullRequest) -> list[dict[str, Any]]:
        """Return every review thread of a pull request, each with all its comments."""
        return [thread_node(pull, self.seed, k) for k in range(pull.thread_count)]

    def touch_pull_requests(self, full_name: str, numbers: Iterable[int], at: datetime) -> None:
        """Add a comment to pull requests at a moment, moving their updatedAt there."""
        repo = self.repository(full_name)
        if repo is None:
            raise ValueError(f"No repository {full_name} in the sandbox")
        moment = epoch(at)
        for number in numbers:
            index = self.layout.pull_index(repo.index, number)
            self._pull_touches[index] = moment
            self._pulls.pop(index, None)
        if self._repositories is not None:
            bumped = max(repo.pushed, moment)
            self._repositories[repo.index] = _pushed(repo, bumped)
        self.revision += 1

    def to_summary(self) -> dict[str, Any]:
        """Return the headline counts of the dataset (for logs and the CLI)."""
        return {
            "seed": self.seed,
            "issues": self.window.count,
            "projects": [p.key for p in self.window.projects],
            "repositories": self.layout.repository_count,
            "pull_requests": self.layout.pull_request_count,
        }

    def _parent_of(self, table: HeaderTable, index: int) -> int | None:
        """Return the parent of an issue: a standard issue for sub-tasks, sometimes an epic."""
        level = ISSUE_TYPES[table.types[index]].hierarchy_level
        if level > 0 or (level == 0 and index % 2 == 1):
            return None
        step = len(self.window.projects)
        for candidate in range(index - step, max(index - 60 * step, -1), -step):
            candidate_level = ISSUE_TYPES[table.types[candidate]].hierarchy_level
            if candidate_level == level + 1:
                return candidate
        return None

    def _project_offsets(self) -> list[int]:
        """Return, per project position, where its issues start in key order."""
        projects = self.window.projects
        count = self.window.count
        sizes = [max(0, -(-(count - p) // len(projects))) for p in range(len(projects))]
        offsets = [0] * len(projects)
        running = 0
        for p in sorted(range(len(projects)), key=lambda p: projects[p].key):
            offsets[p] = running
            running += sizes[p]
        return offsets


def dev_state(state: str) -> str:
    """Return Jira's dev-status name (OPEN, MERGED, DECLINED) of a GitHub PR state."""
    return "DECLINED" if state == "CLOSED" else state


def _pushed(repo: Repository, moment: int) -> Repository:
    """Return the repository pushed (and updated) at a later moment."""
    return replace(repo, pushed=moment, updated=max(repo.updated, moment))
