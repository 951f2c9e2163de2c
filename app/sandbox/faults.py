"""Fault injection for the sandbox apps: 5xx, 429 with Retry-After, slow and truncated bodies."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.timestamps import Clock, epoch, iso_time, system_clock
from app.sandbox.traffic import send_json

Flavor = Literal["jira", "github"]
SPEC_EXAMPLE = "5xx=0.10,429=0.05,slow=0.02:3.0,truncate=0.01,retry_after=1,seed=7"
_SHARE_KEYS = {
    "5xx": "server_errors",
    "429": "rate_limited",
    "truncate": "truncated",
    "incomplete": "incomplete",
}
_KEYS = (*_SHARE_KEYS, "slow", "retry_after", "seed", "exempt", "gql_nodes")
_HTML_ERRORS = {502: "Bad Gateway", 504: "Gateway Timeout"}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Shares of requests that fail in each way, deterministic from a seed."""

    server_errors: float = 0.0
    rate_limited: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 1.0
    truncated: float = 0.0
    incomplete: float = 0.0
    retry_after: int = 1
    seed: int = 0
    exempt: tuple[str, ...] = field(default=())
    graphql_timeout_nodes: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse "5xx=0.1,429=0.05,slow=0.02:3.0,truncate=0.01,seed=7" (empty: no faults)."""
        values: dict[str, Any] = {}
        exempt: list[str] = []
        for raw in (text or "").split(","):
            part = raw.strip()
            if not part or part.lower() in ("none", "off"):
                continue
            key, sep, value = (s.strip() for s in part.partition("="))
            if not sep or not value:
                raise ValueError(
                    f"Fault spec part '{part}' is not key=value (example: {SPEC_EXAMPLE})"
                )
            key = key.lower()
            if key in _SHARE_KEYS:
                values[_SHARE_KEYS[key]] = _share(part, value)
            elif key == "slow":
                share, _, seconds = value.partition(":")
                values["slow"] = _share(part, share)
                if seconds:
                    values["slow_seconds"] = _number(part, seconds, "a delay in seconds")
            elif key == "retry_after":
                values["retry_after"] = _whole(part, value, "whole seconds")
            elif key == "seed":
                values["seed"] = _whole(part, value, "an integer seed")
            elif key == "gql_nodes":
                values["graphql_timeout_nodes"] = _whole(part, value, "a node count")
            elif key == "exempt":
                if not value.startswith("/"):
                    raise ValueError(f"Fault spec part '{part}': exempt takes a path like /user")
                exempt.append(value)
            else:
                raise ValueError(
                    f"Fault spec part '{part}': unknown fault '{key}' (known: {', '.join(_KEYS)})"
                )
        spec = replace(cls(), **values, exempt=tuple(exempt))
        if spec.server_errors + spec.rate_limited > 1.0:
            raise ValueError(f"Fault spec '{text}': 5xx and 429 shares add up to more than 1")
        return spec

    @property
    def active(self) -> bool:
        """Say whether any request can be disturbed."""
        return any(
            (self.server_errors, self.rate_limited, self.slow, self.truncated, self.incomplete)
        )

    def __str__(self) -> str:
        """Return the spec in the syntax parse() reads."""
        parts = [
            f"{key}={getattr(self, name)}"
            for key, name in _SHARE_KEYS.items()
            if getattr(self, name)
        ]
        if self.slow:
            parts.append(f"slow={self.slow}:{self.slow_seconds}")
        parts += [f"retry_after={self.retry_after}", f"seed={self.seed}"]
        parts += [f"exempt={path}" for path in self.exempt]
        if self.graphql_timeout_nodes is not None:
            parts.append(f"gql_nodes={self.graphql_timeout_nodes}")
        return ",".join(parts)


def _share(part: str, value: str) -> float:
    """Parse a share between 0 and 1."""
    share = _number(part, value, "a share between 0 and 1")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"Fault spec part '{part}': share must be between 0 and 1")
    return share


def _number(part: str, value: str, meaning: str) -> float:
    """Parse a non-negative number, naming the part on failure."""
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"Fault spec part '{part}': '{value}' is not {meaning}") from None
    if number < 0 or number != number:
        raise ValueError(f"Fault spec part '{part}': '{value}' is not {meaning}")
    return number


def _whole(part: str, value: str, meaning: str) -> int:
    """Parse a non-negative integer, naming the part on failure."""
    if not value.isdigit():
        raise ValueError(f"Fault spec part '{part}': '{value}' is not {meaning}")
    return int(value)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request."""

    status: int | None
    delay: float
    truncate: bool


