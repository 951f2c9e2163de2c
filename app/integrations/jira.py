"""Jira Cloud (REST v3): projects with issue types, statuses, and issues with their
complete changelogs and dev-status pull requests, by enhanced JQL search."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
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
from app.queue.errors import JobError

PROJECT = "jira_project"
STATUS = "jira_status"
ISSUE = "jira_issue"
DEV_STATUS = "jira_dev_status"

DEV_SUMMARY_FIELD = "customfield_10000"
ISSUE_FIELDS = "*all"
CHANGELOG_PAGE = 100
ENRICH_CONCURRENCY = 4


def jira_rate_limit_wait(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds a 429/503 asks to wait: Retry-After, else X-RateLimit-Reset, else a minute."""
    if response.status_code not in (429, 503):
        return None
    now = now or datetime.now(UTC)
    retry_after = retry_after_seconds(response, now)
    if retry_after is not None:
        return retry_after
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            return max(0.0, (at - now).total_seconds())
        except ValueError:
            pass
    if response.status_code == 503:
        return None  # a plain outage: handled as a 5xx with backoff
    return 60.0


def jql_for(base: str, since: datetime | None) -> str:
    """Incremental JQL: the base search, bounded by the watermark, oldest updates first."""
    clause = f"({base})"
    if since is not None:
        clause += f' AND updated >= "{since.astimezone(UTC):%Y-%m-%d %H:%M}"'
    return f"{clause} ORDER BY updated ASC"


