"""The Prometheus exposition written by hand."""

from __future__ import annotations

from app.web.metrics import Metric, build_metrics, escape_label, format_value, render


def test_label_values_and_numbers_are_written_as_the_format_wants() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert format_value(3) == "3" and format_value(2.0) == "2" and format_value(0.25) == "0.25"
    assert format_value(float("nan")) == "NaN" and format_value(float("inf")) == "+Inf"


def test_render_writes_help_type_and_samples() -> None:
    metric = Metric("sluice_x", "gauge", "An example")
    metric.add({"tenant": 'We"X', "stage": "load"}, 4)
    assert render([metric]) == (
        "# HELP sluice_x An example\n"
        "# TYPE sluice_x gauge\n"
        'sluice_x{tenant="We\\"X",stage="load"} 4\n'
    )


def test_build_metrics_from_query_rows() -> None:
    rows = {
        "metrics_queue_jobs": [
            {"tenant": "WEX", "stage": "extract", "status": "pending", "jobs": 3},
            {"tenant": "WEX", "stage": "load", "status": "failed", "jobs": 2},
        ],
        "metrics_queue_oldest_pending": [{"tenant": "WEX", "stage": "extract", "seconds": -0.5}],
        "metrics_queue_finished": [
            {"tenant": "WEX", "stage": "load", "status": "completed", "jobs": 40}
        ],
        "metrics_runs": [{"tenant": "WEX", "status": "running", "runs": 1}],
        "metrics_run_durations": [
            {"tenant": "WEX", "runs": 4, "total_seconds": 100.0, "quantiles": [20.0, 40.0, 45.5]}
        ],
    }
    text = render(build_metrics(rows))
    assert 'sluice_queue_jobs{tenant="WEX",stage="extract",status="pending"} 3' in text
    assert 'sluice_queue_failed_jobs{tenant="WEX",stage="load"} 2' in text
    assert 'sluice_queue_oldest_pending_seconds{tenant="WEX",stage="extract"} 0' in text
    assert (
        'sluice_queue_finished_last_hour{tenant="WEX",stage="load",status="completed"} 40' in text
    )
    assert 'sluice_runs{tenant="WEX",status="running"} 1' in text
    assert "# TYPE sluice_run_duration_seconds summary" in text
    assert 'sluice_run_duration_seconds{tenant="WEX",quantile="0.99"} 45.5' in text
    assert 'sluice_run_duration_seconds_sum{tenant="WEX"} 100' in text
    assert 'sluice_run_duration_seconds_count{tenant="WEX"} 4' in text
    empty = render(build_metrics({name: [] for name in rows}))
    assert empty.count("# TYPE") == 6 and "{" not in empty
