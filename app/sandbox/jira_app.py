"""The sandbox Jira Cloud: enhanced search, changelogs, projects, statuses and dev-status."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.access import DEFAULT_TOKEN, TokenMiddleware
from app.sandbox.catalog import ISSUE_TYPES, Project, Status
from app.sandbox.dataset import SandboxDataset
from app.sandbox.devstatus import DATA_TYPES, dev_status_detail
from app.sandbox.faults import FaultInjector, FaultMiddleware, FaultSpec
from app.sandbox.issues import issue_id
from app.sandbox.jira_search import SearchRejected, plan_search, run_page, search_response
from app.sandbox.quotas import FixedWindow, JiraQuotaMiddleware
from app.sandbox.timestamps import Clock, epoch, jira_time, system_clock
from app.sandbox.traffic import RequestTraffic, TrafficMiddleware

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_ISSUE_MISSING = "Issue does not exist or you do not have permission to see it."


def jira_error(status: int, message: str) -> JSONResponse:
    """Return a Jira error body: {"errorMessages": [...], "errors": {}}."""
    return JSONResponse({"errorMessages": [message], "errors": {}}, status_code=status)


def _bounded_int(raw: Any, name: str, default: int, lowest: int) -> int:
    """Read an integer request parameter, or raise SearchRejected naming it."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise SearchRejected(f"The value '{raw}' is invalid for the parameter '{name}'.") from None
    if value < lowest:
        raise SearchRejected(f"The value '{raw}' is invalid for the parameter '{name}'.")
    return value


def _names(raw: Any) -> list[str]:
    """Split a comma list (or a JSON list of comma lists) into trimmed names."""
    items = raw if isinstance(raw, list) else [raw] if raw else []
    return [name.strip() for item in items for name in str(item).split(",") if name.strip()]


