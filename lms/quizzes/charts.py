"""The trainee's practice-exam scores over time."""

from lms.charts import Chart, line_chart


def score_chart(attempts, pass_mark: int = 70) -> Chart | None:
    points = [(a.submitted_at, a.score_percent or 0.0) for a in attempts if a.submitted_at is not None]
    if not points:
        return None
    svg = line_chart([(when.strftime("%b %d"), score) for when, score in points],
                     "Practice exam scores over time", 100, reference=(pass_mark, f"pass mark {pass_mark}%"))
    scores = [score for _when, score in points]
    summary = (f"{len(points)} practice exam{'s' if len(points) != 1 else ''}: latest {scores[-1]:.0f}%, "
               f"best {max(scores):.0f}%, first {scores[0]:.0f}%.")
    return Chart(svg, summary, [(when.strftime("%Y-%m-%d %H:%M"), f"{score:.0f}%") for when, score in points])
