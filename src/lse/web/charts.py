"""Charts drawn on the server as inline SVG.

Why not a JavaScript chart library: an SVG built here shows without JavaScript, prints,
goes into the one-file report as it is, and carries its numbers in the markup (a
`<title>` tooltip and `data-value` on every bar), which is what the browser tests and
screen readers read. The three shapes the viewer needs — stacked bars over days,
paired horizontal bars, a histogram — are a few dozen lines each. Colours come from
CSS classes (`s-0`, `s-1` …) so the page's stylesheet themes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = 11


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    css: str  # e.g. "s-pass"


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    exp = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * exp >= value:
            return float(step * exp)
    return float(10 * exp)


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for s in series:
        out.append(f'<rect class="{escape(s.css)}" x="{_fmt(x)}" y="{_fmt(y - 9)}" width="10" height="10"/>')
        out.append(f'<text x="{_fmt(x + 14)}" y="{_fmt(y)}">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return out


def _open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-t" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-size="{FONT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]


def stacked_bars(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """One stacked bar per label (e.g. verdicts per day); empty input draws an empty frame."""
    width, height, left, bottom, top = 720, 260, 44, 52, 28
    plot_w, plot_h = width - left - 12, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    ymax = _nice_max(max(totals, default=0))
    parts = _open(chart_id, title, width, height)
    parts += _legend(series, left, 14)
    for k in range(5):  # gridlines and y ticks
        v = ymax * k / 4
        y = top + plot_h - plot_h * v / ymax
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>')
        parts.append(f'<text class="tick" x="{left - 4}" y="{_fmt(y + 4)}" text-anchor="end">{_fmt(v)}</text>')
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(min(slot * 0.7, 48), 1)
    every = max(1, round(n / 12))  # at most ~12 x labels
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for s in series:
            v = s.values[i]
            if v <= 0:
                continue
            h = plot_h * v / ymax
            y -= h
            parts.append(
                f'<rect class="bar {escape(s.css)}" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar_w)}" '
                f'height="{_fmt(h)}" data-label="{escape(label)}" data-series="{escape(s.name)}" '
                f'data-value="{_fmt(v)}"><title>{escape(label)} {escape(s.name)}: {_fmt(v)}</title></rect>'
            )
        if i % every == 0:
            cx = left + slot * i + slot / 2
            parts.append(
                f'<text class="tick" x="{_fmt(cx)}" y="{top + plot_h + 14}" text-anchor="end" '
                f'transform="rotate(-35 {_fmt(cx)} {top + plot_h + 14})">{escape(label)}</text>'
            )
    parts.append(f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_hbars(
    chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series], *, unit: str = "%"
) -> Markup:
    """Horizontal bars, one group per label with a bar per series (e.g. share of FAIL and
    of PASS verdicts on which each criterion was true); values are 0..100 for `%`."""
    row_h = 12 * len(series) + 10
    left, top, width = 150, 28, 720
    plot_w = width - left - 60
    height = top + row_h * max(len(labels), 1) + 10
    vmax = 100.0 if unit == "%" else _nice_max(max((max(s.values, default=0) for s in series), default=0))
    parts = _open(chart_id, title, width, height)
    parts += _legend(series, left, 14)
    for i, label in enumerate(labels):
        y0 = top + row_h * i + 4
        parts.append(f'<text x="{left - 6}" y="{_fmt(y0 + row_h / 2)}" text-anchor="end">{escape(label)}</text>')
        for j, s in enumerate(series):
            v = s.values[i]
            w = plot_w * v / vmax if vmax else 0
            y = y0 + 12 * j
            parts.append(
                f'<rect class="bar {escape(s.css)}" x="{left}" y="{_fmt(y)}" width="{_fmt(max(w, 0))}" height="10" '
                f'data-label="{escape(label)}" data-series="{escape(s.name)}" data-value="{_fmt(v)}">'
                f"<title>{escape(label)} — {escape(s.name)}: {_fmt(v)}{escape(unit)}</title></rect>"
            )
            parts.append(
                f'<text class="tick" x="{_fmt(left + w + 4)}" y="{_fmt(y + 9)}">{_fmt(v)}{escape(unit)}</text>'
            )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{height - 6}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Bins:
    edges: list[float]  # len(counts) + 1
    counts: list[list[int]]  # one list per series


def bin_scores(series: Sequence[Sequence[float]], *, bins: int = 20) -> Bins:
    """Equal-width bins over [0, 1], widened to [-1, 1] if any score is negative (cosine)."""
    lo = -1.0 if any(v < 0 for s in series for v in s) else 0.0
    width = (1.0 - lo) / bins
    edges = [round(lo + width * i, 6) for i in range(bins + 1)]
    counts = []
    for values in series:
        c = [0] * bins
        for v in values:
            idx = min(int((min(max(v, lo), 1.0) - lo) / width), bins - 1)
            c[idx] += 1
        counts.append(c)
    return Bins(edges=edges, counts=counts)


def histogram(chart_id: str, title: str, bins: Bins, names: Sequence[str], css: Sequence[str]) -> Markup:
    """Bars per score bin, side by side when there are several series (two runs compared)."""
    width, height, left, bottom, top = 720, 240, 44, 40, 28
    plot_w, plot_h = width - left - 12, height - top - bottom
    n = len(bins.edges) - 1
    ymax = _nice_max(max((max(c, default=0) for c in bins.counts), default=0))
    parts = _open(chart_id, title, width, height)
    parts += _legend([Series(nm, [], c) for nm, c in zip(names, css, strict=True)], left, 14)
    for k in range(5):
        v = ymax * k / 4
        y = top + plot_h - plot_h * v / ymax
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>')
        parts.append(f'<text class="tick" x="{left - 4}" y="{_fmt(y + 4)}" text-anchor="end">{_fmt(v)}</text>')
    slot = plot_w / n
    bar_w = slot * 0.9 / max(len(bins.counts), 1)
    for i in range(n):
        lo, hi = bins.edges[i], bins.edges[i + 1]
        label = f"{lo:.2f}–{hi:.2f}"
        for j, counts in enumerate(bins.counts):
            v = counts[i]
            if v <= 0:
                continue
            h = plot_h * v / ymax
            x = left + slot * i + slot * 0.05 + bar_w * j
            parts.append(
                f'<rect class="bar {escape(css[j])}" x="{_fmt(x)}" y="{_fmt(top + plot_h - h)}" '
                f'width="{_fmt(bar_w)}" height="{_fmt(h)}" data-label="{label}" data-series="{escape(names[j])}" '
                f'data-value="{v}"><title>{escape(names[j])} score {label}: {v}</title></rect>'
            )
    for i in range(0, n + 1, max(1, n // 10)):
        x = left + slot * i
        parts.append(
            f'<text class="tick" x="{_fmt(x)}" y="{top + plot_h + 14}" text-anchor="middle">{bins.edges[i]:.1f}</text>'
        )
    parts.append(f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    parts.append(
        f'<text class="tick" x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">score (cosine similarity)</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
