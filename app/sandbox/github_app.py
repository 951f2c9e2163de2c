"""The sandbox GitHub: repository search, GraphQL pull requests, /user and /rate_limit."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.access import DEFAULT_TOKEN, GITHUB_DOCS, TokenMiddleware
from app.sandbox.dataset import SandboxDataset
from app.sandbox.faults import FaultInjector, FaultMiddleware, FaultSpec
from app.sandbox.github_graph import PullRequestGraph
from app.sandbox.graphql import (
    Execution,
    GraphError,
    GraphObject,
    Lazy,
    choose_operation,
    parse_document,
    requested_nodes,
)
from app.sandbox.quotas import FixedWindow, WindowState
from app.sandbox.repo_search import (
    RESULT_CAP,
    SearchValidation,
    parse_repository_query,
    sort_repositories,
)
from app.sandbox.timestamps import Clock, github_time, system_clock
from app.sandbox.traffic import RequestTraffic, TrafficMiddleware

MAX_NODES = 500_000
VIEWER = {
    "login": "sluice-sandbox",
    "id": 1,
    "node_id": "U_kgDOSbx0001",
    "type": "User",
    "name": "Sluice Sandbox",
}
_TIMEOUT_MESSAGE = (
    "Something went wrong while executing your query. This may be the result of a timeout, "
    "or it could be a GitHub bug. Please include `SANDBOX:0001` when reporting this issue."
)


def limit_headers(state: WindowState, resource: str) -> dict[str, str]:
    """Return GitHub's x-ratelimit-* headers for a window."""
    return {
        "x-ratelimit-limit": str(state.limit),
        "x-ratelimit-remaining": str(state.remaining),
        "x-ratelimit-reset": str(state.reset),
        "x-ratelimit-used": str(state.used),
        "x-ratelimit-resource": resource,
    }


