"""Server-side SVG charts: no JavaScript, no charting library, nothing fetched.

Each chart is an ``<svg role="img">`` with a ``<title>``, a ``<desc>`` and an
``aria-label`` summarising it; the report templates put the same numbers in a
data table beside it. Colours come from CSS variables (``static/admin/reports.css``)
and text/axes use ``currentColor``, so one drawing reads in light and dark mode.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Series", "Threshold", "bar_chart", "line_chart", "percent", "integer"]

_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Threshold:
    value: float
    label: str


def percent(value: float) -> str:
    return f"{value:.2%}" if 0 < value < 0.01 else f"{value:.1%}"


def integer(value: float) -> str:
    return f"{value:,.0f}"


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int = 56
    right: int = 36
    top: int = 12
    bottom: int = 44

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top: float) -> float:
        return self.top + self.plot_h * (1 - (value / top if top else 0))


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value * (1 - 1e-9):
            return step * magnitude
    return 10 * magnitude


def _axis_top(peak: float, fmt: Callable[[float], str]) -> float:
    """Four gridline steps of a round size: ticks read 0, 10, 20... not 12.5
    (and whole steps for counts)."""
    step = _nice_top(peak / 4)
    if fmt is integer:
        step = max(1.0, float(math.ceil(step)))
    return 4 * step


def _open(title: str, desc: str, frame: _Frame, css: str) -> tuple[str, list[str]]:
    n = next(_ids)
    title_id, desc_id = f"chart-{n}-title", f"chart-{n}-desc"
    parts = [
        f'<svg class="chart {css}" role="img" aria-label="{escape(title)}: {escape(desc)}" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {frame.width} {frame.height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>',
    ]
    return title_id, parts


def _axes(
    parts: list[str], frame: _Frame, top: float, fmt: Callable[[float], str], labels: Sequence[str], xs: Sequence[float]
) -> None:
    for i in range(5):
        value = top * i / 4
        y = frame.y(value, top)
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>'
        )
    every = max(1, -(-len(labels) // 12))  # at most ~12 x labels
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{frame.height - frame.bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    base = frame.y(0, top)
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base:.1f}" y2="{base:.1f}"/>'
    )


def _thresholds(parts: list[str], frame: _Frame, top: float, thresholds: Sequence[Threshold]) -> None:
    for threshold in thresholds:
        y = frame.y(threshold.value, top)
        parts.append(
            f'<line class="threshold" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"><title>{escape(threshold.label)}</title></line>'
        )
        parts.append(
            f'<text class="threshold-label" x="{frame.width - frame.right - 4}" y="{y - 4:.1f}" '
            f'text-anchor="end">{escape(threshold.label)}</text>'
        )


def _legend(parts: list[str], frame: _Frame, series: Sequence[Series]) -> None:
    x = frame.left
    y = frame.height - 10
    for index, item in enumerate(series, start=1):
        parts.append(f'<rect class="series-{index}" x="{x}" y="{y - 9}" width="10" height="10"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="{y}">{escape(item.name)}</text>')
        x += 24 + 7 * len(item.name)


def _start(
    title: str,
    desc: str,
    width: int,
    height: int,
    css: str,
    series: Sequence[Series],
    thresholds: Sequence[Threshold],
    fmt: Callable[[float], str],
) -> tuple[_Frame, list[str], float]:
    """The SVG opening and a value axis tall enough for every value and threshold line."""
    frame = _Frame(width, height)
    _, parts = _open(title, desc, frame, css)
    peak = max([v for s in series for v in s.values] + [t.value * 1.25 for t in thresholds] + [0])
    return frame, parts, _axis_top(peak, fmt)


def _finish(
    parts: list[str], frame: _Frame, top: float, thresholds: Sequence[Threshold], series: Sequence[Series]
) -> Markup:
    """Threshold lines and legend over the plotted data, then the closed SVG."""
    _thresholds(parts, frame, top, thresholds)
    _legend(parts, frame, series)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)


def bar_chart(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = integer,
    thresholds: Sequence[Threshold] = (),
    width: int = 640,
    height: int = 240,
    css: str = "",
) -> Markup:
    """Grouped vertical bars, one group per label, one colour per series."""
    frame, parts, top = _start(title, desc, width, height, css, series, thresholds, fmt)
    slot = frame.plot_w / max(1, len(labels))
    bar_w = max(1.0, slot * 0.8 / max(1, len(series)))
    xs = [frame.left + slot * (i + 0.5) for i in range(len(labels))]
    _axes(parts, frame, top, fmt, labels, xs)
    for index, item in enumerate(series, start=1):
        for i, value in enumerate(item.values):
            x = frame.left + slot * i + slot * 0.1 + bar_w * (index - 1)
            y = frame.y(value, top)
            h = frame.y(0, top) - y
            parts.append(
                f'<rect class="series-{index}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0):.1f}"><title>{escape(item.name)}, {escape(labels[i])}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    return _finish(parts, frame, top, thresholds, series)


def line_chart(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = integer,
    thresholds: Sequence[Threshold] = (),
    width: int = 640,
    height: int = 240,
    css: str = "",
) -> Markup:
    """One polyline per series over evenly spaced labels (hours, weeks)."""
    frame, parts, top = _start(title, desc, width, height, css, series, thresholds, fmt)
    count = max(1, len(labels) - 1)
    xs = [frame.left + frame.plot_w * i / count for i in range(len(labels))]
    _axes(parts, frame, top, fmt, labels, xs)
    for index, item in enumerate(series, start=1):
        points = " ".join(f"{x:.1f},{frame.y(v, top):.1f}" for x, v in zip(xs, item.values, strict=True))
        parts.append(f'<polyline class="line series-{index}" points="{points}"/>')
        if len(item.values) <= 60:
            for x, value, label in zip(xs, item.values, labels, strict=True):
                parts.append(
                    f'<circle class="series-{index}" cx="{x:.1f}" cy="{frame.y(value, top):.1f}" '
                    f'r="2.5"><title>{escape(item.name)}, {escape(label)}: '
                    f"{escape(fmt(value))}</title></circle>"
                )
    return _finish(parts, frame, top, thresholds, series)
