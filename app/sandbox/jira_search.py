"""Enhanced JQL search over the dataset: predicates, ordering and nextPageToken paging."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.sandbox.catalog import STATUS_CATEGORIES
from app.sandbox.dataset import SandboxDataset
from app.sandbox.issues import issue_id
from app.sandbox.jql import Clause, JqlError, JqlQuery, Junction, Negation, Node, parse_jql
from app.sandbox.timestamps import parse_jql_moment

Predicate = Callable[[int], bool]
_ORDER_FIELDS = {
    "key": "key",
    "issuekey": "key",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "id": "key",
}
_DATE_FIELDS = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
}
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


class SearchRejected(ValueError):
    """A search request that Jira answers with 400 and this message."""


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """A compiled query: which issues match, in which order, starting where."""

    jql: str
    predicate: Predicate
    order_field: str
    descending: bool
    updated_floor: int | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """The issue indexes of one page and the token of the next, if there is one."""

    indexes: list[int]
    next_token: str | None


def plan_search(dataset: SandboxDataset, jql: str, now: datetime) -> SearchPlan:
    """Compile a JQL string against the dataset, or raise SearchRejected."""
    if not jql.strip():
        raise SearchRejected(
            "Unbounded JQL queries are not allowed here. Please add a search restriction "
            "to your query."
        )
    try:
        query = parse_jql(jql)
        if query.where is None:
            raise JqlError(
                "Unbounded JQL queries are not allowed here. Please add a search restriction "
                "to your query."
            )
        predicate = _compile(dataset, query.where, now)
    except JqlError as exc:
        raise SearchRejected(str(exc)) from exc
    order_field, descending = _order_of(query)
    floor = _updated_floor(query.where, dataset, now)
    return SearchPlan(jql, predicate, order_field, descending, floor)


def run_page(
    dataset: SandboxDataset,
    plan: SearchPlan,
    token: str | None,
    limit: int,
    history_budget: int | None,
) -> SearchPage:
    """Return the next page after a token; a history budget can end the page early."""
    order = dataset.order(plan.order_field)
    sort_key = _sort_key(dataset, plan.order_field)
    if token:
        last = _decode_token(token, plan)
        if plan.descending:
            position = bisect.bisect_left(order, last, key=sort_key) - 1
        else:
            position = bisect.bisect_right(order, last, key=sort_key)
    elif plan.descending:
        position = len(order) - 1
    elif plan.updated_floor is not None and plan.order_field == "updated":
        position = bisect.bisect_left(order, (plan.updated_floor, -1), key=sort_key)
    else:
        position = 0
    step = -1 if plan.descending else 1
    found: list[int] = []
    histories = 0
    more = False
    while 0 <= position < len(order):
        index = order[position]
        position += step
        if not plan.predicate(index):
            continue
        if len(found) >= limit or (
            history_budget is not None and found and histories >= history_budget
        ):
            more = True
            break
        found.append(index)
        if history_budget is not None:
            histories += min(dataset.changelog_total(index), 40)
    next_token = _encode_token(plan, sort_key(found[-1])) if more and found else None
    return SearchPage(found, next_token)


def _sort_key(dataset: SandboxDataset, field: str) -> Callable[[int], tuple[int, int]]:
    """Return the sort key function of an ordering: (field value, key rank)."""
    if field == "updated":
        return lambda i: (dataset.updated_at(i), dataset.key_rank(i))
    if field == "created":
        return lambda i: (dataset.created_at(i), dataset.key_rank(i))
    return lambda i: (0, dataset.key_rank(i))


def _encode_token(plan: SearchPlan, last: tuple[int, int]) -> str:
    """Return an opaque token naming the query and the last issue returned."""
    payload = json.dumps([zlib.crc32(plan.jql.encode()), plan.order_field, last[0], last[1]])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_token(token: str, plan: SearchPlan) -> tuple[int, int]:
    """Return the position a token names, or raise SearchRejected for a foreign token."""
    try:
        padded = token + "=" * (-len(token) % 4)
        checksum, field, value, rank = json.loads(base64.urlsafe_b64decode(padded))
        valid = checksum == zlib.crc32(plan.jql.encode()) and field == plan.order_field
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise SearchRejected("The provided next page token is invalid or expired.")
    return int(value), int(rank)


def _order_of(query: JqlQuery) -> tuple[str, bool]:
    """Return the ordering field and direction of a query (key ascending by default)."""
    if not query.order:
        return "key", False
    item = query.order[0]
    field = _ORDER_FIELDS.get(item.field)
    if field is None:
        raise SearchRejected(
            f"Not able to sort using field '{item.field}'. The sandbox sorts by key, "
            "updated or created."
        )
    return field, item.descending


def _updated_floor(node: Node, dataset: SandboxDataset, now: datetime) -> int | None:
    """Return the lowest updated time a top-level AND demands, to start the scan there."""
    clauses = node.parts if isinstance(node, Junction) and node.operator == "and" else (node,)
    floor: int | None = None
    for part in clauses:
        if (
            isinstance(part, Clause)
            and _DATE_FIELDS.get(part.field) == "updated"
            and part.operator in (">=", ">", "=")
        ):
            moment = parse_jql_moment(part.values[0], now)
            floor = moment if floor is None else max(floor, moment)
    return floor


def _compile(dataset: SandboxDataset, node: Node, now: datetime) -> Predicate:
    """Turn a condition tree into a predicate over issue indexes."""
    if isinstance(node, Junction):
        parts = [_compile(dataset, part, now) for part in node.parts]
        if node.operator == "and":
            return lambda i: all(part(i) for part in parts)
        return lambda i: any(part(i) for part in parts)
    if isinstance(node, Negation):
        inner = _compile(dataset, node.part, now)
        return lambda i: not inner(i)
    return _compile_clause(dataset, node, now)


def _compile_clause(dataset: SandboxDataset, clause: Clause, now: datetime) -> Predicate:
    """Turn one clause into a predicate, or raise JqlError for what the sandbox lacks."""
    field, operator, values = clause.field, clause.operator, clause.values
    if field in _DATE_FIELDS:
        compare = _COMPARE.get(operator)
        if compare is None:
            raise _bad_operator(operator, field)
        try:
            moment = parse_jql_moment(values[0], now)
        except ValueError as exc:
            raise JqlError(
                f"Date value '{values[0]}' for field '{field}' is invalid. Valid formats "
                "include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
                "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
            ) from exc
        read = dataset.updated_at if _DATE_FIELDS[field] == "updated" else dataset.created_at
        return lambda i: compare(read(i), moment)
    if field in ("key", "issuekey", "id"):
        return _key_predicate(dataset, field, operator, values)
    if field == "project":
        wanted = _project_positions(dataset, values)
        count = len(dataset.projects())
        return _membership(operator, field, lambda i: i % count, wanted)
    if field in ("issuetype", "type"):
        names = {t.name.lower(): n for n, t in enumerate(dataset.issue_types())}
        ids = {t.id: n for n, t in enumerate(dataset.issue_types())}
        wanted = {names.get(v.lower(), ids.get(v, -1)) for v in values}
        table = dataset.headers()
        return _membership(operator, field, lambda i: table.types[i], wanted)
    if field == "status":
        by_name = {s.name.lower(): s.id for s in dataset.statuses()}
        status_ids = {by_name.get(v.lower(), v) for v in values}
        return _membership_text(operator, field, lambda i: dataset.issue(i).status.id, status_ids)
    if field == "statuscategory":
        categories = {
            alias: key
            for key, (cid, name, _) in STATUS_CATEGORIES.items()
            for alias in (key, name.lower(), str(cid))
        }
        wanted_keys = {categories.get(v.lower(), v) for v in values}
        return _membership_text(
            operator, field, lambda i: dataset.issue(i).status.category, wanted_keys
        )
    if field == "resolution" and (
        operator in ("is", "is not") or values[0].lower() == "unresolved"
    ):
        resolved = operator in ("is not", "!=")
        return lambda i: (dataset.issue(i).fields["resolution"] is not None) == resolved
    raise JqlError(
        f"Field '{clause.field}' does not exist or you do not have permission to view it."
    )


def _key_predicate(
    dataset: SandboxDataset, field: str, operator: str, values: tuple[str, ...]
) -> Predicate:
    """Return a predicate over issue keys or ids (equality, membership and ranges)."""
    positions = set()
    for value in values:
        index = dataset.issue_index(value)
        if index is None and operator in ("=", "in"):
            raise JqlError(f"An issue with key '{value}' does not exist for field '{field}'.")
        if index is not None:
            positions.add(index)
    if operator in ("=", "in", "!=", "not in"):
        return _membership(operator, field, lambda i: i, positions)
    compare = _COMPARE.get(operator)
    if compare is None or len(positions) != 1:
        raise _bad_operator(operator, field)
    target = positions.pop()
    count = len(dataset.projects())
    return lambda i: i % count == target % count and compare(i // count, target // count)


def _project_positions(dataset: SandboxDataset, values: tuple[str, ...]) -> set[int]:
    """Return the project positions named by keys, ids or names; unknown ones fail."""
    positions = set()
    for value in values:
        lowered = value.lower()
        matches = [
            n
            for n, p in enumerate(dataset.projects())
            if lowered in (p.key.lower(), p.id, p.name.lower())
        ]
        if not matches:
            raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
        positions.update(matches)
    return positions


def _membership(
    operator: str, field: str, read: Callable[[int], int], wanted: set[int]
) -> Predicate:
    """Return an =, !=, in or not in predicate over an integer attribute."""
    if operator in ("=", "in"):
        return lambda i: read(i) in wanted
    if operator in ("!=", "not in"):
        return lambda i: read(i) not in wanted
    raise _bad_operator(operator, field)


def _membership_text(
    operator: str, field: str, read: Callable[[int], str], wanted: set[str]
) -> Predicate:
    """Return an =, !=, in or not in predicate over a text attribute."""
    if operator in ("=", "in"):
        return lambda i: read(i) in wanted
    if operator in ("!=", "not in"):
        return lambda i: read(i) not in wanted
    raise _bad_operator(operator, field)


def _bad_operator(operator: str, field: str) -> JqlError:
    """Return Jira's error for an operator a field does not support."""
    return JqlError(f"The operator '{operator}' is not supported by the '{field}' field.")


def search_response(
    dataset: SandboxDataset,
    page: SearchPage,
    base_url: str,
    fields: frozenset[str] | None,
    with_changelog: bool,
) -> dict[str, Any]:
    """Render a page as the enhanced search endpoint does."""
    body: dict[str, Any] = {
        "issues": [
            dataset.issue(index).to_api(base_url, fields, with_changelog)
            if fields is not None or with_changelog
            else _id_only(dataset, index, base_url)
            for index in page.indexes
        ]
    }
    if page.next_token is not None:
        body["nextPageToken"] = page.next_token
        body["isLast"] = False
    else:
        body["isLast"] = True
    return body


def _id_only(dataset: SandboxDataset, index: int, base_url: str) -> dict[str, Any]:
    """Render an issue as search returns it when no fields are asked for."""
    number = issue_id(index)
    return {
        "id": number,
        "key": dataset.key_of(index),
        "self": f"{base_url}rest/api/3/issue/{number}",
    }
