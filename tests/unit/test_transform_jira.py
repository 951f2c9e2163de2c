"""Jira transformers: issues with changelogs, custom fields, ADF, projects and statuses."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from app.sandbox.catalog import BLOCKED, PROJECTS, STATUSES
from app.transform import (
    TRANSFORMERS,
    Failed,
    JiraIssueRecords,
    Ok,
    ProjectRecords,
    StatusRecord,
    TransformContext,
    TransformResult,
    adf_to_text,
    custom_field_mapping_problems,
    custom_field_text,
    entities,
    parse_date,
    parse_timestamp,
    transform_jira_issue,
    transform_jira_project,
    transform_jira_status,
    transform_raw,
)
from app.transform.dispatch import _guarded
from tests.unit.test_transform_payloads import (
    churned_issue,
    dataset,
    issue_payload,
    project_payload,
    status_payload,
)

T0 = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)


def ok_issue(result: TransformResult[JiraIssueRecords]) -> JiraIssueRecords:
    """Unwrap a transformed issue, failing the test with the error otherwise."""
    assert isinstance(result, Ok), result
    return result.value


def jira_time_of(moment: datetime) -> str:
    """Format like Jira Cloud."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def status_history(
    history_id: str, at: datetime, source: tuple[str, str], target: tuple[str, str]
) -> dict[str, Any]:
    """A changelog history with one status item."""
    return {
        "id": history_id,
        "author": {"accountId": "abc", "displayName": "Zoë Ångström", "active": True},
        "created": jira_time_of(at),
        "items": [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": source[0],
                "fromString": source[1],
                "to": target[0],
                "toString": target[1],
            }
        ],
    }


def literal_issue(**fields: Any) -> dict[str, Any]:
    """A small issue with the given fields and no changelog."""
    return {"id": "10001", "key": "CORE-1", "fields": fields}


# Timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-05T10:11:12.000+0000", datetime(2024, 1, 5, 10, 11, 12, tzinfo=UTC)),
        ("2024-01-05T10:11:12+0000", datetime(2024, 1, 5, 10, 11, 12, tzinfo=UTC)),
        ("2024-01-05T10:11:12Z", datetime(2024, 1, 5, 10, 11, 12, tzinfo=UTC)),
        ("2024-01-05T10:11:12.250Z", datetime(2024, 1, 5, 10, 11, 12, 250_000, tzinfo=UTC)),
        (
            "2024-01-05T10:11:12.000+0530",
            datetime(2024, 1, 5, 10, 11, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2024-01-05T10:11:12-05:00", datetime(2024, 1, 5, 15, 11, 12, tzinfo=UTC)),
        ("2024-01-05T10:11:12", datetime(2024, 1, 5, 10, 11, 12, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts_jira_and_github_formats(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["", "2024-01-05", "yesterday", "2024-13-05T10:11:12Z", "12345"])
def test_parse_timestamp_rejects_what_is_not_a_timestamp(text: str) -> None:
    assert parse_timestamp(text) is None


def test_parse_date() -> None:
    assert parse_date("2024-01-05") == date(2024, 1, 5)
    assert parse_date("2024-02-30") is None
    assert parse_date("2024-01-05T10:11:12Z") is None


# Issues from the sandbox


def test_sandbox_issue_becomes_a_work_item_with_every_field() -> None:
    index = next(
        i
        for i in range(dataset().issue_count)
        if dataset().issue(i).fields["parent"] is not None
        and dataset().issue(i).fields["assignee"] is not None
        and dataset().issue(i).fields["labels"]
    )
    raw = issue_payload(index)
    fields = raw["fields"]
    item = ok_issue(transform_jira_issue(raw)).work_item
    assert item.external_id == raw["id"] and item.key == raw["key"]
    assert item.project_external_id == fields["project"]["id"]
    assert item.wit_external_id == fields["issuetype"]["id"]
    assert item.status_external_id == fields["status"]["id"]
    assert item.summary == fields["summary"]
    assert item.priority == fields["priority"]["name"]
    assert item.assignee == fields["assignee"]["displayName"]
    assert item.reporter == fields["reporter"]["displayName"]
    assert item.labels == tuple(fields["labels"])
    assert item.parent_key == fields["parent"]["key"]
    assert item.story_points == fields["customfield_10016"]
    assert item.created == parse_timestamp(fields["created"])
    assert item.updated == parse_timestamp(fields["updated"])
    assert item.resolved == parse_timestamp(fields["resolutiondate"] or "")
    # The sprint field is an unmapped custom field with a value; the dev summary is not kept.
    if fields["customfield_10020"] is not None:
        assert item.custom_fields_overflow == {"customfield_10020": fields["customfield_10020"]}
    else:
        assert item.custom_fields_overflow is None


def test_sandbox_changelog_keeps_every_status_transition_in_order() -> None:
    index = churned_issue()
    raw = issue_payload(index)
    histories = raw["changelog"]["histories"]
    status_items = [
        (h, item) for h in histories for item in h["items"] if item["field"] == "status"
    ]
    records = ok_issue(transform_jira_issue(raw))
    changelogs = records.changelogs
    assert len(histories) > 45
    assert len(changelogs) == len(status_items)
    assert [c.to_status_name for c in changelogs] == [i["toString"] for _, i in status_items]
    created = parse_timestamp(raw["fields"]["created"])
    assert changelogs[0].transition_start_date == created
    assert changelogs[0].from_status_name == "Backlog"
    for before, after in itertools.pairwise(changelogs):
        assert after.transition_start_date == before.transition_change_date
        assert after.from_status_external_id == before.to_status_external_id
    for change in changelogs:
        assert change.work_item_external_id == raw["id"]
        assert change.transition_start_date is not None
        assert change.time_in_status_seconds == int(
            (change.transition_change_date - change.transition_start_date).total_seconds()
        )
    assert changelogs[-1].to_status_external_id == raw["fields"]["status"]["id"]
    assert len({c.external_id for c in changelogs}) == len(changelogs)
    assert changelogs[0].external_id == f"{status_items[0][0]['id']}-0"


def test_every_sandbox_issue_transforms() -> None:
    results = [transform_jira_issue(issue_payload(i)) for i in range(120)]
    assert all(isinstance(r, Ok) for r in results)
    blocked = sum(
        1
        for r in results
        if isinstance(r, Ok)
        for c in r.value.changelogs
        if c.to_status_external_id == BLOCKED.id
    )
    assert blocked > 0


# Issues from literal payloads


def test_minimal_issue_has_nulls_and_empty_values() -> None:
    records = ok_issue(transform_jira_issue(literal_issue()))
    item = records.work_item
    assert (item.external_id, item.key) == ("10001", "CORE-1")
    assert item.project_external_id is item.summary is item.description is None
    assert item.created is item.due_date is item.story_points is None
    assert item.labels == ()
    assert item.custom_fields_overflow is None
    assert records.changelogs == ()


def test_null_fields_are_fine() -> None:
    nulls = dict.fromkeys(
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
            "customfield_10999",
        ]
    )
    raw = literal_issue(**nulls) | {"changelog": None}
    item = ok_issue(transform_jira_issue(raw, {"customfield_10999": "custom_field_02"})).work_item
    assert item.assignee is None and item.custom_field_02 is None
    assert item.custom_fields_overflow is None


def test_numeric_id_and_due_date_and_unicode() -> None:
    raw = literal_issue(
        summary="Überprüfen: 日本語のファイル名 🚀",
        duedate="2024-03-01",
        labels=["ünïcode", "backend"],
        assignee={"accountId": "5b10", "displayName": "李雷"},
        reporter={"accountId": "5b11"},
    )
    raw["id"] = 10001
    item = ok_issue(transform_jira_issue(raw)).work_item
    assert item.external_id == "10001"
    assert item.summary == "Überprüfen: 日本語のファイル名 🚀"
    assert item.due_date == date(2024, 3, 1)
    assert item.labels == ("ünïcode", "backend")
    assert item.assignee == "李雷"
    assert item.reporter == "5b11"


def test_custom_fields_go_to_columns_as_text_and_the_rest_to_overflow() -> None:
    raw = literal_issue(
        customfield_10016=5.0,
        customfield_10000="{}",
        customfield_10100={"self": "x", "value": "High", "id": "1"},
        customfield_10101=[{"value": "iOS"}, {"value": "Android"}],
        customfield_10102={"value": "EU", "child": {"value": "Paris"}},
        customfield_10103=3.0,
        customfield_10104={"accountId": "5b", "displayName": "Hana Suzuki"},
        customfield_10105="plain text",
        customfield_10106=None,
        customfield_10200={"unknown": ["shape"]},
        customfield_10201=None,
        customfield_10202=7,
    )
    mapping = {
        "customfield_10100": "custom_field_01",
        "customfield_10101": "custom_field_02",
        "customfield_10102": "custom_field_03",
        "customfield_10103": "custom_field_04",
        "customfield_10104": "custom_field_05",
        "customfield_10105": "custom_field_10",
        "customfield_10106": "custom_field_06",
    }
    item = ok_issue(transform_jira_issue(raw, mapping)).work_item
    assert item.story_points == 5.0
    assert item.custom_field_01 == "High"
    assert item.custom_field_02 == "iOS, Android"
    assert item.custom_field_03 == "EU / Paris"
    assert item.custom_field_04 == "3"
    assert item.custom_field_05 == "Hana Suzuki"
    assert item.custom_field_10 == "plain text"
    assert item.custom_field_06 is None and item.custom_field_07 is None
    assert item.custom_fields_overflow == {
        "customfield_10200": {"unknown": ["shape"]},
        "customfield_10202": 7,
    }


def test_story_points_field_is_a_parameter() -> None:
    raw = literal_issue(customfield_10016=8, customfield_10028=3)
    item = ok_issue(transform_jira_issue(raw, story_points_field="customfield_10028")).work_item
    assert item.story_points == 3.0
    assert item.custom_fields_overflow == {"customfield_10016": 8}


def test_custom_field_text_and_mapping_problems() -> None:
    assert custom_field_text(2.5) == "2.5"
    assert custom_field_text(True) == "true"
    assert custom_field_text([]) is None
    assert custom_field_text({"a": 1}) == '{"a": 1}'
    assert custom_field_mapping_problems({"customfield_1": "custom_field_01"}) == []
    assert custom_field_mapping_problems(
        {
            "customfield_1": "custom_field_11",
            "customfield_2": "custom_field_01",
            "customfield_3": "custom_field_01",
        }
    ) == [
        "customfield_1 maps to 'custom_field_11': expected one of custom_field_01..custom_field_10",
        "customfield_3 and customfield_2 both map to custom_field_01",
    ]


# Descriptions


def test_adf_description_with_nested_content_is_flattened() -> None:
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "heading",
                "attrs": {"level": 2},
                "content": [{"type": "text", "text": "Goal"}],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Ask "},
                    {"type": "mention", "attrs": {"id": "5b", "text": "@Chloé"}},
                    {"type": "text", "text": " about it ", "marks": [{"type": "strong"}]},
                    {"type": "emoji", "attrs": {"shortName": ":rocket:", "text": "🚀"}},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "second line"},
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]},
                            {
                                "type": "bulletList",
                                "content": [
                                    {
                                        "type": "listItem",
                                        "content": [
                                            {
                                                "type": "paragraph",
                                                "content": [{"type": "text", "text": "nested"}],
                                            }
                                        ],
                                    }
                                ],
                            },
                        ],
                    }
                ],
            },
            {"type": "codeBlock", "content": [{"type": "text", "text": "print('hi')"}]},
            {
                "type": "paragraph",
                "content": [{"type": "inlineCard", "attrs": {"url": "https://example.com/x"}}],
            },
            {"type": "rule"},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "m"}}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "end"}]},
        ],
    }
    expected = (
        "Goal\nAsk @Chloé about it 🚀\nsecond line\none\nnested\nprint('hi')\n"
        "https://example.com/x\nend"
    )
    assert adf_to_text(document) == expected
    item = ok_issue(transform_jira_issue(literal_issue(description=document))).work_item
    assert item.description == expected


