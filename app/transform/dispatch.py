"""One transformer per raw entity type, with the per-row and per-tenant inputs they need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from app.transform import entities
from app.transform.custom_fields import (
    DEFAULT_DEV_SUMMARY_FIELD,
    DEFAULT_STORY_POINTS_FIELD,
    CustomFieldMapping,
)
from app.transform.errors import (
    Failed,
    RecordError,
    TransformResult,
    expected,
    record_label,
)
from app.transform.github import transform_github_pull_request, transform_github_repository
from app.transform.jira_catalog import transform_jira_project, transform_jira_status
from app.transform.jira_issue import transform_jira_issue
from app.transform.links import transform_jira_dev_status


@dataclass(frozen=True, slots=True)
class TransformContext:
    """What a transformer needs besides the raw record: tenant settings and the row's keys."""

    custom_field_mapping: CustomFieldMapping = field(default_factory=dict)
    story_points_field: str = DEFAULT_STORY_POINTS_FIELD
    dev_summary_field: str = DEFAULT_DEV_SUMMARY_FIELD
    # The dev-status response does not name its issue: the extractor's row does.
    issue_key: str | None = None
    # The pull request row's repository; when absent, the node's repository.nameWithOwner.
    repository_full_name: str | None = None


Transformer: TypeAlias = Callable[[object, TransformContext], TransformResult[Any]]


def _jira_project(raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform a jira_project row (ProjectRecords)."""
    return transform_jira_project(raw)


def _jira_status(raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform a jira_status row (StatusRecord)."""
    return transform_jira_status(raw)


def _jira_issue(raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform a jira_issue row (JiraIssueRecords)."""
    return transform_jira_issue(
        raw,
        context.custom_field_mapping,
        story_points_field=context.story_points_field,
        dev_summary_field=context.dev_summary_field,
    )


def _jira_dev_status(raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform a jira_dev_status row (tuple of WorkItemPrLinkRecord)."""
    if not context.issue_key:
        return Failed((expected("<unidentified>", "issue_key", "the issue key", None),))
    return transform_jira_dev_status(context.issue_key, raw)


def _github_repository(raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform a github_repository row (RepositoryRecord)."""
    return transform_github_repository(raw)


def _github_pull_request(raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform a github_pull_request row (PullRequestRecords)."""
    return transform_github_pull_request(raw, context.repository_full_name)


def _guarded(transformer: Transformer) -> Transformer:
    """Turn an unexpected exception into a failed record so one bad row cannot stop a batch."""

    def run(raw: object, context: TransformContext) -> TransformResult[Any]:
        try:
            return transformer(raw, context)
        except Exception as exc:  # a transformer bug, reported on the row instead of raised
            label = record_label(raw, "key", "full_name", "id")
            message = f"could not be transformed ({type(exc).__name__}: {exc})"
            return Failed((RecordError(label, "<record>", message),))

    run.__doc__ = transformer.__doc__
    return run


TRANSFORMERS: dict[str, Transformer] = {
    entities.JIRA_PROJECT: _guarded(_jira_project),
    entities.JIRA_STATUS: _guarded(_jira_status),
    entities.JIRA_ISSUE: _guarded(_jira_issue),
    entities.JIRA_DEV_STATUS: _guarded(_jira_dev_status),
    entities.GITHUB_REPOSITORY: _guarded(_github_repository),
    entities.GITHUB_PULL_REQUEST: _guarded(_github_pull_request),
}


def transform_raw(entity_type: str, raw: object, context: TransformContext) -> TransformResult[Any]:
    """Transform one raw row by its entity type; an unknown type is a precise error."""
    transformer = TRANSFORMERS.get(entity_type)
    if transformer is None:
        known = ", ".join(TRANSFORMERS)
        return Failed(
            (
                RecordError(
                    "<unidentified>",
                    "entity_type",
                    f"expected one of {known}, found {entity_type!r}",
                ),
            )
        )
    return transformer(raw, context)
