"""The server-side line chart: scaling, empty data, a single point, gaps, and its SVG."""

from __future__ import annotations

import re

import pytest

from app.pages.charts import Series, line_chart, nice_scale, tick_label
from app.pages.render import render_text

MONTHS = ["Jan", "Feb", "Mar", "Apr"]


def test_nice_scale_rounds_up_to_a_readable_step() -> None:
    assert nice_scale(9.3) == (10.0, 2.5)
    assert nice_scale(10.0) == (10.0, 2.5)
    assert nice_scale(17.0) == (20.0, 5.0)
    assert nice_scale(0.4) == (0.4, 0.1)
    assert nice_scale(120.0) == (150.0, 50.0)
    assert nice_scale(0.0) == (1.0, 0.25)
    assert nice_scale(float("nan")) == (1.0, 0.25)
    assert [tick_label(v) for v in (0.0, 2.5, 10.0, 0.30000000000000004)] == [
        "0",
        "2.5",
        "10",
        "0.3",
    ]


def test_values_are_scaled_between_the_axis_bounds() -> None:
    chart = line_chart("Cycle", "desc", MONTHS, [Series("Median", [0.0, 5.0, 9.3, 2.5])])
    assert chart.y_max == 10.0
    assert [t.label for t in chart.y_ticks] == ["0", "2.5", "5", "7.5", "10"]
    assert chart.y_ticks[0].position == chart.bottom and chart.y_ticks[-1].position == chart.top
    [line] = chart.lines
    xs = [p.x for p in line.points]
    ys = [p.y for p in line.points]
    assert xs[0] == chart.left and xs[-1] == chart.right
    assert xs == sorted(xs) and xs[2] - xs[1] == pytest.approx(xs[1] - xs[0], abs=0.1)
    assert ys[0] == chart.bottom
    half = chart.bottom - (chart.bottom - chart.top) / 2
    assert ys[1] == pytest.approx(half, abs=0.1)
    assert ys[2] == pytest.approx(chart.bottom - 0.93 * (chart.bottom - chart.top), abs=0.1)
    assert line.segments == [" ".join(f"{x:g},{y:g}" for x, y in zip(xs, ys, strict=True))]
    assert [t.label for t in chart.x_ticks] == MONTHS
    assert [t.position for t in chart.x_ticks] == xs
    assert line.points[2].title == "Median, Mar: 9.3 days"


def test_empty_data_draws_axes_and_says_so() -> None:
    chart = line_chart("Cycle", "desc", MONTHS, [Series("Median", [None] * 4)])
    assert chart.empty
    assert chart.lines[0].points == [] and chart.lines[0].segments == []
    assert (chart.y_max, [t.label for t in chart.y_ticks]) == (
        1.0,
        ["0", "0.25", "0.5", "0.75", "1"],
    )
    svg = render_text("_line_chart.html", chart=chart, chart_id="c")
    assert "No completed work items in these months" in svg
    assert "<polyline" not in svg and "<title>Median" not in svg  # no line, no point
    assert line_chart("Nothing", "desc", [], []).empty


def test_a_single_point_is_a_marker_without_a_line() -> None:
    chart = line_chart("Lead", "desc", ["Mar"], [Series("Median", [4.0])])
    [line] = chart.lines
    assert line.segments == []
    [point] = line.points
    assert point.x == round((chart.left + chart.right) / 2, 1)  # one category: the middle
    assert point.y == chart.top  # 4 is the top of a 0-4 axis
    isolated = line_chart("Lead", "desc", MONTHS, [Series("Median", [None, 3.0, None, None])])
    assert isolated.lines[0].segments == [] and len(isolated.lines[0].points) == 1


def test_missing_months_are_gaps_not_zeros() -> None:
    chart = line_chart("Cycle", "desc", [*MONTHS, "May"], [Series("p", [1, 2, None, 4, 5])])
    [line] = chart.lines
    assert len(line.points) == 4
    assert len(line.segments) == 2  # Jan-Feb and Apr-May, nothing drawn through March
    assert all(p.y < chart.bottom for p in line.points)  # no point dropped to zero
    march = chart.x_ticks[2].position
    assert all(str(march) not in segment.split(" ")[0] for segment in line.segments)
    assert not any(f"{march:g}," in segment for segment in line.segments)


def test_the_svg_is_accessible_and_has_no_style_attributes() -> None:
    series = [
        Series("Median", [1.0, 2.0, None, 4.0]),
        Series(
            "90th percentile", [3.0, None, 5.0, 8.0], stroke="#9d174d", dash="2 3", marker="diamond"
        ),
    ]
    chart = line_chart("Cycle time <per month>", "Median & p90", MONTHS, series)
    svg = render_text("_line_chart.html", chart=chart, chart_id="cycle")
    assert 'role="img" aria-labelledby="cycle-title cycle-desc"' in svg
    assert '<title id="cycle-title">Cycle time &lt;per month&gt;</title>' in svg
    assert '<desc id="cycle-desc">Median &amp; p90</desc>' in svg
    assert "style=" not in svg
    assert svg.count("<polyline") == 2  # Median: Jan-Feb; p90: Mar-Apr
    assert 'stroke-dasharray="2 3"' in svg  # dashes tell the series apart, not colour alone
    assert ">Median</text>" in svg and ">90th percentile</text>" in svg
    assert "<title>90th percentile, Apr: 8.0 days</title>" in svg
    assert re.search(r'<text [^>]*text-anchor="end">8</text>', svg)  # the axis top


def test_series_must_match_the_categories() -> None:
    with pytest.raises(ValueError, match="has 2 values for 4"):
        line_chart("x", "y", MONTHS, [Series("Median", [1.0, 2.0])])
