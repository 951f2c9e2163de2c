"""Line charts drawn on the server as SVG: pure geometry, rendered by `_line_chart.html`.

`line_chart` turns series of values over categories (months) into the pieces of an SVG:
axis ticks with labels, one polyline per unbroken run of each series (a missing value is
a gap, never a zero), a marker per value, and a legend. Series differ by dash pattern as
well as colour, so colour is never the only cue; the template adds <title>/<desc>.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)  # nice tick steps, times a power of ten
Y_TICKS = 4  # about this many intervals on the value axis


@dataclass(frozen=True)
class Series:
    """One line: its name in the legend, a value (or None) per category, and how it looks."""

    label: str
    values: Sequence[float | None]
    stroke: str = "#1d4ed8"
    dash: str | None = None  # an SVG stroke-dasharray; None draws a solid line
    marker: str = "circle"  # "circle", "square" or "diamond"


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis (x or y in chart coordinates)."""

    position: float
    label: str


@dataclass(frozen=True)
class Point:
    """One value of a series, where it is drawn, and what its tooltip says."""

    x: float
    y: float
    value: float
    title: str


@dataclass(frozen=True)
class Line:
    """A series as drawn: polylines (`points` attributes) between gaps, and its markers."""

    label: str
    stroke: str
    dash: str | None
    marker: str
    segments: list[str]
    points: list[Point]


@dataclass(frozen=True)
class LegendEntry:
    """A legend sample: a short line in the series' stroke and dash, and its label."""

    label: str
    stroke: str
    dash: str | None
    marker: str
    x: float
    y: float


@dataclass(frozen=True)
class LineChart:
    """Everything the template needs to draw one chart."""

    title: str
    desc: str
    unit: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    y_max: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    lines: list[Line]
    legend: list[LegendEntry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when no series has a single value."""
        return not any(line.points for line in self.lines)

    @property
    def middle(self) -> tuple[float, float]:
        """The centre of the plot area (where "no data" is written)."""
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)


def nice_scale(highest: float, intervals: int = Y_TICKS) -> tuple[float, float]:
    """(top, step) of a value axis from 0 that holds `highest` in about `intervals` steps of
    1, 2, 2.5 or 5 times a power of ten; (1, 0.25) when there is nothing to show."""
    if not highest > 0 or not math.isfinite(highest):
        return 1.0, 0.25
    raw = highest / intervals
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(s * power for s in STEPS if s * power >= raw * (1 - 1e-9))
    top = math.ceil(highest / step - 1e-9) * step
    return top, step


def tick_label(value: float) -> str:
    """A tick value without trailing zeros: 0, 2.5, 10, 0.25."""
    return f"{round(value, 6):g}"


def line_chart(
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "days",
    width: int = 640,
    height: int = 260,
) -> LineChart:
    """The chart of `series` over `categories` (each series has a value or None per category)."""
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {len(categories)}")
    left, top, right = 52.0, 16.0, width - 24.0
    legend_rows = 1 if series else 0
    bottom = height - 36.0 - 20.0 * legend_rows
    values = [v for s in series for v in s.values if v is not None]
    y_max, step = nice_scale(max(values, default=0.0))

    def x_at(index: int) -> float:
        if len(categories) < 2:
            return round((left + right) / 2, 1)
        return round(left + index * (right - left) / (len(categories) - 1), 1)

    def y_at(value: float) -> float:
        return round(bottom - (value / y_max) * (bottom - top), 1)

    y_ticks = [Tick(y_at(i * step), tick_label(i * step)) for i in range(round(y_max / step) + 1)]
    x_ticks = [Tick(x_at(i), label) for i, label in enumerate(categories)]
    lines = [_line(s, categories, x_at, y_at, unit) for s in series]
    spacing = (right - left) / max(len(series), 1)
    legend = [
        LegendEntry(s.label, s.stroke, s.dash, s.marker, round(left + i * spacing, 1), height - 12)
        for i, s in enumerate(series)
    ]
    return LineChart(
        title=title,
        desc=desc,
        unit=unit,
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        y_max=y_max,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        lines=lines,
        legend=legend,
    )


def _line(
    series: Series,
    categories: Sequence[str],
    x_at: Callable[[int], float],
    y_at: Callable[[float], float],
    unit: str,
) -> Line:
    """One series: its points, and a polyline per run of two or more consecutive values."""
    points: list[Point] = []
    segments: list[str] = []
    run: list[Point] = []
    for index, value in enumerate(series.values):
        if value is None:
            if len(run) > 1:
                segments.append(_polyline(run))
            run = []
            continue
        point = Point(
            x_at(index),
            y_at(value),
            value,
            f"{series.label}, {categories[index]}: {value:.1f} {unit}",
        )
        points.append(point)
        run.append(point)
    if len(run) > 1:
        segments.append(_polyline(run))
    return Line(series.label, series.stroke, series.dash, series.marker, segments, points)


def _polyline(run: list[Point]) -> str:
    return " ".join(f"{p.x:g},{p.y:g}" for p in run)
