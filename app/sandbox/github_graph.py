"""The GitHub GraphQL schema of the sandbox: repository, pull requests and nested connections."""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from app.sandbox.dataset import SandboxDataset
from app.sandbox.github_data import (
    PullRequest,
    Repository,
    comment_node,
    commit_node,
    review_node,
    thread_node,
)
from app.sandbox.graphql import GraphError, GraphObject, Lazy, Missing
from app.sandbox.timestamps import github_time

PAGE_LIMIT = 100
_ORDER_FIELDS = {"UPDATED_AT": "updated", "CREATED_AT": "created"}
_STATES = ("OPEN", "CLOSED", "MERGED")


def encode_cursor(offset: int) -> str:
    """Return the opaque cursor of a position in a connection."""
    return base64.b64encode(f"cursor:v2:{offset}".encode()).decode()


def decode_cursor(cursor: Any, connection: str) -> int:
    """Return the position a cursor names, or raise GitHub's invalid-cursor error."""
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
        prefix, _, offset = text.rpartition(":")
        if prefix == "cursor:v2" and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise GraphError(
        f"`{cursor}` does not appear to be a valid cursor.",
        "INVALID_CURSOR_ARGUMENTS",
        (connection,),
    )


def page_bound(arguments: dict[str, Any], name: str) -> tuple[int | None, int | None]:
    """Return validated (first, last) of a connection, as GitHub checks them."""
    first, last = arguments.get("first"), arguments.get("last")
    if first is None and last is None:
        raise GraphError(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection.",
            "MISSING_PAGINATION_BOUNDARIES",
            (name,),
        )
    for bound, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise GraphError(f"Argument '{bound}' on '{name}' must be an Int", "INVALID", (name,))
        if value > PAGE_LIMIT:
            raise GraphError(
                f"Requesting {value} records on the `{name}` connection exceeds the `{bound}` "
                f"limit of {PAGE_LIMIT} records.",
                "EXCESSIVE_PAGINATION",
                (name,),
            )
        if value < 1:
            raise GraphError(
                f"`{bound}` on the `{name}` connection must be between 1 and {PAGE_LIMIT}.",
                "INVALID_PAGINATION",
                (name,),
            )
    return first, last


def connection(
    name: str, total: int, node_at: Callable[[int], Any], arguments: dict[str, Any]
) -> GraphObject:
    """Return one page of a connection with totalCount, pageInfo, nodes and edges."""
    first, last = page_bound(arguments, name)
    after, before = arguments.get("after"), arguments.get("before")
    start = decode_cursor(after, name) + 1 if after else 0
    end = min(decode_cursor(before, name), total) if before else total
    if first is not None:
        stop = min(end, start + first)
    else:
        stop = end
        start = max(start, end - (last or 0))
    offsets = range(start, max(stop, start))
    present = len(offsets) > 0
    return GraphObject(
        f"{name[0].upper()}{name[1:]}Connection",
        {
            "totalCount": total,
            "pageInfo": {
                "hasNextPage": stop < end if first is not None else stop < total,
                "hasPreviousPage": start > 0,
                "startCursor": encode_cursor(offsets[0]) if present else None,
                "endCursor": encode_cursor(offsets[-1]) if present else None,
            },
            "nodes": Lazy(lambda _: [node_at(o) for o in offsets]),
            "edges": Lazy(
                lambda _: [{"cursor": encode_cursor(o), "node": node_at(o)} for o in offsets]
            ),
        },
    )


