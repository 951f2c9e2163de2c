"""Transformed records, one class per target table; fields are named like the table columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

CUSTOM_FIELD_COLUMNS: tuple[str, ...] = tuple(f"custom_field_{n:02d}" for n in range(1, 11))


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A Jira project (`projects`), with the issue types it offers (`projects_wits`)."""

    external_id: str
    key: str
    name: str
    project_type: str | None
    wit_external_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WitRecord:
    """A Jira issue type (`wits`)."""

    external_id: str
    original_name: str
    description: str | None
    hierarchy_level: int
    subtask: bool


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A Jira status (`statuses`); category is new, indeterminate, done or undefined."""

    external_id: str
    original_name: str
    category: str
    description: str | None


@dataclass(frozen=True, slots=True)
class WorkItemRecord:
    """A Jira issue (`work_items`) without its workflow metrics."""

    external_id: str
    key: str
    project_external_id: str | None
    wit_external_id: str | None
    status_external_id: str | None
    summary: str | None
    description: str | None
    priority: str | None
    assignee: str | None
    reporter: str | None
    labels: tuple[str, ...]
    story_points: float | None
    parent_key: str | None
    created: datetime | None
    updated: datetime | None
    resolved: datetime | None
    due_date: date | None
    custom_field_01: str | None
    custom_field_02: str | None
    custom_field_03: str | None
    custom_field_04: str | None
    custom_field_05: str | None
    custom_field_06: str | None
    custom_field_07: str | None
    custom_field_08: str | None
    custom_field_09: str | None
    custom_field_10: str | None
    custom_fields_overflow: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ChangelogRecord:
    """One status transition of a work item (`changelogs`)."""

    external_id: str
    work_item_external_id: str
    from_status_external_id: str | None
    to_status_external_id: str | None
    from_status_name: str | None
    to_status_name: str | None
    transition_start_date: datetime | None
    transition_change_date: datetime
    time_in_status_seconds: int | None
    changed_by: str | None


@dataclass(frozen=True, slots=True)
class RepositoryRecord:
    """A GitHub repository (`repositories`)."""

    external_id: str
    name: str
    full_name: str
    owner: str | None
    description: str | None
    url: str | None
    is_private: bool
    archived: bool
    default_branch: str | None
    language: str | None
    repo_created_at: datetime | None
    repo_updated_at: datetime | None
    pushed_at: datetime | None


@dataclass(frozen=True, slots=True)
class PullRequestRecord:
    """A GitHub pull request (`prs`); state is GitHub's OPEN, CLOSED or MERGED, unchanged."""

    external_id: str
    repository_full_name: str
    number: int
    title: str | None
    body: str | None
    state: str
    author: str | None
    head_branch: str | None
    base_branch: str | None
    url: str | None
    pr_created_at: datetime | None
    pr_updated_at: datetime | None
    merged_at: datetime | None
    closed_at: datetime | None
    first_review_at: datetime | None
    additions: int | None
    deletions: int | None
    changed_files: int | None
    commit_count: int
    review_count: int
    comment_count: int
    review_thread_count: int


@dataclass(frozen=True, slots=True)
class PrReviewRecord:
    """A review of a pull request (`prs_reviews`)."""

    external_id: str
    pr_external_id: str
    author: str | None
    state: str | None
    body: str | None
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class PrCommitRecord:
    """A commit of a pull request (`prs_commits`); external_id is the commit oid."""

    external_id: str
    pr_external_id: str
    message: str | None
    author_name: str | None
    author_email: str | None
    authored_at: datetime | None
    committed_at: datetime | None
    additions: int | None
    deletions: int | None


@dataclass(frozen=True, slots=True)
class PrCommentRecord:
    """A pull request comment (`prs_comments`): 'issue' conversation or 'review' thread."""

    external_id: str
    pr_external_id: str
    comment_type: str
    author: str | None
    body: str | None
    path: str | None
    line: int | None
    comment_created_at: datetime | None
    comment_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkItemPrLinkRecord:
    """A work item named by a pull request (`work_item_pr_links`), by natural keys."""

    work_item_key: str
    repository_full_name: str
    pr_number: int
    source: str


class ProjectRecords(NamedTuple):
    """A project and the issue types listed with it."""

    project: ProjectRecord
    wits: tuple[WitRecord, ...]


class JiraIssueRecords(NamedTuple):
    """A work item and its status transitions, oldest first."""

    work_item: WorkItemRecord
    changelogs: tuple[ChangelogRecord, ...]


class PullRequestRecords(NamedTuple):
    """A pull request with its reviews, commits and comments."""

    pull_request: PullRequestRecord
    reviews: tuple[PrReviewRecord, ...]
    commits: tuple[PrCommitRecord, ...]
    comments: tuple[PrCommentRecord, ...]
