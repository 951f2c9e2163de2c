"""`sluice web` arguments: loopback by default, a PaaS's $PORT on all interfaces."""

from __future__ import annotations

import argparse
import resource

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


def test_the_open_files_limit_rises_to_the_hard_limit() -> None:
    # A shell's 1,024 would refuse live dashboards at about a thousand sockets.
    assert commands_web.open_files_target(1024, 524_288) == 524_288
    assert commands_web.open_files_target(1024, resource.RLIM_INFINITY) == 65_536
    assert commands_web.open_files_target(20_000, 20_000) is None
    assert commands_web.open_files_target(resource.RLIM_INFINITY, resource.RLIM_INFINITY) is None


def test_serving_raises_the_soft_limit_and_keeps_the_hard_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_to: list[tuple[int, tuple[int, int]]] = []
    monkeypatch.setattr(commands_web.resource, "getrlimit", lambda _which: (1024, 4096))
    monkeypatch.setattr(
        commands_web.resource, "setrlimit", lambda which, limits: set_to.append((which, limits))
    )
    commands_web.raise_open_files_limit()
    assert set_to == [(resource.RLIMIT_NOFILE, (4096, 4096))]
