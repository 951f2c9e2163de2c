"""GitHub repositories and pull requests (GraphQL nodes with fully paged connections)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from app.transform.errors import Failed, Ok, RecordError, TransformResult, expected, record_label
from app.transform.records import (
    PrCommentRecord,
    PrCommitRecord,
    PrReviewRecord,
    PullRequestRecord,
    PullRequestRecords,
    RepositoryRecord,
)
from app.transform.values import FieldReader

_LOGIN = ("login",)


class _Identified(Protocol):
    """A record with an external id."""

    @property
    def external_id(self) -> str:
        """Return the external id."""
        ...


_R = TypeVar("_R", bound=_Identified)
_T = TypeVar("_T")


def transform_github_repository(raw: object) -> TransformResult[RepositoryRecord]:
    """Transform a repository from /search/repositories."""
    label = record_label(raw, "full_name", "id")
    if type(raw) is not dict:
        return Failed((expected(label, "repository", "an object", raw),))
    read = FieldReader(label)
    external_id = read.identifier(raw.get("id"), "id", required=True)
    name = read.required_text(raw.get("name"), "name")
    full_name = read.required_text(raw.get("full_name"), "full_name")
    record = RepositoryRecord(
        external_id=external_id or "",
        name=name,
        full_name=full_name,
        owner=read.labelled(raw.get("owner"), "owner", _LOGIN),
        description=read.text(raw.get("description"), "description"),
        url=read.text(raw.get("html_url"), "html_url"),
        is_private=read.flag(raw.get("private"), "private") or False,
        archived=read.flag(raw.get("archived"), "archived") or False,
        default_branch=read.text(raw.get("default_branch"), "default_branch"),
        language=read.text(raw.get("language"), "language"),
        repo_created_at=read.timestamp(raw.get("created_at"), "created_at"),
        repo_updated_at=read.timestamp(raw.get("updated_at"), "updated_at"),
        pushed_at=read.timestamp(raw.get("pushed_at"), "pushed_at"),
    )
    if read.errors:
        return Failed(tuple(read.errors))
    return Ok(record)


def transform_github_pull_request(
    raw: object, repository_full_name: str | None = None
) -> TransformResult[PullRequestRecords]:
    """Transform a pull request node; the repository defaults to the node's nameWithOwner."""
    label = record_label(raw, "id", "number")
    if type(raw) is not dict:
        return Failed((expected(label, "pull request", "an object", raw),))
    read = FieldReader(label)
    external_id = read.identifier(raw.get("id"), "id", required=True) or ""
    repository = repository_full_name or _name_with_owner(read, raw.get("repository"))
    number = read.integer(raw.get("number"), "number")
    if raw.get("number") is None:
        read.fail("number", "a 32-bit integer", None)
    state = read.required_text(raw.get("state"), "state")
    commit_nodes, commit_total = _connection(read, raw, "commits")
    review_nodes, review_total = _connection(read, raw, "reviews")
    comment_nodes, comment_total = _connection(read, raw, "comments")
    thread_nodes, thread_total = _connection(read, raw, "reviewThreads")
    skipped: list[RecordError] = []
    reviews = _unique(_review(external_id, n, p, skipped) for p, n in enumerate(review_nodes))
    commits = _unique(_commit(external_id, n, p, skipped) for p, n in enumerate(commit_nodes))
    comments = [_issue_comment(external_id, n, p, skipped) for p, n in enumerate(comment_nodes)]
    for position, thread in enumerate(thread_nodes):
        comments.extend(_thread_comments(external_id, thread, position, skipped))
    submitted = [review.submitted_at for review in reviews if review.submitted_at is not None]
    record = PullRequestRecord(
        external_id=external_id,
        repository_full_name=repository or "",
        number=number or 0,
        title=read.text(raw.get("title"), "title"),
        body=read.text(raw.get("body"), "body"),
        state=state,
        author=read.labelled(raw.get("author"), "author", _LOGIN),
        head_branch=read.text(raw.get("headRefName"), "headRefName"),
        base_branch=read.text(raw.get("baseRefName"), "baseRefName"),
        url=read.text(raw.get("url"), "url"),
        pr_created_at=read.timestamp(raw.get("createdAt"), "createdAt"),
        pr_updated_at=read.timestamp(raw.get("updatedAt"), "updatedAt"),
        merged_at=read.timestamp(raw.get("mergedAt"), "mergedAt"),
        closed_at=read.timestamp(raw.get("closedAt"), "closedAt"),
        first_review_at=min(submitted) if submitted else None,
        additions=read.integer(raw.get("additions"), "additions"),
        deletions=read.integer(raw.get("deletions"), "deletions"),
        changed_files=read.integer(raw.get("changedFiles"), "changedFiles"),
        commit_count=commit_total,
        review_count=review_total,
        comment_count=comment_total,
        review_thread_count=thread_total,
    )
    if read.errors:
        return Failed(tuple(read.errors))
    return Ok(
        PullRequestRecords(record, reviews, commits, _unique(comments)),
        tuple(skipped),
    )


def _name_with_owner(read: FieldReader, repository: object) -> str | None:
    """Return repository.nameWithOwner of a pull request node (owner/name)."""
    found = read.mapping(repository, "repository")
    value = found.get("nameWithOwner") if found is not None else None
    if type(value) is str and "/" in value:
        return value
    if found is not None or repository is None:
        read.fail("repository.nameWithOwner", "the repository's owner/name", value)
    return None


