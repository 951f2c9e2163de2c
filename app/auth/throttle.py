"""Failed-login throttling: a lockout policy for accounts and in-memory windows per IP and email.

Accounts are locked in the database (`users.failed_logins`, `users.locked_until`), so the lock
holds across processes and restarts. The in-memory windows also slow down guessing against
unknown emails (which then answer exactly like known ones) and from one client address.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

LOCK_THRESHOLD = 5  # consecutive failures that lock an account
LOCK_BASE = timedelta(minutes=1)
LOCK_MAX = timedelta(minutes=15)


def lockout_after(failures: int) -> timedelta | None:
    """The lock after the `failures`-th failure in a row: 1 minute at 5, doubling, 15 at most."""
    if failures < LOCK_THRESHOLD or failures % LOCK_THRESHOLD:
        return None
    rounds = failures // LOCK_THRESHOLD
    lock: timedelta = LOCK_BASE * 2 ** min(rounds - 1, 16)
    return min(lock, LOCK_MAX)


class FailureWindow:
    """Failures per key in a sliding window; a key with `limit` of them is blocked."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._failures.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._failures[key]
        return events

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it is not blocked."""
        now = self.clock()
        events = self._recent(key, now)
        if len(events) < self.limit:
            return None
        return max(1, math.ceil(events[-self.limit] + self.window - now))

    def record(self, key: str) -> None:
        """Count one failure for `key` (the oldest keys are forgotten past `max_keys`)."""
        now = self.clock()
        events = self._recent(key, now)
        events.append(now)
        self._failures[key] = events
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        """Forget `key`'s failures (after a successful login)."""
        self._failures.pop(key, None)


@dataclass
class LoginThrottle:
    """The process's login windows: per client address and per email."""

    by_ip: FailureWindow = field(default_factory=lambda: FailureWindow(20, 300))
    by_email: FailureWindow = field(default_factory=lambda: FailureWindow(LOCK_THRESHOLD, 60))

    def retry_after(self, ip: str, email: str) -> int | None:
        """Seconds to wait when this address or email has failed too often, else None."""
        waits = [w for w in (self.by_ip.retry_after(ip), self.by_email.retry_after(email)) if w]
        return max(waits) if waits else None

    def failed(self, ip: str, email: str) -> None:
        """Count a failed login."""
        self.by_ip.record(ip)
        self.by_email.record(email)

    def succeeded(self, email: str) -> None:
        """A successful login clears the email's window (not the address's)."""
        self.by_email.clear(email)
