"""Shared by the reliability suites (no tests of its own).

- `build_isolation_world`: the web harness's world for all three seeded tenants, with a
  marker string per tenant written into every kind of row a response could show;
- `id_routes`: every route of the served app that takes a path parameter, discovered from
  the app itself, so a page or endpoint added later is probed without editing the tests;
- `serve_http`: the app served by uvicorn on 127.0.0.1 (real HTTP, for event streams);
- `fetch`: one request whose body is read with a cap, so an event stream cannot hang it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor
from starlette.routing import Match, Route

from app.config import load_settings
from app.crypto import CredentialCipher
from app.db import open_pool
from app.live.server import LiveEventsServer
from app.web.api import OPERATIONS
from app.web.routing import Operation
from tests.integration.test_web_harness import (
    SECRET_KEY,
    World,
    _populate_tenant,
    example_body,
    owner_rows,
)

TENANTS = ("WEX", "Apple", "Google")
# A path parameter's name, and the key of the world's ids it takes.
ID_KEYS = {
    "job_id": "job_id",
    "etl_job_id": "job_id",
    "run_id": "run_id",
    "integration_id": "integration_id",
    "raw_id": "raw_id",
    "queue_job_id": "queue_job_id",
    "user_id": "user_id",
    "token_id": "token_id",
    "work_item_id": "work_item_id",
    "pr_id": "pr_id",
    "repository_id": "repository_id",
    "log_id": "log_id",
}
# Values tried for a path parameter that is not an id (an action, a view name).
WORDS = (
    "card",
    "edit",
    "test",
    "retry",
    "reprocess",
    "pause",
    "resume",
    "cancel",
    "force-start",
    "json",
    "logs",
    "summary",
    "queue",
    "activate",
    "deactivate",
    "delete",
    "revoke",
)
STREAM_READ_S = 1.5
GHOST_ID = 2**62  # a valid id that no row has
HTMX = {"HX-Request": "true"}
MAX_BODY_BYTES = 512 * 1024


@dataclass
class IsolationWorld(World):
    """The world of all three tenants; `markers[tenant]` is in every row shown of theirs."""

    markers: dict[str, str]

    def foreign_markers(self, tenant: str) -> list[str]:
        """The markers that must never reach a user of `tenant`."""
        return [marker for name, marker in self.markers.items() if name != tenant]


def _mark_tenant(world: IsolationWorld, tenant: str) -> None:
    """Write the tenant's marker into rows of every kind, and note the new rows' ids."""
    url, marker, tid = world.url, world.markers[tenant], world.tenant_ids[tenant]
    ids = world.ids[tenant]
    owner_rows(
        url,
        "UPDATE integrations SET name = name || ' ' || %(m)s, base_search = %(m)s "
        "WHERE tenant_id = %(t)s",
        {"m": marker, "t": tid},  # type: ignore[arg-type]
    )
    for statement in (
        "UPDATE users SET display_name = %(m)s WHERE tenant_id = %(t)s",
        "UPDATE api_tokens SET name = %(m)s WHERE tenant_id = %(t)s",
        "UPDATE etl_runs SET triggered_by = %(m)s, error_message = %(m)s WHERE tenant_id = %(t)s",
        "UPDATE etl_jobs SET error_message = %(m)s WHERE tenant_id = %(t)s",
        "UPDATE etl_job_queue SET last_error = %(m)s, payload = payload || "
        "jsonb_build_object('note', %(m)s::text) WHERE tenant_id = %(t)s",
        "UPDATE raw_extraction_data SET raw_data = raw_data || jsonb_build_object('note', "
        "%(m)s::text), error_details = jsonb_build_object('note', %(m)s::text) "
        "WHERE tenant_id = %(t)s",
        "UPDATE system_settings SET description = %(m)s WHERE tenant_id = %(t)s",
    ):
        owner_rows(url, statement, {"m": marker, "t": tid})  # type: ignore[arg-type]
    params = {"m": marker, "t": tid, "i": ids["integration_id"], "r": ids["run_id"]}
    [(ids["log_id"],)] = owner_rows(
        url,
        "INSERT INTO job_logs (tenant_id, run_id, level, message, context) "
        "VALUES (%(t)s, %(r)s, 'error', %(m)s, jsonb_build_object('note', %(m)s::text)) "
        "RETURNING id",
        params,  # type: ignore[arg-type]
    )
    [(ids["work_item_id"],)] = owner_rows(
        url,
        "INSERT INTO work_items (tenant_id, integration_id, external_id, key, summary, "
        "description) VALUES (%(t)s, %(i)s, '10001', 'MARK-1', %(m)s, %(m)s) RETURNING id",
        params,  # type: ignore[arg-type]
    )
    [(ids["repository_id"],)] = owner_rows(
        url,
        "INSERT INTO repositories (tenant_id, integration_id, external_id, name, full_name, "
        "description) VALUES (%(t)s, %(i)s, 'R1', 'web', 'acme/web', %(m)s) RETURNING id",
        params,  # type: ignore[arg-type]
    )
    [(ids["pr_id"],)] = owner_rows(
        url,
        "INSERT INTO prs (tenant_id, integration_id, external_id, repository_id, "
        "repository_full_name, number, title, body, state) "
        "VALUES (%(t)s, %(i)s, 'P1', %(repo)s, 'acme/web', 1, %(m)s, %(m)s, 'open') RETURNING id",
        {**params, "repo": ids["repository_id"]},  # type: ignore[arg-type]
    )


async def build_isolation_world(url: str, home: Path) -> IsolationWorld:
    """Users, tokens, an integration, a run, queue jobs, raw data, logs, work items and pull
    requests for WEX, Apple and Google, each marked with its tenant's marker."""
    settings = load_settings({"SLUICE_HOME": str(home), "SLUICE_SECRET_KEY": SECRET_KEY})
    tenant_ids = {name: int(i) for name, i in owner_rows(url, "SELECT name, id FROM tenants")}
    markers = {t: f"{t.lower()}-private-{uuid.uuid4().hex[:10]}" for t in TENANTS}
    world = IsolationWorld(url, settings, tenant_ids, {}, {}, markers)
    pool = await open_pool(url, max_size=2)
    try:
        for tenant in TENANTS:
            await _populate_tenant(
                pool, url, tenant, tenant_ids[tenant], CredentialCipher(SECRET_KEY), world
            )
    finally:
        await pool.close()
    for tenant in TENANTS:
        _mark_tenant(world, tenant)
    return world


