"""GitHub: repositories by the search API (batched and split by date windows), pull
requests by GraphQL newest-updated first with nested commits, reviews and comments."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.integrations.base import (
    ExtractOptions,
    FollowUp,
    IntegrationConfig,
    IntegrationError,
    Page,
    RawRecord,
)
from app.integrations.http import ApiClient, error_text, retry_after_seconds
from app.queue.errors import JobError, RetryableJobError

REPOSITORY = "github_repository"
PULL_REQUEST = "github_pull_request"

SEARCH_RESULT_CAP = 1000
QUERY_LIMIT = 256
NESTED_PAGE = 25
PR_PAGE = 25
EARLIEST_PUSH = date(2008, 1, 1)

PR_FIELDS = """
  id number title body state createdAt updatedAt mergedAt closedAt additions deletions
  changedFiles headRefName baseRefName url author { login }
  commits(first: $nested) { totalCount pageInfo { hasNextPage endCursor } nodes { commit {
    oid message additions deletions committedDate authoredDate author { name email date } } } }
  reviews(first: $nested) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id state body submittedAt author { login } } }
  comments(first: $nested) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id body createdAt updatedAt author { login } } }
  reviewThreads(first: $nested) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id isResolved path line comments(first: 50) { totalCount
      nodes { id body createdAt updatedAt author { login } } } } }