def _connection(read: FieldReader, owner: dict[str, Any], name: str) -> tuple[list[Any], int]:
    """Return the nodes of a connection and its size (totalCount, else how many nodes)."""
    value = owner.get(name)
    if value is None:
        return [], 0
    if type(value) is list:
        return value, len(value)
    if type(value) is not dict:
        read.fail(name, "a connection object", value)
        return [], 0
    nodes = value.get("nodes")
    edges = value.get("edges")
    if nodes is None and type(edges) is list:
        nodes = [edge.get("node") if type(edge) is dict else edge for edge in edges]
    found = read.listing(nodes, f"{name}.nodes")
    total = value.get("totalCount")
    if total is None:
        return found, len(found)
    counted = read.integer(total, f"{name}.totalCount")
    return found, len(found) if counted is None else counted


def _unique(records: Iterable[_R | None]) -> tuple[_R, ...]:
    """Drop missing records and repeated external ids (overlapping pages), keeping the first."""
    kept: list[_R] = []
    seen: set[str] = set()
    for record in records:
        if record is not None and record.external_id not in seen:
            seen.add(record.external_id)
            kept.append(record)
    return tuple(kept)


def _review(
    pr_id: str, node: object, position: int, skipped: list[RecordError]
) -> PrReviewRecord | None:
    """Read one review node; report and skip a malformed one."""
    if type(node) is not dict:
        skipped.append(expected(pr_id, f"reviews.nodes[{position}]", "a review object", node))
        return None
    read = FieldReader(pr_id, f"reviews.nodes[{position}].")
    review = PrReviewRecord(
        external_id=read.identifier(node.get("id"), "id", required=True) or "",
        pr_external_id=pr_id,
        author=read.labelled(node.get("author"), "author", _LOGIN),
        state=read.text(node.get("state"), "state"),
        body=read.text(node.get("body"), "body"),
        submitted_at=read.timestamp(node.get("submittedAt"), "submittedAt"),
    )
    return _kept(review, read, skipped)


def _commit(
    pr_id: str, node: object, position: int, skipped: list[RecordError]
) -> PrCommitRecord | None:
    """Read one PullRequestCommit node (or a bare Commit); report and skip a malformed one."""
    if type(node) is not dict:
        skipped.append(expected(pr_id, f"commits.nodes[{position}]", "a commit object", node))
        return None
    read = FieldReader(pr_id, f"commits.nodes[{position}].")
    commit: dict[str, Any] | None = node
    if "oid" not in node and "commit" in node:
        commit = read.mapping(node.get("commit"), "commit")
        read.prefix += "commit."
    if commit is None:
        return _kept(None, read, skipped)
    author = read.mapping(commit.get("author"), "author") or {}
    record = PrCommitRecord(
        external_id=read.required_text(commit.get("oid"), "oid"),
        pr_external_id=pr_id,
        message=read.text(commit.get("message"), "message"),
        author_name=read.text(author.get("name"), "author.name"),
        author_email=read.text(author.get("email"), "author.email"),
        authored_at=read.timestamp(commit.get("authoredDate"), "authoredDate"),
        committed_at=read.timestamp(commit.get("committedDate"), "committedDate"),
        additions=read.integer(commit.get("additions"), "additions"),
        deletions=read.integer(commit.get("deletions"), "deletions"),
    )
    return _kept(record, read, skipped)


def _issue_comment(
    pr_id: str, node: object, position: int, skipped: list[RecordError]
) -> PrCommentRecord | None:
    """Read one conversation comment; report and skip a malformed one."""
    return _comment(pr_id, node, f"comments.nodes[{position}]", "issue", None, None, skipped)


def _thread_comments(
    pr_id: str, thread: object, position: int, skipped: list[RecordError]
) -> list[PrCommentRecord | None]:
    """Read the comments of one review thread, which carry the thread's path and line."""
    path = f"reviewThreads.nodes[{position}]"
    if type(thread) is not dict:
        skipped.append(expected(pr_id, path, "a review thread object", thread))
        return []
    read = FieldReader(pr_id, f"{path}.")
    thread_path = read.text(thread.get("path"), "path")
    line = read.integer(thread.get("line"), "line")
    if line is None:
        line = read.integer(thread.get("originalLine"), "originalLine")
    nodes, _ = _connection(read, thread, "comments")
    if read.errors:
        skipped.extend(read.errors)
        return []
    return [
        _comment(pr_id, node, f"{path}.comments.nodes[{n}]", "review", thread_path, line, skipped)
        for n, node in enumerate(nodes)
    ]


def _comment(
    pr_id: str,
    node: object,
    path: str,
    comment_type: str,
    thread_path: str | None,
    thread_line: int | None,
    skipped: list[RecordError],
) -> PrCommentRecord | None:
    """Read one comment node; report and skip a malformed one."""
    if type(node) is not dict:
        skipped.append(expected(pr_id, path, "a comment object", node))
        return None
    read = FieldReader(pr_id, f"{path}.")
    line = read.integer(node.get("line"), "line")
    record = PrCommentRecord(
        external_id=read.identifier(node.get("id"), "id", required=True) or "",
        pr_external_id=pr_id,
        comment_type=comment_type,
        author=read.labelled(node.get("author"), "author", _LOGIN),
        body=read.text(node.get("body"), "body"),
        path=read.text(node.get("path"), "path") or thread_path,
        line=thread_line if line is None else line,
        comment_created_at=read.timestamp(node.get("createdAt"), "createdAt"),
        comment_updated_at=read.timestamp(node.get("updatedAt"), "updatedAt"),
    )
    return _kept(record, read, skipped)


def _kept(record: _T | None, read: FieldReader, skipped: list[RecordError]) -> _T | None:
    """Return the record when it read cleanly, else report its errors and drop it."""
    if read.errors:
        skipped.extend(read.errors)
        return None
    return record
