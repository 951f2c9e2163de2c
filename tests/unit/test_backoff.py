"""Retry delays."""

from __future__ import annotations

import random

from app.queue.backoff import MAX_DELAY_S, retry_delay


def test_retry_after_from_the_provider_wins() -> None:
    assert retry_delay(1, retry_after=42) == 42
    assert retry_delay(7, retry_after=0) == 0


def test_exponential_backoff_with_full_jitter_bounds() -> None:
    rng = random.Random(1)
    for attempt in range(1, 8):
        ceiling = min(MAX_DELAY_S, 2.0 * 2 ** (attempt - 1))
        draws = [retry_delay(attempt, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws)
        assert max(draws) - min(draws) > ceiling / 4  # jittered, not constant


def test_backoff_is_capped() -> None:
    assert retry_delay(50, rng=random.Random(3)) <= MAX_DELAY_S
    assert retry_delay(3, base=1.0, cap=3.0, rng=random.Random(3)) <= 3.0