def test_wiki_text_description_is_kept_and_odd_nodes_are_ignored() -> None:
    item = ok_issue(transform_jira_issue(literal_issue(description="h1. Title"))).work_item
    assert item.description == "h1. Title"
    odd = {"type": "doc", "content": [5, None, {"type": "paragraph", "content": "x"}, {"text": 1}]}
    assert adf_to_text(odd) == ""


def test_one_megabyte_descriptions() -> None:
    paragraph = "Ελέγξτε την κωδικοποίηση 🚀 " * 4
    count = 1_000_000 // len(paragraph.encode()) + 1
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": paragraph}]}
            for _ in range(count)
        ],
    }
    item = ok_issue(transform_jira_issue(literal_issue(description=document))).work_item
    assert item.description is not None
    assert len(item.description.encode()) > 1_000_000
    assert item.description.count("\n") == count - 1
    assert item.description.startswith(paragraph + "\n")
    flat = "x" * 1_048_576
    single = {
        "type": "doc",
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": flat}]}],
    }
    assert (
        ok_issue(transform_jira_issue(literal_issue(description=single))).work_item.description
        == flat
    )
    deep: dict[str, Any] = {"type": "text", "text": "deep"}
    for _ in range(5_000):
        deep = {"type": "blockquote", "content": [deep]}
    assert adf_to_text({"type": "doc", "content": [deep]}) == "deep"


