"""A sparkline as SVG geometry: a series of counts scaled into a small box."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    """The polyline and area of a series, in a `width` x `height` viewBox."""

    width: int
    height: int
    points: str  # "x,y x,y …" for <polyline points=…>
    area: str  # the same line closed along the bottom, for a filled <polygon>
    peak: int
    total: int


def sparkline(values: Sequence[int], width: int = 240, height: int = 48, pad: int = 2) -> Sparkline:
    """Scale `values` (oldest first) so that the peak touches the top; all zeros lie flat
    on the bottom."""
    peak = max(values, default=0)
    inner_h = height - 2 * pad
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = [
        (pad + i * step, height - pad - (inner_h * v / peak if peak else 0))
        for i, v in enumerate(values)
    ]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = ""
    if coords:
        bottom = height - pad
        area = f"{coords[0][0]:.1f},{bottom} {points} {coords[-1][0]:.1f},{bottom}"
    return Sparkline(width, height, points, area, peak, sum(values))
