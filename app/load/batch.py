"""A load batch: transformed records as rows per staging table, JSON-ready for the load job.

Values are kept as text the PostgreSQL COPY understands (timestamps in ISO 8601, JSON as
text), so the load stage streams them into staging tables without converting again.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from app.transform.records import (
    ChangelogRecord,
    PrCommentRecord,
    PrCommitRecord,
    ProjectRecord,
    PrReviewRecord,
    PullRequestRecord,
    RepositoryRecord,
    StatusRecord,
    WitRecord,
    WorkItemPrLinkRecord,
    WorkItemRecord,
)
from app.transform.workflow_metrics import WorkflowMetrics

METRIC_COLUMNS = tuple(
    f.name for f in dataclasses.fields(WorkflowMetrics) if f.name != "unmapped_statuses"
)

# Staging table -> its columns, in COPY order. Natural keys stand in for ids.
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "wits": tuple(f.name for f in dataclasses.fields(WitRecord)),
    "projects": ("external_id", "key", "name", "project_type"),
    "projects_wits": ("project_external_id", "wit_external_id"),
    "statuses": tuple(f.name for f in dataclasses.fields(StatusRecord)),
    "repositories": tuple(f.name for f in dataclasses.fields(RepositoryRecord)),
    "work_items": (
        *(f.name for f in dataclasses.fields(WorkItemRecord)),
        *METRIC_COLUMNS,
        "raw_data_id",
    ),
    "changelogs": tuple(f.name for f in dataclasses.fields(ChangelogRecord)),
    "prs": (*(f.name for f in dataclasses.fields(PullRequestRecord)), "raw_data_id"),
    "prs_reviews": tuple(f.name for f in dataclasses.fields(PrReviewRecord)),
    "prs_commits": tuple(f.name for f in dataclasses.fields(PrCommitRecord)),
    "prs_comments": tuple(f.name for f in dataclasses.fields(PrCommentRecord)),
    "links": tuple(f.name for f in dataclasses.fields(WorkItemPrLinkRecord)),
}


def cell(value: Any) -> Any:
    """One value as the load job's JSON payload carries it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, tuple):
        return list(value)
    return value


def row_of(record: Any, columns: Iterable[str]) -> list[Any]:
    """A record's values in column order."""
    return [cell(getattr(record, name)) for name in columns]


class LoadBatch:
    """Rows for each staging table, and the raw rows they came from."""

    def __init__(self) -> None:
        self.tables: dict[str, list[list[Any]]] = {name: [] for name in STAGE_COLUMNS}
        self.raw_ids: list[int] = []

    def add(self, table: str, record: Any) -> None:
        self.tables[table].append(row_of(record, STAGE_COLUMNS[table]))

    def add_project(self, project: ProjectRecord, wits: Iterable[WitRecord]) -> None:
        self.add("projects", project)
        for wit in wits:
            self.add("wits", wit)
            self.tables["projects_wits"].append([project.external_id, wit.external_id])

    def add_work_item(self, item: WorkItemRecord, metrics: WorkflowMetrics, raw_id: int) -> None:
        columns = STAGE_COLUMNS["work_items"]
        base = len(dataclasses.fields(WorkItemRecord))
        row = row_of(item, columns[:base])
        row += [cell(getattr(metrics, name)) for name in METRIC_COLUMNS]
        row.append(raw_id)
        self.tables["work_items"].append(row)

    def add_pull_request(self, pull: PullRequestRecord, raw_id: int) -> None:
        columns = STAGE_COLUMNS["prs"]
        self.tables["prs"].append([*row_of(pull, columns[:-1]), raw_id])

    @property
    def empty(self) -> bool:
        return not any(self.tables.values())

    def to_payload(self) -> dict[str, Any]:
        """The load job's payload (only the tables that have rows)."""
        return {
            "raw_ids": self.raw_ids,
            "tables": {name: rows for name, rows in self.tables.items() if rows},
        }
