"""The stylesheet's text colours meet WCAG AA contrast (4.5:1) on the backgrounds they sit on."""

from __future__ import annotations

import re

import pytest

from app.web.app import STATIC_DIR

CSS = (STATIC_DIR / "sluice.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))

# (text, background) as the stylesheet pairs them: body text, muted text, links and
# buttons, status badges, flash messages, table headers, the JSON viewer, the focus ring.
PAIRS = [
    ("ink", "bg"),
    ("ink", "panel"),
    ("muted", "bg"),
    ("muted", "panel"),
    ("muted", "#fafbfc"),
    ("accent", "panel"),
    ("accent", "bg"),
    ("accent-ink", "accent"),
    ("ok", "ok-bg"),
    ("run", "run-bg"),
    ("warn", "warn-bg"),
    ("bad", "bad-bg"),
    ("bad", "panel"),
    ("warn", "panel"),
    ("idle", "idle-bg"),
    ("#e2e8f0", "#0f172a"),
]


def colour(name: str) -> str:
    return name if name.startswith("#") else VARIABLES[name]


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of an sRGB colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_matches_known_ratios() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_meets_aa_contrast(text: str, background: str) -> None:
    ratio = contrast(colour(text), colour(background))
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1 is below 4.5:1"


def test_the_focus_ring_stands_out_from_every_surface() -> None:
    for surface in ("bg", "panel"):  # non-text contrast (WCAG 1.4.11): 3:1
        assert contrast(colour("focus"), colour(surface)) >= 3.0
