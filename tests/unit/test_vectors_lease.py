"""The local Qdrant lease: one holder at a time, idle release, hand-over to a waiter.

Two leases on one folder in one process lock separate descriptors, so they contend
exactly as two processes do (the two-process test is in tests/integration).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.vectors.errors import VectorStoreBusyError
from app.vectors.local_lease import LocalQdrantLease


@pytest.fixture
async def leases(tmp_path: Path) -> AsyncIterator[Callable[..., LocalQdrantLease]]:
    made: list[LocalQdrantLease] = []

    def make(**options: float) -> LocalQdrantLease:
        lease = LocalQdrantLease(tmp_path / "qdrant", **options)
        made.append(lease)
        return lease

    yield make
    for lease in made:
        await lease.close()


async def use(lease: LocalQdrantLease) -> None:
    async with lease.session() as client:
        await client.get_collections()


async def test_a_second_holder_waits_then_gives_up_clearly(
    leases: Callable[..., LocalQdrantLease],
) -> None:
    first = leases(linger=30)
    second = leases(wait_timeout=0.3)
    await use(first)
    assert first.is_open  # kept open for its next operation
    started = time.monotonic()
    with pytest.raises(VectorStoreBusyError, match=rf"held by pid {os.getpid()}.*QDRANT_URL"):
        await use(second)
    assert 0.3 <= time.monotonic() - started < 2
    await first.close()
    await use(second)
    assert second.is_open and second.opens == 1


async def test_an_idle_holder_releases_after_linger(
    leases: Callable[..., LocalQdrantLease],
) -> None:
    first = leases(linger=0.2)
    second = leases(linger=0.2)
    await use(first)
    await use(second)  # waits for first's linger, not for its close()
    assert not first.is_open and second.is_open
    await asyncio.sleep(0.5)
    assert not second.is_open


async def test_a_busy_holder_hands_over_to_a_waiter_after_its_quantum(
    leases: Callable[..., LocalQdrantLease],
) -> None:
    busy = leases(linger=30, min_hold=0.2)
    waiter = leases(linger=30)
    stop = asyncio.Event()

    async def keep_busy() -> None:
        while not stop.is_set():
            await use(busy)
            await asyncio.sleep(0.01)

    worker = asyncio.create_task(keep_busy())
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await use(waiter)
    waited = time.monotonic() - started
    stop.set()
    await waiter.close()  # let the busy side finish its turn
    await worker
    assert waited < 2.0, waited
    assert busy.opens >= 2  # it handed over and came back


async def test_operations_of_one_process_share_one_open(
    leases: Callable[..., LocalQdrantLease],
) -> None:
    lease = leases(linger=30)
    await asyncio.gather(*(use(lease) for _ in range(20)))
    assert lease.opens == 1


async def test_a_cancelled_waiter_withdraws(leases: Callable[..., LocalQdrantLease]) -> None:
    holder = leases(linger=30)
    waiter = leases(wait_timeout=30)
    await use(holder)
    waiting = asyncio.create_task(use(waiter))
    await asyncio.sleep(0.2)
    assert holder._others_waiting()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not holder._others_waiting() and not waiter.is_open
