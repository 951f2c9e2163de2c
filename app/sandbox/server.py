"""Run the sandbox Jira and GitHub on loopback: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType

import httpx
import uvicorn
from starlette.applications import Starlette

from app.sandbox.access import DEFAULT_TOKEN
from app.sandbox.dataset import SandboxDataset
from app.sandbox.faults import FaultSpec
from app.sandbox.github_app import create_github_app
from app.sandbox.jira_app import create_jira_app
from app.sandbox.timestamps import Clock, system_clock

DEFAULT_PORT = 8800
_STARTUP_SECONDS = 15.0


def asgi_client(app: Starlette, token: str | None = DEFAULT_TOKEN) -> httpx.AsyncClient:
    """Return an httpx client that calls an app in-process, with the bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=headers)


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket (port 0 picks a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class SandboxServers:
    """The sandbox Jira and GitHub served by uvicorn on loopback from a background thread."""

    def __init__(
        self,
        dataset: SandboxDataset | None = None,
        *,
        issues: int = 3_000,
        seed: int = 42,
        repos: int = 6,
        token: str = DEFAULT_TOKEN,
        faults: FaultSpec | str | None = None,
        host: str = "127.0.0.1",
        jira_port: int = 0,
        github_port: int = 0,
        clock: Clock = system_clock,
        rate_limit_null: bool = False,
        history_budget: int | None = 1_000,
        search_per_minute: int = 30,
        graphql_points_per_hour: int = 5_000,
    ) -> None:
        """Build both apps over one dataset (generated from issues/seed/repos when not given)."""
        spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults or FaultSpec()
        self.dataset = dataset or SandboxDataset(issues=issues, seed=seed, repos=repos)
        self.token = token
        self.faults = spec
        self.host = host
        self.jira_app: Starlette = create_jira_app(
            self.dataset, token=token, faults=spec, clock=clock, history_budget=history_budget
        )
        self.github_app: Starlette = create_github_app(
            self.dataset,
            token=token,
            faults=spec,
            clock=clock,
            rate_limit_null=rate_limit_null,
            search_per_minute=search_per_minute,
            graphql_points_per_hour=graphql_points_per_hour,
        )
        self._ports = (jira_port, github_port)
        self._sockets: list[socket.socket] = []
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def jira_url(self) -> str:
        """Return the base URL of the sandbox Jira (no trailing slash)."""
        return self._url(0)

    @property
    def github_url(self) -> str:
        """Return the base URL of the sandbox GitHub (REST and /graphql; no trailing slash)."""
        return self._url(1)

    @property
    def running(self) -> bool:
        """Say whether the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _url(self, which: int) -> str:
        """Return the URL of one of the two servers once they listen."""
        if not self._sockets:
            raise RuntimeError("The sandbox servers are not started: use start() or a with block")
        port = self._sockets[which].getsockname()[1]
        return f"http://{self.host}:{port}"

    def start(self) -> SandboxServers:
        """Bind both ports and serve until stop(); return once both accept connections."""
        if self._thread is not None:
            raise RuntimeError("The sandbox servers are already started")
        self._sockets = [_listening_socket(self.host, port) for port in self._ports]
        self._servers = [
            uvicorn.Server(
                uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
            )
            for app in (self.jira_app, self.github_app)
        ]
        self._thread = threading.Thread(target=self._run, name="sluice-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_SECONDS
        while not all(server.started for server in self._servers):
            if self._failure is not None or not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"The sandbox servers failed to start: {self._failure!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("The sandbox servers did not start within 15 seconds")
            time.sleep(0.01)
        return self

    def _run(self) -> None:
        """Serve both apps on one event loop (the body of the background thread)."""
        try:
            _new_runner().run(self._serve_both())
        except BaseException as exc:
            self._failure = exc

    async def _serve_both(self) -> None:
        """Run both uvicorn servers until they are told to exit."""
        await asyncio.gather(
            *(
                server.serve(sockets=[sock])
                for server, sock in zip(self._servers, self._sockets, strict=True)
            )
        )

    def stop(self) -> None:
        """Ask both servers to exit, wait for the thread, and release the ports."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()
        self._thread = None

    def __enter__(self) -> SandboxServers:
        """Start serving for the with block."""
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()

    async def __aenter__(self) -> SandboxServers:
        """Start serving without blocking the caller's event loop."""
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Stop serving without blocking the caller's event loop."""
        await asyncio.to_thread(self.stop)


def _new_runner() -> asyncio.Runner:
    """Return an event-loop runner, on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return asyncio.Runner(loop_factory=factory)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into the same clean stop as Ctrl-C."""
    raise KeyboardInterrupt


def serve(
    issues: int = 3_000,
    port: int = DEFAULT_PORT,
    faults: FaultSpec | str | None = None,
    seed: int = 42,
    *,
    repos: int = 6,
    token: str = DEFAULT_TOKEN,
    host: str = "127.0.0.1",
    announce: Callable[[str], None] = print,
) -> None:
    """Serve Jira on `port` and GitHub on `port + 1` in the foreground until Ctrl-C."""
    servers = SandboxServers(
        issues=issues,
        seed=seed,
        repos=repos,
        token=token,
        faults=faults,
        host=host,
        jira_port=port,
        github_port=port + 1 if port else 0,
    )
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with servers:
        summary = servers.dataset.to_summary()
        announce(f"Sandbox Jira:   {servers.jira_url}  (basic auth any-email:{token}, or Bearer)")
        announce(f"Sandbox GitHub: {servers.github_url}  (Authorization: Bearer {token})")
        announce(f"GitHub GraphQL: {servers.github_url}/graphql")
        announce(
            f"Data: {summary['issues']} issues in {', '.join(summary['projects'])}; "
            f"{summary['pull_requests']} pull requests in {summary['repositories']} repositories "
            f"of org '{servers.dataset.org}'; seed {seed}"
        )
        if servers.faults.active:
            announce(f"Faults: {servers.faults}")
        announce("Press Ctrl-C to stop.")
        try:
            while servers.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            announce("Stopping the sandbox servers.")
