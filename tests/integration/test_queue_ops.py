"""Queue operations on a real PostgreSQL, with time injected (no real waiting)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from app.db import Connection, connect
from app.queue import ops
from app.queue.model import NewJob, QueueError
from app.queue.ops import ClaimScope, JobFilter
from tests.conftest import tenant_ids

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sys_db(db: Connection) -> Connection:
    await db.execute("SET LOCAL ROLE sluice_system")
    return db


async def enqueue(conn: Connection, tenant: int, n: int, **kwargs: object) -> list[int]:
    kwargs.setdefault("scheduled_at", T0 - timedelta(minutes=1))
    return await ops.enqueue(
        conn,
        [
            NewJob(tenant_id=tenant, job_type="transform", **kwargs)  # type: ignore[arg-type]
            for _ in range(n)
        ],
    )


async def test_claims_are_shared_by_tier_weight(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    for name in ("WEX", "Apple", "Google"):
        await enqueue(sys_db, t[name], 300)
    jobs = await ops.claim_batch(sys_db, "w1", 160, now=T0)
    shares = Counter(j.tenant_id for j in jobs)
    assert shares == {t["WEX"]: 100, t["Apple"]: 50, t["Google"]: 10}

    jobs = await ops.claim_batch(sys_db, "w1", 16, now=T0)
    assert Counter(j.tenant_id for j in jobs) == {t["WEX"]: 10, t["Apple"]: 5, t["Google"]: 1}


async def test_a_backlogged_tenant_cannot_starve_a_small_one(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    await enqueue(sys_db, t["Google"], 5000)
    [small] = await enqueue(sys_db, t["WEX"], 1, scheduled_at=T0)
    jobs = await ops.claim_batch(sys_db, "w1", 100, now=T0)
    # The enterprise job is in the very next batch, despite arriving behind 5,000 others;
    # the standard tenant gets its share of that batch (quota 100 * 1/11, plus one).
    assert small in {j.id for j in jobs}
    assert Counter(j.tenant_id for j in jobs) == {t["WEX"]: 1, t["Google"]: 11}
    # Alone again, the backlog gets whole batches.
    assert len(await ops.claim_batch(sys_db, "w1", 100, now=T0)) == 100


async def test_within_a_tenant_priority_then_schedule_order(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    late = await enqueue(sys_db, t["WEX"], 2, priority=5, scheduled_at=T0 - timedelta(seconds=10))
    early = await enqueue(sys_db, t["WEX"], 2, priority=5, scheduled_at=T0 - timedelta(seconds=20))
    urgent = await enqueue(sys_db, t["WEX"], 1, priority=1, scheduled_at=T0)
    future = await enqueue(sys_db, t["WEX"], 1, priority=1, scheduled_at=T0 + timedelta(hours=1))
    jobs = await ops.claim_batch(sys_db, "w1", 10, now=T0)
    assert [j.id for j in jobs] == urgent + early + late
    assert future[0] not in {j.id for j in jobs}


async def test_scopes_tenant_tier_stage_and_global_pause(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    for name in ("WEX", "Apple", "Google"):
        await enqueue(sys_db, t[name], 3)
    dedicated = await ops.claim_batch(sys_db, "w", 10, ClaimScope(tenant_id=t["Apple"]), now=T0)
    assert {j.tenant_id for j in dedicated} == {t["Apple"]} and len(dedicated) == 3
    tiered = await ops.claim_batch(sys_db, "w", 10, ClaimScope(tier="standard"), now=T0)
    assert {j.tenant_id for j in tiered} == {t["Google"]}
    assert await ops.claim_batch(sys_db, "w", 10, ClaimScope(job_types=("load",)), now=T0) == []
    await sys_db.execute(
        "UPDATE system_settings SET setting_value = 'true' "
        "WHERE tenant_id = %s AND setting_key = 'global_pause'",
        (t["WEX"],),
    )
    assert await ops.claim_batch(sys_db, "w", 10, now=T0) == []
    with pytest.raises(QueueError, match="unknown tier"):
        ClaimScope(tier="gold")
    with pytest.raises(QueueError, match="unknown stage"):
        ClaimScope(job_types=("extract", "dance"))


async def test_backoff_retry_then_dead_letter_with_every_error_kept(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    [job_id] = await enqueue(sys_db, t["WEX"], 1, max_retries=2)
    [job] = await ops.claim_batch(sys_db, "w", 1, now=T0)
    outcome = await ops.fail(sys_db, "w", job, "boom 1", permanent=False, delay_seconds=10, now=T0)
    assert outcome is not None and outcome.status == "pending" and outcome.retry_count == 1
    assert outcome.scheduled_at == T0 + timedelta(seconds=10)
    assert await ops.claim_batch(sys_db, "w", 1, now=T0 + timedelta(seconds=9)) == []
    [job] = await ops.claim_batch(sys_db, "w", 1, now=T0 + timedelta(seconds=10))
    await ops.fail(sys_db, "w", job, "boom 2", permanent=False, delay_seconds=20, now=T0)
    [job] = await ops.claim_batch(sys_db, "w", 1, now=T0 + timedelta(seconds=20))
    outcome = await ops.fail(sys_db, "w", job, "boom 3", permanent=False, delay_seconds=40, now=T0)
    assert outcome is not None and outcome.status == "failed" and outcome.retry_count == 3
    cur = await sys_db.execute("SELECT * FROM etl_job_queue WHERE id = %s", (job_id,))
    row = await cur.fetchone()
    assert row is not None
    assert row["last_error"] == "boom 3" and row["completed_at"] == T0
    assert [e["error"] for e in row["error_details"]] == ["boom 1", "boom 2", "boom 3"]
    cur = await sys_db.execute("SELECT id, last_error FROM queue_failed")
    assert [(r["id"], r["last_error"]) for r in await cur.fetchall()] == [(job_id, "boom 3")]


async def test_permanent_errors_fail_at_once(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    await enqueue(sys_db, t["WEX"], 1, max_retries=5)
    [job] = await ops.claim_batch(sys_db, "w", 1, now=T0)
    outcome = await ops.fail(
        sys_db, "w", job, "401 bad token", permanent=True, delay_seconds=5, now=T0
    )
    assert outcome is not None and (outcome.status, outcome.retry_count) == ("failed", 1)


async def test_stalled_jobs_are_rescued_after_the_timeout(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    await enqueue(sys_db, t["WEX"], 2)
    a, b = await ops.claim_batch(sys_db, "dead-worker", 2, now=T0)
    assert await ops.rescue_stalled(sys_db, 30, now=T0 + timedelta(seconds=29)) == []
    await ops.heartbeat(sys_db, "dead-worker", [b.key], now=T0 + timedelta(seconds=20))
    rescued = await ops.rescue_stalled(sys_db, 30, now=T0 + timedelta(seconds=31))
    assert [(r["id"], r["status"]) for r in rescued] == [(a.id, "pending")]
    [again] = await ops.claim_batch(sys_db, "w2", 5, now=T0 + timedelta(seconds=31))
    assert again.id == a.id and again.retry_count == 1
    # The stalled worker can no longer complete a job it lost.
    assert await ops.complete_batch(sys_db, "dead-worker", [a.key]) == 0
    assert await ops.complete_batch(sys_db, "w2", [a.key]) == 1


async def test_jobs_of_a_gone_worker_are_rescued_at_once(fresh_db_url: str) -> None:
    sessions = {}
    for worker in ("alive", "gone", "rescuer"):
        sessions[worker] = await connect(fresh_db_url, autocommit=True)
        await sessions[worker].execute("SET ROLE sluice_system")
    try:
        t = await tenant_ids(sessions["rescuer"])
        await enqueue(sessions["rescuer"], t["WEX"], 4)
        for worker in ("alive", "gone"):
            assert await ops.hold_presence(sessions[worker], worker)
            assert len(await ops.claim_batch(sessions[worker], worker, 2)) == 2
        assert await ops.rescue_orphaned(sessions["rescuer"]) == []
        await sessions.pop("gone").close()  # the process died: its session ends
        rescued = await ops.rescue_orphaned(sessions["rescuer"])
        assert [r["status"] for r in rescued] == ["pending", "pending"]
        cur = await sessions["rescuer"].execute(
            "SELECT status, locked_by, retry_count, last_error FROM etl_job_queue ORDER BY id"
        )
        rows = [tuple(r.values()) for r in await cur.fetchall()]
    finally:
        for conn in sessions.values():
            await conn.close()
    gone = ("pending", None, 1, "worker gone: gone ended its database session")
    assert sorted(rows, key=str) == sorted(
        [("running", "alive", 0, None)] * 2 + [gone] * 2, key=str
    )


async def test_an_attempt_that_saved_a_checkpoint_does_not_use_up_the_retries(
    sys_db: Connection,
) -> None:
    t = await tenant_ids(sys_db)
    [job_id] = await enqueue(sys_db, t["WEX"], 1, max_retries=2)
    for minute in range(5):  # a long job failing on a later page each time
        now = T0 + timedelta(minutes=minute)
        [job] = await ops.claim_batch(sys_db, "w", 1, now=now)
        assert await ops.update_progress(sys_db, "w", job, {"page": minute}, now=now)
        outcome = await ops.fail(
            sys_db, "w", job, "boom", permanent=False, delay_seconds=0, now=now
        )
        assert outcome is not None and (outcome.status, outcome.retry_count) == ("pending", 1)
    # Then attempts without progress count on from there: 2, then 3 > max_retries.
    for minute, status in ((10, "pending"), (11, "failed")):
        now = T0 + timedelta(minutes=minute)
        [job] = await ops.claim_batch(sys_db, "w", 1, now=now)
        outcome = await ops.fail(
            sys_db, "w", job, "boom", permanent=False, delay_seconds=0, now=now
        )
        assert outcome is not None and outcome.status == status
    cur = await sys_db.execute("SELECT error_details FROM etl_job_queue WHERE id = %s", (job_id,))
    row = await cur.fetchone()
    assert row is not None
    assert [e["attempt"] for e in row["error_details"]] == [1, 2, 3, 4, 5, 6, 7]


async def test_release_does_not_count_an_attempt(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    await enqueue(sys_db, t["WEX"], 3)
    jobs = await ops.claim_batch(sys_db, "w", 3, now=T0)
    assert await ops.release(sys_db, "w", [j.key for j in jobs]) == 3
    again = await ops.claim_batch(sys_db, "w", 3, now=T0)
    assert sorted(j.id for j in again) == sorted(j.id for j in jobs)
    assert all(j.retry_count == 0 for j in again)


async def test_pause_resume_cancel_requeue_by_filters(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    run_a = await enqueue(sys_db, t["WEX"], 3, run_id=1)
    await enqueue(sys_db, t["WEX"], 2, run_id=2)
    await enqueue(sys_db, t["Apple"], 2, run_id=3)
    assert await ops.pause(sys_db, JobFilter(tenant_id=t["WEX"], run_id=1)) == 3
    jobs = await ops.claim_batch(sys_db, "w", 10, now=T0)
    assert len(jobs) == 4 and not set(run_a) & {j.id for j in jobs}
    assert await ops.resume(sys_db, JobFilter(run_id=1)) == 3
    assert await ops.cancel(sys_db, JobFilter(job_ids=(run_a[0],))) == 1
    resumed = await ops.claim_batch(sys_db, "w", 10, now=T0)
    assert sorted(j.id for j in resumed) == sorted(run_a[1:])
    assert await ops.pause(sys_db) == 0  # nothing pending is left
    assert await ops.requeue(sys_db, JobFilter(job_type="transform")) == 1
    with pytest.raises(QueueError, match="unknown job type"):
        await ops.pause(sys_db, JobFilter(job_type="nap"))


async def test_retention_purges_only_old_finished_jobs(sys_db: Connection) -> None:
    t = await tenant_ids(sys_db)
    await enqueue(sys_db, t["WEX"], 5)
    jobs = await ops.claim_batch(sys_db, "w", 3, now=T0)
    await ops.complete_batch(sys_db, "w", [j.key for j in jobs[:2]], now=T0 - timedelta(days=40))
    await ops.complete_batch(sys_db, "w", [jobs[2].key], now=T0)
    assert await ops.purge_finished(sys_db, T0 - timedelta(days=30), batch=1) == 2
    cur = await sys_db.execute(
        "SELECT status, count(*) AS n FROM etl_job_queue GROUP BY 1 ORDER BY 1"
    )
    assert {r["status"]: r["n"] for r in await cur.fetchall()} == {"completed": 1, "pending": 2}


async def test_bad_jobs_are_refused_clearly() -> None:
    with pytest.raises(QueueError, match="unknown job type 'bake'"):
        NewJob(tenant_id=1, job_type="bake")
    with pytest.raises(QueueError, match="priority 11"):
        NewJob(tenant_id=1, job_type="load", priority=11)
