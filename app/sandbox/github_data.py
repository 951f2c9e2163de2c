"""Generation of GitHub repositories, pull requests and their nested records."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from app.sandbox.catalog import LANGUAGES, OBJECTS, PEOPLE, PHRASES, REPOSITORY_NAMES, VERBS, Person
from app.sandbox.issues import DAY, HeaderTable, IssueWindow
from app.sandbox.timestamps import github_time

YEAR = 365 * DAY
_STREAM_PULL = 10**12
_STREAM_REPOSITORY = 2 * 10**12
_STREAM_NESTED = 3 * 10**12


@dataclass(frozen=True, slots=True)
class PullRequestLayout:
    """How pull requests are spread over repositories and tied to issues."""

    seed: int
    org: str
    repository_count: int
    pull_request_count: int
    issues: IssueWindow

    def repository_of(self, pull: int) -> int:
        """Return the repository index of a pull request index."""
        return pull % self.repository_count

    def number_of(self, pull: int) -> int:
        """Return the pull request number within its repository."""
        return pull // self.repository_count + 1

    def pull_index(self, repository: int, number: int) -> int:
        """Return the pull request index of a repository's PR number."""
        return (number - 1) * self.repository_count + repository

    def pull_count_in(self, repository: int) -> int:
        """Return how many pull requests a repository has."""
        remaining = self.pull_request_count - repository
        return 0 if remaining <= 0 else -(-remaining // self.repository_count)

    def primary_issue(self, pull: int) -> int | None:
        """Return the issue named in the PR title and branch, if any."""
        if pull % 10 == 9 or self.issues.count == 0:
            return None
        return pull * self.issues.count // self.pull_request_count

    def mentioned_issue(self, pull: int) -> int | None:
        """Return a second issue mentioned only in the PR body, if any."""
        if pull % 7 != 3 or self.issues.count == 0:
            return None
        other = (pull + 1) * self.issues.count // self.pull_request_count
        if other >= self.issues.count or other == self.primary_issue(pull):
            return None
        return other

    def pulls_of_issue(self, issue: int) -> list[int]:
        """Return the pull request indexes whose title, branch or body name an issue."""
        count, pulls = self.issues.count, self.pull_request_count
        if count == 0 or pulls == 0:
            return []
        low = -(-issue * pulls // count)
        high = -(-(issue + 1) * pulls // count)
        found = {g for g in range(low, min(high, pulls)) if self.primary_issue(g) == issue}
        found |= {
            g for g in range(max(low - 1, 0), min(high, pulls)) if self.mentioned_issue(g) == issue
        }
        return sorted(found)


@dataclass(frozen=True, slots=True)
class Repository:
    """A generated GitHub repository."""

    index: int
    id: int
    name: str
    owner: str
    private: bool
    description: str
    language: str
    default_branch: str
    created: int
    pushed: int
    updated: int

    @property
    def full_name(self) -> str:
        """Return owner/name."""
        return f"{self.owner}/{self.name}"

    @property
    def node_id(self) -> str:
        """Return the GraphQL node id."""
        return f"R_kgDOSbx{self.id:08x}"

    @property
    def html_url(self) -> str:
        """Return the web address of the repository."""
        return f"https://github.com/{self.full_name}"

    def to_api(self) -> dict[str, Any]:
        """Render the repository as the REST search API returns it."""
        return {
            "id": self.id,
            "node_id": self.node_id,
            "name": self.name,
            "full_name": self.full_name,
            "private": self.private,
            "owner": {"login": self.owner, "id": 9_000_001, "type": "Organization"},
            "html_url": self.html_url,
            "description": self.description,
            "fork": False,
            "url": f"https://api.github.com/repos/{self.full_name}",
            "created_at": github_time(self.created),
            "updated_at": github_time(self.updated),
            "pushed_at": github_time(self.pushed),
            "language": self.language,
            "archived": False,
            "disabled": False,
            "visibility": "private" if self.private else "public",
            "default_branch": self.default_branch,
            "score": 1.0,
        }


def generate_repository(
    layout: PullRequestLayout, index: int, latest_pull: int | None
) -> Repository:
    """Generate the repository at an index; pushed is never before its latest PR update."""
    rng = random.Random(layout.seed * 1_000_003 + _STREAM_REPOSITORY + index)
    end = layout.issues.end
    created = end - int(rng.uniform(0.2, 8.0) * YEAR)
    pushed = created + int((end - created) * rng.random() ** 0.4)
    if latest_pull is not None:
        pushed = max(pushed, latest_pull)
    name = REPOSITORY_NAMES[index] if index < len(REPOSITORY_NAMES) else f"service-{index:05d}"
    return Repository(
        index=index,
        id=500_000_000 + index,
        name=name,
        owner=layout.org,
        private=index % 3 == 0,
        description=f"{rng.choice(OBJECTS).capitalize()} service ({name})",
        language=rng.choice(LANGUAGES),
        default_branch="master" if index % 7 == 6 else "main",
        created=created,
        pushed=pushed,
        updated=min(end, pushed + rng.randint(0, 3 * DAY)),
    )


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A generated pull request with the sizes of its nested connections."""

    index: int
    repository: str
    number: int
    title: str
    body: str
    state: str
    created: int
    updated: int
    merged: int | None
    closed: int | None
    additions: int
    deletions: int
    changed_files: int
    head: str
    base: str
    author: Person
    commit_count: int
    review_count: int
    comment_count: int
    thread_count: int
    issue_keys: tuple[str, ...]

    @property
    def node_id(self) -> str:
        """Return the GraphQL node id."""
        return f"PR_kwDOSbx{self.index:08x}"

    @property
    def url(self) -> str:
        """Return the web address of the pull request."""
        return f"https://github.com/{self.repository}/pull/{self.number}"

    def touched(self, at: int) -> PullRequest:
        """Return the pull request after a new comment at a moment."""
        return replace(self, updated=at, comment_count=self.comment_count + 1)


@dataclass(frozen=True, slots=True)
class PullTimeline:
    """When a pull request was opened, finished and last updated, and how it ended."""

    created: int
    state: str
    merged: int | None
    closed: int | None
    updated: int


def pull_timeline(
    layout: PullRequestLayout, table: HeaderTable, index: int
) -> tuple[PullTimeline, random.Random]:
    """Draw the timeline of a pull request (the first draws of its generator)."""
    rng = random.Random(layout.seed * 1_000_003 + _STREAM_PULL + index)
    end = layout.issues.end
    primary = layout.primary_issue(index)
    if primary is not None:
        created = min(table.created[primary] + rng.randint(3_600, 20 * DAY), end - 3_600)
    else:
        count = max(layout.pull_request_count, 1)
        created = layout.issues.start + (end - layout.issues.start) * index // count
    roll = rng.random()
    state = "MERGED" if roll < 0.65 else "CLOSED" if roll < 0.8 else "OPEN"
    finished = _within(created, rng.randint(600, 9 * DAY), end, rng)
    merged = finished if state == "MERGED" else None
    closed = finished if state != "OPEN" else None
    updated = finished if state != "OPEN" else _within(created, rng.randint(60, 30 * DAY), end, rng)
    return PullTimeline(created, state, merged, closed, updated), rng


def generate_pull_request(layout: PullRequestLayout, table: HeaderTable, index: int) -> PullRequest:
    """Generate the pull request at an index."""
    timeline, rng = pull_timeline(layout, table, index)
    issues = layout.issues
    primary = layout.primary_issue(index)
    mentioned = layout.mentioned_issue(index)
    created, state, merged, closed, updated = (
        timeline.created,
        timeline.state,
        timeline.merged,
        timeline.closed,
        timeline.updated,
    )
    phrase = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    slug = phrase.lower().replace(" ", "-")
    keys: list[str] = []
    if primary is not None:
        key = issues.key_of(primary)
        keys.append(key)
        title, head = f"{key} {phrase}", f"feature/{key}-{slug}"
    elif index % 20 == 19:
        title, head = f"LEGACY-{index} {phrase}", f"legacy/LEGACY-{index}"
    else:
        title, head = f"chore: {phrase}", f"chore/{slug}-{index}"
    body = " ".join(rng.sample(PHRASES, 2))
    if mentioned is not None:
        other = issues.key_of(mentioned)
        keys.append(other)
        body = f"{body}\n\nAlso relates to {other}."
    commits = rng.randint(101, 150) if index % 97 == 5 else rng.randint(1, 12)
    return PullRequest(
        index=index,
        repository=f"{layout.org}/{_repository_name(layout.repository_of(index))}",
        number=layout.number_of(index),
        title=title,
        body=body,
        state=state,
        created=created,
        updated=updated,
        merged=merged,
        closed=closed,
        additions=rng.randint(1, 900),
        deletions=rng.randint(0, 400),
        changed_files=rng.randint(1, 40),
        head=head,
        base="master" if layout.repository_of(index) % 7 == 6 else "main",
        author=rng.choice(PEOPLE),
        commit_count=commits,
        review_count=rng.randint(1, 5) if state == "MERGED" else rng.randint(0, 3),
        comment_count=rng.randint(0, 8),
        thread_count=rng.randint(0, 4),
        issue_keys=tuple(keys),
    )


def _within(start: int, duration: int, end: int, rng: random.Random) -> int:
    """Return start + duration, or a random moment before end when that would pass it."""
    if start + duration <= end:
        return start + duration
    return start + int((end - start) * rng.random())


def _repository_name(index: int) -> str:
    """Return the name of the repository at an index."""
    return REPOSITORY_NAMES[index] if index < len(REPOSITORY_NAMES) else f"service-{index:05d}"


def repository_index(name: str) -> int | None:
    """Return the repository index of a name, or None for a name the sandbox never makes."""
    lowered = name.lower()
    if lowered in REPOSITORY_NAMES:
        return REPOSITORY_NAMES.index(lowered)
    if lowered.startswith("service-") and lowered[8:].isdigit() and len(lowered) == 13:
        index = int(lowered[8:])
        return index if index >= len(REPOSITORY_NAMES) else None
    return None


def _nested_rng(pull: PullRequest, seed: int, kind: int, position: int) -> random.Random:
    """Return the generator of one nested record of a pull request."""
    return random.Random(
        seed * 1_000_003 + _STREAM_NESTED + pull.index * 65_536 + kind * 4_096 + position
    )


def _moment(pull: PullRequest, position: int, count: int) -> int:
    """Return the time of the n-th of count records spread over the PR's life."""
    span = max(pull.updated - pull.created, 1)
    return pull.created + span * (position + 1) // (count + 1)


def commit_node(pull: PullRequest, seed: int, position: int) -> dict[str, Any]:
    """Return one PullRequestCommit node."""
    rng = _nested_rng(pull, seed, 0, position)
    author = pull.author if rng.random() < 0.8 else rng.choice(PEOPLE)
    when = github_time(_moment(pull, position, pull.commit_count))
    oid = f"{rng.getrandbits(160):040x}"
    message = pull.title if position == 0 else f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    return {
        "id": f"PURC_kwDOSbx{pull.index:08x}{position:04x}",
        "url": f"{pull.url}/commits/{oid}",
        "commit": {
            "oid": oid,
            "message": message,
            "additions": rng.randint(1, 300),
            "deletions": rng.randint(0, 120),
            "changedFilesIfAvailable": rng.randint(1, 12),
            "authoredDate": when,
            "committedDate": when,
            "author": {
                "name": author.display_name,
                "email": author.email,
                "date": when,
                "user": {"login": author.login},
            },
        },
    }


def review_node(pull: PullRequest, seed: int, position: int) -> dict[str, Any]:
    """Return one PullRequestReview node (the last review of a merged PR approves)."""
    rng = _nested_rng(pull, seed, 1, position)
    reviewer = PEOPLE[(pull.author.index + 1 + rng.randrange(len(PEOPLE) - 1)) % len(PEOPLE)]
    last = position == pull.review_count - 1
    if pull.state == "MERGED" and last:
        state = "APPROVED"
    else:
        state = rng.choice(("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "COMMENTED"))
    when = github_time(_moment(pull, position, pull.review_count))
    return {
        "id": f"PRR_kwDOSbx{pull.index:08x}{position:04x}",
        "state": state,
        "body": "" if state == "APPROVED" and rng.random() < 0.5 else rng.choice(PHRASES),
        "submittedAt": when,
        "createdAt": when,
        "url": f"{pull.url}#pullrequestreview-{pull.index * 100 + position}",
        "author": {"login": reviewer.login},
    }


def comment_node(pull: PullRequest, seed: int, position: int) -> dict[str, Any]:
    """Return one IssueComment node of a pull request conversation."""
    rng = _nested_rng(pull, seed, 2, position)
    when = github_time(_moment(pull, position, pull.comment_count))
    return {
        "id": f"IC_kwDOSbx{pull.index:08x}{position:04x}",
        "body": rng.choice(PHRASES),
        "createdAt": when,
        "updatedAt": when,
        "url": f"{pull.url}#issuecomment-{pull.index * 100 + position}",
        "author": {"login": rng.choice(PEOPLE).login},
    }


def thread_node(pull: PullRequest, seed: int, position: int) -> dict[str, Any]:
    """Return one PullRequestReviewThread with all its comments."""
    rng = _nested_rng(pull, seed, 3, position)
    path = f"src/{rng.choice(OBJECTS).replace(' ', '_')}.py"
    comments = []
    for reply in range(rng.randint(1, 4)):
        when = github_time(_moment(pull, position * 4 + reply, pull.thread_count * 4))
        comments.append(
            {
                "id": f"PRRC_kwDOSbx{pull.index:08x}{position:02x}{reply:02x}",
                "body": rng.choice(PHRASES),
                "path": path,
                "createdAt": when,
                "updatedAt": when,
                "author": {"login": rng.choice(PEOPLE).login},
            }
        )
    return {
        "id": f"PRRT_kwDOSbx{pull.index:08x}{position:04x}",
        "isResolved": rng.random() < 0.7,
        "isOutdated": rng.random() < 0.2,
        "path": path,
        "line": rng.randint(1, 400),
        "comments": comments,
    }
