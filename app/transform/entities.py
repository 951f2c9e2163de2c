"""The `raw_extraction_data.entity_type` values the extractors write and the transformers read."""

from __future__ import annotations

JIRA_PROJECT = "jira_project"
JIRA_STATUS = "jira_status"
JIRA_ISSUE = "jira_issue"
JIRA_DEV_STATUS = "jira_dev_status"
GITHUB_REPOSITORY = "github_repository"
GITHUB_PULL_REQUEST = "github_pull_request"

ENTITY_TYPES: tuple[str, ...] = (
    JIRA_PROJECT,
    JIRA_STATUS,
    JIRA_ISSUE,
    JIRA_DEV_STATUS,
    GITHUB_REPOSITORY,
    GITHUB_PULL_REQUEST,
)
