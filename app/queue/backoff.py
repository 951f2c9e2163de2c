"""Retry delays: exponential backoff with full jitter, or the provider's Retry-After."""

from __future__ import annotations

import random

BASE_DELAY_S = 2.0
MAX_DELAY_S = 600.0


def retry_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    base: float = BASE_DELAY_S,
    cap: float = MAX_DELAY_S,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt counts from 1).

    A provider's Retry-After wins (never less than it asked). Otherwise "full jitter":
    a uniform draw in [base * 2**(attempt-1) / 2, base * 2**(attempt-1)], capped, so that
    retries of many jobs spread out instead of arriving together.
    """
    if retry_after is not None and retry_after >= 0:
        return min(float(retry_after), cap * 6)
    ceiling = min(cap, base * (2.0 ** max(attempt - 1, 0)))
    draw: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * draw
