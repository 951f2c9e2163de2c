"""Generation of Jira issues and their changelogs, one issue at a time from a seed."""

from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from app.sandbox.catalog import (
    BACKLOG,
    BLOCKED,
    CLOSED,
    CODE_REVIEW,
    DONE,
    EPIC,
    IN_PROGRESS,
    ISSUE_TYPES,
    LABELS,
    OBJECTS,
    PEOPLE,
    PHRASES,
    PRIORITIES,
    QA,
    QUALIFIERS,
    STATUSES,
    SUBTASK,
    TO_DO,
    VERBS,
    Person,
    Project,
    Status,
)
from app.sandbox.timestamps import jira_date, jira_time

DAY = 86_400
T = TypeVar("T")
EMBEDDED_HISTORY_LIMIT = 40
_MASK = (1 << 64) - 1
_TYPE_SHARES = (0.05, 0.40, 0.65, 0.85, 1.0)
_STATUS_BY_ID = {status.id: status for status in STATUSES}
_TRANSITIONS: dict[str, tuple[tuple[Status, float], ...]] = {
    BACKLOG.id: ((TO_DO, 0.9), (CLOSED, 0.1)),
    TO_DO.id: ((IN_PROGRESS, 0.85), (BACKLOG, 0.15)),
    IN_PROGRESS.id: ((CODE_REVIEW, 0.72), (BLOCKED, 0.08), (QA, 0.12), (TO_DO, 0.08)),
    BLOCKED.id: ((IN_PROGRESS, 1.0),),
    CODE_REVIEW.id: ((QA, 0.7), (IN_PROGRESS, 0.3)),
    QA.id: ((DONE, 0.75), (IN_PROGRESS, 0.25)),
    DONE.id: ((CLOSED, 0.6), (IN_PROGRESS, 0.4)),
    CLOSED.id: ((IN_PROGRESS, 1.0),),
}
_FORWARD = {
    BACKLOG.id: TO_DO,
    TO_DO.id: IN_PROGRESS,
    IN_PROGRESS.id: CODE_REVIEW,
    BLOCKED.id: IN_PROGRESS,
    CODE_REVIEW.id: QA,
    QA.id: DONE,
    DONE.id: IN_PROGRESS,
    CLOSED.id: IN_PROGRESS,
}


