"""GitHub repository search: the q syntax Sluice uses, its validation limits and paging."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.sandbox.github_data import Repository
from app.sandbox.timestamps import end_of_day, parse_github_moment

MAX_QUERY_LENGTH = 256
MAX_OPERATORS = 5
RESULT_CAP = 1_000
SEARCH_DOCS = "https://docs.github.com/rest/search/search#search-repositories"
_TERM = re.compile(r'"[^"]*"|\S+')
_DATE_QUALIFIERS = ("pushed", "created", "updated")


class SearchValidation(ValueError):
    """A query GitHub answers with 422 Validation Failed."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        """Keep GitHub's error list."""
        super().__init__("; ".join(str(e.get("message", e.get("code"))) for e in errors))
        self.errors = errors

    def to_api(self) -> dict[str, Any]:
        """Render the 422 body."""
        return {
            "message": "Validation Failed",
            "errors": self.errors,
            "documentation_url": SEARCH_DOCS,
        }


@dataclass(slots=True)
class RepositoryQuery:
    """The parsed q of a repository search."""

    owners: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    windows: dict[str, list[tuple[int | None, int | None]]] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)
    visibility: str | None = None
    archived: bool | None = None
    forks_only: bool = False

    def matches(self, repo: Repository) -> bool:
        """Say whether a repository satisfies every qualifier."""
        if self.owners and repo.owner.lower() not in self.owners:
            return False
        if self.names and repo.full_name.lower() not in self.names:
            return False
        if self.visibility and self.visibility != ("private" if repo.private else "public"):
            return False
        if self.archived is True or self.forks_only:
            return False
        moments = {"pushed": repo.pushed, "created": repo.created, "updated": repo.updated}
        for name, bounds in self.windows.items():
            for low, high in bounds:
                moment = moments[name]
                if (low is not None and moment < low) or (high is not None and moment >= high):
                    return False
        text = f"{repo.name} {repo.description}".lower()
        return all(term in text for term in self.terms)


def parse_repository_query(q: str | None) -> RepositoryQuery:
    """Parse q, or raise SearchValidation for what GitHub rejects."""
    if q is None or not q.strip():
        raise SearchValidation([{"resource": "Search", "field": "q", "code": "missing"}])
    if len(q) > MAX_QUERY_LENGTH:
        raise SearchValidation(
            [
                {
                    "message": f"The search is longer than {MAX_QUERY_LENGTH} characters.",
                    "resource": "Search",
                    "field": "q",
                    "code": "invalid",
                }
            ]
        )
    terms = _TERM.findall(q)
    operators = sum(1 for term in terms if term in ("AND", "OR", "NOT"))
    if operators > MAX_OPERATORS:
        raise SearchValidation(
            [
                {
                    "message": f"The search contains more than {MAX_OPERATORS} AND / OR / NOT "
                    "operators.",
                    "resource": "Search",
                    "field": "q",
                    "code": "invalid",
                }
            ]
        )
    query = RepositoryQuery()
    for term in terms:
        if term in ("AND", "OR", "NOT"):
            continue
        qualifier, sep, value = term.partition(":")
        qualifier = qualifier.lower()
        value = value.strip('"')
        if not sep or not value:
            query.terms.append(term.strip('"').lower())
        elif qualifier in ("org", "user"):
            query.owners.add(value.lower())
        elif qualifier == "repo":
            query.names.add(value.lower())
        elif qualifier in _DATE_QUALIFIERS:
            query.windows.setdefault(qualifier, []).append(_date_window(term, value))
        elif qualifier == "is" and value.lower() in ("public", "private"):
            query.visibility = value.lower()
        elif qualifier == "archived":
            query.archived = value.lower() == "true"
        elif qualifier == "fork":
            query.forks_only = value.lower() == "only"
        elif qualifier in ("in", "sort", "language", "stars"):
            continue
        else:
            query.terms.append(term.lower())
    return query


def _date_window(term: str, value: str) -> tuple[int | None, int | None]:
    """Return [low, high) epoch bounds of a pushed:/created: value."""
    try:
        if ".." in value:
            start, _, stop = value.partition("..")
            low = None if start in ("", "*") else parse_github_moment(start)[0]
            high = None
            if stop not in ("", "*"):
                moment, bare = parse_github_moment(stop)
                high = end_of_day(moment) if bare else moment + 1
            return low, high
        for operator in (">=", "<=", ">", "<"):
            if value.startswith(operator):
                moment, bare = parse_github_moment(value[len(operator) :])
                after = end_of_day(moment) if bare else moment + 1
                return {
                    ">=": (moment, None),
                    ">": (after, None),
                    "<": (None, moment),
                    "<=": (None, after),
                }[operator]
        moment, bare = parse_github_moment(value)
        return moment, end_of_day(moment) if bare else moment + 1
    except ValueError:
        raise SearchValidation(
            [
                {
                    "message": f"The date in '{term}' is not valid: use YYYY-MM-DD, an ISO 8601 "
                    "time, a range like 2024-01-01..2024-02-01 or a comparison like >=2024-01-01.",
                    "resource": "Search",
                    "field": "q",
                    "code": "invalid",
                }
            ]
        ) from None


def sort_repositories(
    repositories: list[Repository], sort: str | None, order: str | None
) -> list[Repository]:
    """Order results: by updated (or stars/forks, which the sandbox ranks by id), else best match."""
    descending = (order or "desc").lower() != "asc"
    if sort == "updated":
        return sorted(repositories, key=lambda r: (r.updated, r.id), reverse=descending)
    if sort in ("stars", "forks", "help-wanted-issues"):
        return sorted(repositories, key=lambda r: r.id, reverse=descending)
    return list(repositories)
