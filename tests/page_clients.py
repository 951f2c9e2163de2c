"""Signed-in page clients whose every answer is checked for secrets a page must never show."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from tests.integration.test_web_harness import (
    INTEGRATION_TOKEN,
    PASSWORD,
    ClientFactory,
    session_client,
)


async def signed_in(
    web: ClientFactory,
    email: str,
    password: str = PASSWORD,
    secrets: Iterable[str] = (),
) -> httpx.AsyncClient:
    """A browser session; any answer holding the world's integration token (or `secrets`) fails."""
    hidden = (INTEGRATION_TOKEN, *secrets)

    async def check(response: httpx.Response) -> None:
        await response.aread()
        for secret in hidden:
            assert secret not in response.text, f"{response.request.url} shows a secret"

    client = await session_client(web, email, password)
    client.event_hooks["response"].append(check)
    return client
