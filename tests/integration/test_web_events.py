"""`GET /events` on a real server: the signed-in tenant's events only, as SSE."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import psycopg
import uvicorn

from app.web.app import create_app
from tests.integration.test_web_harness import World, web_db_url, world

__all__ = ["web_db_url", "world"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def served(world: World) -> AsyncIterator[str]:
    """The app on a real loopback server (an in-process client cannot read a stream)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.settings, database_url=world.url),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_events_stream_only_the_users_tenant(world: World) -> None:
    async with served(world) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as anonymous:
            assert (await anonymous.get("/events")).status_code == 401
        token = world.account("WEX", "viewer").token
        received: list[dict[str, object]] = []
        async with (
            httpx.AsyncClient(
                base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}
            ) as client,
            client.stream("GET", "/events") as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            await asyncio.sleep(0.3)  # subscribed
            with psycopg.connect(world.url, autocommit=True) as conn:
                for tenant in ("Apple", "WEX", "Apple", "WEX"):
                    payload = json.dumps(
                        {
                            "tenant_id": world.tenant_ids[tenant],
                            "kind": "log",
                            "message": f"hello {tenant}",
                        }
                    )
                    conn.execute("SELECT pg_notify('sluice_events', %s)", (payload,))

            async def read() -> None:
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        received.append(json.loads(line[5:]))
                        if len(received) == 2:
                            return

            await asyncio.wait_for(read(), 10)
    assert [event["message"] for event in received] == ["hello WEX", "hello WEX"]
    assert {event["tenant_id"] for event in received} == {world.tenant_ids["WEX"]}
