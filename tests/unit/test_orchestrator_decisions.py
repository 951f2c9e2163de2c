"""The chain's pure decisions with fixed time: what is due, what a run's end does, how
inactive and paused jobs are skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.orchestrator.decisions import (
    ChainError,
    after_run,
    changed_jobs,
    choose_start,
    due_at,
    mark_started,
    pause_idle,
    prepare_force_start,
    reconcile,
    resume_idle,
)
from app.orchestrator.model import ChainJob, Schedule

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SCHEDULE = Schedule(interval=timedelta(minutes=60), retry_interval=timedelta(minutes=15))


def chain(
    jira: str = "PENDING", github: str = "READY", vectors: str = "READY", **jira_fields: object
) -> list[ChainJob]:
    return [
        replace(
            ChainJob(1, "Jira", "jira", 1, jira, integration_id=11, integration_active=True),
            **jira_fields,
        ),
        ChainJob(2, "GitHub", "github", 2, github, integration_id=12, integration_active=True),
        ChainJob(3, "Vectorization", "vectorization", 3, vectors),
    ]


def by_name(jobs: list[ChainJob]) -> dict[str, tuple[str, datetime | None]]:
    return {j.name: (j.status, j.next_run_at) for j in jobs}


def test_schedule_reads_typed_settings_with_defaults() -> None:
    schedule = Schedule.from_settings(
        {"orchestrator_interval_minutes": 1, "global_pause": True, "max_retries": "2"}
    )
    assert schedule == Schedule(
        enabled=True,
        paused=True,
        interval=MINUTE,
        retry_interval=timedelta(minutes=15),
        max_retries=2,
    )
    assert not schedule.scheduling
    assert Schedule.from_settings({}).interval == timedelta(minutes=60)


def test_a_job_that_never_ran_is_due_at_once_and_a_waiting_one_at_its_time() -> None:
    jobs = chain()
    assert due_at(jobs[0], SCHEDULE) is None
    assert choose_start(jobs, SCHEDULE, T0) == jobs[0]

    waiting = chain(next_run_at=T0 + MINUTE)
    assert choose_start(waiting, SCHEDULE, T0) is None
    assert choose_start(waiting, SCHEDULE, T0 + MINUTE - timedelta(seconds=1)) is None
    assert choose_start(waiting, SCHEDULE, T0 + MINUTE) == waiting[0]

    by_last_start = chain(last_run_started_at=T0)
    assert due_at(by_last_start[0], SCHEDULE) == T0 + timedelta(minutes=60)
    assert choose_start(by_last_start, SCHEDULE, T0 + timedelta(minutes=59)) is None
    assert choose_start(by_last_start, SCHEDULE, T0 + timedelta(minutes=60)) is not None


def test_nothing_starts_while_a_run_is_live_or_the_tenant_is_off() -> None:
    running = chain(jira="RUNNING", github="PENDING")
    assert choose_start(running, SCHEDULE, T0) is None
    paused_run = chain(jira="PAUSED", github="PENDING", run_status="paused")
    assert choose_start(paused_run, SCHEDULE, T0) is None
    assert choose_start(chain(), replace(SCHEDULE, enabled=False), T0) is None
    assert choose_start(chain(), replace(SCHEDULE, paused=True), T0) is None


def test_a_finished_run_hands_the_turn_to_the_next_job_at_once() -> None:
    jobs = [mark_started(chain()[0], 7, T0), *chain()[1:]]
    after = after_run(jobs, 1, "finished", T0 + MINUTE, SCHEDULE, run_id=7, summary={"jobs": {}})
    assert by_name(after) == {
        "Jira": ("FINISHED", None),
        "GitHub": ("PENDING", T0 + MINUTE),
        "Vectorization": ("READY", None),
    }
    assert after[0].last_success_at == T0 + MINUTE
    assert after[0].checkpoint == {"run_id": 7, "last_run": {"jobs": {}}}
    assert choose_start(after, SCHEDULE, T0 + MINUTE) == after[1]


def test_the_last_job_wraps_to_the_first_after_the_interval() -> None:
    jobs = chain(jira="FINISHED", github="FINISHED", vectors="RUNNING")
    jobs[2] = replace(jobs[2], checkpoint={"run_id": 9})
    end = T0 + 3 * MINUTE
    after = after_run(jobs, 3, "finished", end, SCHEDULE, run_id=9, summary={})
    assert by_name(after) == {
        "Jira": ("PENDING", end + timedelta(minutes=60)),
        "GitHub": ("FINISHED", None),
        "Vectorization": ("FINISHED", None),
    }
    assert after[0].checkpoint["wait"] == {"reason": "interval", "since": end.isoformat()}
    assert choose_start(after, SCHEDULE, end + timedelta(minutes=59)) is None
    assert choose_start(after, SCHEDULE, end + timedelta(minutes=60)) == after[0]


def test_a_failed_run_waits_for_its_retry_and_then_for_the_cap() -> None:
    jobs = [mark_started(chain()[0], 5, T0), *chain()[1:]]
    after = after_run(
        jobs, 1, "failed", T0, SCHEDULE, run_id=5, summary={"failed": [1]}, error="401"
    )
    jira = after[0]
    assert (jira.status, jira.retry_count, jira.error_message) == ("PENDING", 1, "401")
    assert jira.next_run_at == T0 + timedelta(minutes=15)
    assert jira.failed_run_id == 5
    assert jira.checkpoint["wait"] == {"reason": "retry", "since": T0.isoformat()}
    assert by_name(after)["GitHub"] == ("READY", None)

    # The retry resumes the failed run; starting clears the wait but keeps the count.
    retried = mark_started(jira, 6, T0 + timedelta(minutes=15), resumed_from_run_id=5)
    assert retried.checkpoint == {
        "run_id": 6,
        "last_run": {"failed": [1]},
        "resumed_from_run_id": 5,
    }
    assert retried.retry_count == 1

    capped = after_run(
        [replace(retried, retry_count=5), *after[1:]],
        1,
        "failed",
        T0,
        SCHEDULE,
        run_id=6,
        summary={},
        error="still 401",
    )
    assert by_name(capped) == {
        "Jira": ("FAILED", None),
        "GitHub": ("PENDING", T0),
        "Vectorization": ("READY", None),
    }
    assert capped[0].retry_count == 6


def test_a_cancelled_run_waits_for_the_next_interval() -> None:
    jobs = [mark_started(chain()[0], 5, T0), *chain()[1:]]
    after = after_run(jobs, 1, "cancelled", T0, SCHEDULE, run_id=5, summary={}, error="by bob")
    assert by_name(after)["Jira"] == ("PENDING", T0 + timedelta(minutes=60))
    assert after[0].error_message == "by bob"


def test_inactive_integrations_are_skipped_and_come_back() -> None:
    jobs = chain(jira="FINISHED", github="PENDING")
    jobs[1] = replace(jobs[1], integration_active=False, next_run_at=T0)
    reconciled = reconcile(jobs)
    assert by_name(reconciled) == {
        "Jira": ("FINISHED", None),
        "GitHub": ("INACTIVE", None),
        "Vectorization": ("PENDING", T0),  # the turn passes on with its timing
    }
    back = reconcile(
        [reconciled[0], replace(reconciled[1], integration_active=True), reconciled[2]]
    )
    assert by_name(back)["GitHub"] == ("READY", None)

    finished = after_run(
        [mark_started(reconciled[0], 1, T0), reconciled[1], replace(reconciled[2], status="READY")],
        1,
        "finished",
        T0,
        SCHEDULE,
        run_id=1,
        summary={},
    )
    assert by_name(finished)["Vectorization"] == ("PENDING", T0)  # GitHub skipped


def test_without_any_integration_nothing_runs_and_a_new_one_starts_the_chain() -> None:
    bare = [replace(j, integration_id=None, integration_active=None) for j in chain()]
    reconciled = reconcile(bare)
    assert [j.status for j in reconciled] == ["INACTIVE", "INACTIVE", "INACTIVE"]
    assert choose_start(reconciled, SCHEDULE, T0) is None

    linked = [replace(reconciled[0], integration_id=11, integration_active=True), *reconciled[1:]]
    after = reconcile(linked)
    assert by_name(after) == {
        "Jira": ("PENDING", None),
        "GitHub": ("INACTIVE", None),
        "Vectorization": ("READY", None),
    }
    assert choose_start(after, SCHEDULE, T0) == after[0]


def test_force_start_takes_the_turn_and_is_refused_while_a_run_is_live() -> None:
    jobs = chain(next_run_at=T0 + timedelta(minutes=30))
    result, job = prepare_force_start(jobs, 2)
    assert job.name == "GitHub"
    assert by_name(result)["Jira"] == ("READY", None)
    with pytest.raises(ChainError, match=r"Jira is running \(run 4\)"):
        prepare_force_start(chain(jira="RUNNING", checkpoint={"run_id": 4}), 2)
    inactive = [chain()[0], replace(chain()[1], integration_active=False), chain()[2]]
    with pytest.raises(ChainError, match="GitHub cannot run: it has no active integration"):
        prepare_force_start(inactive, 2)


def test_pausing_the_waiting_job_passes_its_turn_and_resuming_takes_it_back() -> None:
    jobs = chain(next_run_at=T0)
    paused = pause_idle(jobs, 1)
    assert by_name(paused) == {
        "Jira": ("PAUSED", None),
        "GitHub": ("PENDING", T0),
        "Vectorization": ("READY", None),
    }
    assert paused[0].checkpoint["paused_from"] == "PENDING"
    resumed = resume_idle(paused, 1)
    assert by_name(resumed)["Jira"] == ("READY", None)  # GitHub keeps the turn

    both = resume_idle(pause_idle(chain(jira="PENDING", github="PAUSED"), 1), 1)
    assert by_name(both) == {
        "Jira": ("READY", None),
        "GitHub": ("PAUSED", None),
        "Vectorization": ("PENDING", None),
    }
    orphaned = chain(jira="PAUSED", github="FINISHED", vectors="FINISHED")
    orphaned[0] = replace(orphaned[0], checkpoint={"paused_from": "READY"})
    assert by_name(resume_idle(orphaned, 1))["Jira"] == ("PENDING", None)
    with pytest.raises(ChainError, match="pause the run instead"):
        pause_idle(chain(jira="RUNNING", checkpoint={"run_id": 3}), 1)


def test_changed_jobs_lists_only_rows_to_write() -> None:
    jobs = chain()
    after = [jobs[0], replace(jobs[1], status="PENDING"), jobs[2]]
    assert [j.name for j in changed_jobs(jobs, after)] == ["GitHub"]
