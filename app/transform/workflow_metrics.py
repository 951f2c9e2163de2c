"""Workflow metrics of a work item from its status transitions and the tenant's workflow.

Policies:
- The status an item was created in counts as entered at `created` (a creation in an
  in-progress or done step is a start or a completion).
- Times (`time_in_steps`, work and review time) count closed intervals only: the time since
  the last transition is not counted, so the metrics depend on the changelog alone and
  stay right until the next transition recomputes them.
- Lead time runs from creation to the last completion; cycle time from the first start to
  the last completion. Both are set only while the item is in a done step.
- Unmapped statuses fall back to their Jira status category (new -> to_do,
  indeterminate -> in_progress, done -> done, anything else -> to_do) and take the position
  of the first mapped step of that category.
- workflow_complexity_score = status transitions + 2 x backlog returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.transform.records import ChangelogRecord, WorkItemRecord

TO_DO = "to_do"
IN_PROGRESS = "in_progress"
DONE = "done"
JIRA_CATEGORY_STEPS = {"new": TO_DO, "indeterminate": IN_PROGRESS, "done": DONE}
_CATEGORY_ORDER = (TO_DO, IN_PROGRESS, DONE)


@dataclass(frozen=True, slots=True)
class WorkflowStep:
    """A step of the tenant workflow (`workflows`)."""

    name: str
    category: str
    step_number: int
    is_commitment_point: bool = False


class StatusTransition(Protocol):
    """A status change of a work item; ChangelogRecord is one."""

    @property
    def from_status_external_id(self) -> str | None:
        """Return the id of the status left."""
        ...

    @property
    def to_status_external_id(self) -> str | None:
        """Return the id of the status entered."""
        ...

    @property
    def from_status_name(self) -> str | None:
        """Return the name of the status left."""
        ...

    @property
    def to_status_name(self) -> str | None:
        """Return the name of the status entered."""
        ...

    @property
    def transition_change_date(self) -> datetime:
        """Return when the change happened."""
        ...


@dataclass(frozen=True, slots=True)
class PlacedStep:
    """A step with its position in the workflow order (unmapped statuses included)."""

    name: str
    category: str
    position: float


class WorkflowMapping:
    """Status name (case-insensitive) -> workflow step, with the commitment point's position."""

    __slots__ = ("_category_positions", "_commitment", "_placed")

    def __init__(
        self, statuses: Mapping[str, WorkflowStep], steps: Iterable[WorkflowStep] = ()
    ) -> None:
        """Index status -> step; `steps` adds workflow steps no status maps to yet."""
        self._placed = {
            name.casefold(): PlacedStep(step.name, step.category, float(step.step_number))
            for name, step in statuses.items()
        }
        known = {step.name: step for step in (*steps, *statuses.values())}.values()
        numbers = [step.step_number for step in known]
        low, high = (min(numbers), max(numbers)) if numbers else (0, 0)
        first = {
            category: min((s.step_number for s in known if s.category == category), default=None)
            for category in _CATEGORY_ORDER
        }
        last_to_do = max((s.step_number for s in known if s.category == TO_DO), default=low - 1)
        fallback = {TO_DO: low - 1.0, IN_PROGRESS: last_to_do + 0.5, DONE: high + 1.0}
        self._category_positions = {
            category: float(number) if number is not None else fallback[category]
            for category, number in first.items()
        }
        committed = [s.step_number for s in known if s.is_commitment_point]
        self._commitment = float(min(committed)) if committed else None

    @classmethod
    def from_steps(
        cls, steps: Iterable[WorkflowStep], status_steps: Mapping[str, str]
    ) -> WorkflowMapping:
        """Build from workflow steps and status name -> step name (`statuses_mappings`)."""
        by_name = {step.name: step for step in steps}
        return cls(
            {status: by_name[step] for status, step in status_steps.items() if step in by_name},
            by_name.values(),
        )

    @property
    def commitment_position(self) -> float | None:
        """Return the step number of the commitment point, if there is one."""
        return self._commitment

    def place(
        self,
        name: str | None,
        external_id: str | None,
        status_categories: Mapping[str, str],
        unmapped: set[str],
    ) -> PlacedStep:
        """Return the step of a status, falling back to its Jira category when unmapped."""
        if name is not None:
            placed = self._placed.get(name.casefold())
            if placed is not None:
                return placed
        label = name or external_id or "<unknown status>"
        unmapped.add(label)
        category = None
        if external_id is not None:
            category = status_categories.get(external_id)
        if category is None and name is not None:
            category = status_categories.get(name) or status_categories.get(name.casefold())
        step_category = JIRA_CATEGORY_STEPS.get(category or "", TO_DO)
        return PlacedStep(label, step_category, self._category_positions[step_category])