def splitmix64(value: int) -> int:
    """Return the SplitMix64 hash of a 64-bit value (fast, well mixed)."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def issue_id(index: int) -> str:
    """Return the numeric Jira id of the issue at an index."""
    return str(10_000 + index)


@dataclass(frozen=True, slots=True)
class IssueWindow:
    """Where issues live in time and how they are spread across projects."""

    seed: int
    count: int
    projects: tuple[Project, ...]
    start: int
    end: int

    def project_of(self, index: int) -> Project:
        """Return the project of the issue at an index."""
        return self.projects[index % len(self.projects)]

    def number_of(self, index: int) -> int:
        """Return the issue number within its project (the n of PROJ-n)."""
        return index // len(self.projects) + 1

    def key_of(self, index: int) -> str:
        """Return the issue key (PROJ-n) of the issue at an index."""
        return f"{self.project_of(index).key}-{self.number_of(index)}"


@dataclass(slots=True)
class HeaderTable:
    """Cheap per-issue facts (type, created, base updated, churn) for every issue."""

    types: bytearray
    churn: bytearray
    created: array[int]
    updated: array[int]


def build_header_table(window: IssueWindow) -> HeaderTable:
    """Derive the header of every issue with a hash, in index order."""
    count = window.count
    span = window.end - window.start
    types = bytearray(count)
    churn = bytearray(count)
    created = array("q", bytes(8 * count))
    updated = array("q", bytes(8 * count))
    has_standard = [False] * len(window.projects)
    for index in range(count):
        h1 = splitmix64(window.seed * 1_000_003 + index)
        h2 = splitmix64(h1)
        h3 = splitmix64(h2)
        u_type = (h1 >> 11) / 9007199254740992.0
        type_index = next(t for t, share in enumerate(_TYPE_SHARES) if u_type < share)
        project = index % len(window.projects)
        if type_index == 4 and not has_standard[project]:
            type_index = 2
        if ISSUE_TYPES[type_index].hierarchy_level == 0:
            has_standard[project] = True
        base = window.start + span * index // max(count, 1)
        jitter = int(((h2 >> 11) / 9007199254740992.0 - 0.5) * DAY)
        born = min(max(base + jitter, window.start), window.end - 7_200)
        is_churn = (h3 & 0xFFFF) < 3_277
        age = window.end - born
        u_duration = ((h3 >> 16) & 0xFFFFFFFF) / 4294967296.0
        if is_churn:
            lifetime = int(age * (0.5 + 0.5 * u_duration))
        else:
            lifetime = min(age, int(-math.log(1.0 - u_duration) * 15 * DAY))
        types[index] = type_index
        churn[index] = 1 if is_churn else 0
        created[index] = born
        updated[index] = born + max(lifetime, min(age, 600))
    return HeaderTable(types=types, churn=churn, created=created, updated=updated)


@dataclass(slots=True)
class SandboxIssue:
    """One generated issue: Jira fields and its complete changelog, oldest first."""

    index: int
    id: str
    key: str
    fields: dict[str, Any]
    histories: list[dict[str, Any]]

    @property
    def status(self) -> Status:
        """Return the current status of the issue."""
        return _STATUS_BY_ID[self.fields["status"]["id"]]

    def to_api(
        self,
        base_url: str,
        fields: frozenset[str] | None,
        with_changelog: bool,
        history_limit: int = EMBEDDED_HISTORY_LIMIT,
    ) -> dict[str, Any]:
        """Render the issue as search returns it; fields None means no fields object."""
        rendered: dict[str, Any] = {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": self.id,
            "self": f"{base_url}rest/api/3/issue/{self.id}",
            "key": self.key,
        }
        if fields is not None:
            if "*all" in fields or "*navigable" in fields:
                rendered["fields"] = {k: v for k, v in self.fields.items() if f"-{k}" not in fields}
            else:
                rendered["fields"] = {k: v for k, v in self.fields.items() if k in fields}
        if with_changelog:
            shown = self.histories[:history_limit]
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(shown),
                "total": len(self.histories),
                "histories": shown,
            }
        return rendered


@dataclass(frozen=True, slots=True)
class IssueLinks:
    """What an issue refers to outside itself: parent and development summary."""

    parent_index: int | None
    dev_summary: str


def generate_issue(
    window: IssueWindow, table: HeaderTable, index: int, links: IssueLinks
) -> SandboxIssue:
    """Generate the issue at an index with its full changelog."""
    rng = random.Random(window.seed * 1_000_003 + index)
    project = window.project_of(index)
    issue_type = ISSUE_TYPES[table.types[index]]
    created = table.created[index]
    updated = table.updated[index]
    churn = table.churn[index] == 1
    maturity = min(1.0, (updated - created) / (30 * DAY))
    reporter = _pick(rng, PEOPLE)
    assignee: Person | None = None if rng.random() < 0.15 else _pick(rng, PEOPLE)
    priority = PRIORITIES[min(4, int(rng.triangular(0, 5, 2)))]
    if churn:
        target = EMBEDDED_HISTORY_LIMIT + 1 + int(rng.random() * 120)
        others = 3 + int(rng.random() * 10)
        path = _walk(rng, target - others, stop_at_done=False)
    else:
        others = _pick(rng, (0, 0, 0, 1, 1, 2, 3, 4))
        path = _walk(rng, int(rng.random() * (4 + int(10 * maturity))), stop_at_done=True)
    kinds = [True] * len(path) + [False] * others
    rng.shuffle(kinds)
    span = max(updated - created - 1, 0)
    times = sorted([created + 1 + int(rng.random() * span) for _ in kinds])
    base_history = int(issue_id(index)) * 10_000
    histories: list[dict[str, Any]] = []
    status = BACKLOG
    resolved_at: int | None = None
    steps = iter(path)
    draw = rng.random
    people = len(PEOPLE)
    for number, (is_status, moment) in enumerate(zip(kinds, times, strict=True)):
        author = assignee if assignee is not None and draw() < 0.7 else PEOPLE[int(draw() * people)]
        if is_status:
            target_status = next(steps)
            items = status_items(status, target_status)
            if target_status.category == "done" and status.category != "done":
                resolved_at = moment
            elif target_status.category != "done":
                resolved_at = None
            status = target_status
        elif draw() < 0.6:
            shift = 1 + int(draw() * (people - 1))
            new_assignee = PEOPLE[((assignee.index if assignee else 0) + shift) % people]
            items = [_person_item("assignee", assignee, new_assignee)]
            assignee = new_assignee
        else:
            others_priority = [p for p in PRIORITIES if p != priority]
            new_priority = others_priority[int(draw() * len(others_priority))]
            items = [_change_item("priority", priority, new_priority)]
            priority = new_priority
        histories.append(history(base_history + number, author, moment, items))
    fields = _fields(window, rng, index, issue_type.name, links, reporter, assignee, priority)
    fields["issuetype"] = issue_type.to_api()
    fields["status"] = status.to_api()
    fields["created"] = jira_time(created)
    fields["updated"] = jira_time(updated)
    fields["resolutiondate"] = jira_time(resolved_at) if resolved_at is not None else None
    fields["resolution"] = {"id": "10000", "name": "Done"} if resolved_at is not None else None
    fields["customfield_10020"] = _sprint(window, rng, project, created, issue_type.name, status)
    if links.parent_index is not None:
        parent_type = ISSUE_TYPES[table.types[links.parent_index]]
        fields["parent"] = {
            "id": issue_id(links.parent_index),
            "key": window.key_of(links.parent_index),
            "fields": {"issuetype": parent_type.to_api()},
        }
    return SandboxIssue(index, issue_id(index), window.key_of(index), fields, histories)


def _walk(rng: random.Random, budget: int, *, stop_at_done: bool) -> list[Status]:
    """Walk the workflow from Backlog for up to budget transitions."""
    path: list[Status] = []
    current = BACKLOG
    for _ in range(budget):
        if stop_at_done and current.category == "done" and rng.random() < 0.85:
            break
        roll = rng.random()
        options = _TRANSITIONS[current.id]
        current = options[-1][0]
        for candidate, share in options:
            if roll < share:
                current = candidate
                break
            roll -= share
        path.append(current)
    return path


def status_items(source: Status, target: Status) -> list[dict[str, Any]]:
    """Return the changelog items of a status transition, with resolution changes."""
    items = [
        {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": source.id,
            "fromString": source.name,
            "to": target.id,
            "toString": target.name,
        }
    ]
    if target.category == "done" and source.category != "done":
        items.append(_resolution_item(None, ("10000", "Done")))
    elif source.category == "done" and target.category != "done":
        items.append(_resolution_item(("10000", "Done"), None))
    return items


def _resolution_item(old: tuple[str, str] | None, new: tuple[str, str] | None) -> dict[str, Any]:
    """Return a resolution change item."""
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": old[0] if old else None,
        "fromString": old[1] if old else None,
        "to": new[0] if new else None,
        "toString": new[1] if new else None,
    }


def _person_item(field: str, old: Person | None, new: Person) -> dict[str, Any]:
    """Return a user field change item (assignee)."""
    return {
        "field": field,
        "fieldtype": "jira",
        "fieldId": field,
        "from": old.account_id if old else None,
        "fromString": old.display_name if old else None,
        "to": new.account_id,
        "toString": new.display_name,
    }


def _change_item(field: str, old: tuple[str, str], new: tuple[str, str]) -> dict[str, Any]:
    """Return an id/name field change item (priority)."""
    return {
        "field": field,
        "fieldtype": "jira",
        "fieldId": field,
        "from": old[0],
        "fromString": old[1],
        "to": new[0],
        "toString": new[1],
    }


def history(
    number: int, author: Person, moment: int, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return one changelog history."""
    return {
        "id": str(number),
        "author": {
            "accountId": author.account_id,
            "displayName": author.display_name,
            "active": True,
        },
        "created": jira_time(moment),
        "items": items,
    }