class JiraProvider:
    """Jira Cloud or Data Center, by URL and token (basic auth with a user, else bearer)."""

    name: str = "jira"
    entities: tuple[str, ...] = (PROJECT, STATUS)  # issues follow, one job per project

    def __init__(self, integration: IntegrationConfig, http: httpx.AsyncClient) -> None:
        self.integration = integration
        if integration.username:
            pair = f"{integration.username}:{integration.token}".encode()
            auth = "Basic " + base64.b64encode(pair).decode()
        else:
            auth = f"Bearer {integration.token}"
        self.api = ApiClient(
            http=http,
            integration=integration,
            headers={"Authorization": auth, "Accept": "application/json"},
            rate_limit_rule=jira_rate_limit_wait,
            describe_error=error_text,
        )

    async def validate_connection(self) -> str:
        try:
            me = await self.api.get("/rest/api/3/myself")
        except JobError as exc:
            raise IntegrationError(str(exc)) from None
        if not isinstance(me, dict) or ("accountId" not in me and "name" not in me):
            raise IntegrationError(
                f"{self.integration.label} did not answer like Jira: check the integration's URL"
            )
        who = me.get("displayName") or me.get("emailAddress") or me.get("name")
        return f"Connected to Jira at {self.integration.base_url} as {who}"

    def extract(
        self, entity: str, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        if entity == PROJECT:
            return self._projects(checkpoint, options)
        if entity == STATUS:
            return self._statuses()
        if entity == ISSUE:
            return self._issues(checkpoint, options)
        raise IntegrationError(f"Jira has no entity {entity!r}: use {PROJECT}, {STATUS} or {ISSUE}")

    async def _projects(
        self, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        start = int(checkpoint.get("start_at", 0))
        while True:
            params = {"expand": "issueTypes", "startAt": start, "maxResults": options.page_size}
            body = await self.api.get("/rest/api/3/project/search", params)
            values = _list(body, "values", "project/search")
            start += len(values)
            last = bool(body.get("isLast", True)) or not values
            yield Page(
                records=[RawRecord(PROJECT, str(p.get("id")), p) for p in values],
                checkpoint={"start_at": start, "done": last},
                request={"path": "/rest/api/3/project/search", "params": params},
                # Issues are extracted per project: independent streams that run in parallel.
                followups=[FollowUp(ISSUE, {"project": p["key"]}) for p in values if p.get("key")],
            )
            if last:
                return

    async def _statuses(self) -> AsyncIterator[Page]:
        body = await self.api.get("/rest/api/3/status")
        if not isinstance(body, list):
            raise IntegrationError("Jira /rest/api/3/status did not return a list")
        yield Page(
            records=[RawRecord(STATUS, str(s.get("id")), s) for s in body if isinstance(s, dict)],
            checkpoint={"done": True},
            request={"path": "/rest/api/3/status"},
        )

    async def project_keys(self) -> list[str]:
        """Every project key (used when the integration has no base search)."""
        keys: list[str] = []
        async for page in self._projects({}, ExtractOptions(page_size=100)):
            keys += [str(r.data["key"]) for r in page.records if r.data.get("key")]
        return keys

    async def _base_search(self, options: ExtractOptions) -> str:
        base = options.custom_query or self.integration.base_search
        if base and base.strip():
            return base.strip()
        keys = await self.project_keys()
        if not keys:
            raise IntegrationError(
                f"{self.integration.label} has no projects visible to this token"
            )
        return "project in (" + ", ".join(keys) + ")"

    async def _issues(
        self, checkpoint: dict[str, Any], options: ExtractOptions
    ) -> AsyncIterator[Page]:
        jql = checkpoint.get("jql")
        if not jql:
            base = await self._base_search(options)
            project = options.params.get("project")
            if project:
                base = f'({base}) AND project = "{project}"'
            jql = jql_for(base, options.since)
        token = checkpoint.get("next_page_token")
        while True:
            params: dict[str, Any] = {
                "jql": jql,
                "fields": ISSUE_FIELDS,
                "expand": "changelog",
                "maxResults": options.page_size,
            }
            if token:
                params["nextPageToken"] = token
            requests_before, waited_before = self.api.requests, self.api.rate_limit_wait_s
            body = await self.api.get("/rest/api/3/search/jql", params)
            issues = _list(body, "issues", "search/jql")
            records: list[RawRecord] = []
            devs = await self._enrich(issues)
            for issue, dev in zip(issues, devs, strict=True):
                records.append(RawRecord(ISSUE, str(issue.get("key") or issue.get("id")), issue))
                if dev is not None:
                    records.append(dev)
            token = body.get("nextPageToken")
            last = not token or bool(body.get("isLast", False))
            yield Page(
                records=records,
                checkpoint={"jql": jql, "next_page_token": None if last else token, "done": last},
                request={
                    "path": "/rest/api/3/search/jql",
                    "jql": jql,
                    "page_token": params.get("nextPageToken"),
                    "requests": self.api.requests - requests_before,
                },
                rate_limit_wait_s=self.api.rate_limit_wait_s - waited_before,
            )
            if last:
                return

    async def _enrich(self, issues: list[dict[str, Any]]) -> list[RawRecord | None]:
        """Complete changelogs and fetch dev-status for a page, a few requests at a time."""
        gate = asyncio.Semaphore(ENRICH_CONCURRENCY)

        async def one(issue: dict[str, Any]) -> RawRecord | None:
            async with gate:
                await self._complete_changelog(issue)
                return await self._dev_status(issue)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(issue)) for issue in issues]
        except BaseExceptionGroup as failures:
            # The first failure says what went wrong (a 401, a rate limit, …); the rest of
            # the page's requests were cancelled with it.
            raise failures.exceptions[0] from None
        return [task.result() for task in tasks]

    async def _complete_changelog(self, issue: dict[str, Any]) -> None:
        """Search results truncate changelogs: page the rest so cycle times are right."""
        changelog = issue.get("changelog")
        if not isinstance(changelog, dict):
            return
        histories = changelog.get("histories") or []
        total = int(changelog.get("total") or 0)
        if total <= len(histories):
            return
        seen = {h.get("id") for h in histories if isinstance(h, dict)}
        start = 0
        while True:
            body = await self.api.get(
                f"/rest/api/3/issue/{issue.get('id') or issue.get('key')}/changelog",
                {"startAt": start, "maxResults": CHANGELOG_PAGE},
            )
            values = _list(body, "values", "issue changelog")
            for history in values:
                if history.get("id") not in seen:
                    histories.append(history)
                    seen.add(history.get("id"))
            start += len(values)
            if body.get("isLast", True) or not values:
                break
        histories.sort(key=lambda h: (str(h.get("created", "")), str(h.get("id", ""))))
        changelog.update(
            {
                "histories": histories,
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
            }
        )

    async def _dev_status(self, issue: dict[str, Any]) -> RawRecord | None:
        """The pull requests Jira's development panel knows, for issues that have any."""
        fields = issue.get("fields") or {}
        summary = fields.get(DEV_SUMMARY_FIELD)
        if not summary or summary == "{}" or not issue.get("id"):
            return None
        body = await self.api.get(
            "/rest/dev-status/latest/issue/detail",
            {"issueId": issue["id"], "applicationType": "GitHub", "dataType": "pullrequest"},
        )
        if not isinstance(body, dict):
            return None
        return RawRecord(
            DEV_STATUS,
            str(issue.get("key")),
            body,
            metadata={"issue_id": issue["id"], "issue_key": issue.get("key")},
        )


def _list(body: Any, key: str, what: str) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get(key, []), list):
        raise IntegrationError(f"Jira {what} answered without a '{key}' list")
    return [item for item in body.get(key, []) if isinstance(item, dict)]
