"""Property tests: transformers never raise, and every error names its record and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sandbox.catalog import PROJECTS, STATUSES
from app.transform import (
    TRANSFORMERS,
    ChangelogRecord,
    Failed,
    Ok,
    RecordError,
    TransformContext,
    TransformResult,
    WorkflowMapping,
    WorkflowStep,
    compute_workflow_metrics,
    custom_field_text,
    dev_status_links,
    keys_in_text,
    transform_github_pull_request,
    transform_github_repository,
    transform_jira_issue,
    transform_jira_project,
    transform_jira_status,
)
from migrations.seeding import STATUS_MAPPINGS, WORKFLOW_STEPS
from tests.unit.test_transform_payloads import (
    churned_issue,
    dataset,
    dev_status_payload,
    issue_payload,
    issue_with_dev_status,
    project_payload,
    pull_request_node,
    repository_payload,
    status_payload,
)

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAPPING = {"customfield_10020": "custom_field_01", "customfield_1": "custom_field_02"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=24)
    | st.sampled_from(["", "status", "2024-01-05T10:11:12.000+0000", "#12", "CORE-1", "a/b"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def keyed(keys: list[str], values: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[Any]:
    """Objects that use the keys a transformer reads, with any values."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), values, max_size=len(keys))


status_items = keyed(["field", "fieldId", "fieldtype", "from", "to", "fromString", "toString"])
histories = keyed(
    ["id", "created", "author", "items"], st.lists(status_items, max_size=3) | json_values
)
issue_fields = keyed(
    [
        "summary",
        "description",
        "project",
        "issuetype",
        "status",
        "priority",
        "assignee",
        "reporter",
        "labels",
        "duedate",
        "parent",
        "created",
        "updated",
        "resolutiondate",
        "customfield_10016",
        "customfield_10000",
        "customfield_1",
    ]
)
issues = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "key": json_values,
        "fields": issue_fields | json_values,
        "changelog": st.fixed_dictionaries({"histories": st.lists(histories, max_size=4)})
        | json_values,
    },
)
connection = st.fixed_dictionaries(
    {}, optional={"totalCount": json_values, "nodes": st.lists(json_values, max_size=3)}
)
pulls = keyed(
    [
        "id",
        "number",
        "state",
        "title",
        "body",
        "author",
        "repository",
        "createdAt",
        "mergedAt",
        "commits",
        "reviews",
        "comments",
        "reviewThreads",
        "additions",
        "headRefName",
    ],
    connection | json_values,
)
dev_statuses = st.fixed_dictionaries(
    {},
    optional={
        "errors": json_values,
        "detail": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "pullRequests": st.lists(
                        keyed(["id", "url", "repositoryName", "repositoryUrl"]), max_size=3
                    )
                    | json_values
                },
            )
            | json_values,
            max_size=3,
        )
        | json_values,
    },
)


def reported(result: TransformResult[Any]) -> tuple[RecordError, ...]:
    """Return the errors a result reports: why it failed, or what it skipped."""
    return result.errors if isinstance(result, Failed) else result.skipped


def assert_precise(result: TransformResult[Any]) -> None:
    """Check the result is records or errors that say which record, which field, what."""
    assert isinstance(result, Ok | Failed)
    if isinstance(result, Failed):
        assert result.errors
        details = result.error_details()
        assert set(details) == {"field", "record", "error"}
        json.dumps(details)
    for error in reported(result):
        assert error.external_id and error.field and error.message
        assert error.field != "<record>"
        assert error.message.startswith(("expected ", "Jira reported"))


@PROPERTY
@given(json_values | issues)
def test_issue_transform_never_raises(raw: Any) -> None:
    assert_precise(transform_jira_issue(raw, MAPPING))


@PROPERTY
@given(json_values | keyed(["id", "key", "name", "projectTypeKey", "issueTypes"]))
def test_project_transform_never_raises(raw: Any) -> None:
    assert_precise(transform_jira_project(raw))


@PROPERTY
@given(json_values | keyed(["id", "name", "description", "statusCategory"]))
def test_status_transform_never_raises(raw: Any) -> None:
    assert_precise(transform_jira_status(raw))


@PROPERTY
@given(json_values | keyed(["id", "name", "full_name", "owner", "private", "created_at"]))
def test_repository_transform_never_raises(raw: Any) -> None:
    assert_precise(transform_github_repository(raw))


@PROPERTY
@given(json_values | pulls, st.none() | st.just("acme/core-api"))
def test_pull_request_transform_never_raises(raw: Any, repository: str | None) -> None:
    assert_precise(transform_github_pull_request(raw, repository))


@PROPERTY
@given(json_values | dev_statuses)
def test_dev_status_transform_never_raises(raw: Any) -> None:
    result = dev_status_links("CORE-1", raw)
    assert_precise(result)
    if isinstance(result, Ok):
        assert all(
            link.pr_number >= 0 and "/" in link.repository_full_name for link in result.value
        )


@PROPERTY
@given(st.sampled_from(sorted(TRANSFORMERS)), json_values)
def test_dispatch_never_needs_its_guard(entity_type: str, raw: Any) -> None:
    context = TransformContext(custom_field_mapping=MAPPING, issue_key="CORE-1")
    assert_precise(TRANSFORMERS[entity_type](raw, context))