def rate_limited(state: WindowState, resource: str) -> JSONResponse:
    """Return GitHub's 403 for a spent primary rate limit."""
    headers = limit_headers(state, resource)
    headers["x-ratelimit-remaining"] = "0"
    body = {
        "message": f"API rate limit exceeded for user ID {VIEWER['id']}. If you reach out to "
        "GitHub Support for help, please include the request ID SANDBOX.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    }
    return JSONResponse(body, status_code=403, headers=headers)


class GitHubEndpoints:
    """The route handlers of the sandbox GitHub, over one dataset."""

    def __init__(
        self,
        dataset: SandboxDataset,
        injector: FaultInjector,
        clock: Clock,
        windows: dict[str, FixedWindow],
        rate_limit_null: bool,
    ) -> None:
        """Serve a dataset with per-resource windows (core, search, graphql)."""
        self.dataset = dataset
        self.injector = injector
        self.clock = clock
        self.windows = windows
        self.rate_limit_null = rate_limit_null
        self.graph = PullRequestGraph(dataset)

    def routes(self) -> list[Route]:
        """Return the routes of the GitHub paths Sluice uses."""
        return [
            Route("/search/repositories", self.search_repositories),
            Route("/graphql", self.graphql, methods=["POST"]),
            Route("/user", self.user),
            Route("/rate_limit", self.rate_limit),
            Route("/orgs/{org}/repos", self.org_repositories),
            Route("/repos/{owner}/{name}", self.repository),
        ]

    def _core(self) -> tuple[WindowState, dict[str, str]]:
        """Spend one core request and return its window and headers."""
        state = self.windows["core"].consume()
        return state, limit_headers(state, "core")

    async def search_repositories(self, request: Request) -> Response:
        """Answer GET /search/repositories with GitHub's limits (30/min, 1,000 results)."""
        state = self.windows["search"].consume()
        headers = limit_headers(state, "search")
        if not state.allowed:
            return rate_limited(state, "search")
        query = request.query_params
        try:
            parsed = parse_repository_query(query.get("q"))
            per_page = min(max(int(query.get("per_page", "30")), 1), 100)
            page = max(int(query.get("page", "1")), 1)
        except SearchValidation as exc:
            return JSONResponse(exc.to_api(), status_code=422, headers=headers)
        except ValueError:
            return JSONResponse(
                {"message": "Invalid page or per_page parameter", "documentation_url": GITHUB_DOCS},
                status_code=422,
                headers=headers,
            )
        if (page - 1) * per_page >= RESULT_CAP:
            return JSONResponse(
                {
                    "message": f"Only the first {RESULT_CAP} search results are available",
                    "documentation_url": "https://docs.github.com/v3/search/",
                },
                status_code=422,
                headers=headers,
            )
        found = [repo for repo in self.dataset.repositories() if parsed.matches(repo)]
        ordered = sort_repositories(found, query.get("sort"), query.get("order"))
        reachable = ordered[:RESULT_CAP]
        items = reachable[(page - 1) * per_page : page * per_page]
        incomplete = self.injector.incomplete_search()
        if incomplete:
            items = items[: len(items) // 2]
        last_page = max(math.ceil(len(reachable) / per_page), 1)
        links = []
        if page < last_page:
            links.append(self._link(request, page + 1, "next"))
            links.append(self._link(request, last_page, "last"))
        if links:
            headers["link"] = ", ".join(links)
        return JSONResponse(
            {
                "total_count": len(found),
                "incomplete_results": incomplete,
                "items": [repo.to_api() for repo in items],
            },
            headers=headers,
        )

    def _link(self, request: Request, page: int, relation: str) -> str:
        """Return one entry of a Link header for another page."""
        params = dict(request.query_params)
        params["page"] = str(page)
        return f'<{request.url.replace(query=urlencode(params))}>; rel="{relation}"'

    async def graphql(self, request: Request) -> Response:
        """Answer POST /graphql for repository pull requests and rateLimit."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse(
                {"message": "Problems parsing JSON", "documentation_url": GITHUB_DOCS}, 400
            )
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse(
                {
                    "errors": [
                        {"message": "A query attribute must be specified and must be a string."}
                    ]
                }
            )
        provided = body.get("variables") or {}
        if not isinstance(provided, dict):
            return JSONResponse({"errors": [{"message": "Variables must be a JSON object."}]})
        try:
            document = parse_document(body["query"])
            defaults, selections = choose_operation(document, body.get("operationName"))
            execution = Execution({**defaults, **provided}, document.fragments)
            requests, nodes = requested_nodes(execution, selections)
        except GraphError as exc:
            return JSONResponse({"errors": [exc.to_api()]})
        if nodes > MAX_NODES:
            message = (
                f"This query requests up to {nodes:,} possible nodes which exceeds the maximum "
                f"limit of {MAX_NODES:,}."
            )
            return JSONResponse(
                {"errors": [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": message}]}
            )
        cost = max(1, requests // 100)
        window = self.windows["graphql"]
        state = window.consume(cost)
        headers = limit_headers(state, "graphql")
        if not state.allowed:
            headers["x-ratelimit-remaining"] = "0"
            error = {"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}
            return JSONResponse({"errors": [error]}, status_code=403, headers=headers)
        timeout_nodes = self.injector.spec.graphql_timeout_nodes
        if timeout_nodes is not None and nodes > timeout_nodes:
            return JSONResponse({"data": None, "errors": [{"message": _TIMEOUT_MESSAGE}]}, 502)
        root = self.graph.query_root(self._rate_limit_field(state, cost, nodes), VIEWER)
        try:
            data = execution.select(root, selections, ())
        except GraphError as exc:
            return JSONResponse({"errors": [exc.to_api()]}, headers=headers)
        payload: dict[str, Any] = {"data": data}
        if execution.errors:
            payload["errors"] = execution.errors
        return JSONResponse(payload, headers=headers)

    def _rate_limit_field(self, state: WindowState, cost: int, nodes: int) -> Lazy:
        """Return the rateLimit field: null on an Enterprise-like sandbox."""

        def resolve(arguments: dict[str, Any]) -> GraphObject | None:
            if self.rate_limit_null:
                return None
            return GraphObject(
                "RateLimit",
                {
                    "cost": cost,
                    "limit": state.limit,
                    "remaining": state.remaining,
                    "used": state.used,
                    "resetAt": github_time(state.reset),
                    "nodeCount": nodes,
                },
            )

        return Lazy(resolve)

    async def user(self, request: Request) -> Response:
        """Answer GET /user with the token's user."""
        _, headers = self._core()
        return JSONResponse(VIEWER, headers=headers)

    async def rate_limit(self, request: Request) -> Response:
        """Answer GET /rate_limit with every resource (not counted against core)."""
        resources = {}
        for name, window in self.windows.items():
            state = window.peek()
            resources[name] = {
                "limit": state.limit,
                "used": state.used,
                "remaining": state.remaining,
                "reset": state.reset,
            }
        core = self.windows["core"].peek()
        return JSONResponse(
            {"resources": resources, "rate": resources["core"]},
            headers=limit_headers(core, "core"),
        )

    async def org_repositories(self, request: Request) -> Response:
        """Answer GET /orgs/{org}/repos, paged by page and per_page."""
        state, headers = self._core()
        if not state.allowed:
            return rate_limited(state, "core")
        if str(request.path_params["org"]).lower() != self.dataset.org.lower():
            return JSONResponse(
                {"message": "Not Found", "documentation_url": GITHUB_DOCS}, 404, headers
            )
        try:
            per_page = min(max(int(request.query_params.get("per_page", "30")), 1), 100)
            page = max(int(request.query_params.get("page", "1")), 1)
        except ValueError:
            per_page, page = 30, 1
        repositories = self.dataset.repositories()
        items = repositories[(page - 1) * per_page : page * per_page]
        last_page = max(math.ceil(len(repositories) / per_page), 1)
        if page < last_page:
            headers["link"] = ", ".join(
                (self._link(request, page + 1, "next"), self._link(request, last_page, "last"))
            )
        return JSONResponse([repo.to_api() for repo in items], headers=headers)

    async def repository(self, request: Request) -> Response:
        """Answer GET /repos/{owner}/{name}."""
        state, headers = self._core()
        if not state.allowed:
            return rate_limited(state, "core")
        full_name = f"{request.path_params['owner']}/{request.path_params['name']}"
        repo = self.dataset.repository(full_name)
        if repo is None:
            return JSONResponse(
                {"message": "Not Found", "documentation_url": GITHUB_DOCS}, 404, headers
            )
        return JSONResponse(repo.to_api(), headers=headers)


def create_github_app(
    dataset: SandboxDataset,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultSpec | None = None,
    clock: Clock = system_clock,
    rate_limit_null: bool = False,
    search_per_minute: int = 30,
    core_per_hour: int = 5_000,
    graphql_points_per_hour: int = 5_000,
) -> Starlette:
    """Build the sandbox GitHub app; app.state.traffic counts requests, app.state.windows limits."""
    traffic = RequestTraffic()
    injector = FaultInjector(faults or FaultSpec())
    windows = {
        "core": FixedWindow(core_per_hour, 3_600, clock),
        "search": FixedWindow(search_per_minute, 60, clock),
        "graphql": FixedWindow(graphql_points_per_hour, 3_600, clock),
    }
    endpoints = GitHubEndpoints(dataset, injector, clock, windows, rate_limit_null)
    app = Starlette(
        routes=endpoints.routes(),
        middleware=[
            Middleware(TrafficMiddleware, traffic=traffic),
            Middleware(FaultMiddleware, injector=injector, flavor="github", clock=clock),
            Middleware(TokenMiddleware, token=token, flavor="github"),
        ],
    )
    app.state.dataset = dataset
    app.state.traffic = traffic
    app.state.requests = traffic.requests
    app.state.recent = traffic.recent
    app.state.faults = injector
    app.state.windows = windows
    app.state.token = token
    return app
