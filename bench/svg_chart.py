"""Grouped bar charts as plain SVG text, with no dependency (for bench/llm_bench.py).

    svg = svg_chart.grouped_bars(title, series, panels)

series: [(name, colour)], one bar per series in every group;
panels: [{"title": str, "groups": [label], "values": {name: [value per group]},
          "lines": [(label, value)]}] drawn side by side, each with its own scale from
zero; a panel's "lines" are dashed horizontal references (a roofline) across it.
A value of None draws no bar. Every bar is labelled with its value.
"""
import math
from xml.sax.saxutils import escape

PANEL_W, PANEL_H, TOP, BOTTOM, LEFT, GAP = 340, 260, 56, 48, 56, 24


def _axis(v):
    """(top, step) of a value axis from zero that holds v > 0: step is 1, 2 or 5 times a
    power of ten, and there are at most 5 steps."""
    raw = v / 5
    p = 10 ** math.floor(math.log10(raw))
    step = next(m * p for m in (1, 2, 5, 10) if m * p >= raw)
    return step * math.ceil(v / step), step


def _axis_of(panel):
    vals = [v for vs in panel["values"].values() for v in vs if v is not None]
    vals += [v for _, v in panel.get("lines", [])]
    return _axis((max(vals, default=1.0) or 1.0) * 1.08)


def _fmt(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _panel(out, x0, panel, series):
    vmax, step = _axis_of(panel)
    y = lambda v: TOP + PANEL_H * (1 - v / vmax)
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{TOP - 14}" text-anchor="middle" '
               f'font-weight="bold">{escape(panel["title"])}</text>')
    for k in range(round(vmax / step) + 1):
        v = k * step
        out.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
                   f'font-size="11">{v:g}</text>')
    groups = panel["groups"]
    gw = PANEL_W / len(groups)
    bw = gw * 0.8 / len(series)
    for g, label in enumerate(groups):
        gx = x0 + g * gw + gw * 0.1
        for s, (name, colour) in enumerate(series):
            v = panel["values"].get(name, [None] * len(groups))[g]
            if v is None:
                continue
            bx = gx + s * bw
            out.append(f'<rect x="{bx:.1f}" y="{y(v):.1f}" width="{bw - 2:.1f}" '
                       f'height="{TOP + PANEL_H - y(v):.1f}" fill="{colour}"/>')
            out.append(f'<text x="{bx + bw / 2 - 1:.1f}" y="{y(v) - 4:.1f}" text-anchor="middle" '
                       f'font-size="10">{_fmt(v)}</text>')
        out.append(f'<text x="{x0 + g * gw + gw / 2:.1f}" y="{TOP + PANEL_H + 18}" '
                   f'text-anchor="middle">{escape(label)}</text>')
    for label, v in panel.get("lines", []):
        out.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   'stroke="#c00" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{x0 + PANEL_W - 4}" y="{y(v) - 5:.1f}" text-anchor="end" '
                   f'font-size="11" fill="#c00">{escape(label)} {_fmt(v)}</text>')
    out.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{TOP + PANEL_H}" y2="{TOP + PANEL_H}" '
               'stroke="#333"/>')


def grouped_bars(title, series, panels):
    """The chart as an SVG document (a str)."""
    width = LEFT + len(panels) * (PANEL_W + LEFT + GAP)
    height = TOP + PANEL_H + BOTTOM + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" '
           f'font-weight="bold">{escape(title)}</text>']
    for i, panel in enumerate(panels):
        _panel(out, LEFT + i * (PANEL_W + LEFT + GAP), panel, series)
    lx = LEFT
    for name, colour in series:
        out.append(f'<rect x="{lx}" y="{height - 22}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{height - 12}">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    out.append("</svg>")
    return "\n".join(out) + "\n"
