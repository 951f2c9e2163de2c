"""HTTP with the retry rules every provider shares; providers supply their rate-limit rule.

Short waits (a Retry-After of a few seconds, a 5xx) are retried in place with tenacity;
a wait longer than `inline_wait_limit` ends the attempt with RetryableJobError carrying
the wait, so the queue reschedules the job instead of holding a worker slot.
"""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from app.integrations.base import IntegrationConfig
from app.queue.errors import PermanentJobError, RetryableJobError

log = structlog.get_logger("sluice.http")

# Given a response, the provider says how long a rate limit asks to wait (None: not limited).
RateLimitRule = Callable[[httpx.Response], float | None]
Sleep = Callable[[float], Awaitable[None]]


_BACKOFF = wait_exponential_jitter(multiplier=0.5, max=8.0)


def retry_after_seconds(response: httpx.Response, now: datetime) -> float | None:
    """The Retry-After header in seconds (a number or an HTTP date), None when absent."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - now).total_seconds())


class TransientHttpError(Exception):
    """A failure worth retrying in place (5xx, timeout, short rate limit)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass
class ApiClient:
    """One integration's HTTP calls: auth headers, timeouts, retries, rate-limit waits."""

    http: httpx.AsyncClient
    integration: IntegrationConfig
    headers: dict[str, str]
    rate_limit_rule: RateLimitRule
    describe_error: Callable[[httpx.Response], str]
    attempts: int = 5
    inline_wait_limit: float = 30.0
    rate_limit_wait_s: float = 0.0  # total time spent waiting on rate limits
    requests: int = 0

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document."""
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body and return the JSON answer."""
        return await self.request("POST", path, json_body=body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> Any:
        """Send with retries; return parsed JSON or raise a job error that says what to fix."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientHttpError),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(method, path, params, json_body)
        except TransientHttpError as exc:
            raise RetryableJobError(
                f"{self.integration.provider_label} at {self.integration.base_url} kept failing "
                f"({exc}); the job will retry",
                retry_after=exc.wait,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientHttpError) and exc.wait is not None:
            self.rate_limit_wait_s += exc.wait
            return exc.wait
        return float(_BACKOFF(state))

    async def _send_once(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
    ) -> Any:
        url = self.integration.base_url.rstrip("/") + path
        self.requests += 1
        try:
            response = await self.http.request(
                method, url, params=params, json=json_body, headers=self.headers
            )
        except httpx.TimeoutException as exc:
            raise TransientHttpError(f"timeout calling {path}: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.ConnectError) and self.requests == 1:
                raise PermanentJobError(
                    f"cannot reach {self.integration.label}: {exc}. Check the integration's URL"
                ) from None
            raise TransientHttpError(f"network error calling {path}: {exc}") from None
        wait = self.rate_limit_rule(response)
        if wait is not None:
            log.info(
                "rate limited",
                integration_id=self.integration.id,
                path=path,
                status=response.status_code,
                wait_s=round(wait, 1),
            )
            if wait > self.inline_wait_limit:
                self.rate_limit_wait_s += wait
                raise RetryableJobError(
                    f"{self.integration.provider_label} rate limit: waiting {wait:.0f}s",
                    retry_after=wait,
                )
            raise TransientHttpError(f"rate limited ({response.status_code})", wait=wait)
        if response.status_code >= 500:
            raise TransientHttpError(f"HTTP {response.status_code} from {path}")
        if response.status_code >= 400:
            raise PermanentJobError(self._permanent_message(response, path))
        try:
            return orjson.loads(response.content)
        except ValueError:
            # A cut-off body fails this attempt; the queue retries the job from its checkpoint.
            raise RetryableJobError(
                f"malformed JSON from {self.integration.provider_label} {path} "
                f"({len(response.content)} bytes); the job will retry"
            ) from None

    def _permanent_message(self, response: httpx.Response, path: str) -> str:
        detail = self.describe_error(response).rstrip(". ")
        label = self.integration.label
        provider = self.integration.provider_label
        if response.status_code in (401, 403):
            return (
                f"{provider} rejected the credentials for {label} ({response.status_code}): "
                f"{detail}. Check the token (and user) in Integrations"
            )
        if response.status_code == 400:
            return f"{provider} refused the request {path} for {label} (400): {detail}"
        if response.status_code in (404, 410):
            return (
                f"{provider} has no {path} at {label} ({response.status_code}): {detail}. "
                "Check the integration's URL"
            )
        return f"{provider} answered {response.status_code} for {path} at {label}: {detail}"


def error_text(response: httpx.Response, limit: int = 300) -> str:
    """The most useful part of an error body, whatever its shape."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("errorMessages", "message", "errors"):
            value = body.get(key)
            if value:
                if isinstance(value, list):
                    return "; ".join(
                        str(v.get("message", v) if isinstance(v, dict) else v) for v in value
                    )[:limit]
                if isinstance(value, dict):
                    return "; ".join(f"{k}: {v}" for k, v in value.items())[:limit]
                return str(value)[:limit]
    return str(body)[:limit]
