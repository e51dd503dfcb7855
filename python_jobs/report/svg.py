"""Tiny inline SVG charts, so the report needs no chart library, no CDN and no network.

Every chart is an `<svg class="chart">` whose marks carry `class="mark"`; the report's inline script counts
drawn marks to prove the charts rendered. Text is escaped; numbers are formatted here, once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
W, H = 440, 300
M = {"l": 56, "r": 16, "t": 40, "b": 44}


@dataclass(frozen=True)
class Series:
    label: str
    x: Sequence[float]
    y: Sequence[float]
    dashed: bool = False


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.2f}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 2.5, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step + 1e-9) + 1)]


class _Frame:
    """Maps data coordinates to pixels inside the margins and draws axes."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float, w: int = W, h: int = H) -> None:
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1
        self.w, self.h = w, h

    def px(self, x: float) -> float:
        return M["l"] + (x - self.x0) / (self.x1 - self.x0) * (self.w - M["l"] - M["r"])

    def py(self, y: float) -> float:
        return self.h - M["b"] - (y - self.y0) / (self.y1 - self.y0) * (self.h - M["t"] - M["b"])

    def axes(self, x_label: str, y_label: str, x_ticks: Sequence[tuple[float, str]] | None = None) -> str:
        out = [
            f'<line x1="{M["l"]}" y1="{self.h - M["b"]}" x2="{self.w - M["r"]}" y2="{self.h - M["b"]}" class="axis"/>',
            f'<line x1="{M["l"]}" y1="{M["t"]}" x2="{M["l"]}" y2="{self.h - M["b"]}" class="axis"/>',
        ]
        for t in _ticks(self.y0, self.y1):
            y = self.py(t)
            out.append(f'<line x1="{M["l"]}" y1="{y:.1f}" x2="{self.w - M["r"]}" y2="{y:.1f}" class="grid"/>')
            out.append(f'<text x="{M["l"] - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
        xt = x_ticks if x_ticks is not None else [(t, _fmt(t)) for t in _ticks(self.x0, self.x1)]
        for t, label in xt:
            x = self.px(t)
            out.append(
                f'<text x="{x:.1f}" y="{self.h - M["b"] + 16}" text-anchor="middle">{escape(label)}</text>'
            )
        out.append(
            f'<text x="{(M["l"] + self.w - M["r"]) / 2}" y="{self.h - 8}" text-anchor="middle" class="lab">'
            f"{escape(x_label)}</text>"
        )
        out.append(
            f'<text transform="rotate(-90)" x="{-(M["t"] + self.h - M["b"]) / 2}" y="14" text-anchor="middle" '
            f'class="lab">{escape(y_label)}</text>'
        )
        return "".join(out)


def _svg(title: str, body: str, w: int = W, h: int = H) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="8" y="16" class="ttl">{escape(title)}</text>{body}</svg>'
    )


def _legend(labels: Sequence[str], w: int = W, colors: Sequence[str] = PALETTE) -> str:
    out = []
    x = w - M["r"] - 4
    for i, label in reversed(list(enumerate(labels))):
        width = 14 + 7.0 * len(label)
        x -= width
        out.append(
            f'<rect x="{x:.0f}" y="22" width="10" height="10" fill="{colors[i % len(colors)]}"/>'
            f'<text x="{x + 13:.0f}" y="31">{escape(label)}</text>'
        )
    return "".join(out)


def _legend_width(labels: Sequence[str]) -> float:
    return sum(14 + 7.0 * len(lab) for lab in labels)


def _legend_rows(labels: Sequence[str], y0: float, w: int = W) -> tuple[str, int]:
    """Legend wrapped left to right under the chart; returns the SVG and the height it needs."""
    out, x, y = [], float(M["l"]), y0
    for i, label in enumerate(labels):
        width = 14 + 7.0 * len(label)
        if x + width > w - M["r"] and x > M["l"]:
            x, y = float(M["l"]), y + 15
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 13:.0f}" y="{y + 9:.0f}">{escape(label)}</text>'
        )
        x += width
    return "".join(out), int(y - y0 + 18)


def empty_chart(title: str, message: str) -> str:
    body = f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" class="muted">{escape(message)}</text>'
    return _svg(title, body).replace('class="chart"', 'class="chart empty"')