class FaultInjector:
    """Draws the fate of each request from the spec's seeded generator, in arrival order."""

    def __init__(self, spec: FaultSpec) -> None:
        """Seed the generator."""
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.injected: dict[str, int] = {"5xx": 0, "429": 0, "slow": 0, "truncate": 0}

    def decide(self) -> FaultDecision:
        """Return the fate of the next request (four draws per request, always)."""
        kind, pick, slow, cut = (self.rng.random() for _ in range(4))
        spec = self.spec
        status: int | None = None
        if kind < spec.server_errors:
            status = (500, 502, 503, 504)[int(pick * 4)]
            self.injected["5xx"] += 1
        elif kind < spec.server_errors + spec.rate_limited:
            status = 429
            self.injected["429"] += 1
        delay = spec.slow_seconds if slow < spec.slow else 0.0
        if delay:
            self.injected["slow"] += 1
        truncate = status is None and cut < spec.truncated
        if truncate:
            self.injected["truncate"] += 1
        return FaultDecision(status, delay, truncate)

    def incomplete_search(self) -> bool:
        """Say whether the next repository search times out (incomplete_results)."""
        return self.rng.random() < self.spec.incomplete


class FaultMiddleware:
    """Pure ASGI middleware that applies a FaultInjector's decisions to requests."""

    def __init__(
        self, app: ASGIApp, injector: FaultInjector, flavor: Flavor, clock: Clock = system_clock
    ) -> None:
        """Wrap an app; flavor picks Jira or GitHub error bodies and headers."""
        self.app = app
        self.injector = injector
        self.flavor = flavor
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay, fail, truncate or pass the request through."""
        spec = self.injector.spec
        if scope["type"] != "http" or not spec.active or _exempt(scope["path"], spec.exempt):
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide()
        if decision.delay:
            await anyio.sleep(decision.delay)
        if decision.status is not None:
            await self._fail(send, decision.status)
            return
        if decision.truncate:
            await self.app(scope, receive, _truncating(send))
            return
        await self.app(scope, receive, send)

    async def _fail(self, send: Send, status: int) -> None:
        """Send an injected error in the style of the API."""
        if status in _HTML_ERRORS:
            await _send_html(send, status, _HTML_ERRORS[status])
            return
        wait = self.injector.spec.retry_after
        reset = self.clock() + timedelta(seconds=wait)
        if self.flavor == "jira":
            headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
            if status in (429, 503):
                headers |= {"Retry-After": str(wait), "X-RateLimit-Reset": iso_time(reset)}
                headers["RateLimit-Reason"] = (
                    "jira-quota-tenant-based" if status == 429 else "jira-cost-based"
                )
            message = {429: "Rate limit exceeded.", 503: "Service Unavailable"}.get(
                status, "Internal server error"
            )
            await send_json(send, status, {"errorMessages": [message], "errors": {}}, headers)
            return
        documentation = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        if status == 429:
            headers = {
                "retry-after": str(wait),
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(epoch(reset)),
                "x-ratelimit-resource": "core",
            }
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few "
                "minutes before you try again.",
                "documentation_url": documentation,
            }
            await send_json(send, 429, body, headers)
            return
        headers = {"retry-after": str(wait)} if status == 503 else {}
        await send_json(send, status, {"message": "Server Error"}, headers)


def _exempt(path: str, exempt: tuple[str, ...]) -> bool:
    """Say whether a path is spared from faults."""
    return any(path.startswith(prefix) for prefix in exempt)


async def _send_html(send: Send, status: int, reason: str) -> None:
    """Send the HTML error page a proxy in front of the API would send."""
    body = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
    )
    encoded = body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(encoded)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


def _truncating(send: Send) -> Send:
    """Return a send that cuts a 200 response body in half and fixes its length."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def cut_in_half(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            if message["status"] != 200:
                await send(message)
                return
            start = message
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        body = body[: len(body) // 2]
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return cut_in_half
