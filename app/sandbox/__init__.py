"""Sandbox Jira and GitHub servers with deterministic generated data and fault injection."""

from app.sandbox.access import DEFAULT_TOKEN
from app.sandbox.dataset import DEFAULT_NOW, SandboxDataset
from app.sandbox.faults import FaultSpec
from app.sandbox.github_app import create_github_app
from app.sandbox.jira_app import create_jira_app
from app.sandbox.server import DEFAULT_PORT, SandboxServers, asgi_client, serve
from app.sandbox.traffic import RecordedRequest, RequestTraffic

__all__ = [
    "DEFAULT_NOW",
    "DEFAULT_PORT",
    "DEFAULT_TOKEN",
    "FaultSpec",
    "RecordedRequest",
    "RequestTraffic",
    "SandboxDataset",
    "SandboxServers",
    "asgi_client",
    "create_github_app",
    "create_jira_app",
    "serve",
]
