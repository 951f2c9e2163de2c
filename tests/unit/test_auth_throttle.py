"""The failed-login policy: account lockouts and the in-memory windows."""

from __future__ import annotations

from datetime import timedelta

from app.auth.throttle import FailureWindow, LoginThrottle, lockout_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_account_locks_at_every_fifth_failure_for_longer_each_time() -> None:
    assert [lockout_after(n) for n in range(1, 5)] == [None] * 4
    assert lockout_after(5) == timedelta(minutes=1)
    assert lockout_after(6) is None
    assert lockout_after(10) == timedelta(minutes=2)
    assert lockout_after(15) == timedelta(minutes=4)
    assert lockout_after(50) == timedelta(minutes=15)
    assert lockout_after(10_000) == timedelta(minutes=15)


def test_a_window_blocks_at_its_limit_until_the_oldest_failure_ages_out() -> None:
    clock = FakeClock()
    window = FailureWindow(3, 60, clock=clock)
    for _ in range(2):
        window.record("ip")
        clock.now += 10
    assert window.retry_after("ip") is None
    window.record("ip")  # failures at 1000, 1010, 1020
    assert window.retry_after("ip") == 40  # the first ages out at 1060; now is 1020
    clock.now = 1059.5
    assert window.retry_after("ip") == 1
    clock.now = 1060
    assert window.retry_after("ip") is None
    assert window.retry_after("another") is None


def test_a_window_forgets_on_success_and_bounds_its_memory() -> None:
    clock = FakeClock()
    window = FailureWindow(1, 60, max_keys=3, clock=clock)
    for key in ("a", "b", "c", "d"):
        window.record(key)
    assert window.retry_after("a") is None  # the oldest key was dropped
    assert window.retry_after("d") == 60
    window.clear("d")
    assert window.retry_after("d") is None


def test_the_login_throttle_checks_address_and_email() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(FailureWindow(3, 300, clock=clock), FailureWindow(2, 60, clock=clock))
    throttle.failed("10.0.0.1", "a@x.com")
    assert throttle.retry_after("10.0.0.1", "a@x.com") is None
    throttle.failed("10.0.0.1", "a@x.com")
    assert throttle.retry_after("10.0.0.9", "a@x.com") == 60  # the email, from anywhere
    throttle.succeeded("a@x.com")
    assert throttle.retry_after("10.0.0.9", "a@x.com") is None
    throttle.failed("10.0.0.1", "b@x.com")
    assert throttle.retry_after("10.0.0.1", "c@x.com") == 300  # the address, any email