class PullRequestGraph:
    """Builds the GraphQL objects of the dataset, caching each repository's PR ordering."""

    def __init__(self, dataset: SandboxDataset, keep_orderings: int = 16) -> None:
        """Serve a dataset."""
        self.dataset = dataset
        self.keep_orderings = keep_orderings
        self._orderings: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()

    def query_root(self, rate_limit: Lazy, viewer: dict[str, Any]) -> GraphObject:
        """Return the Query type."""
        return GraphObject(
            "Query",
            {
                "repository": Lazy(self._repository),
                "rateLimit": rate_limit,
                "viewer": viewer,
            },
        )

    def _repository(self, arguments: dict[str, Any]) -> GraphObject | Missing:
        """Resolve repository(owner:, name:)."""
        full_name = f"{arguments.get('owner')}/{arguments.get('name')}"
        repo = self.dataset.repository(full_name)
        if repo is None:
            return Missing(f"Could not resolve to a Repository with the name '{full_name}'.")
        return self.repository_object(repo)

    def repository_object(self, repo: Repository) -> GraphObject:
        """Return a Repository object."""
        return GraphObject(
            "Repository",
            {
                "id": repo.node_id,
                "databaseId": repo.id,
                "name": repo.name,
                "nameWithOwner": repo.full_name,
                "url": repo.html_url,
                "isPrivate": repo.private,
                "isArchived": False,
                "owner": {"login": repo.owner},
                "createdAt": github_time(repo.created),
                "updatedAt": github_time(repo.updated),
                "pushedAt": github_time(repo.pushed),
                "defaultBranchRef": {"name": repo.default_branch},
                "pullRequests": Lazy(lambda arguments: self._pull_requests(repo, arguments)),
                "pullRequest": Lazy(lambda arguments: self._pull_request(repo, arguments)),
            },
        )

    def _pull_requests(self, repo: Repository, arguments: dict[str, Any]) -> GraphObject:
        """Resolve pullRequests(first, after, orderBy, states) of a repository."""
        order = arguments.get("orderBy") or {}
        field = _ORDER_FIELDS.get(str(order.get("field", "CREATED_AT")))
        if field is None:
            raise GraphError(f"Argument 'orderBy' has an invalid field '{order.get('field')}'")
        descending = str(order.get("direction", "ASC")) == "DESC"
        states = arguments.get("states") or list(_STATES)
        states = [states] if isinstance(states, str) else states
        if any(state not in _STATES for state in states):
            raise GraphError(f"Argument 'states' has an invalid value {states}")
        ordering = self._ordering(repo, field, descending, frozenset(states))
        return connection(
            "pullRequests",
            len(ordering),
            lambda offset: self.pull_object(self.dataset.pull(ordering[offset])),
            arguments,
        )

    def _ordering(
        self, repo: Repository, field: str, descending: bool, states: frozenset[str]
    ) -> list[int]:
        """Return a repository's PR indexes in the requested order (cached per revision)."""
        key = (repo.index, field, descending, states, self.dataset.revision)
        cached = self._orderings.get(key)
        if cached is not None:
            self._orderings.move_to_end(key)
            return cached
        layout = self.dataset.layout
        rows = []
        for number in range(1, layout.pull_count_in(repo.index) + 1):
            index = layout.pull_index(repo.index, number)
            pull = self.dataset.pull(index, cache=False)
            if pull.state in states:
                moment = pull.updated if field == "updated" else pull.created
                rows.append((moment, number, index))
        rows.sort(reverse=descending)
        ordering = [index for _, _, index in rows]
        self._orderings[key] = ordering
        if len(self._orderings) > self.keep_orderings:
            self._orderings.popitem(last=False)
        return ordering

    def _pull_request(self, repo: Repository, arguments: dict[str, Any]) -> GraphObject | Missing:
        """Resolve pullRequest(number:) of a repository."""
        number = arguments.get("number")
        pull = (
            self.dataset.pull_request(repo.full_name, number) if isinstance(number, int) else None
        )
        if pull is None:
            return Missing(f"Could not resolve to a PullRequest with the number of {number}.")
        return self.pull_object(pull)

    def pull_object(self, pull: PullRequest) -> GraphObject:
        """Return a PullRequest object with lazily built nested connections."""
        seed = self.dataset.seed
        owner, _, name = pull.repository.partition("/")
        return GraphObject(
            "PullRequest",
            {
                "id": pull.node_id,
                "databaseId": 900_000_000 + pull.index,
                "number": pull.number,
                "title": pull.title,
                "body": pull.body,
                "bodyText": pull.body,
                "state": pull.state,
                "isDraft": False,
                "merged": pull.state == "MERGED",
                "closed": pull.state != "OPEN",
                "createdAt": github_time(pull.created),
                "updatedAt": github_time(pull.updated),
                "mergedAt": github_time(pull.merged) if pull.merged else None,
                "closedAt": github_time(pull.closed) if pull.closed else None,
                "additions": pull.additions,
                "deletions": pull.deletions,
                "changedFiles": pull.changed_files,
                "headRefName": pull.head,
                "baseRefName": pull.base,
                "url": pull.url,
                "permalink": pull.url,
                "author": {"login": pull.author.login},
                "repository": {
                    "name": name,
                    "nameWithOwner": pull.repository,
                    "owner": {"login": owner},
                },
                "commits": Lazy(
                    lambda a: connection(
                        "commits", pull.commit_count, lambda k: commit_node(pull, seed, k), a
                    )
                ),
                "reviews": Lazy(
                    lambda a: connection(
                        "reviews", pull.review_count, lambda k: review_node(pull, seed, k), a
                    )
                ),
                "comments": Lazy(
                    lambda a: connection(
                        "comments", pull.comment_count, lambda k: comment_node(pull, seed, k), a
                    )
                ),
                "reviewThreads": Lazy(
                    lambda a: connection(
                        "reviewThreads", pull.thread_count, lambda k: _thread(pull, seed, k), a
                    )
                ),
                "labels": Lazy(lambda a: connection("labels", 0, lambda k: None, a)),
            },
        )


def _thread(pull: PullRequest, seed: int, position: int) -> GraphObject:
    """Return a review thread whose comments are a connection."""
    thread = thread_node(pull, seed, position)
    comments: list[dict[str, Any]] = thread.pop("comments")
    values = dict(thread)
    values["comments"] = Lazy(
        lambda a: connection("comments", len(comments), lambda k: comments[k], a)
    )
    return GraphObject("PullRequestReviewThread", values)
