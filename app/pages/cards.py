"""The pipeline's job cards: one query for the chain, one for its latest runs' counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.db import Connection
from app.sqlstore import query

STAGES = ("extract", "transform", "load", "vectorize")
LIVE_RUN = frozenset({"running", "paused"})


@dataclass
class StageCount:
    """One stage of one run: its queue jobs by outcome and what they report."""

    jobs: int = 0
    completed: int = 0
    failed: int = 0
    open: int = 0
    records: int = 0
    pages: int = 0
    points: int = 0
    rate_limit_wait_s: float = 0.0
    started_at: Any = None
    completed_at: Any = None


@dataclass
class RunCounts:
    """A run's stages, and the totals a card shows."""

    stages: dict[str, StageCount] = field(default_factory=dict)

    def stage(self, name: str) -> StageCount:
        """The stage's counts (zeros when it has no jobs yet)."""
        return self.stages.get(name) or StageCount()

    @property
    def extracted(self) -> int:
        return self.stage("extract").records

    @property
    def transformed(self) -> int:
        return self.stage("transform").records

    @property
    def loaded(self) -> int:
        return self.stage("load").records

    @property
    def vectorized(self) -> int:
        return self.stage("vectorize").points

    @property
    def pages(self) -> int:
        return self.stage("extract").pages

    @property
    def rate_limit_wait_s(self) -> float:
        return sum(s.rate_limit_wait_s for s in self.stages.values())

    @property
    def jobs(self) -> int:
        return sum(s.jobs for s in self.stages.values())

    @property
    def done(self) -> int:
        return sum(s.jobs - s.open for s in self.stages.values())

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.stages.values())


def counts_by_run(rows: list[dict[str, Any]]) -> dict[int, RunCounts]:
    """Rows of `run_stage_counts` grouped by run."""
    found: dict[int, RunCounts] = {}
    for row in rows:
        counts = found.setdefault(row["run_id"], RunCounts())
        counts.stages[row["job_type"]] = StageCount(
            jobs=row["jobs"],
            completed=row["completed"],
            failed=row["failed"],
            open=row["open"],
            records=row["records"],
            pages=row["pages"],
            points=row["points"],
            rate_limit_wait_s=float(row["rate_limit_wait_s"]),
            started_at=row["started_at"],
            completed_at=row["completed_at"],
        )
    return found


async def run_counts(conn: Connection, run_ids: list[int]) -> dict[int, RunCounts]:
    """The stage counts of the given runs of the tenant."""
    if not run_ids:
        return {}
    cur = await conn.execute(query("run_stage_counts"), {"run_ids": run_ids})
    return counts_by_run(await cur.fetchall())


async def job_cards(conn: Connection, job_id: int | None = None) -> list[dict[str, Any]]:
    """The chain's cards (or one job's), each with `counts` of its latest run."""
    cur = await conn.execute(query("pipeline_cards"), {"id": job_id})
    cards = [dict(row) for row in await cur.fetchall()]
    counts = await run_counts(conn, [c["run_id"] for c in cards if c["run_id"] is not None])
    for card in cards:
        card["counts"] = counts.get(card["run_id"]) or RunCounts()
        card["live"] = card["run_status"] in LIVE_RUN
    return cards