# Changelogs


def test_changelog_is_sorted_deduplicated_and_timed() -> None:
    backlog, to_do, progress = ("10000", "Backlog"), ("10001", "To Do"), ("3", "In Progress")
    first = status_history("101", T0 + timedelta(hours=2), backlog, to_do)
    second = status_history("102", T0 + timedelta(hours=5), to_do, progress)
    assignee = {
        "id": "103",
        "created": "not a time, but not a status change either",
        "items": [{"field": "assignee", "fieldtype": "jira", "from": None, "to": "x"}],
    }
    custom_status = {
        "id": "104",
        "created": jira_time_of(T0 + timedelta(hours=1)),
        "items": [{"field": "status", "fieldtype": "custom", "fieldId": "customfield_1"}],
    }
    raw = literal_issue(created=jira_time_of(T0)) | {
        "changelog": {
            "startAt": 0,
            "total": 5,
            "histories": [second, assignee, first, custom_status, second],
        }
    }
    changelogs = ok_issue(transform_jira_issue(raw)).changelogs
    assert [c.external_id for c in changelogs] == ["101-0", "102-0"]
    assert [(c.from_status_name, c.to_status_name) for c in changelogs] == [
        ("Backlog", "To Do"),
        ("To Do", "In Progress"),
    ]
    assert [c.time_in_status_seconds for c in changelogs] == [7_200, 10_800]
    assert changelogs[0].transition_start_date == T0
    assert changelogs[1].transition_start_date == T0 + timedelta(hours=2)
    assert changelogs[1].changed_by == "Zoë Ångström"


def test_same_moment_transitions_order_by_history_id() -> None:
    at = T0 + timedelta(hours=1)
    raw = literal_issue(created=jira_time_of(T0)) | {
        "changelog": {
            "histories": [
                status_history("100", at, ("1", "B"), ("2", "C")),
                status_history("99", at, ("0", "A"), ("1", "B")),
            ]
        }
    }
    changelogs = ok_issue(transform_jira_issue(raw)).changelogs
    assert [c.external_id for c in changelogs] == ["99-0", "100-0"]
    assert changelogs[1].time_in_status_seconds == 0


