"""Live events: every stage publishes on commit, each event names its tenant."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from app.db import connect
from app.events import MAX_PAYLOAD_BYTES, event_payload
from app.sandbox import SandboxDataset, SandboxServers
from app.services import Services, open_services
from tests.pipeline import add_sandbox_integrations, running_worker, sandbox_settings, sync
from tests.pipeline import tenant_id as tenant_id_of


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(sandbox_settings(tmp_path)) as opened:
        yield opened


def test_payloads_always_fit_a_notification() -> None:
    text = event_payload(3, "log", message="x" * 20_000, run_id=9)
    assert len(text) <= MAX_PAYLOAD_BYTES
    body = json.loads(text)
    assert body["tenant_id"] == 3 and body["kind"] == "log" and body["run_id"] == 9
    assert body["message"].endswith("…")


async def test_a_sync_publishes_progress_jobs_logs_and_the_run_end(
    fresh_db_url: str, services: Services
) -> None:
    listener = await connect(fresh_db_url, autocommit=True)
    events: list[dict[str, object]] = []

    async def collect() -> None:
        async for note in listener.notifies():
            events.append(json.loads(note.payload))

    await listener.execute("LISTEN sluice_events")
    collector = asyncio.create_task(collect())
    try:
        with SandboxServers(SandboxDataset(issues=80, repos=1, pull_requests=6)) as sandbox:
            await add_sandbox_integrations(fresh_db_url, services, sandbox, providers=("jira",))
            run_id = await sync(fresh_db_url)
            async with running_worker(fresh_db_url, services, concurrency=4):
                for _ in range(300):
                    if any(e["kind"] == "run" for e in events):
                        break
                    await asyncio.sleep(0.1)
    finally:
        collector.cancel()
        await listener.close()
    wex = await tenant_id_of(fresh_db_url, "WEX")
    kinds = {e["kind"] for e in events}
    assert {"progress", "job", "log", "run"} <= kinds
    assert all(e["tenant_id"] == wex for e in events)
    [ended] = [e for e in events if e["kind"] == "run"]
    assert ended["run_id"] == run_id and ended["status"] == "finished"
    with psycopg.connect(fresh_db_url) as conn:
        messages = [
            m
            for (m,) in conn.execute(
                "SELECT message FROM job_logs WHERE run_id = %s ORDER BY id", (run_id,)
            )
        ]
    assert any("page 1 stored" in m for m in messages)
    assert messages[-1] == f"run {run_id} finished"
