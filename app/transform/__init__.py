"""Pure transformers from raw Jira and GitHub API records to table records."""

from __future__ import annotations

from app.transform.adf import adf_to_text
from app.transform.custom_fields import (
    DEFAULT_DEV_SUMMARY_FIELD,
    DEFAULT_STORY_POINTS_FIELD,
    CustomFieldMapping,
    custom_field_mapping_problems,
    custom_field_text,
)
from app.transform.dispatch import TRANSFORMERS, TransformContext, Transformer, transform_raw
from app.transform.errors import Failed, Ok, RecordError, TransformResult
from app.transform.github import transform_github_pull_request, transform_github_repository
from app.transform.jira_catalog import transform_jira_project, transform_jira_status
from app.transform.jira_issue import transform_jira_issue
from app.transform.links import (
    dev_status_links,
    keys_in_text,
    pattern_links,
    pattern_links_in,
    transform_jira_dev_status,
)
from app.transform.records import (
    ChangelogRecord,
    JiraIssueRecords,
    PrCommentRecord,
    PrCommitRecord,
    ProjectRecord,
    ProjectRecords,
    PrReviewRecord,
    PullRequestRecord,
    PullRequestRecords,
    RepositoryRecord,
    StatusRecord,
    WitRecord,
    WorkItemPrLinkRecord,
    WorkItemRecord,
)
from app.transform.values import parse_date, parse_timestamp
from app.transform.workflow_metrics import (
    WorkflowMapping,
    WorkflowMetrics,
    WorkflowStep,
    compute_workflow_metrics,
    work_item_metrics,
)

__all__ = [
    "DEFAULT_DEV_SUMMARY_FIELD",
    "DEFAULT_STORY_POINTS_FIELD",
    "TRANSFORMERS",
    "ChangelogRecord",
    "CustomFieldMapping",
    "Failed",
    "JiraIssueRecords",
    "Ok",
    "PrCommentRecord",
    "PrCommitRecord",
    "PrReviewRecord",
    "ProjectRecord",
    "ProjectRecords",
    "PullRequestRecord",
    "PullRequestRecords",
    "RecordError",
    "RepositoryRecord",
    "StatusRecord",
    "TransformContext",
    "TransformResult",
    "Transformer",
    "WitRecord",
    "WorkItemPrLinkRecord",
    "WorkItemRecord",
    "WorkflowMapping",
    "WorkflowMetrics",
    "WorkflowStep",
    "adf_to_text",
    "compute_workflow_metrics",
    "custom_field_mapping_problems",
    "custom_field_text",
    "dev_status_links",
    "keys_in_text",
    "parse_date",
    "parse_timestamp",
    "pattern_links",
    "pattern_links_in",
    "transform_github_pull_request",
    "transform_github_repository",
    "transform_jira_dev_status",
    "transform_jira_issue",
    "transform_jira_project",
    "transform_jira_status",
    "transform_raw",
    "work_item_metrics",
]