def test_changelog_without_created_date_has_no_first_start() -> None:
    raw = literal_issue() | {
        "changelog": {"histories": [status_history("7", T0, ("1", "A"), ("2", "B"))]}
    }
    change = ok_issue(transform_jira_issue(raw)).changelogs[0]
    assert change.transition_start_date is None and change.time_in_status_seconds is None


# Errors


def test_bad_created_names_field_record_and_value() -> None:
    result = transform_jira_issue(literal_issue(created=12345))
    assert isinstance(result, Failed)
    assert result.error_details() == {
        "field": "fields.created",
        "record": "CORE-1",
        "error": "expected an ISO 8601 timestamp, found 12345",
    }


@pytest.mark.parametrize(
    ("raw", "field", "error"),
    [
        ({"id": "1", "key": "CORE-1"}, "fields", "expected an object, found null"),
        ({"id": "1", "fields": {}}, "key", "expected non-empty text, found null"),
        (literal_issue(labels=["ok", 3]), "fields.labels[1]", "expected text, found 3"),
        (literal_issue(labels="backend"), "fields.labels", 'expected a list, found "backend"'),
        (
            literal_issue(project=["10000"]),
            "fields.project",
            "expected an object, found a list of 1 items",
        ),
        (
            literal_issue(project={"id": {}}),
            "fields.project.id",
            "expected an id (text or integer), found an empty object",
        ),
        (
            literal_issue(duedate="05/01/2024"),
            "fields.duedate",
            'expected a date (YYYY-MM-DD), found "05/01/2024"',
        ),
        (
            literal_issue(customfield_10016="5"),
            "fields.customfield_10016",
            'expected a finite number, found "5"',
        ),
        (
            literal_issue(description=42),
            "fields.description",
            "expected an Atlassian document or text, found 42",
        ),
        (literal_issue(assignee="alice"), "fields.assignee", 'expected an object, found "alice"'),
        (literal_issue(summary=["a"]), "fields.summary", "expected text, found a list of 1 items"),
    ],
)
def test_malformed_issue_fields_fail_precisely(raw: dict[str, Any], field: str, error: str) -> None:
    result = transform_jira_issue(raw)
    assert isinstance(result, Failed)
    assert result.error.field == field
    assert result.error.message == error
    assert result.error.external_id in ("CORE-1", "1")


def test_malformed_status_history_fails_precisely() -> None:
    good = status_history("1", T0, ("1", "A"), ("2", "B"))
    bad = status_history("2", T0, ("2", "B"), ("3", "C")) | {"created": "2024-01-05"}
    raw = literal_issue() | {"changelog": {"histories": [good, bad]}}
    result = transform_jira_issue(raw)
    assert isinstance(result, Failed)
    assert result.error_details() == {
        "field": "changelog.histories[1].created",
        "record": "CORE-1",
        "error": 'expected an ISO 8601 timestamp, found "2024-01-05"',
    }
    long_value = "x" * 500
    raw["changelog"]["histories"][1] = good | {"id": "3", "created": long_value}
    result = transform_jira_issue(raw)
    assert isinstance(result, Failed)
    assert len(result.error.message) < 120 and result.error.message.endswith('…"')


def test_not_an_object_fails() -> None:
    result = transform_jira_issue(["CORE-1"])
    assert isinstance(result, Failed)
    assert result.error_details() == {
        "field": "issue",
        "record": "<unidentified>",
        "error": "expected an object, found a list of 1 items",
    }


# Projects and statuses


def test_sandbox_project_with_issue_types() -> None:
    result = transform_jira_project(project_payload(PROJECTS[0]))
    assert isinstance(result, Ok) and result.skipped == ()
    project, wits = result.value
    assert (project.external_id, project.key, project.name) == ("10000", "CORE", "Core Platform")
    assert project.project_type == "software"
    assert project.wit_external_ids == ("10000", "10001", "10002", "10003", "10004")
    by_name = {wit.original_name: wit for wit in wits}
    assert by_name["Epic"].hierarchy_level == 1 and not by_name["Epic"].subtask
    assert by_name["Sub-task"].hierarchy_level == -1 and by_name["Sub-task"].subtask
    assert by_name["Bug"].description == "Bug issues"


