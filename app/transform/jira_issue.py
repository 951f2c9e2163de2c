"""Jira issues: the work item row and its status transitions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.transform.adf import adf_to_text
from app.transform.custom_fields import (
    DEFAULT_DEV_SUMMARY_FIELD,
    DEFAULT_STORY_POINTS_FIELD,
    CustomFieldMapping,
    column_positions,
    split_custom_fields,
)
from app.transform.errors import Failed, Ok, TransformResult, expected, record_label
from app.transform.records import ChangelogRecord, JiraIssueRecords, WorkItemRecord
from app.transform.values import FieldReader, parse_timestamp

PERSON_KEYS = ("displayName", "emailAddress", "accountId", "name")
_NO_MAPPING: Mapping[str, str] = {}

# A status transition before it becomes a record: sort key first, then what the record needs.
_Transition = tuple[
    datetime, int, str, int, str | None, str | None, str | None, str | None, str | None
]


def transform_jira_issue(
    raw: object,
    custom_field_mapping: CustomFieldMapping = _NO_MAPPING,
    *,
    story_points_field: str = DEFAULT_STORY_POINTS_FIELD,
    dev_summary_field: str = DEFAULT_DEV_SUMMARY_FIELD,
) -> TransformResult[JiraIssueRecords]:
    """Transform an issue from /search/jql (changelog completed) into a work item and transitions."""
    label = record_label(raw, "key", "id")
    if type(raw) is not dict:
        return Failed((expected(label, "issue", "an object", raw),))
    read = FieldReader(label)
    external_id = read.identifier(raw.get("id"), "id", required=True)
    key = read.required_text(raw.get("key"), "key")
    fields = raw.get("fields")
    if type(fields) is not dict:
        read.fail("fields", "an object", fields)
        return Failed(tuple(read.errors))
    created = read.timestamp(fields.get("created"), "fields.created")
    labels = read.listing(fields.get("labels"), "fields.labels")
    for position, value in enumerate(labels):
        if type(value) is not str:
            read.fail(f"fields.labels[{position}]", "text", value)
    positions = column_positions(custom_field_mapping) if custom_field_mapping else {}
    columns, overflow = split_custom_fields(
        fields, positions, frozenset((story_points_field, dev_summary_field))
    )
    work_item = WorkItemRecord(
        external_id=external_id or "",
        key=key,
        project_external_id=_reference(read, fields, "project", "id"),
        wit_external_id=_reference(read, fields, "issuetype", "id"),
        status_external_id=_reference(read, fields, "status", "id"),
        summary=read.text(fields.get("summary"), "fields.summary"),
        description=_description(read, fields.get("description")),
        priority=read.labelled(fields.get("priority"), "fields.priority", ("name", "id")),
        assignee=read.labelled(fields.get("assignee"), "fields.assignee", PERSON_KEYS),
        reporter=read.labelled(fields.get("reporter"), "fields.reporter", PERSON_KEYS),
        labels=tuple(labels),
        story_points=read.number(fields.get(story_points_field), f"fields.{story_points_field}"),
        parent_key=_reference(read, fields, "parent", "key"),
        created=created,
        updated=read.timestamp(fields.get("updated"), "fields.updated"),
        resolved=read.timestamp(fields.get("resolutiondate"), "fields.resolutiondate"),
        due_date=read.day(fields.get("duedate"), "fields.duedate"),
        custom_field_01=columns[0],
        custom_field_02=columns[1],
        custom_field_03=columns[2],
        custom_field_04=columns[3],
        custom_field_05=columns[4],
        custom_field_06=columns[5],
        custom_field_07=columns[6],
        custom_field_08=columns[7],
        custom_field_09=columns[8],
        custom_field_10=columns[9],
        custom_fields_overflow=overflow,
    )
    changelogs = status_changelogs(read, raw.get("changelog"), work_item.external_id, created)
    if read.errors:
        return Failed(tuple(read.errors))
    return Ok(JiraIssueRecords(work_item, changelogs))


def _reference(read: FieldReader, fields: dict[str, Any], name: str, key: str) -> str | None:
    """Return the id (or key) of a referenced object such as fields.project.id."""
    value = fields.get(name)
    if value is None:
        return None
    if type(value) is not dict:
        read.fail(f"fields.{name}", "an object", value)
        return None
    return read.identifier(value.get(key), f"fields.{name}.{key}")


def _description(read: FieldReader, value: object) -> str | None:
    """Return the description as plain text (ADF flattened; wiki text kept as is)."""
    if value is None or type(value) is str:
        return value
    if type(value) is dict:
        return adf_to_text(value)
    read.fail("fields.description", "an Atlassian document or text", value)
    return None


def _is_status_item(item: dict[str, Any]) -> bool:
    """Say whether a changelog item changes the workflow status (not a custom field named so)."""
    field_id: object = item.get("fieldId")
    if field_id is not None:
        return field_id == "status"
    field: object = item.get("field")
    return field == "status" and item.get("fieldtype") != "custom"


def status_changelogs(
    read: FieldReader, changelog: object, work_item_external_id: str, created: datetime | None
) -> tuple[ChangelogRecord, ...]:
    """Return the status transitions of a changelog, oldest first, each with its time in status."""
    if changelog is None:
        return ()
    if type(changelog) is not dict:
        read.fail("changelog", "an object", changelog)
        return ()
    histories = read.listing(changelog.get("histories"), "changelog.histories")
    transitions: list[_Transition] = []
    seen: set[str] = set()
    for position, history in enumerate(histories):
        if type(history) is not dict:
            read.fail(f"changelog.histories[{position}]", "a history object", history)
            continue
        items = history.get("items")
        if type(items) is not list:
            read.fail(f"changelog.histories[{position}].items", "a list", items)
            continue
        found = _plain_transitions(history, items, seen)
        if found is not None:
            transitions.extend(found)
        elif any(type(item) is dict and _is_status_item(item) for item in items):
            _read_transitions(read, history, position, items, seen, transitions)
    transitions.sort()
    records: list[ChangelogRecord] = []
    entered = created
    for moment, _, history_id, item_position, *status, changed_by in transitions:
        records.append(
            ChangelogRecord(
                f"{history_id}-{item_position}",
                work_item_external_id,
                status[0],
                status[1],
                status[2],
                status[3],
                entered,
                moment,
                None if entered is None else int((moment - entered).total_seconds()),
                changed_by,
            )
        )
        entered = moment
    return tuple(records)


def _plain_transitions(
    history: dict[str, Any], items: list[Any], seen: set[str]
) -> list[_Transition] | None:
    """Return the status items of a well-formed history quickly; None when it needs checking."""
    found: list[tuple[int, str | None, str | None, str | None, str | None]] = []
    for item_position, item in enumerate(items):
        if type(item) is not dict:
            return None
        if not _is_status_item(item):
            continue
        source, target = item.get("from"), item.get("to")
        source_name, target_name = item.get("fromString"), item.get("toString")
        if (
            (source is not None and type(source) is not str)
            or (target is not None and type(target) is not str)
            or (source_name is not None and type(source_name) is not str)
            or (target_name is not None and type(target_name) is not str)
        ):
            return None
        found.append((item_position, source, target, source_name, target_name))
    if not found:
        return []
    history_id = history.get("id")
    if type(history_id) is not str or not history_id:
        return None
    if history_id in seen:
        return []
    created = history.get("created")
    moment = parse_timestamp(created) if type(created) is str else None
    if moment is None:
        return None
    author = history.get("author")
    changed_by = None
    if author is not None:
        changed_by = author.get("displayName") if type(author) is dict else None
        if type(changed_by) is not str or not changed_by:
            return None
    seen.add(history_id)
    # Numeric history ids order by length first, so "99" sorts before "100".
    rank = len(history_id)
    return [(moment, rank, history_id, *status, changed_by) for status in found]


def _read_transitions(
    read: FieldReader,
    history: dict[str, Any],
    position: int,
    items: list[Any],
    seen: set[str],
    transitions: list[_Transition],
) -> None:
    """Append the status items of one history (skipping a history id already read)."""
    path = f"changelog.histories[{position}]"
    history_id = read.identifier(history.get("id"), f"{path}.id", required=True)
    if history_id is None or history_id in seen:
        return
    seen.add(history_id)
    created = history.get("created")
    moment = parse_timestamp(created) if type(created) is str else None
    if moment is None:
        read.fail(f"{path}.created", "an ISO 8601 timestamp", created)
        return
    author = read.labelled(history.get("author"), f"{path}.author", PERSON_KEYS)
    id_rank = len(history_id)
    for item_position, item in enumerate(items):
        if type(item) is not dict:
            read.fail(f"{path}.items[{item_position}]", "a change item object", item)
            continue
        if not _is_status_item(item):
            continue
        item_path = f"{path}.items[{item_position}]"
        transitions.append(
            (
                moment,
                id_rank,
                history_id,
                item_position,
                read.identifier(item.get("from"), f"{item_path}.from"),
                read.identifier(item.get("to"), f"{item_path}.to"),
                read.text(item.get("fromString"), f"{item_path}.fromString"),
                read.text(item.get("toString"), f"{item_path}.toString"),
                author,
            )
        )
