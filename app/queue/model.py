"""Job types, statuses and the records that move through the queue."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JOB_TYPES = ("extract", "transform", "load", "vectorize")
STATUSES = ("pending", "running", "completed", "failed", "cancelled", "paused")
TIERS = ("enterprise", "professional", "standard")
# Claims are shared across backlogged tenants in proportion to these weights.
TIER_WEIGHTS = {"enterprise": 10, "professional": 5, "standard": 1}
QUEUE_CHANNEL = "sluice_queue"


class QueueError(Exception):
    """A queue request is malformed (unknown job type, bad priority, …)."""


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue."""

    tenant_id: int
    job_type: str
    entity_type: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 5
    scheduled_at: datetime | None = None
    run_id: int | None = None
    etl_job_id: int | None = None
    integration_id: int | None = None
    max_retries: int = 5

    def __post_init__(self) -> None:
        if self.job_type not in JOB_TYPES:
            raise QueueError(
                f"unknown job type {self.job_type!r}: use one of {', '.join(JOB_TYPES)}"
            )
        if not 1 <= self.priority <= 10:
            raise QueueError(f"priority {self.priority} is outside 1 (highest) to 10 (lowest)")
        if self.max_retries < 0:
            raise QueueError("max_retries cannot be negative")


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds: it runs it, then completes, fails or releases it."""

    tenant_id: int
    id: int
    job_type: str
    entity_type: str
    payload: dict[str, Any]
    priority: int
    retry_count: int
    max_retries: int
    run_id: int | None = None
    etl_job_id: int | None = None
    integration_id: int | None = None
    progress: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        """(tenant_id, id): the job's primary key."""
        return (self.tenant_id, self.id)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ClaimedJob:
        return cls(
            tenant_id=row["tenant_id"],
            id=row["id"],
            job_type=row["job_type"],
            entity_type=row["entity_type"],
            payload=row["payload"] or {},
            priority=row["priority"],
            retry_count=row["retry_count"],
            max_retries=row["max_retries"],
            run_id=row["run_id"],
            etl_job_id=row["etl_job_id"],
            integration_id=row["integration_id"],
            progress=row["progress"] or {},
        )


def tier_weights_json() -> str:
    """The tier weights as the claim query takes them."""
    return json.dumps(TIER_WEIGHTS)