@dataclass(frozen=True, slots=True)
class WorkflowMetrics:
    """The workflow-metric columns of `work_items`, plus statuses the mapping lacks."""

    work_first_committed_at: datetime | None
    work_first_started_at: datetime | None
    work_last_started_at: datetime | None
    work_first_completed_at: datetime | None
    work_last_completed_at: datetime | None
    total_work_starts: int
    total_completions: int
    total_backlog_returns: int
    total_work_time_seconds: int | None
    total_review_time_seconds: int | None
    cycle_time_seconds: int | None
    lead_time_seconds: int | None
    time_in_steps: dict[str, int]
    workflow_complexity_score: int
    rework_indicator: bool
    direct_completion: bool
    unmapped_statuses: tuple[str, ...]


def _seconds(start: datetime, end: datetime) -> int:
    """Return whole seconds from start to end, never negative."""
    return max(0, int((end - start).total_seconds()))


class _Walk:
    """Running counts while walking a work item's steps in time order."""

    __slots__ = (
        "backlog_returns",
        "commitment",
        "committed_at",
        "completions",
        "ever_reviewed",
        "ever_started",
        "first_completed",
        "first_started",
        "last_completed",
        "last_started",
        "review_time",
        "rework",
        "starts",
        "time_in_steps",
        "work_time",
    )

    def __init__(self, commitment: float | None) -> None:
        """Start with nothing counted."""
        self.commitment = commitment
        self.committed_at: datetime | None = None
        self.first_started: datetime | None = None
        self.last_started: datetime | None = None
        self.first_completed: datetime | None = None
        self.last_completed: datetime | None = None
        self.starts = self.completions = self.backlog_returns = 0
        self.rework = self.ever_started = self.ever_reviewed = False
        self.work_time = self.review_time = 0
        self.time_in_steps: dict[str, int] = {}

    def enter(self, previous: PlacedStep | None, step: PlacedStep, at: datetime | None) -> None:
        """Count the entry into a step (from another step, or at creation)."""
        category = step.category
        if category == IN_PROGRESS:
            self.ever_started = True
            if previous is None or previous.category != IN_PROGRESS:
                self.starts += 1
                if at is not None:
                    self.first_started = self.first_started or at
                    self.last_started = at
        elif category == DONE:
            if previous is None or previous.category != DONE:
                self.completions += 1
                if at is not None:
                    self.first_completed = self.first_completed or at
                    self.last_completed = at
        elif previous is not None and previous.category != TO_DO:
            self.backlog_returns += 1
        if "review" in step.name.casefold():
            self.ever_reviewed = True
        if previous is not None and step.position < previous.position:
            self.rework = True
        commitment = self.commitment
        if (
            self.committed_at is None
            and at is not None
            and commitment is not None
            and step.position >= commitment
        ):
            self.committed_at = at

    def spend(self, step: PlacedStep, seconds: int) -> None:
        """Add a closed interval spent in a step."""
        self.time_in_steps[step.name] = self.time_in_steps.get(step.name, 0) + seconds
        if step.category == IN_PROGRESS:
            self.work_time += seconds
        if "review" in step.name.casefold():
            self.review_time += seconds


