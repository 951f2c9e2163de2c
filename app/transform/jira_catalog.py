"""Jira projects (with their issue types) and statuses."""

from __future__ import annotations

from app.transform.errors import Failed, Ok, RecordError, TransformResult, expected, record_label
from app.transform.records import ProjectRecord, ProjectRecords, StatusRecord, WitRecord
from app.transform.values import FieldReader

STATUS_CATEGORIES = frozenset({"new", "indeterminate", "done", "undefined"})


def transform_jira_project(raw: object) -> TransformResult[ProjectRecords]:
    """Transform a project from /project/search?expand=issueTypes."""
    label = record_label(raw, "key", "id")
    if type(raw) is not dict:
        return Failed((expected(label, "project", "an object", raw),))
    read = FieldReader(label)
    external_id = read.identifier(raw.get("id"), "id", required=True)
    key = read.required_text(raw.get("key"), "key")
    name = read.required_text(raw.get("name"), "name")
    project_type = read.text(raw.get("projectTypeKey"), "projectTypeKey")
    issue_types = read.listing(raw.get("issueTypes"), "issueTypes")
    if read.errors or external_id is None:
        return Failed(tuple(read.errors))
    wits: list[WitRecord] = []
    skipped: list[RecordError] = []
    seen: set[str] = set()
    for position, entry in enumerate(issue_types):
        wit = _wit(label, f"issueTypes[{position}]", entry, skipped)
        if wit is not None and wit.external_id not in seen:
            seen.add(wit.external_id)
            wits.append(wit)
    project = ProjectRecord(
        external_id=external_id,
        key=key,
        name=name,
        project_type=project_type,
        wit_external_ids=tuple(wit.external_id for wit in wits),
    )
    return Ok(ProjectRecords(project, tuple(wits)), tuple(skipped))


def _wit(label: str, path: str, entry: object, skipped: list[RecordError]) -> WitRecord | None:
    """Read one issue type of a project; report and skip a malformed one."""
    if type(entry) is not dict:
        skipped.append(expected(label, path, "an issue type object", entry))
        return None
    read = FieldReader(label)
    external_id = read.identifier(entry.get("id"), f"{path}.id", required=True)
    name = read.required_text(entry.get("name"), f"{path}.name")
    description = read.text(entry.get("description"), f"{path}.description")
    level = read.integer(entry.get("hierarchyLevel"), f"{path}.hierarchyLevel")
    subtask = read.flag(entry.get("subtask"), f"{path}.subtask")
    if read.errors or external_id is None:
        skipped.extend(read.errors)
        return None
    if level is None:
        level = -1 if subtask else 0
    return WitRecord(
        external_id=external_id,
        original_name=name,
        description=description,
        hierarchy_level=level,
        subtask=level < 0 if subtask is None else subtask,
    )


def transform_jira_status(raw: object) -> TransformResult[StatusRecord]:
    """Transform a status from /rest/api/3/status; an unknown category becomes 'undefined'."""
    label = record_label(raw, "id", "name")
    if type(raw) is not dict:
        return Failed((expected(label, "status", "an object", raw),))
    read = FieldReader(label)
    external_id = read.identifier(raw.get("id"), "id", required=True)
    name = read.required_text(raw.get("name"), "name")
    description = read.text(raw.get("description"), "description")
    category_object = read.mapping(raw.get("statusCategory"), "statusCategory")
    category = "undefined"
    if category_object is not None:
        key = read.text(category_object.get("key"), "statusCategory.key")
        if key in STATUS_CATEGORIES:
            category = key
    if read.errors or external_id is None:
        return Failed(tuple(read.errors))
    return Ok(StatusRecord(external_id, name, category, description))