def test_project_skips_and_reports_a_malformed_issue_type() -> None:
    raw = {
        "id": "10009",
        "key": "NEW",
        "name": "New things",
        "issueTypes": [
            {"id": "1", "name": "Story"},
            {"id": "2"},
            "Bug",
            {"id": "1", "name": "Story"},
        ],
    }
    result = transform_jira_project(raw)
    assert isinstance(result, Ok)
    assert isinstance(result.value, ProjectRecords)
    assert result.value.project.wit_external_ids == ("1",)
    assert result.value.project.project_type is None
    assert [(e.field, e.message) for e in result.skipped] == [
        ("issueTypes[1].name", "expected non-empty text, found null"),
        ("issueTypes[2]", 'expected an issue type object, found "Bug"'),
    ]
    assert result.value.wits[0].hierarchy_level == 0 and result.value.wits[0].subtask is False


def test_project_without_key_fails() -> None:
    result = transform_jira_project({"id": "1", "name": "x"})
    assert isinstance(result, Failed)
    assert result.error_details() == {
        "field": "key",
        "record": "1",
        "error": "expected non-empty text, found null",
    }


def test_sandbox_statuses() -> None:
    results = [transform_jira_status(status_payload(s)) for s in STATUSES]
    records = [r.value for r in results if isinstance(r, Ok)]
    assert len(records) == len(STATUSES)
    assert records[0] == StatusRecord("10000", "Backlog", "new", "")
    assert {r.original_name: r.category for r in records}["Blocked"] == "indeterminate"
    assert {r.original_name: r.category for r in records}["Closed"] == "done"


def test_status_category_falls_back_to_undefined() -> None:
    odd = transform_jira_status({"id": "9", "name": "Odd", "statusCategory": {"key": "weird"}})
    bare = transform_jira_status({"id": 9, "name": "Bare"})
    assert isinstance(odd, Ok) and odd.value.category == "undefined"
    assert isinstance(bare, Ok) and bare.value == StatusRecord("9", "Bare", "undefined", None)
    bad = transform_jira_status({"id": "9", "name": "Bad", "statusCategory": "done"})
    assert isinstance(bad, Failed) and bad.error.field == "statusCategory"


# Dispatch


def test_dispatch_table_covers_every_entity_type() -> None:
    assert (
        set(TRANSFORMERS)
        == set(entities.ENTITY_TYPES)
        == {
            "jira_project",
            "jira_status",
            "jira_issue",
            "jira_dev_status",
            "github_repository",
            "github_pull_request",
        }
    )
    context = TransformContext(custom_field_mapping={"customfield_10020": "custom_field_01"})
    result = TRANSFORMERS[entities.JIRA_ISSUE](issue_payload(0), context)
    assert isinstance(result, Ok) and isinstance(result.value, JiraIssueRecords)
    status = transform_raw(entities.JIRA_STATUS, status_payload(STATUSES[0]), context)
    assert isinstance(status, Ok) and status.value.external_id == "10000"


def test_dispatch_reports_unknown_types_missing_keys_and_crashes() -> None:
    unknown = transform_raw("gitlab_issue", {}, TransformContext())
    assert isinstance(unknown, Failed) and unknown.error.field == "entity_type"
    no_key = transform_raw(entities.JIRA_DEV_STATUS, {"detail": []}, TransformContext())
    assert isinstance(no_key, Failed)
    assert no_key.error_details() == {
        "field": "issue_key",
        "record": "<unidentified>",
        "error": "expected the issue key, found null",
    }

    def broken(raw: object, context: TransformContext) -> TransformResult[Any]:
        raise ZeroDivisionError("division by zero")

    crashed = _guarded(broken)({"key": "CORE-9"}, TransformContext())
    assert isinstance(crashed, Failed)
    assert crashed.error_details() == {
        "field": "<record>",
        "record": "CORE-9",
        "error": "could not be transformed (ZeroDivisionError: division by zero)",
    }
