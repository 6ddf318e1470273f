"""Server-rendered SVG charts (no JavaScript, allowed by the CSP). Each comes with a text alternative."""

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

INK, MUTED, GRID, BRAND, ACCENT = "#1d2630", "#56616d", "#d5dbe1", "#0b5d6b", "#b3541e"


@dataclass(frozen=True)
class Chart:
    svg: Markup
    summary: str  # one sentence: the figure's caption and its accessible name
    rows: list[tuple[str, str]]  # the data as a table, for anyone who cannot see the chart


def _frame(title: str, width: int, height: int) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>']


def line_chart(points: list[tuple[str, float]], title: str, y_max: float, unit: str = "%",
               reference: tuple[float, str] | None = None, width: int = 640, height: int = 220) -> Markup:
    """A line through (label, value) points, with y gridlines and an optional dashed reference line."""
    left, right, top, bottom = 48, 16, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    if not unit.endswith("%"):  # counts: whole-number gridlines
        y_max = max(4, -(-int(y_max) // 4) * 4)
    y_max = y_max or 1

    def x(index: int) -> float:
        return left + (plot_w * index / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    parts = _frame(title, width, height)
    for step in range(5):
        tick = y_max * step / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{MUTED}">{tick:.0f}{escape(unit)}</text>')
    if reference is not None:
        value, label = reference
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{ACCENT}" stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{width - right}" y="{y(value) - 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{ACCENT}">{escape(label)}</text>')
    if points:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, (_l, v) in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{BRAND}" stroke-width="2.5"/>')
        for i, (label, value) in enumerate(points):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{BRAND}"><title>'
                         f'{escape(label)}: {value:.0f}{escape(unit)}</title></circle>')
        parts.append(f'<text x="{left}" y="{height - 8}" font-size="11" fill="{MUTED}">{escape(points[0][0])}</text>')
        if len(points) > 1:
            parts.append(f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="11" '
                         f'fill="{MUTED}">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is a number or escaped


def bar_chart(bars: list[tuple[str, int]], title: str, width: int = 640, height: int = 220) -> Markup:
    """Vertical bars for (label, count) pairs, e.g. a score distribution."""
    left, right, top, bottom = 40, 12, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((count for _l, count in bars), default=0) or 1
    slot = plot_w / max(len(bars), 1)
    parts = _frame(title, width, height)
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>')
    for index, (label, count) in enumerate(bars):
        bar_h = plot_h * count / peak
        x0 = left + index * slot + slot * 0.15
        parts.append(f'<rect x="{x0:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{bar_h:.1f}" fill="{BRAND}"><title>{escape(label)}: {count}</title></rect>')
        parts.append(f'<text x="{x0 + slot * 0.35:.1f}" y="{top + plot_h - bar_h - 4:.1f}" text-anchor="middle" '
                     f'font-size="11" fill="{INK}">{count}</text>')
        parts.append(f'<text x="{x0 + slot * 0.35:.1f}" y="{height - 12}" text-anchor="middle" font-size="11" '
                     f'fill="{MUTED}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is a number or escaped
