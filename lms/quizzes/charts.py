"""Server-rendered SVG charts (no JavaScript). Every chart comes with a text alternative."""

from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Chart:
    svg: Markup
    summary: str  # one sentence for aria-label and for screen readers
    rows: list[tuple[str, str]]  # (date, score) for the table alternative


def score_chart(attempts, width: int = 640, height: int = 220, pass_mark: int = 70) -> Chart | None:
    """Practice exam scores over time as a line chart with the pass mark drawn across."""
    points = [(a.submitted_at, a.score_percent or 0.0) for a in attempts if a.submitted_at is not None]
    if not points:
        return None
    left, right, top, bottom = 44, 16, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(index: int) -> float:
        return left + (plot_w * index / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(score: float) -> float:
        return top + plot_h * (1 - score / 100)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
             f'aria-labelledby="chart-title"><title id="chart-title">Practice exam scores over time</title>']
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="#d5dbe1" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#56616d">{tick}%</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(pass_mark):.1f}" y2="{y(pass_mark):.1f}" '
                 f'stroke="#b3541e" stroke-width="1.5" stroke-dasharray="6 4"/>')
    parts.append(f'<text x="{width - right}" y="{y(pass_mark) - 4:.1f}" text-anchor="end" font-size="11" '
                 f'fill="#b3541e">pass mark {pass_mark}%</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(s):.1f}" for i, (_d, s) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#0b5d6b" stroke-width="2.5"/>')
    for i, (when, score) in enumerate(points):
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(score):.1f}" r="4" fill="#0b5d6b"><title>'
                     f'{escape(when.strftime("%Y-%m-%d"))}: {score:.0f}%</title></circle>')
    first, last = points[0][0].strftime("%b %d"), points[-1][0].strftime("%b %d")
    parts.append(f'<text x="{left}" y="{height - 8}" font-size="11" fill="#56616d">{first}</text>')
    if len(points) > 1:
        parts.append(f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="11" '
                     f'fill="#56616d">{last}</text>')
    parts.append("</svg>")
    scores = [s for _d, s in points]
    summary = (f"{len(points)} practice exam{'s' if len(points) != 1 else ''}: latest {scores[-1]:.0f}%, "
               f"best {max(scores):.0f}%, first {scores[0]:.0f}%.")
    rows = [(d.strftime("%Y-%m-%d %H:%M"), f"{s:.0f}%") for d, s in points]
    return Chart(Markup("".join(parts)), summary, rows)  # noqa: S704 - built from numbers and escaped dates only