def _fields(
    window: IssueWindow,
    rng: random.Random,
    index: int,
    type_name: str,
    links: IssueLinks,
    reporter: Person,
    assignee: Person | None,
    priority: tuple[str, str],
) -> dict[str, Any]:
    """Return the descriptive fields of an issue (summary, people, labels, points)."""
    project = window.project_of(index)
    if type_name == EPIC.name:
        summary = f"Epic: {_pick(rng, OBJECTS)} overhaul"
    else:
        summary = f"{_pick(rng, VERBS)} {_pick(rng, OBJECTS)}"
        if rng.random() < 0.5:
            summary = f"{summary} {_pick(rng, QUALIFIERS)}"
    points = None
    if type_name not in (EPIC.name, SUBTASK.name) and rng.random() < 0.7:
        points = float(_pick(rng, (1, 2, 3, 5, 8, 13)))
    due = None
    if rng.random() < 0.2:
        due = jira_date(window.end + int(rng.random() * 260 - 200) * DAY)
    return {
        "summary": summary,
        "description": _description(rng),
        "project": {
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
        },
        "priority": {"id": priority[0], "name": priority[1]},
        "assignee": assignee.to_jira() if assignee else None,
        "reporter": reporter.to_jira(),
        "creator": reporter.to_jira(),
        "labels": _labels(rng),
        "duedate": due,
        "parent": None,
        "customfield_10016": points,
        "customfield_10000": links.dev_summary,
    }