class JiraEndpoints:
    """The route handlers of the sandbox Jira, over one dataset."""

    def __init__(
        self, dataset: SandboxDataset, clock: Clock, history_budget: int | None, email: str
    ) -> None:
        """Serve a dataset; the clock resolves relative JQL dates."""
        self.dataset = dataset
        self.clock = clock
        self.history_budget = history_budget
        self.email = email

    def routes(self) -> list[Route]:
        """Return the routes of the Jira REST paths Sluice uses."""
        return [
            Route("/rest/api/3/search/jql", self.search_jql, methods=["GET", "POST"]),
            Route("/rest/api/2/search", self.search_removed, methods=["GET", "POST"]),
            Route("/rest/api/3/search", self.search_removed, methods=["GET", "POST"]),
            Route("/rest/api/3/issue/{id_or_key}/changelog", self.changelog),
            Route("/rest/api/3/issue/{id_or_key}", self.issue),
            Route("/rest/api/3/project/search", self.project_search),
            Route("/rest/api/3/project/{id_or_key}/statuses", self.project_statuses),
            Route("/rest/api/3/project/{id_or_key}", self.project),
            Route("/rest/api/3/status", self.statuses),
            Route("/rest/api/3/myself", self.myself),
            Route("/rest/api/3/serverInfo", self.server_info),
            Route("/rest/dev-status/latest/issue/detail", self.dev_status),
            Route("/rest/dev-status/1.0/issue/detail", self.dev_status),
        ]

    async def search_jql(self, request: Request) -> Response:
        """Answer GET|POST /rest/api/3/search/jql with one page and a nextPageToken."""
        if request.method == "POST":
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return jira_error(400, "The request body is not valid JSON.")
            if not isinstance(body, dict):
                return jira_error(400, "The request body must be a JSON object.")
            params: dict[str, Any] = body
        else:
            query = request.query_params
            params = {k: query.get(k) for k in ("jql", "nextPageToken", "maxResults", "expand")}
            params["fields"] = query.getlist("fields")
        field_names = _names(params.get("fields"))
        expand = {name.lower() for name in _names(params.get("expand"))}
        fields = frozenset(field_names) if field_names else None
        only_ids = fields is None or fields <= {"id", "key"}
        try:
            limit = _bounded_int(params.get("maxResults"), "maxResults", 50, 1)
            plan = plan_search(self.dataset, str(params.get("jql") or ""), self.clock())
            with_changelog = "changelog" in expand
            page = run_page(
                self.dataset,
                plan,
                params.get("nextPageToken") or None,
                min(limit, 5_000 if only_ids and not with_changelog else 100),
                self.history_budget if with_changelog else None,
            )
        except SearchRejected as exc:
            return jira_error(400, str(exc))
        base_url = str(request.base_url)
        return JSONResponse(search_response(self.dataset, page, base_url, fields, with_changelog))

    async def search_removed(self, request: Request) -> Response:
        """Answer the removed /rest/api/{2,3}/search with 410 Gone."""
        return jira_error(410, SEARCH_REMOVED)

    def _index(self, request: Request) -> int | None:
        """Return the issue index named in the path, or None."""
        return self.dataset.issue_index(str(request.path_params["id_or_key"]))

    async def changelog(self, request: Request) -> Response:
        """Answer GET /rest/api/3/issue/{idOrKey}/changelog, paged by startAt (max 100)."""
        index = self._index(request)
        if index is None:
            return jira_error(404, _ISSUE_MISSING)
        try:
            start = _bounded_int(request.query_params.get("startAt"), "startAt", 0, 0)
            limit = min(
                _bounded_int(request.query_params.get("maxResults"), "maxResults", 100, 1), 100
            )
        except SearchRejected as exc:
            return jira_error(400, str(exc))
        histories = self.dataset.issue(index).histories
        values = histories[start : start + limit]
        return JSONResponse(
            {
                "self": f"{request.base_url}rest/api/3/issue/{issue_id(index)}/changelog"
                f"?maxResults={limit}&startAt={start}",
                "maxResults": limit,
                "startAt": start,
                "total": len(histories),
                "isLast": start + len(values) >= len(histories),
                "values": values,
            }
        )

    async def issue(self, request: Request) -> Response:
        """Answer GET /rest/api/3/issue/{idOrKey} with all fields unless some are named."""
        index = self._index(request)
        if index is None:
            return jira_error(404, _ISSUE_MISSING)
        names = _names(request.query_params.getlist("fields"))
        expand = {name.lower() for name in _names(request.query_params.get("expand"))}
        fields = frozenset(names) if names else frozenset({"*all"})
        issue = self.dataset.issue(index)
        rendered = issue.to_api(str(request.base_url), fields, "changelog" in expand, 100)
        return JSONResponse(rendered)

    def _project_api(self, request: Request, project: Project, with_types: bool) -> dict[str, Any]:
        """Render a project as project search returns it."""
        rendered: dict[str, Any] = {
            "self": f"{request.base_url}rest/api/3/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
            "style": "classic",
            "isPrivate": False,
        }
        if with_types:
            rendered["issueTypes"] = [
                {
                    "self": f"{request.base_url}rest/api/3/issuetype/{t.id}",
                    "description": f"{t.name} issues",
                    **t.to_api(),
                }
                for t in ISSUE_TYPES
            ]
        return rendered

    async def project_search(self, request: Request) -> Response:
        """Answer GET /rest/api/3/project/search, paged by startAt and maxResults."""
        query = request.query_params
        try:
            start = _bounded_int(query.get("startAt"), "startAt", 0, 0)
            limit = min(_bounded_int(query.get("maxResults"), "maxResults", 50, 1), 100)
        except SearchRejected as exc:
            return jira_error(400, str(exc))
        with_types = "issuetypes" in {n.lower() for n in _names(query.get("expand"))}
        wanted = {k.upper() for k in _names(query.getlist("keys"))}
        projects = [p for p in self.dataset.projects() if not wanted or p.key in wanted]
        shown = projects[start : start + limit]
        return JSONResponse(
            {
                "self": str(request.url),
                "maxResults": limit,
                "startAt": start,
                "total": len(projects),
                "isLast": start + len(shown) >= len(projects),
                "values": [self._project_api(request, p, with_types) for p in shown],
            }
        )

    def _project(self, request: Request) -> Project | None:
        """Return the project named in the path by id or key, or None."""
        wanted = str(request.path_params["id_or_key"]).upper()
        return next((p for p in self.dataset.projects() if wanted in (p.id, p.key)), None)

    async def project(self, request: Request) -> Response:
        """Answer GET /rest/api/3/project/{idOrKey}."""
        project = self._project(request)
        if project is None:
            return jira_error(
                404, f"No project could be found with key '{request.path_params['id_or_key']}'."
            )
        return JSONResponse(self._project_api(request, project, True))

    def _status_api(self, request: Request, status: Status) -> dict[str, Any]:
        """Render a status as the status endpoints return it."""
        rendered = status.to_api()
        rendered["self"] = f"{request.base_url}rest/api/3/status/{status.id}"
        rendered["description"] = ""
        rendered["statusCategory"] = {
            "self": f"{request.base_url}rest/api/3/statuscategory/{rendered['statusCategory']['id']}",
            **rendered["statusCategory"],
        }
        return rendered

    async def project_statuses(self, request: Request) -> Response:
        """Answer GET /rest/api/3/project/{idOrKey}/statuses: issue types with statuses."""
        project = self._project(request)
        if project is None:
            return jira_error(
                404, f"No project could be found with key '{request.path_params['id_or_key']}'."
            )
        statuses = [self._status_api(request, s) for s in self.dataset.statuses()]
        return JSONResponse(
            [
                {
                    "self": f"{request.base_url}rest/api/3/issuetype/{t.id}",
                    "id": t.id,
                    "name": t.name,
                    "subtask": t.subtask,
                    "statuses": statuses,
                }
                for t in self.dataset.issue_types()
            ]
        )

    async def statuses(self, request: Request) -> Response:
        """Answer GET /rest/api/3/status: every status with its category."""
        return JSONResponse([self._status_api(request, s) for s in self.dataset.statuses()])

    async def dev_status(self, request: Request) -> Response:
        """Answer the dev-status detail for an issue's GitHub pull requests, branches, commits."""
        query = request.query_params
        raw_id = query.get("issueId", "")
        data_type = query.get("dataType", "").lower()
        if not raw_id.isdigit():
            return jira_error(400, "The parameter 'issueId' must be a numeric issue id.")
        if data_type not in DATA_TYPES:
            return jira_error(400, f"Unknown dataType '{data_type}'.")
        index = self.dataset.issue_index(raw_id)
        application = query.get("applicationType", "GitHub").lower()
        if index is None or application not in ("github", "githube"):
            return JSONResponse({"errors": [], "detail": []})
        return JSONResponse(dev_status_detail(self.dataset, index, data_type))

    async def myself(self, request: Request) -> Response:
        """Answer GET /rest/api/3/myself with the sandbox user."""
        return JSONResponse(
            {
                "self": f"{request.base_url}rest/api/3/user?accountId=sandbox-admin",
                "accountId": "sandbox-admin",
                "accountType": "atlassian",
                "emailAddress": self.email,
                "displayName": "Sandbox Admin",
                "active": True,
                "timeZone": "UTC",
                "locale": "en_US",
            }
        )

    async def server_info(self, request: Request) -> Response:
        """Answer GET /rest/api/3/serverInfo."""
        return JSONResponse(
            {
                "baseUrl": str(request.base_url).rstrip("/"),
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100_285,
                "serverTime": jira_time(epoch(self.clock())),
                "serverTitle": "Sluice Sandbox Jira",
            }
        )


def create_jira_app(
    dataset: SandboxDataset,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultSpec | None = None,
    clock: Clock = system_clock,
    history_budget: int | None = 1_000,
    rate_limit_per_minute: int | None = None,
    email: str = "sandbox@example.com",
) -> Starlette:
    """Build the sandbox Jira app; app.state.traffic counts requests, app.state.faults injects."""
    traffic = RequestTraffic()
    injector = FaultInjector(faults or FaultSpec())
    window = FixedWindow(rate_limit_per_minute or 1_000, 60, clock)
    endpoints = JiraEndpoints(dataset, clock, history_budget, email)
    app = Starlette(
        routes=endpoints.routes(),
        middleware=[
            Middleware(TrafficMiddleware, traffic=traffic),
            Middleware(FaultMiddleware, injector=injector, flavor="jira", clock=clock),
            Middleware(
                JiraQuotaMiddleware, window=window, enforce=rate_limit_per_minute is not None
            ),
            Middleware(TokenMiddleware, token=token, flavor="jira"),
        ],
    )
    app.state.dataset = dataset
    app.state.traffic = traffic
    app.state.requests = traffic.requests
    app.state.recent = traffic.recent
    app.state.faults = injector
    app.state.token = token
    return app
