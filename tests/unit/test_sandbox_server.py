"""The sandbox servers run on loopback from a background thread and stop cleanly."""

from __future__ import annotations

import socket

import httpx
import pytest

from app.sandbox import SandboxServers

AUTH = {"Authorization": "Bearer sandbox-token"}


def test_servers_answer_on_loopback_and_release_their_ports() -> None:
    with SandboxServers(issues=120, seed=3) as servers:
        assert servers.jira_url.startswith("http://127.0.0.1:")
        with httpx.Client(headers=AUTH, timeout=10) as client:
            me = client.get(f"{servers.jira_url}/rest/api/3/myself")
            found = client.get(
                f"{servers.jira_url}/rest/api/3/search/jql",
                params={"jql": "project = CORE", "maxResults": 100},
            )
            user = client.get(f"{servers.github_url}/user")
        port = int(servers.github_url.rsplit(":", 1)[1])
        assert me.status_code == 200 and user.json()["login"] == "sluice-sandbox"
        assert [issue["key"] for issue in found.json()["issues"]] == [
            f"CORE-{n}" for n in range(1, 31)
        ]
        assert servers.jira_app.state.requests["/rest/api/3/search/jql"] == 1
        assert servers.github_app.state.traffic.total == 1
    assert not servers.running
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


async def test_async_context_manager_with_faults() -> None:
    async with (
        SandboxServers(issues=40, faults="5xx=1.0,seed=1") as servers,
        httpx.AsyncClient(headers=AUTH, timeout=10) as client,
    ):
        response = await client.get(f"{servers.github_url}/user")
    assert response.status_code in (500, 502, 503, 504)
    assert not servers.running


def test_urls_need_a_started_server() -> None:
    servers = SandboxServers(issues=10)
    with pytest.raises(RuntimeError, match="not started"):
        _ = servers.jira_url
