"""An integration token never appears in an API response, a page or a log line."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from app.web.api import OPERATIONS
from tests.integration.test_web_harness import (
    INTEGRATION_TOKEN,
    PASSWORD,
    ClientFactory,
    World,
    concrete_path,
    owner_rows,
    session_client,
    web,
    web_db_url,
    world,
)

__all__ = ["web", "web_db_url", "world"]

NEW_TOKEN = "sekret-token-456-rotated"


async def test_integration_tokens_never_leave_the_server(
    world: World, web: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = web(world.account("WEX", "admin").token)
    browser = await session_client(web, world.account("WEX", "admin").email)
    seen: list[str] = []
    with capture_logs() as logs:
        created = await admin.post(
            "/api/v1/integrations",
            json={
                "provider": "github",
                "base_url": "http://127.0.0.1:9",
                "token": INTEGRATION_TOKEN,
                "base_search": "org:acme",
            },
        )
        assert created.status_code == 201
        assert created.json()["has_token"] is True
        new_id = created.json()["id"]
        responses = [
            created,
            await admin.patch(f"/api/v1/integrations/{new_id}", json={"token": NEW_TOKEN}),
            await admin.post(f"/api/v1/integrations/{new_id}/test"),
            await admin.post(f"/api/v1/integrations/{world.ids['WEX']['integration_id']}/test"),
            await admin.post(
                "/api/v1/integrations",
                json={"provider": "jira", "base_url": "ftp://x", "token": INTEGRATION_TOKEN},
            ),
            await browser.post(
                "/api/v1/integrations",
                json={"provider": "nope", "token": INTEGRATION_TOKEN},
            ),
            await admin.get("/metrics"),
        ]
        ids = {**world.ids["WEX"], "integration_id": new_id}
        for op in OPERATIONS:
            if op.method == "GET":
                responses.append(await admin.get(concrete_path(op.full_path, ids)))
                responses.append(await browser.get(concrete_path(op.full_path, ids)))
        for response in responses:
            assert response.status_code < 500, response.text
            seen.append(response.text)
            seen.extend(f"{k}: {v}" for k, v in response.headers.items())
    assert responses[2].json()["ok"] is False  # nothing listens on 127.0.0.1:9
    assert responses[4].status_code == 422 and responses[5].status_code == 422
    text = "\n".join(seen)
    for secret in (INTEGRATION_TOKEN, NEW_TOKEN, PASSWORD):
        assert secret not in text
        assert secret not in repr(logs)
    assert '"credentials"' not in text
    assert logs, "the requests were logged"
    captured = capsys.readouterr()
    for secret in (INTEGRATION_TOKEN, NEW_TOKEN):
        assert secret not in captured.out + captured.err
    [(stored,)] = owner_rows(
        world.url, "SELECT credentials FROM integrations WHERE id = %s", (new_id,)
    )
    assert NEW_TOKEN.encode() not in bytes(stored)


async def test_a_validation_error_does_not_echo_the_submitted_secret(
    world: World, web: ClientFactory
) -> None:
    admin = web(world.account("WEX", "admin").token)
    too_long = "t" * 9000
    response = await admin.post(
        "/api/v1/integrations",
        json={"provider": "jira", "base_url": "https://x.y", "token": too_long},
    )
    assert response.status_code == 422
    assert too_long not in response.text
    assert response.json()["errors"][0]["field"] == "token"
    weak = await admin.post(
        "/api/v1/users", json={"email": "weak@wex.com", "role": "viewer", "password": "short1"}
    )
    assert weak.status_code == 422 and "short1" not in weak.text