def _pick(rng: random.Random, options: tuple[T, ...]) -> T:
    """Return one of the options, uniformly (cheaper than Random.choice)."""
    return options[int(rng.random() * len(options))]


def _labels(rng: random.Random) -> list[str]:
    """Return zero to three distinct labels, sorted."""
    wanted = _pick(rng, (0, 0, 1, 1, 2, 3))
    return sorted({_pick(rng, LABELS) for _ in range(wanted)})


def _description(rng: random.Random) -> dict[str, Any] | None:
    """Return an Atlassian Document Format description (sometimes long, sometimes none)."""
    roll = rng.random()
    if roll < 0.1:
        return None
    paragraphs = 60 + int(rng.random() * 140) if roll > 0.98 else 1 + int(rng.random() * 3)
    content = [
        {
            "type": "paragraph",
            "content": [{"type": "text", "text": f"{_pick(rng, PHRASES)} {_pick(rng, PHRASES)}"}],
        }
        for _ in range(paragraphs)
    ]
    return {"type": "doc", "version": 1, "content": content}


def _sprint(
    window: IssueWindow,
    rng: random.Random,
    project: Project,
    created: int,
    type_name: str,
    status: Status,
) -> list[dict[str, Any]] | None:
    """Return the sprint field of an issue that went into a sprint, else None."""
    if type_name == EPIC.name or status.category == "new" or rng.random() < 0.4:
        return None
    number = (created - window.start) // (14 * DAY) + 1
    begins = window.start + (number - 1) * 14 * DAY
    ends = begins + 14 * DAY
    return [
        {
            "id": int(project.id) * 1_000 + number,
            "name": f"{project.key} Sprint {number}",
            "state": "closed" if ends < window.end else "active",
            "boardId": int(project.id) - 9_999,
            "startDate": jira_time(begins),
            "endDate": jira_time(ends),
        }
    ]


def touched_issue(issue: SandboxIssue, at: int, revision: int) -> SandboxIssue:
    """Return the issue after one more edit at a moment: new summary and a transition."""
    fields = dict(issue.fields)
    fields["summary"] = f"{issue.fields['summary']} (rev {revision})"
    source = issue.status
    target = _FORWARD[source.id]
    fields["status"] = target.to_api()
    fields["updated"] = jira_time(at)
    if target.category == "done" and source.category != "done":
        fields["resolutiondate"] = jira_time(at)
        fields["resolution"] = {"id": "10000", "name": "Done"}
    elif target.category != "done":
        fields["resolutiondate"] = None
        fields["resolution"] = None
    author = PEOPLE[(issue.index + revision) % len(PEOPLE)]
    number = int(issue.id) * 10_000 + 5_000 + revision
    histories = [*issue.histories, history(number, author, at, status_items(source, target))]
    return replace(issue, fields=fields, histories=histories)