@dataclass(frozen=True)
class IdRoute:
    """A served route with path parameters: its ids and its other (word) parameters."""

    method: str
    path: str  # Starlette's template: "/runs/{run_id:int}"
    id_params: tuple[str, ...]
    word_params: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def id_keys(self) -> dict[str, str]:
        """The world's id key of each id parameter (a new name must be added to ID_KEYS)."""
        unknown = [name for name in self.id_params if name not in ID_KEYS]
        assert not unknown, (
            f"{self}: add {unknown} to ID_KEYS in tests/reliability/harness.py (and a row of "
            "that kind to the world) so that the isolation suite probes this route"
        )
        return {name: ID_KEYS[name] for name in self.id_params}

    def concrete(self, ids: dict[str, int], words: dict[str, str] | None = None) -> str:
        """The path with `ids` (by world key) and `words` put in."""
        path = self.path
        for name, key in self.id_keys().items():
            path = _put(path, name, str(ids[key]))
        for name in self.word_params:
            path = _put(path, name, (words or {}).get(name, WORDS[0]))
        return path

    def word_choices(self, app: Starlette | None = None) -> list[dict[str, str]]:
        """Every assignment of WORDS to the word parameters (one empty one without any);
        with `app`, only those whose path reaches this route (not an earlier one)."""
        choices: list[dict[str, str]] = [{}]
        for name in self.word_params:
            choices = [{**c, name: word} for c in choices for word in WORDS]
        if app is None:
            return choices
        ids = dict.fromkeys(self.id_keys().values(), 1)
        return [c for c in choices if reached(app, self.method, self.concrete(ids, c)) == self.path]


def reached(app: Starlette, method: str, path: str) -> str | None:
    """The template of the route the app dispatches `method path` to, if any."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in app.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return getattr(route, "path", None)
    return None


def _put(path: str, name: str, value: str) -> str:
    start = path.index("{" + name)
    end = path.index("}", start)
    return path[:start] + value + path[end + 1 :]


def id_routes(app: Starlette) -> list[IdRoute]:
    """Every (method, route) of the app with a path parameter, HEAD apart."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.param_convertors:
            continue
        ints = tuple(
            name
            for name, convertor in route.param_convertors.items()
            if isinstance(convertor, IntegerConvertor)
        )
        words = tuple(name for name in route.param_convertors if name not in ints)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append(IdRoute(method, route.path, ints, words))
    return found


@dataclass(frozen=True)
class Fetched:
    """A response, its body read up to a cap (an event stream for STREAM_READ_S)."""

    status: int
    headers: httpx.Headers
    text: str

    @property
    def is_stream(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    stream_s: float = STREAM_READ_S,
    **kwargs: Any,
) -> Fetched:
    """Send one request and read its body, an event stream for `stream_s` only."""
    async with client.stream(method, path, **kwargs) as response:
        body = bytearray()
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")

        async def read() -> None:
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > MAX_BODY_BYTES:
                    return

        if streaming:
            with suppress(TimeoutError):  # a stream never ends: read what came meanwhile
                await asyncio.wait_for(read(), stream_s)
        else:
            await read()
        return Fetched(response.status_code, response.headers, body.decode(errors="replace"))


@asynccontextmanager
async def serve_http(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 in this event loop; yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", access_log=False
    )
    config.timeout_graceful_shutdown = 2
    server = LiveEventsServer(config, lambda: getattr(app.state, "live_hub", None))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                assert not serving.done(), "uvicorn did not start"
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def operation_of(route: IdRoute) -> Operation | None:
    plain = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
    for op in OPERATIONS:
        if op.full_path == plain and op.method == route.method:
            return op
    return None


def request_options(route: IdRoute, htmx: bool = False) -> dict[str, Any]:
    """A body the route accepts: the operation's example, or an empty form for a page."""
    options: dict[str, Any] = {"headers": HTMX if htmx else {}}
    if route.method in ("GET", "HEAD", "DELETE"):
        return options
    op = operation_of(route)
    if op is not None:
        if op.body is not None:
            options["json"] = example_body(op)
    else:
        options["data"] = {"return": "run", "role": "viewer"}  # fields some forms require
    return options
