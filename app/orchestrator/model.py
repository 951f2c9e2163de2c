"""The job chain's data: a tenant's etl_jobs rows and the settings that schedule them.

A job's `checkpoint_data` carries the orchestrator's bookkeeping (informative, and read back):
- `run_id`: the job's current (or last) run;
- `wait`: `{"reason": "interval" | "retry", "since": ISO time}` while the job waits for its
  interval or its retry (a changed interval re-times it from `since`);
- `failed_run_id`: the failed run whose dead-lettered queue jobs the retry takes over;
- `last_run`: `{"run_id", "status", "at", "jobs": {status: count}, "failed": [...]}`, what
  the last run did, with each failed queue job's error and extract checkpoint;
- `resumed_from_run_id`: set on a run that resumed a failed one;
- `paused_from`: the status an idle job had when it was paused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.settings_store import typed_settings

READY = "READY"
PENDING = "PENDING"
RUNNING = "RUNNING"
FINISHED = "FINISHED"
FAILED = "FAILED"
PAUSED = "PAUSED"
INACTIVE = "INACTIVE"
VECTORIZATION = "vectorization"  # the chain job whose provider has no integration


@dataclass(frozen=True)
class ChainJob:
    """One etl_jobs row, with its integration's and current run's state."""

    id: int
    name: str
    provider: str
    order: int
    status: str
    active: bool = True
    integration_id: int | None = None
    integration_active: bool | None = None  # None: no integration (or it is gone)
    next_run_at: datetime | None = None
    last_run_started_at: datetime | None = None
    last_success_at: datetime | None = None
    retry_count: int = 0
    error_message: str | None = None
    checkpoint: dict[str, Any] = field(default_factory=dict)
    run_status: str | None = None  # status of the run named by checkpoint["run_id"]

    @property
    def run_id(self) -> int | None:
        """The job's current (or last) run."""
        value = self.checkpoint.get("run_id")
        return int(value) if value is not None else None

    @property
    def failed_run_id(self) -> int | None:
        """The failed run a retry resumes, while the job waits for that retry."""
        value = self.checkpoint.get("failed_run_id")
        return int(value) if value is not None else None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ChainJob:
        return cls(
            id=int(row["id"]),
            name=row["job_name"],
            provider=row["provider"],
            order=int(row["execution_order"]),
            status=row["status"],
            active=bool(row["active"]),
            integration_id=row["integration_id"],
            integration_active=row["integration_active"],
            next_run_at=row["next_run_at"],
            last_run_started_at=row["last_run_started_at"],
            last_success_at=row["last_success_at"],
            retry_count=int(row["retry_count"]),
            error_message=row["error_message"],
            checkpoint=dict(row["checkpoint_data"] or {}),
            run_status=row["run_status"],
        )


@dataclass(frozen=True)
class Schedule:
    """The settings that drive one tenant's chain."""

    enabled: bool = True
    paused: bool = False
    interval: timedelta = timedelta(minutes=60)
    retry_interval: timedelta = timedelta(minutes=15)
    max_retries: int = 5

    @classmethod
    def from_settings(cls, stored: Mapping[str, object]) -> Schedule:
        """From stored (or already typed) settings; missing keys take their defaults."""
        values = typed_settings(stored)
        return cls(
            enabled=bool(values["orchestrator_enabled"]),
            paused=bool(values["global_pause"]),
            interval=timedelta(minutes=int(values["orchestrator_interval_minutes"])),
            retry_interval=timedelta(minutes=int(values["orchestrator_retry_interval_minutes"])),
            max_retries=int(values["max_retries"]),
        )

    @property
    def scheduling(self) -> bool:
        """False when the tenant's scheduled syncs are off or the tenant is paused."""
        return self.enabled and not self.paused


@dataclass(frozen=True)
class Started:
    """A run the orchestrator (or a user) started for a chain job."""

    tenant_id: int
    etl_job_id: int
    job_name: str
    run_id: int
    trigger: str
    resumed_from_run_id: int | None = None
    queue_jobs: int = 0