def _current_step(
    mapping: WorkflowMapping,
    transitions: Sequence[StatusTransition],
    last: PlacedStep | None,
    name: str | None,
    external_id: str | None,
    status_categories: Mapping[str, str],
    unmapped: set[str],
) -> PlacedStep:
    """Place the current status; a status known only by id takes its name from the changelog."""
    if name is None and external_id is not None:
        if transitions and transitions[-1].to_status_external_id == external_id and last:
            return last
        for transition in reversed(transitions):
            if transition.to_status_external_id == external_id:
                name = transition.to_status_name
                break
            if transition.from_status_external_id == external_id:
                name = transition.from_status_name
                break
    return mapping.place(name, external_id, status_categories, unmapped)


def compute_workflow_metrics(
    created: datetime | None,
    transitions: Sequence[StatusTransition],
    mapping: WorkflowMapping,
    status_categories: Mapping[str, str],
    *,
    current_status_name: str | None = None,
    current_status_external_id: str | None = None,
) -> WorkflowMetrics:
    """Compute one work item's metrics from its transitions (oldest first) and workflow."""
    # status_categories maps a status id or name to its Jira category key (new,
    # indeterminate, done); only statuses the mapping lacks consult it. The current status
    # defaults to the last one entered.
    unmapped: set[str] = set()
    has_current = current_status_name is not None or current_status_external_id is not None
    step: PlacedStep | None = None
    if transitions:
        first = transitions[0]
        step = mapping.place(
            first.from_status_name, first.from_status_external_id, status_categories, unmapped
        )
    elif has_current:
        step = mapping.place(
            current_status_name, current_status_external_id, status_categories, unmapped
        )
    walk = _Walk(mapping.commitment_position)
    if step is not None:
        walk.enter(None, step, created)
    entered_at = created
    for transition in transitions:
        at = transition.transition_change_date
        if step is not None and entered_at is not None:
            walk.spend(step, _seconds(entered_at, at))
        target = mapping.place(
            transition.to_status_name, transition.to_status_external_id, status_categories, unmapped
        )
        if step is None or target.name != step.name:
            walk.enter(step, target, at)
        step = target
        entered_at = at
    current = step
    if has_current:
        current = _current_step(
            mapping,
            transitions,
            step,
            current_status_name,
            current_status_external_id,
            status_categories,
            unmapped,
        )
    done_now = current is not None and current.category == DONE
    last_completed = walk.last_completed if done_now else None
    return WorkflowMetrics(
        work_first_committed_at=walk.committed_at,
        work_first_started_at=walk.first_started,
        work_last_started_at=walk.last_started,
        work_first_completed_at=walk.first_completed,
        work_last_completed_at=walk.last_completed,
        total_work_starts=walk.starts,
        total_completions=walk.completions,
        total_backlog_returns=walk.backlog_returns,
        total_work_time_seconds=walk.work_time if walk.ever_started else None,
        total_review_time_seconds=walk.review_time if walk.ever_reviewed else None,
        cycle_time_seconds=(
            _seconds(walk.first_started, last_completed)
            if last_completed is not None and walk.first_started is not None
            else None
        ),
        lead_time_seconds=(
            _seconds(created, last_completed)
            if last_completed is not None and created is not None
            else None
        ),
        time_in_steps=walk.time_in_steps,
        workflow_complexity_score=len(transitions) + 2 * walk.backlog_returns,
        rework_indicator=walk.rework,
        direct_completion=done_now and walk.completions > 0 and not walk.ever_started,
        unmapped_statuses=tuple(sorted(unmapped)),
    )


def work_item_metrics(
    work_item: WorkItemRecord,
    changelogs: Sequence[ChangelogRecord],
    mapping: WorkflowMapping,
    status_categories: Mapping[str, str],
    *,
    status_names: Mapping[str, str] | None = None,
) -> WorkflowMetrics:
    """Compute the metrics of a transformed work item; `status_names` maps status id to name."""
    status_id = work_item.status_external_id
    current_name = None
    if status_names is not None and status_id is not None:
        current_name = status_names.get(status_id)
    return compute_workflow_metrics(
        work_item.created,
        changelogs,
        mapping,
        status_categories,
        current_status_name=current_name,
        current_status_external_id=status_id,
    )