"""

PULLS_QUERY = (
    "query($owner: String!, $name: String!, $first: Int!, $after: String, $nested: Int!) {"
    " rateLimit { cost remaining resetAt }"
    " repository(owner: $owner, name: $name) { nameWithOwner"
    " pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {"
    " pageInfo { hasNextPage endCursor } nodes {" + PR_FIELDS + "} } } }"
)

NESTED_SELECTIONS = {
    "commits": "nodes { commit { oid message additions deletions committedDate authoredDate "
    "author { name email date } } }",
    "reviews": "nodes { id state body submittedAt author { login } }",
    "comments": "nodes { id body createdAt updatedAt author { login } }",
    "reviewThreads": "nodes { id isResolved path line comments(first: 100) { totalCount "
    "nodes { id body createdAt updatedAt author { login } } } }",
}


def github_rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """API_NOTES rule: 403/429 with retry-after, else remaining 0 until reset, else a minute."""
    if response.status_code not in (403, 429):
        return None
    now = now if now is not None else time.time()
    retry_after = retry_after_seconds(response, datetime.fromtimestamp(now, UTC))
    if retry_after is not None:
        return retry_after
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset")
        if reset and reset.isdigit():
            return max(1.0, int(reset) - now)
        return 60.0
    if response.status_code == 429 or b"rate limit" in response.content.lower():
        return 60.0  # a secondary limit without headers
    return None  # a plain 403: permission, not a limit


def batched_queries(base_search: str, limit: int = QUERY_LIMIT) -> list[str]:
    """Split a search with many `repo:` qualifiers into queries under the length limit."""
    terms = base_search.split()
    repos = [t for t in terms if t.lower().startswith("repo:")]
    others = " ".join(t for t in terms if not t.lower().startswith("repo:"))
    if not repos:
        return [base_search.strip()]
    queries: list[str] = []
    current = others
    for repo in repos:
        candidate = f"{current} {repo}".strip()
        if len(candidate) + len(" pushed:2000-01-01..2000-01-01") > limit and current != others:
            queries.append(current.strip())
            candidate = f"{others} {repo}".strip()
        current = candidate
    queries.append(current.strip())
    return queries


class GitHubProvider:
    """github.com or GitHub Enterprise (REST search + GraphQL), by URL and token."""

    name: str = "github"
    entities: tuple[str, ...] = (REPOSITORY,)  # pull requests follow, one job per repository found

    def __init__(
        self,
        integration: IntegrationConfig,
        http: httpx.AsyncClient,
        today: date | None = None,
    ) -> None:
        self.integration = integration
        self.today = today or datetime.now(UTC).date()
        self.api = ApiClient(
            http=http,
            integration=integration,
            headers={
                "Authorization": f"Bearer {integration.token}",
                "Accept": "application/vnd.github+json",
            },
            rate_limit_rule=github_rate_limit_wait,
            describe_error=error_text,
        )

    async def validate_connection(self) -> str:
        try:
            me = await self.api.get("/user")
        except JobError as exc:
            raise IntegrationError(str(exc)) from None
        if not isinstance(me, dict) or "login" not in me:
            raise IntegrationError(
                f"{self.integration.label} did not answer like GitHub: check the integration's URL"
            )
        return f"Connected to GitHub at {self.integration.base_url} as {me['login']}"

    def extract(
        self, entity: str, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        if entity == REPOSITORY:
            return self._repositories(checkpoint, options)
        if entity == PULL_REQUEST:
            return self._pull_requests(checkpoint, options)
        raise IntegrationError(f"GitHub has no entity {entity!r}")

    # -- repositories -----------------------------------------------------------------

    async def _search_count(self, query: str) -> int:
        body = await self._search(query, page=1, per_page=1)
        return int(body.get("total_count", 0))

    async def _search(self, query: str, page: int, per_page: int = 100) -> dict[str, Any]:
        for _ in range(3):
            body = await self.api.get(
                "/search/repositories",
                {
                    "q": query,
                    "sort": "updated",
                    "order": "asc",
                    "per_page": per_page,
                    "page": page,
                },
            )
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise IntegrationError("GitHub /search/repositories answered without 'items'")
            if not body.get("incomplete_results"):
                return body
        raise RetryableJobError("GitHub search kept timing out (incomplete_results); will retry")

    async def _windows(self, query: str) -> list[str]:
        """Date windows on `pushed:` small enough that each has at most 1,000 results."""
        pending = [(EARLIEST_PUSH, self.today + timedelta(days=1))]
        windows: list[str] = []
        while pending:
            start, end = pending.pop(0)
            q = f"{query} pushed:{start.isoformat()}..{end.isoformat()}"
            count = await self._search_count(q)
            if count <= SEARCH_RESULT_CAP or end <= start:
                if count:
                    windows.append(q)
                continue
            middle = start + (end - start) / 2
            pending[0:0] = [(start, middle), (middle + timedelta(days=1), end)]
        return windows

    async def _repositories(
        self, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        base = options.custom_query or self.integration.base_search
        if not base or not base.strip():
            raise IntegrationError(
                f"{self.integration.label} needs a base search such as 'org:acme' or "
                "'repo:acme/api repo:acme/web'"
            )
        windows = checkpoint.get("windows")
        if windows is None:
            windows = []
            for query in batched_queries(base):
                windows += await self._windows(query)
        index, page = int(checkpoint.get("window", 0)), int(checkpoint.get("page", 1))
        if not windows:
            yield Page(
                [],
                {"windows": [], "window": 0, "page": 1, "done": True},
                {"path": "/search/repositories", "q": base},
            )
            return
        while index < len(windows):
            body = await self._search(windows[index], page)
            items = [i for i in body["items"] if isinstance(i, dict)]
            more = page * 100 < min(int(body.get("total_count", 0)), SEARCH_RESULT_CAP) and items
            request = {"path": "/search/repositories", "q": windows[index], "page": page}
            index, page = (index, page + 1) if more else (index + 1, 1)
            done = index >= len(windows)
            yield Page(
                records=[RawRecord(REPOSITORY, str(i.get("id")), i) for i in items],
                checkpoint={"windows": windows, "window": index, "page": page, "done": done},
                request=request,
                followups=[
                    FollowUp(PULL_REQUEST, {"repository": i["full_name"]})
                    for i in items
                    if i.get("full_name") and not i.get("archived")
                ],
            )

    # -- pull requests ----------------------------------------------------------------

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = await self.api.post("/graphql", {"query": query, "variables": variables})
        if not isinstance(body, dict):
            raise IntegrationError("GitHub GraphQL answered without a JSON object")
        errors = body.get("errors")
        if errors:
            kinds = {e.get("type") for e in errors if isinstance(e, dict)}
            message = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
            if "RATE_LIMITED" in kinds:
                raise RetryableJobError(f"GitHub GraphQL rate limit: {message}", retry_after=60)
            if body.get("data") is None:
                raise IntegrationError(f"GitHub GraphQL refused the query: {message}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise IntegrationError("GitHub GraphQL answered without data")
        return data

    async def _respect_rate_limit(self, data: dict[str, Any]) -> None:
        """Stop before the hourly points run out; a null rateLimit (Enterprise) is fine."""
        limit = data.get("rateLimit")
        if not isinstance(limit, dict):
            return
        remaining, cost = limit.get("remaining"), limit.get("cost") or 1
        if isinstance(remaining, int) and remaining < 2 * cost and limit.get("resetAt"):
            reset = datetime.fromisoformat(str(limit["resetAt"]).replace("Z", "+00:00"))
            wait = max(1.0, (reset - datetime.now(UTC)).total_seconds())
            raise RetryableJobError(
                f"GitHub GraphQL points exhausted; waiting {wait:.0f}s", retry_after=wait
            )

    async def _pull_requests(
        self, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        full_name = str(options.params.get("repository", ""))
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise IntegrationError(f"pull request extraction needs 'owner/name', got {full_name!r}")
        cursor, first = checkpoint.get("cursor"), min(options.page_size, PR_PAGE)
        while True:
            variables = {
                "owner": owner,
                "name": name,
                "first": first,
                "after": cursor,
                "nested": NESTED_PAGE,
            }
            try:
                data = await self._graphql(PULLS_QUERY, variables)
            except RetryableJobError:
                if first > 10:  # large nested pages time out (502/504): shrink and retry
                    first = max(10, first // 2)
                    continue
                raise
            await self._respect_rate_limit(data)
            repo = data.get("repository")
            if not isinstance(repo, dict):
                raise IntegrationError(
                    f"GitHub has no repository {full_name} visible to this token"
                )
            connection = repo.get("pullRequests") or {}
            nodes = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
            records, stop = [], False
            for node in nodes:
                if options.since and _older_than(node.get("updatedAt"), options.since):
                    stop = True  # newest first: everything after this is older still
                    break
                await self._complete_nested(owner, name, node)
                records.append(
                    RawRecord(
                        PULL_REQUEST, str(node.get("id")), node, metadata={"repository": full_name}
                    )
                )
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor")
            done = stop or not info.get("hasNextPage")
            yield Page(
                records,
                {"cursor": cursor, "done": done},
                {"path": "/graphql", "repository": full_name, "after": variables["after"]},
            )
            if done:
                return

    async def _complete_nested(self, owner: str, name: str, node: dict[str, Any]) -> None:
        """Follow each nested connection's pages so no commit or review is lost."""
        for field, selection in NESTED_SELECTIONS.items():
            conn = node.get(field)
            while isinstance(conn, dict) and (conn.get("pageInfo") or {}).get("hasNextPage"):
                after = conn["pageInfo"].get("endCursor")
                query = (
                    "query($owner: String!, $name: String!, $number: Int!, $after: String) {"
                    " repository(owner: $owner, name: $name) { pullRequest(number: $number) {"
                    f" {field}(first: 100, after: $after) {{ totalCount pageInfo {{ hasNextPage"
                    f" endCursor }} {selection} }} }} }} }}"
                )
                data = await self._graphql(
                    query,
                    {"owner": owner, "name": name, "number": node.get("number"), "after": after},
                )
                more = (((data.get("repository") or {}).get("pullRequest") or {}).get(field)) or {}
                conn.setdefault("nodes", []).extend(more.get("nodes") or [])
                conn["pageInfo"] = more.get("pageInfo") or {"hasNextPage": False}


def _older_than(updated_at: Any, since: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(updated_at).replace("Z", "+00:00")) < since
    except ValueError:
        return False
