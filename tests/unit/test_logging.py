"""Log configuration and secret redaction."""

from __future__ import annotations

import json

import pytest
import structlog

from app.logging import bind_job_context, clear_job_context, configure_logging, redact_secrets


def test_redaction_of_keys_and_free_text() -> None:
    event = {
        "event": "calling https://x with Authorization: Bearer abcdefghijklmnop",
        "token": "t0ps3cret",
        "headers": {"Authorization": "Basic Zm9vOmJhcg==", "Accept": "application/json"},
        "url": "postgresql://sluice:hunter2@db:5432/sluice",
        "note": "retry with password=letmein&x=1",
        "gh": "found ghp_0123456789abcdefghij0123 in body",
        "count": 3,
    }
    out = redact_secrets(None, "info", dict(event))
    text = json.dumps(out)
    for secret in (
        "abcdefghijklmnop",
        "t0ps3cret",
        "Zm9vOmJhcg==",
        "hunter2",
        "letmein",
        "ghp_0123456789abcdefghij0123",
    ):
        assert secret not in text
    assert out["headers"]["Accept"] == "application/json"
    assert out["count"] == 3
    assert out["url"] == "postgresql://sluice:[redacted]@db:5432/sluice"


def test_json_lines_carry_bound_context_and_no_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "INFO")
    try:
        bind_job_context(tenant="WEX", run_id=7, job_id=42)
        structlog.get_logger().info("page stored", api_token="abc123456789", records=100)
    finally:
        clear_job_context()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "page stored"
    assert (line["tenant"], line["run_id"], line["job_id"]) == ("WEX", 7, 42)
    assert line["api_token"] == "[redacted]"
    assert line["records"] == 100 and line["level"] == "info"
