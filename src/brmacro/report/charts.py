"""Small inline-SVG charts for the report (no JavaScript, no external files).

Every function returns :class:`markupsafe.Markup` holding a complete ``<svg>`` element; every
label drawn comes from data and is escaped here. Nothing is drawn from made-up data: a chart
with no finite point returns an empty Markup and the caller says which input is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Line", "bar_chart", "line_chart"]

_PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000")
_W, _H = 640, 240
_ML, _MR, _MT, _MB = 64, 16, 24, 40


@dataclass(frozen=True)
class Line:
    """One series of a line chart: ``x`` positions (numbers) and ``y`` values (NaN = gap)."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi == lo:
        return [lo]
    return [lo + (hi - lo) * i / n for i in range(n + 1)]


def _span(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi == lo:
        pad = abs(lo) * 0.05 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def line_chart(
    lines: Sequence[Line],
    *,
    title: str,
    y_fmt: Callable[[float], str],
    x_labels: Sequence[tuple[float, str]] = (),
) -> Markup:
    """An SVG line chart.

    Parameters
    ----------
    lines : sequence of Line
        Series to draw (same x axis).
    title : str
        Chart title (escaped).
    y_fmt : callable
        Formats a y tick value for display (e.g. as a percentage).
    x_labels : sequence of (x, label)
        Tick positions and labels of the x axis (escaped).

    Returns
    -------
    Markup
        The ``<svg>`` element, or an empty Markup when no series has a finite point.
    """
    pts = [(float(x), float(y)) for ln in lines for x, y in zip(ln.x, ln.y, strict=True) if math.isfinite(float(y))]
    if not pts:
        return Markup("")
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    if x1 == x0:
        x1 = x0 + 1.0
    y0, y1 = _span([p[1] for p in pts])
    pw, ph = _W - _ML - _MR, _H - _MT - _MB

    def sx(x: float) -> float:
        return _ML + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return _MT + (1.0 - (y - y0) / (y1 - y0)) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{_ML}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{_ML}" y="{_MT}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>',
    ]
    for t in _ticks(y0, y1):
        y = sy(t)
        out.append(f'<line x1="{_ML}" x2="{_ML + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{_ML - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{escape(y_fmt(t))}</text>')
    for x, lab in x_labels:
        xx = sx(float(x))
        out.append(f'<text x="{xx:.1f}" y="{_MT + ph + 14}" font-size="10" text-anchor="middle">{escape(lab)}</text>')
    for i, ln in enumerate(lines):
        color = _PALETTE[i % len(_PALETTE)]
        seg: list[str] = []
        paths: list[list[str]] = []
        for x, y in zip(ln.x, ln.y, strict=True):
            if math.isfinite(float(y)):
                seg.append(f"{sx(float(x)):.1f},{sy(float(y)):.1f}")
            elif seg:
                paths.append(seg)
                seg = []
        if seg:
            paths.append(seg)
        for p in paths:
            if len(p) == 1:
                cx, cy = p[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
            else:
                out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{" ".join(p)}"/>')
        ly = _H - 8
        lx = _ML + i * 160
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="3" fill="{color}"/>')
        out.append(f'<text x="{lx + 14}" y="{ly - 4}" font-size="10">{escape(ln.label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    y_fmt: Callable[[float], str],
    ref: tuple[float, str] | None = None,
) -> Markup:
    """An SVG bar chart (one bar per label; NaN bars are left out).

    Parameters
    ----------
    labels, values : sequence
        Bar labels (escaped) and heights.
    title : str
        Chart title.
    y_fmt : callable
        Formats axis values.
    ref : (float, str), optional
        A horizontal reference line (e.g. a limit) and its label.
    """
    pairs = [(str(lab), float(v)) for lab, v in zip(labels, values, strict=True) if math.isfinite(float(v))]
    if not pairs:
        return Markup("")
    vals = [v for _, v in pairs] + [0.0] + ([ref[0]] if ref is not None else [])
    y0, y1 = _span(vals)
    pw, ph = _W - _ML - _MR, _H - _MT - _MB

    def sy(y: float) -> float:
        return _MT + (1.0 - (y - y0) / (y1 - y0)) * ph

    bw = pw / len(pairs)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{_ML}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{_ML}" y="{_MT}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>',
    ]
    for t in _ticks(y0, y1):
        y = sy(t)
        out.append(f'<line x1="{_ML}" x2="{_ML + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{_ML - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{escape(y_fmt(t))}</text>')
    zero = sy(0.0)
    for i, (lab, v) in enumerate(pairs):
        x = _ML + i * bw + bw * 0.15
        top, bottom = (sy(v), zero) if v >= 0 else (zero, sy(v))
        color = _PALETTE[0] if v >= 0 else _PALETTE[1]
        out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bw * 0.7:.1f}" height="{max(bottom - top, 0.5):.1f}" '
                   f'fill="{color}"/>')
        out.append(f'<text x="{x + bw * 0.35:.1f}" y="{_MT + ph + 14}" font-size="10" text-anchor="middle">'
                   f"{escape(lab)}</text>")
    if ref is not None:
        y = sy(ref[0])
        out.append(f'<line x1="{_ML}" x2="{_ML + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c00" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{_ML + pw - 2}" y="{y - 3:.1f}" font-size="10" text-anchor="end" fill="#c00">'
                   f"{escape(ref[1])}</text>")
    out.append("</svg>")
    return Markup("".join(out))
