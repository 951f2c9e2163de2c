"""Request counting for the sandbox apps, so tests can assert how many calls a sync made."""

from __future__ import annotations

import json
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the app answered: method, path, query string and status."""

    method: str
    path: str
    query: str
    status: int


class RequestTraffic:
    """Counters of requests by path and status, and the most recent requests."""

    def __init__(self, keep: int = 10_000) -> None:
        """Start with empty counters; keep at most `keep` recent requests."""
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.recent: deque[RecordedRequest] = deque(maxlen=keep)

    @property
    def total(self) -> int:
        """Return how many requests were answered."""
        return sum(self.requests.values())

    def count(self, path_prefix: str = "") -> int:
        """Return how many requests had a path starting with a prefix."""
        return sum(n for path, n in self.requests.items() if path.startswith(path_prefix))

    def record(self, method: str, path: str, query: str, status: int) -> None:
        """Count one answered request."""
        self.requests[path] += 1
        self.statuses[status] += 1
        self.recent.append(RecordedRequest(method, path, query, status))

    def reset(self) -> None:
        """Forget every counted request."""
        self.requests.clear()
        self.statuses.clear()
        self.recent.clear()


class TrafficMiddleware:
    """Pure ASGI middleware that records every HTTP request with its final status."""

    def __init__(self, app: ASGIApp, traffic: RequestTraffic) -> None:
        """Wrap an app."""
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record the request once its response starts (500 if the app raised)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            self.traffic.record(scope["method"], scope["path"], query, status)


def header_value(scope: Scope, name: bytes) -> str | None:
    """Return a request header's value from an ASGI scope, or None."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def send_json(
    send: Send, status: int, payload: Any, headers: dict[str, str] | None = None
) -> None:
    """Send a complete JSON response from ASGI middleware."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def add_headers(message: Message, headers: dict[str, str]) -> Message:
    """Return a response start message with extra headers."""
    raw = list(message.get("headers", []))
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {**message, "headers": raw}