def line_chart(
    title: str,
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    *,
    diagonal: bool = False,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    markers: bool = False,
    reference_y: float | None = None,
) -> str:
    """Lines (one per series); `diagonal` draws y = x (ROC chance line, perfect calibration)."""
    series = [s for s in series if len(s.x)]
    if not series:
        return empty_chart(title, "no data")
    xs = [v for s in series for v in s.x]
    ys = [v for s in series for v in s.y]
    x0, x1 = x_range or (min(xs), max(xs))
    y0, y1 = y_range or (min(0.0, min(ys)), max(ys) * 1.05 if max(ys) > 0 else 1.0)
    f = _Frame(x0, x1, y0, y1)
    body = [f.axes(x_label, y_label, x_ticks)]
    if diagonal:
        body.append(
            f'<line x1="{f.px(x0):.1f}" y1="{f.py(x0):.1f}" x2="{f.px(x1):.1f}" y2="{f.py(x1):.1f}" class="ref"/>'
        )
    if reference_y is not None:
        y = f.py(reference_y)
        body.append(f'<line x1="{f.px(x0):.1f}" y1="{y:.1f}" x2="{f.px(x1):.1f}" y2="{y:.1f}" class="ref"/>')
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in zip(s.x, s.y, strict=True))
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        body.append(
            f'<polyline class="mark" fill="none" stroke="{color}" stroke-width="2"{dash} points="{pts}">'
            f"<title>{escape(s.label)}</title></polyline>"
        )
        if markers:
            for x, y in zip(s.x, s.y, strict=True):
                body.append(
                    f'<circle class="mark" cx="{f.px(x):.1f}" cy="{f.py(y):.1f}" r="3" fill="{color}">'
                    f"<title>{escape(s.label)}: {_fmt(x)}, {_fmt(y)}</title></circle>"
                )
    labels = [s.label for s in series]
    if _legend_width(labels) <= W - 8 - 7.5 * len(title) - M["r"]:
        body.append(_legend(labels))
        return _svg(title, "".join(body))
    legend, extra = _legend_rows(labels, H + 2)
    body.append(legend)
    return _svg(title, "".join(body), h=H + extra)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    x_label: str,
    y_label: str,
    colors: Sequence[str] | None = None,
    legend: Sequence[tuple[str, str]] | None = None,
) -> str:
    """Vertical bars, one per label (a histogram when labels are bin edges)."""
    if not len(values):
        return empty_chart(title, "no data")
    n = len(values)
    f = _Frame(0, n, 0, max(max(values) * 1.08, 1e-9))
    step = max(1, n // 8)
    ticks = [(i + 0.5, str(labels[i])) for i in range(0, n, step)]
    body = [f.axes(x_label, y_label, ticks)]
    bw = (f.px(1) - f.px(0)) * 0.85
    for i, v in enumerate(values):
        color = (colors or PALETTE)[i % len(colors or PALETTE)] if colors else PALETTE[0]
        y = f.py(v)
        body.append(
            f'<rect class="mark" x="{f.px(i) + bw * 0.08:.1f}" y="{y:.1f}" width="{bw:.1f}" '
            f'height="{max(0.0, f.py(0) - y):.1f}" fill="{color}"><title>{escape(str(labels[i]))}: '
            f"{_fmt(v)}</title></rect>"
        )
    if legend:
        body.append(_legend([lab for lab, _ in legend], colors=[c for _, c in legend]))
    return _svg(title, "".join(body))


def _heat_color(z: float) -> str:
    """Diverging blue (low) - white - red (high) for z in [-1, 1]."""
    z = max(-1.0, min(1.0, z))
    if z >= 0:
        return f"rgb(255,{int(255 - 140 * z)},{int(255 - 160 * z)})"
    return f"rgb({int(255 + 150 * z)},{int(255 + 90 * z)},255)"


def heatmap(
    title: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    cell_text: Sequence[Sequence[str]] | None = None,
) -> str:
    """Rows x columns; each column coloured by its own scale (z-score across rows), cells annotated."""
    if not len(row_labels) or not len(col_labels):
        return empty_chart(title, "no data")
    left = 12 + 6.2 * max(len(r) for r in row_labels)
    cw, ch, top = 78, 26, 74
    w = int(left + cw * len(col_labels) + 10)
    h = int(top + ch * len(row_labels) + 10)
    body = []
    for j, c in enumerate(col_labels):
        x = left + cw * j + cw / 2
        body.append(
            f'<text x="{x:.0f}" y="{top - 8}" text-anchor="start" transform="rotate(-30 {x:.0f} {top - 8})">'
            f"{escape(c)}</text>"
        )
    for j in range(len(col_labels)):
        col = [r[j] for r in values if r[j] is not None and not math.isnan(r[j])]
        mu = sum(col) / len(col) if col else 0.0
        sd = math.sqrt(sum((v - mu) ** 2 for v in col) / len(col)) if col else 0.0
        for i, row in enumerate(values):
            v = row[j]
            missing = v is None or math.isnan(v)
            z = 0.0 if missing or sd == 0 else (v - mu) / (2 * sd)
            text = "" if missing else (cell_text[i][j] if cell_text else _fmt(v))
            x, y = left + cw * j, top + ch * i
            body.append(
                f'<rect class="mark" x="{x:.0f}" y="{y}" width="{cw - 2}" height="{ch - 2}" '
                f'fill="{"#eee" if missing else _heat_color(z)}"><title>{escape(row_labels[i])} / '
                f"{escape(col_labels[j])}: {escape(text)}</title></rect>"
                f'<text x="{x + cw / 2 - 1:.0f}" y="{y + 17}" text-anchor="middle">{escape(text)}</text>'
            )
    for i, r in enumerate(row_labels):
        body.append(f'<text x="{left - 6:.0f}" y="{top + ch * i + 17}" text-anchor="end">{escape(r)}</text>')
    body.append(f'<text x="4" y="18" class="ttl">{escape(title)}</text>')
    return (
        f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def interval_chart(
    title: str,
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    x_label: str,
    *,
    reference: float = 0.0,
    truth: Sequence[float | None] | None = None,
) -> str:
    """Forest plot: a point and its interval per row, a reference line, optional true values as diamonds."""
    if not len(labels):
        return empty_chart(title, "no data")
    left = 12 + 6.2 * max(len(lab) for lab in labels)
    row_h = 26
    h = int(M["t"] + 20 + row_h * len(labels) + M["b"])
    w = max(W, int(left + 320))
    pts = [*lows, *highs, reference, *[t for t in (truth or []) if t is not None]]
    lo, hi = min(pts), max(pts)
    pad = (hi - lo) * 0.08 or 0.01
    x0, x1 = lo - pad, hi + pad

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (w - left - M["r"])

    body = []
    base = h - M["b"]
    for t in _ticks(x0, x1):
        x = px(t)
        body.append(f'<line x1="{x:.1f}" y1="{M["t"]}" x2="{x:.1f}" y2="{base}" class="grid"/>')
        body.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{_fmt(t)}</text>')
    body.append(
        f'<line x1="{px(reference):.1f}" y1="{M["t"]}" x2="{px(reference):.1f}" y2="{base}" class="ref"/>'
    )
    for i, lab in enumerate(labels):
        y = M["t"] + 20 + row_h * i
        est, lo_, hi_ = estimates[i], lows[i], highs[i]
        tip = f"{lab}: {est:+.3f} [{lo_:+.3f}, {hi_:+.3f}]"
        body.append(f'<text x="{left - 8:.0f}" y="{y + 4}" text-anchor="end">{escape(lab)}</text>')
        body.append(
            f'<line class="mark" x1="{px(lo_):.1f}" y1="{y}" x2="{px(hi_):.1f}" y2="{y}" stroke="{PALETTE[0]}" '
            f'stroke-width="2"><title>{escape(tip)}</title></line>'
            f'<circle class="mark" cx="{px(est):.1f}" cy="{y}" r="4.5" fill="{PALETTE[0]}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        if truth is not None and truth[i] is not None:
            x = px(truth[i])
            body.append(
                f'<path class="mark" d="M{x:.1f},{y - 6} l6,6 l-6,6 l-6,-6 z" fill="none" stroke="{PALETTE[1]}" '
                f'stroke-width="1.5"><title>planted effect {truth[i]:+.3f}</title></path>'
            )
    body.append(
        f'<text x="{(left + w - M["r"]) / 2:.0f}" y="{h - 8}" text-anchor="middle" class="lab">{escape(x_label)}</text>'
    )
    if truth is not None:
        body.append(_legend(["measured (95% CI)", "planted"], w=w))
    return _svg(title, "".join(body), w=w, h=h)