@PROPERTY
@given(json_values)
def test_custom_field_text_never_raises(value: Any) -> None:
    text = custom_field_text(value)
    assert text is None or isinstance(text, str)


# Real payloads with one value replaced by a value of another type


Transform = Callable[[Any], TransformResult[Any]]

REAL: list[tuple[str, Any, Transform]] = [
    ("issue", issue_payload(churned_issue()), lambda raw: transform_jira_issue(raw, MAPPING)),
    ("issue", issue_payload(3), lambda raw: transform_jira_issue(raw, MAPPING)),
    ("project", project_payload(PROJECTS[1]), transform_jira_project),
    ("status", status_payload(STATUSES[2]), transform_jira_status),
    ("repository", repository_payload(1), transform_github_repository),
    (
        "pull request",
        pull_request_node(
            next(
                dataset().pull(g)
                for g in range(dataset().pull_request_count)
                if dataset().pull(g).thread_count and dataset().pull(g).comment_count
            )
        ),
        transform_github_pull_request,
    ),
    (
        "dev status",
        dev_status_payload(issue_with_dev_status()),
        lambda raw: dev_status_links("CORE-1", raw),
    ),
]

Path = tuple[str | int, ...]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a value inside a payload."""
    found: list[Path] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths(child, (*prefix, index)))
    return found


REAL_PATHS = {id(payload): paths(payload) for _, payload, _ in REAL}


def lookup(value: Any, path: Path) -> Any:
    """Return the value at a path."""
    for step in path:
        value = value[step]
    return value


def replaced(value: Any, path: Path, new: Any) -> Any:
    """Return a copy of a payload with the value at a path replaced (containers on the path copied)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], rest, new)
    return copy


def dotted(path: Path) -> str:
    """Render a path the way errors name fields: a.b[3].c."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def related(one: str, other: str) -> bool:
    """Say whether one field path contains the other."""
    return (
        one == other
        or other.startswith((f"{one}.", f"{one}["))
        or one.startswith((f"{other}.", f"{other}["))
    )


def test_real_payloads_transform_cleanly() -> None:
    for name, payload, run in REAL:
        result = run(payload)
        assert isinstance(result, Ok), (name, result)
        assert result.skipped == (), name


@settings(PROPERTY, max_examples=600)
@given(st.data(), st.sampled_from(REAL), json_values)
def test_mutated_real_payloads_fail_at_the_mutated_field(
    data: st.DataObject, case: tuple[str, Any, Transform], value: Any
) -> None:
    name, payload, run = case
    path = data.draw(st.sampled_from(REAL_PATHS[id(payload)]), label="path")
    if type(value) is type(lookup(payload, path)):
        value = [value]
    result = run(replaced(payload, path, value))
    assert_precise(result)
    mutated = dotted(path)
    for error in reported(result):
        assert related(error.field, mutated), (name, mutated, error)


# Links and metrics


@PROPERTY
@given(st.text(alphabet="CORE-WEB-0123456789 _/xé.\n", max_size=60))
def test_keys_in_text_finds_only_known_keys_once(text: str) -> None:
    known = frozenset({"CORE", "WEB"})
    keys = keys_in_text(text, known)
    assert len(keys) == len(set(keys))
    for key in keys:
        assert key in text
        assert key.rsplit("-", 1)[0] in known


STATUS_POOL = [*STATUS_MAPPINGS, "Blocked", "Parked", "Shipped", "in review"]
CATEGORIES = {"Blocked": "indeterminate", "Shipped": "done"}
WORKFLOW = WorkflowMapping.from_steps(
    [
        WorkflowStep(name, category, number, name == "In Progress")
        for number, (name, category) in enumerate(WORKFLOW_STEPS, start=1)
    ],
    STATUS_MAPPINGS,
)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@PROPERTY
@given(
    st.lists(st.tuples(st.sampled_from(STATUS_POOL), st.integers(0, 10**6)), max_size=25),
    st.booleans(),
)
def test_metrics_add_up_for_any_walk(walk: list[tuple[str, int]], shuffled: bool) -> None:
    moments = [seconds for _, seconds in walk]
    if not shuffled:
        moments = sorted(moments)
    previous = "Backlog"
    transitions = []
    for position, ((status, _), seconds) in enumerate(zip(walk, moments, strict=True)):
        transitions.append(
            ChangelogRecord(
                f"{position}-0",
                "1",
                None,
                None,
                previous,
                status,
                None,
                T0 + timedelta(seconds=seconds),
                None,
                None,
            )
        )
        previous = status
    found = compute_workflow_metrics(T0, transitions, WORKFLOW, CATEGORIES)
    assert all(seconds >= 0 for seconds in found.time_in_steps.values())
    assert found.workflow_complexity_score == len(walk) + 2 * found.total_backlog_returns
    assert set(found.unmapped_statuses) <= {"Blocked", "Parked", "Shipped", "in review"}
    if found.direct_completion:
        assert found.total_work_starts == 0 and found.total_completions > 0
    if found.cycle_time_seconds is not None and found.lead_time_seconds is not None:
        assert found.cycle_time_seconds <= found.lead_time_seconds
    if not shuffled and walk:
        assert sum(found.time_in_steps.values()) == moments[-1]
        assert (found.total_work_time_seconds or 0) <= moments[-1]
