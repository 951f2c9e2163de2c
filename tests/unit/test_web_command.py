"""`sluice web` arguments: loopback by default, a PaaS's $PORT on all interfaces."""

from __future__ import annotations

import argparse

import pytest

from app.cli import commands_web


def parse(*args: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    commands_web.register(parser.add_subparsers())
    return parser.parse_args(["web", *args])


def test_defaults_without_a_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    args = parse()
    assert (args.host, args.port, args.forwarded_allow_ips) == ("127.0.0.1", 8000, "127.0.0.1")


def test_a_platforms_port_listens_on_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    args = parse()
    assert (args.host, args.port, args.forwarded_allow_ips) == ("0.0.0.0", 5123, "*")  # noqa: S104
    assert parse("--host", "127.0.0.1", "--port", "9000").port == 9000
