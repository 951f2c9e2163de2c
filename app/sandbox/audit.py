"""What a complete sync of a sandbox dataset must load, and what a database actually holds.

`expected_rows(dataset)` counts, from the generated data alone, the rows a full Jira and
GitHub sync loads into each final table. `audit_database(conn)` reads the database (as
its owner, across tenants): rows per final table, duplicated natural keys, raw rows by
processing status, queue jobs and runs by status. Crash and fault tests and the chaos
benchmark compare the two: exact counts, no duplicates, nothing stuck.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from app.db import Connection
from app.sandbox.dataset import SandboxDataset
from app.sqlstore import query

FINAL_TABLES = (
    "work_items",
    "changelogs",
    "projects",
    "statuses",
    "wits",
    "repositories",
    "prs",
    "prs_reviews",
    "prs_commits",
    "prs_comments",
    "work_item_pr_links",
)


def expected_rows(data: SandboxDataset, failing_issues: Collection[int] = ()) -> dict[str, int]:
    """Rows per final table after a full sync; `failing_issues` are issue indexes whose raw
    record cannot be transformed (their work item and changelogs are absent)."""
    keys = {data.key_of(i) for i in range(data.issue_count)}
    work_items = status_moves = 0
    dev_links: set[tuple[str, str, int]] = set()
    for index in range(data.issue_count):
        issue = data.issue(index)
        dev_links |= {(issue.key, p.repository, p.number) for p in data.dev_status(index)}
        if index in failing_issues:
            continue
        work_items += 1
        status_moves += sum(
            1 for h in issue.histories for item in h["items"] if item["field"] == "status"
        )
    pulls = [p for r in data.repositories() for p in data.pull_requests(r.full_name)]
    pattern_links = {(k, p.repository, p.number) for p in pulls for k in p.issue_keys if k in keys}
    thread_comments = sum(len(t["comments"]) for p in pulls for t in data.review_threads(p))
    return {
        "work_items": work_items,
        "changelogs": status_moves,
        "projects": len(data.projects()),
        "statuses": len(data.statuses()),
        "wits": len(data.issue_types()),
        "repositories": len(data.repositories()),
        "prs": len(pulls),
        "prs_reviews": sum(p.review_count for p in pulls),
        "prs_commits": sum(p.commit_count for p in pulls),
        "prs_comments": sum(p.comment_count for p in pulls) + thread_comments,
        "work_item_pr_links": len(dev_links) + len(pattern_links),
    }


@dataclass(frozen=True)
class DatabaseAudit:
    """What the database holds after a sync, across tenants."""

    rows: dict[str, int]  # per final table
    duplicates: dict[str, int]  # natural keys held by more than one row, per final table
    unresolved_links: int  # links whose work item or pull request is not loaded
    raw: dict[str, int]  # raw rows by processing_status
    jobs: dict[str, int]  # queue jobs by status
    runs: dict[str, int]  # runs by status

    def problems(self, expected: dict[str, int], *, failed_raw: int = 0) -> list[str]:
        """Every way this database differs from a complete, exact, finished sync."""
        found = []
        for table, want in expected.items():
            if self.rows.get(table) != want:
                found.append(f"{table}: {self.rows.get(table)} rows, the sandbox has {want}")
        found += [f"{t}: {n} duplicated natural keys" for t, n in self.duplicates.items() if n]
        if self.raw.get("failed", 0) != failed_raw:
            found.append(f"{self.raw.get('failed', 0)} failed raw rows, expected {failed_raw}")
        unloaded = {s: n for s, n in self.raw.items() if s not in ("loaded", "failed")}
        if unloaded:
            found.append(f"raw rows not loaded: {unloaded}")
        open_jobs = {s: n for s, n in self.jobs.items() if s not in ("completed",)}
        if open_jobs:
            found.append(f"queue jobs not completed: {open_jobs}")
        if set(self.runs) != {"finished"}:
            found.append(f"runs by status: {self.runs}")
        return found


async def audit_database(conn: Connection) -> DatabaseAudit:
    """Read the audit; `conn` must see every tenant's rows (the database owner)."""
    cur = await conn.execute(query("audit_final_rows"))
    rows = dict(await cur.fetchone() or {})
    cur = await conn.execute(query("audit_duplicate_keys"))
    duplicates = {r["table_name"]: int(r["keys"]) for r in await cur.fetchall()}
    cur = await conn.execute(query("audit_unresolved_links"))
    unresolved = await cur.fetchone()
    return DatabaseAudit(
        rows={t: int(rows[t]) for t in FINAL_TABLES},
        duplicates=duplicates,
        unresolved_links=int(unresolved["n"]) if unresolved else 0,
        raw=await _by_status(conn, "audit_raw_by_status"),
        jobs=await _by_status(conn, "audit_jobs_by_status"),
        runs=await _by_status(conn, "audit_runs_by_status"),
    )


async def _by_status(conn: Connection, name: str) -> dict[str, int]:
    cur = await conn.execute(query(name))
    return {r["status"]: int(r["n"]) for r in await cur.fetchall()}
