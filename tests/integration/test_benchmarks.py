"""Benchmarks run in their quick form as smoke tests: they work and report every tool.
No timing is asserted here; the numbers are for people (see README: Benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run_benchmark(name: str, *args: str, timeout: float = 300) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "SLUICE_LOG_LEVEL": "WARNING"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.slow
def test_queue_benchmark_quick_reports_every_tool() -> None:
    report = run_benchmark("queue_bench.py", "--quick")
    jobs = report["jobs"]
    assert isinstance(jobs, dict)
    assert set(jobs) == {"sluice", "procrastinate", "pgqueuer", "sql_loop"}
    assert all(isinstance(n, int) and n > 0 for n in jobs.values())
    rates = report["jobs_per_s"]
    assert isinstance(rates, dict) and all(rate > 0 for rate in rates.values())
    fairness = report["fairness"]
    assert isinstance(fairness, dict) and 0 < fairness["share_b"] <= 1
    assert fairness["share_b_expected"] == pytest.approx(10 / 11, abs=0.001)
    for key in ("pickup_ms", "claim_ms_at_scale"):
        value = report[key]
        assert isinstance(value, dict) and value["p50"] <= value["p99"]


@pytest.mark.slow
def test_etl_benchmark_quick_loads_every_issue_with_both_tools() -> None:
    report = run_benchmark("etl_bench.py", "--quick", timeout=400)
    issues = report["issues"]
    assert isinstance(issues, int) and issues > 0
    rows = report["rows"]
    assert isinstance(rows, dict)
    assert rows["sluice_work_items"] == issues == rows["dlt_issues"]
    assert rows["sluice_raw_issues"] == issues and report["raw_kept"] is True
    rates = report["issues_per_s"]
    assert isinstance(rates, dict) and rates["sluice"] > 0 and rates["dlt"] > 0
    assert report["vectorize_items_per_s"] is not None


@pytest.mark.slow
def test_chaos_benchmark_quick_loads_exactly_while_workers_are_killed() -> None:
    report = run_benchmark("chaos_bench.py", "--quick", timeout=400)
    assert list(report) == ["issues", "baseline_s", "with_kills_s", "throughput_ratio", "exact"]
    assert report["issues"] == 1500 and report["exact"] is True
    for key in ("baseline_s", "with_kills_s", "throughput_ratio"):
        value = report[key]
        assert isinstance(value, float) and value > 0, (key, value)
