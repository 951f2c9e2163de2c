"""Workflow metrics, checked against hand-computed examples on the seeded workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.transform import (
    ChangelogRecord,
    Ok,
    WorkflowMapping,
    WorkflowMetrics,
    WorkflowStep,
    compute_workflow_metrics,
    transform_jira_issue,
    work_item_metrics,
)
from migrations.seeding import STATUS_MAPPINGS, WORKFLOW_STEPS
from tests.unit.test_transform_payloads import ALL_STATUSES, dataset, issue_payload

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
HOUR = 3_600
CATEGORIES = {status.id: status.category for status in ALL_STATUSES} | {"99": "done"}
IDS = {status.name: status.id for status in ALL_STATUSES} | {"Shipped": "99"}
NAMES = {status.id: status.name for status in ALL_STATUSES}


def mapping(commitment: str | None = "To Do") -> WorkflowMapping:
    """The seeded workflow with a commitment step."""
    steps = [
        WorkflowStep(name, category, number, name == commitment)
        for number, (name, category) in enumerate(WORKFLOW_STEPS, start=1)
    ]
    return WorkflowMapping.from_steps(steps, STATUS_MAPPINGS)


def at(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)


def moves(*path: tuple[float, str, str]) -> list[ChangelogRecord]:
    """Status transitions (hours after T0, from, to)."""
    return [
        ChangelogRecord(
            external_id=f"{n}-0",
            work_item_external_id="1",
            from_status_external_id=IDS.get(source),
            to_status_external_id=IDS.get(target),
            from_status_name=source,
            to_status_name=target,
            transition_start_date=None,
            transition_change_date=at(hours),
            time_in_status_seconds=None,
            changed_by=None,
        )
        for n, (hours, source, target) in enumerate(path)
    ]


def metrics(
    path: list[ChangelogRecord],
    commitment: str | None = "To Do",
    created: datetime | None = T0,
    **current: str,
) -> WorkflowMetrics:
    """Compute with the seeded workflow and the sandbox status categories."""
    return compute_workflow_metrics(created, path, mapping(commitment), CATEGORIES, **current)


def test_straight_path_to_done() -> None:
    result = metrics(
        moves(
            (1, "Backlog", "To Do"),
            (3, "To Do", "In Progress"),
            (7, "In Progress", "Code Review"),
            (9, "Code Review", "QA"),
            (10, "QA", "Done"),
        )
    )
    assert result == WorkflowMetrics(
        work_first_committed_at=at(1),
        work_first_started_at=at(3),
        work_last_started_at=at(3),
        work_first_completed_at=at(10),
        work_last_completed_at=at(10),
        total_work_starts=1,
        total_completions=1,
        total_backlog_returns=0,
        total_work_time_seconds=7 * HOUR,
        total_review_time_seconds=2 * HOUR,
        cycle_time_seconds=7 * HOUR,
        lead_time_seconds=10 * HOUR,
        time_in_steps={
            "Backlog": 1 * HOUR,
            "To Do": 2 * HOUR,
            "In Progress": 4 * HOUR,
            "Code Review": 2 * HOUR,
            "QA": 1 * HOUR,
        },
        workflow_complexity_score=5,
        rework_indicator=False,
        direct_completion=False,
        unmapped_statuses=(),
    )


def test_rework_and_backlog_return() -> None:
    result = metrics(
        moves(
            (1, "Backlog", "To Do"),
            (2, "To Do", "In Progress"),
            (4, "In Progress", "Code Review"),
            (5, "Code Review", "In Progress"),
            (6, "In Progress", "To Do"),
            (8, "To Do", "In Progress"),
            (10, "In Progress", "Done"),
        ),
        commitment="In Progress",
    )
    assert result.work_first_committed_at == at(2)
    assert (result.work_first_started_at, result.work_last_started_at) == (at(2), at(8))
    assert result.total_work_starts == 2
    assert result.total_completions == 1
    assert result.total_backlog_returns == 1
    # In Progress 2-4, 5-6, 8-10 (5 h) + Code Review 4-5 (1 h).
    assert result.total_work_time_seconds == 6 * HOUR
    assert result.total_review_time_seconds == 1 * HOUR
    assert result.time_in_steps == {
        "Backlog": HOUR,
        "To Do": 3 * HOUR,
        "In Progress": 5 * HOUR,
        "Code Review": HOUR,
    }
    assert result.cycle_time_seconds == 8 * HOUR
    assert result.lead_time_seconds == 10 * HOUR
    assert result.workflow_complexity_score == 7 + 2 * 1
    assert result.rework_indicator is True
    assert result.direct_completion is False


def test_direct_completion() -> None:
    result = metrics(moves((1, "Backlog", "To Do"), (5, "To Do", "Done")))
    assert result.direct_completion is True
    assert result.total_work_starts == 0 and result.work_first_started_at is None
    assert result.total_completions == 1 and result.work_first_completed_at == at(5)
    assert result.total_work_time_seconds is None
    assert result.total_review_time_seconds is None
    assert result.cycle_time_seconds is None
    assert result.lead_time_seconds == 5 * HOUR
    assert result.work_first_committed_at == at(1)
    assert result.rework_indicator is False
    assert result.workflow_complexity_score == 2


def test_unmapped_statuses_fall_back_to_their_category() -> None:
    result = metrics(
        moves(
            (1, "Backlog", "In Progress"),
            (2, "In Progress", "Blocked"),
            (4, "Blocked", "In Progress"),
            (6, "In Progress", "Shipped"),
        )
    )
    assert result.unmapped_statuses == ("Blocked", "Shipped")
    # Blocked is in progress by category, so it neither restarts work nor counts as rework.
    assert result.total_work_starts == 1
    assert result.total_work_time_seconds == 5 * HOUR
    assert result.time_in_steps == {"Backlog": HOUR, "In Progress": 3 * HOUR, "Blocked": 2 * HOUR}
    assert result.rework_indicator is False
    assert result.total_completions == 1 and result.work_last_completed_at == at(6)
    assert (result.cycle_time_seconds, result.lead_time_seconds) == (5 * HOUR, 6 * HOUR)
    assert result.work_first_committed_at == at(1)


def test_status_without_mapping_or_category_is_a_to_do_step() -> None:
    result = metrics(
        moves((1, "Backlog", "In Progress"), (2, "In Progress", "Parked"), (3, "Parked", "Done"))
    )
    assert result.unmapped_statuses == ("Parked",)
    assert result.total_backlog_returns == 1
    assert result.rework_indicator is True
    assert result.time_in_steps["Parked"] == HOUR
    assert result.workflow_complexity_score == 3 + 2


def test_reopened_then_done_again() -> None:
    result = metrics(
        moves(
            (1, "Backlog", "In Progress"),
            (3, "In Progress", "Done"),
            (4, "Done", "In Progress"),
            (6, "In Progress", "Closed"),
        )
    )
    assert result.total_completions == 2
    assert (result.work_first_completed_at, result.work_last_completed_at) == (at(3), at(6))
    assert result.total_work_starts == 2
    assert result.rework_indicator is True
    assert result.total_backlog_returns == 0
    assert result.cycle_time_seconds == 5 * HOUR
    assert result.lead_time_seconds == 6 * HOUR
    assert result.time_in_steps == {"Backlog": HOUR, "In Progress": 4 * HOUR, "Done": HOUR}


def test_reopened_and_not_done_has_no_cycle_or_lead_time() -> None:
    result = metrics(
        moves((1, "Backlog", "In Progress"), (3, "In Progress", "Done"), (4, "Done", "In Progress"))
    )
    assert result.work_last_completed_at == at(3)
    assert result.cycle_time_seconds is None and result.lead_time_seconds is None
    assert result.direct_completion is False


def test_transitions_within_one_step_are_not_entries() -> None:
    result = metrics(moves((1, "Open", "Backlog"), (2, "Backlog", "Selected for Development")))
    assert result.time_in_steps == {"Backlog": 2 * HOUR}
    assert result.total_backlog_returns == 0 and not result.rework_indicator
    assert result.workflow_complexity_score == 2
    assert result.work_first_committed_at == at(2)


def test_status_names_match_case_insensitively() -> None:
    result = metrics(moves((1, "backlog", "IN PROGRESS"), (2, "IN PROGRESS", "done")))
    assert result.unmapped_statuses == ()
    assert result.time_in_steps == {"Backlog": HOUR, "In Progress": HOUR}
    assert result.cycle_time_seconds == HOUR


def test_open_interval_is_not_counted_and_creation_status_counts() -> None:
    result = metrics([], current_status_name="In Progress")
    assert result.total_work_starts == 1 and result.work_first_started_at == T0
    assert result.time_in_steps == {}
    assert result.total_work_time_seconds == 0
    assert result.workflow_complexity_score == 0
    untouched = metrics([])
    assert untouched.total_work_starts == 0 and untouched.time_in_steps == {}


def test_without_created_the_first_interval_is_unknown() -> None:
    result = metrics(moves((1, "Backlog", "In Progress"), (2, "In Progress", "Done")), created=None)
    assert result.time_in_steps == {"In Progress": HOUR}
    assert result.lead_time_seconds is None and result.cycle_time_seconds == HOUR


def test_no_commitment_point_means_no_commitment_date() -> None:
    result = metrics(moves((1, "Backlog", "Done")), commitment=None)
    assert result.work_first_committed_at is None
    assert result.direct_completion is True


def test_current_status_given_by_id_takes_its_name_from_the_changelog() -> None:
    path = moves((1, "Backlog", "In Progress"), (2, "In Progress", "Done"))
    by_id = metrics(path, current_status_external_id=IDS["Done"])
    assert by_id.unmapped_statuses == () and by_id.cycle_time_seconds == HOUR
    stale = metrics(path, current_status_name="In Progress")
    assert stale.cycle_time_seconds is None and stale.lead_time_seconds is None


def test_current_status_known_only_by_id_without_changelog() -> None:
    result = transform_jira_issue(
        {
            "id": "1",
            "key": "CORE-1",
            "fields": {"status": {"id": "3"}, "created": "2024-03-01T09:00:00.000+0000"},
        }
    )
    assert isinstance(result, Ok)
    item, changelogs = result.value
    named = work_item_metrics(item, changelogs, mapping(), CATEGORIES, status_names=NAMES)
    assert named.unmapped_statuses == () and named.work_first_started_at == T0
    unnamed = work_item_metrics(item, changelogs, mapping(), CATEGORIES)
    assert unnamed.unmapped_statuses == ("3",) and unnamed.work_first_started_at == T0


def test_sandbox_issue_metrics_add_up() -> None:
    workflow = mapping("In Progress")
    checked = 0
    for index in range(200):
        result = transform_jira_issue(issue_payload(index))
        assert isinstance(result, Ok)
        item, changelogs = result.value
        found = work_item_metrics(item, changelogs, workflow, CATEGORIES, status_names=NAMES)
        assert set(found.unmapped_statuses) <= {"Blocked"}
        if not changelogs or item.created is None:
            continue
        span = changelogs[-1].transition_change_date - item.created
        assert sum(found.time_in_steps.values()) == sum(
            c.time_in_status_seconds or 0 for c in changelogs
        )
        assert sum(found.time_in_steps.values()) <= span.total_seconds()
        in_progress = {"In Progress", "Code Review", "QA", "Blocked"}
        assert (found.total_work_time_seconds or 0) == sum(
            seconds for step, seconds in found.time_in_steps.items() if step in in_progress
        )
        assert found.workflow_complexity_score == len(changelogs) + 2 * found.total_backlog_returns
        if dataset().issue(index).status.category == "done":
            assert found.lead_time_seconds is not None
            assert found.work_last_completed_at is not None
        checked += 1
    assert checked > 100


def test_commitment_step_without_statuses_still_counts() -> None:
    steps = [
        WorkflowStep("Backlog", "to_do", 1),
        WorkflowStep("Committed", "to_do", 2, is_commitment_point=True),
        WorkflowStep("Doing", "in_progress", 3),
        WorkflowStep("Done", "done", 4),
    ]
    workflow = WorkflowMapping.from_steps(
        steps, {"Backlog": "Backlog", "In Progress": "Doing", "Done": "Done"}
    )
    result = compute_workflow_metrics(
        T0, moves((1, "Backlog", "In Progress"), (2, "In Progress", "Done")), workflow, {}
    )
    assert result.work_first_committed_at == at(1)
    assert result.time_in_steps == {"Backlog": HOUR, "Doing": HOUR}
