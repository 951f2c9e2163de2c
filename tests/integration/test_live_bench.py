"""The SSE benchmark in its quick form, as a smoke test: `sluice web`, bearer-token clients
and a real sync run, and it reports every field. No timing is asserted here; the numbers
are for people (see README: Benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_sse_benchmark_quick_delivers_every_event_to_every_client() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "sse_bench.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "SLUICE_LOG_LEVEL": "WARNING"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["clients"] == report["connected"] == 100
    assert report["dropped"] == 0 and report["missed"] == 0 and report["cross_tenant"] == 0
    assert report["deliveries"] == report["events_published"] * 100 // 3
    latency = report["event_latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"]
    assert report["web_rss_mb"] > 0
    assert report["settings"]["auth"].startswith("Authorization: Bearer")
    sync = report["sync"]
    assert sync["events_in_window"] > 0 and sync["missed"] == 0
    assert len(sync["runs_at_window_end"]) == 3
