"""Fixed-window rate limits driven by an injected clock, and Jira's limit headers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.timestamps import Clock, from_epoch, iso_time
from app.sandbox.traffic import add_headers, send_json


@dataclass(frozen=True, slots=True)
class WindowState:
    """Where a limit stands after a request: allowed or not, and the numbers to report."""

    allowed: bool
    limit: int
    used: int
    remaining: int
    reset: int
    retry_after: int


class FixedWindow:
    """A limit of `limit` points per `period` seconds, the window starting at first use."""

    def __init__(self, limit: int, period: int, clock: Clock) -> None:
        """Describe the limit; the window opens with the first request."""
        self.limit = limit
        self.period = period
        self.clock = clock
        self.started: float | None = None
        self.used = 0

    def _roll(self) -> float:
        """Open a new window when the current one has passed; return now."""
        now = self.clock().timestamp()
        if self.started is None or now >= self.started + self.period:
            self.started = now
            self.used = 0
        return now

    def consume(self, cost: int = 1) -> WindowState:
        """Spend points if they fit in the window; say whether they did."""
        now = self._roll()
        allowed = self.used + cost <= self.limit
        if allowed:
            self.used += cost
        return self._state(now, allowed)

    def spend(self, cost: int = 1) -> WindowState:
        """Spend points whether or not they fit (for limits that are only reported)."""
        now = self._roll()
        self.used += cost
        return self._state(now, True)

    def peek(self) -> WindowState:
        """Return the state of the window without spending anything."""
        return self._state(self._roll(), True)

    def _state(self, now: float, allowed: bool) -> WindowState:
        """Build the reported numbers."""
        started = self.started if self.started is not None else now
        reset = started + self.period
        return WindowState(
            allowed=allowed,
            limit=self.limit,
            used=self.used,
            remaining=max(self.limit - self.used, 0),
            reset=math.ceil(reset),
            retry_after=max(1, math.ceil(reset - now)),
        )


class JiraQuotaMiddleware:
    """Adds X-RateLimit-* headers to every Jira response and enforces an optional limit."""

    def __init__(self, app: ASGIApp, window: FixedWindow, enforce: bool) -> None:
        """Wrap an app with a per-minute window."""
        self.app = app
        self.window = window
        self.enforce = enforce

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request; answer 429 when an enforced limit is spent."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.window.consume() if self.enforce else self.window.spend()
        if not state.allowed:
            reset = iso_time(from_epoch(state.reset))
            await send_json(
                send,
                429,
                {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                {
                    "Retry-After": str(state.retry_after),
                    "X-RateLimit-Limit": str(state.limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset,
                    "RateLimit-Reason": "jira-burst-based",
                },
            )
            return
        headers = {
            "X-RateLimit-Limit": str(state.limit),
            "X-RateLimit-Remaining": str(state.remaining),
        }

        async def with_limit_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = add_headers(message, headers)
            await send(message)

        await self.app(scope, receive, with_limit_headers)


def reset_moment(clock: Clock, seconds: int) -> str:
    """Return the ISO 8601 moment a number of seconds from now."""
    return iso_time(clock() + timedelta(seconds=seconds))
