"""Quiz item statistics and test summary, computed by Moodle's formulas.

Pure functions over plain data: no Flask, no database. An attempt is a mapping of item (slot) id to the mark
earned; an item that was not served in an attempt is simply absent from it. Each item's figures are computed over
the attempts that include it, and its "rest of test" mark is the attempt's total minus this item's mark.

The formulas follow Moodle (moodle/moodle, GPL-3.0; only the arithmetic is reproduced here):

* ``question/classes/statistics/questions/calculator.php`` -- per-item figures. Variances and covariances are
  sample ones (divided by n - 1). ``covariancemax`` pairs the item marks and the rest-of-test marks after sorting
  the two lists *independently* (the largest covariance any pairing of those marks could give), so discriminative
  efficiency = 100 * covariance / covariancemax. Effective weight = 100 * sqrt(cov(item, attempt total)) divided
  by the sum of sqrt(cov(item, attempt total)) over items whose covariance with the total is >= 0; an item whose
  covariance with the total is negative has no effective weight.
* ``mod/quiz/report/statistics/classes/calculator.php`` -- the test summary: median, sample standard deviation,
  skewness and kurtosis from k-statistics, and the coefficient of internal consistency
  cic = 100 * p / (p - 1) * (1 - sum of item mark variances / k2) with p the number of items (Cronbach's alpha
  as a percentage when every attempt gets every item), error ratio = 100 * sqrt(1 - cic / 100) and
  standard error = error ratio * sd / 100.

Units: ``facility`` and ``sd`` are fractions of the item's max mark (0-1, as Moodle's report shows them; note that
Moodle's stored ``sd`` field is in marks, which is the same thing when max mark is 1). Variances and covariances are
in marks. Discrimination index, discriminative efficiency and effective weight are percentages.

Deliberate differences from Moodle: a figure that cannot be computed is ``None`` rather than 0 -- an item seen in
fewer than two attempts gets no variance, covariance, index or effective weight (Moodle would give the effective
weight 0), and an item with max mark 0 gets no facility or sd. Marks equal to within floating-point noise count as
constant, so their variance is exactly 0 and no index is computed from rounding residue.
"""

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

#: Below this discrimination index (percent) an item is flagged as discriminating weakly.
LOW_DISCRIMINATION_THRESHOLD = 25.0

# Relative spread below which a list of marks counts as constant (absorbs float residue such as 0.1 + 0.2 - 0.1).
_CONSTANT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ItemStats:
    """Statistics of one item (quiz slot) over the attempts that included it."""

    slot: str
    max_mark: float
    n: int  # attempts that included the item
    mean_mark: float | None  # None when n == 0
    facility: float | None  # mean mark / max mark, 0-1; None when n == 0 or max mark is 0
    sd: float | None  # sample sd of the marks / max mark; None when n < 2 or max mark is 0
    mark_variance: float | None  # sample variance of the item marks, in marks; None when n < 2
    rest_variance: float | None  # sample variance of the rest-of-test marks; None when n < 2
    covariance: float | None  # sample covariance of item mark and rest-of-test mark; None when n < 2
    covariance_max: float | None  # Moodle's covariancemax (independently sorted pairing); None when n < 2
    covariance_with_total: float | None  # sample covariance of item mark and attempt total; None when n < 2
    discrimination_index: float | None  # 100 * cov / sqrt(var_item * var_rest); None if a variance is 0
    discriminative_efficiency: float | None  # 100 * cov / covariance_max; None when covariance_max is 0
    effective_weight: float | None  # percent; None for negative covariance with the total, or none at all
    low_discrimination: bool  # discrimination index below the threshold (False when there is no index)
    negative_discrimination: bool  # discrimination index below 0


def _clean_max_marks(max_marks: Mapping[str, float]) -> dict[str, float]:
    cleaned = {}
    for slot, value in max_marks.items():
        mark = float(value)
        if not math.isfinite(mark) or mark < 0:
            raise ValueError(f"max mark for item {slot!r} must be a finite number >= 0, got {value!r}")
        cleaned[slot] = mark
    return cleaned


def _clean_attempts(attempts: Sequence[Mapping[str, float]], slots: Mapping[str, float]) -> list[dict[str, float]]:
    cleaned = []
    for number, attempt in enumerate(attempts):
        row = {}
        for slot, value in attempt.items():
            if slot not in slots:
                raise ValueError(f"attempt {number} has a mark for unknown item {slot!r}")
            mark = float(value)
            if not math.isfinite(mark):
                raise ValueError(f"attempt {number} has a non-finite mark {value!r} for item {slot!r}")
            row[slot] = mark
        cleaned.append(row)
    return cleaned


def _is_constant(values: Sequence[float]) -> bool:
    low, high = min(values), max(values)
    return high - low <= _CONSTANT_TOLERANCE * max(1.0, abs(low), abs(high))


def _deviations(values: Sequence[float]) -> list[float]:
    """Deviations from the mean; exactly zero for (numerically) constant values."""
    if _is_constant(values):
        return [0.0] * len(values)
    mean = math.fsum(values) / len(values)
    return [value - mean for value in values]


def _sum_of_products(xs: Sequence[float], ys: Sequence[float]) -> float:
    return math.fsum(x * y for x, y in zip(xs, ys, strict=True))


def _item(slot: str, max_mark: float, marks: list[float], rests: list[float], totals: list[float],
          threshold: float) -> ItemStats:
    n = len(marks)
    mean_mark = math.fsum(marks) / n if n else None
    facility = mean_mark / max_mark if mean_mark is not None and max_mark > 0 else None
    sd = mark_variance = rest_variance = covariance = covariance_max = covariance_with_total = None
    discrimination_index = discriminative_efficiency = None
    if n >= 2:
        mark_dev, rest_dev, total_dev = _deviations(marks), _deviations(rests), _deviations(totals)
        mark_variance = _sum_of_products(mark_dev, mark_dev) / (n - 1)
        rest_variance = _sum_of_products(rest_dev, rest_dev) / (n - 1)
        covariance = _sum_of_products(mark_dev, rest_dev) / (n - 1)
        # Moodle sorts the marks and the rest-of-test marks separately and pairs them in that order.
        covariance_max = _sum_of_products(sorted(mark_dev), sorted(rest_dev)) / (n - 1)
        covariance_with_total = _sum_of_products(mark_dev, total_dev) / (n - 1)
        if max_mark > 0:
            sd = math.sqrt(mark_variance) / max_mark
        if mark_variance > 0 and rest_variance > 0:
            discrimination_index = 100 * covariance / math.sqrt(mark_variance * rest_variance)
        if covariance_max > 0:
            discriminative_efficiency = 100 * covariance / covariance_max
    return ItemStats(
        slot=slot, max_mark=max_mark, n=n, mean_mark=mean_mark, facility=facility, sd=sd,
        mark_variance=mark_variance, rest_variance=rest_variance, covariance=covariance,
        covariance_max=covariance_max, covariance_with_total=covariance_with_total,
        discrimination_index=discrimination_index, discriminative_efficiency=discriminative_efficiency,
        effective_weight=None,
        low_discrimination=discrimination_index is not None and discrimination_index < threshold,
        negative_discrimination=discrimination_index is not None and discrimination_index < 0,
    )


def item_statistics(attempts: Sequence[Mapping[str, float]], max_marks: Mapping[str, float], *,
                    low_discrimination_threshold: float = LOW_DISCRIMINATION_THRESHOLD) -> list[ItemStats]:
    """Per-item statistics, one ``ItemStats`` per key of ``max_marks`` and in that order.

    ``attempts`` holds one mapping of item id -> mark per attempt; items not served are absent. Every item id in an
    attempt must appear in ``max_marks``. Raises ``ValueError`` for unknown items, non-finite marks and negative or
    non-finite max marks.
    """
    maxima = _clean_max_marks(max_marks)
    rows = _clean_attempts(attempts, maxima)
    totals = [math.fsum(row.values()) for row in rows]
    items = []
    for slot, max_mark in maxima.items():
        marks, rests, slot_totals = [], [], []
        for row, total in zip(rows, totals, strict=True):
            if slot in row:
                marks.append(row[slot])
                rests.append(math.fsum(mark for other, mark in row.items() if other != slot))
                slot_totals.append(total)
        items.append(_item(slot, max_mark, marks, rests, slot_totals, low_discrimination_threshold))

    roots = {item.slot: math.sqrt(item.covariance_with_total) for item in items
             if item.covariance_with_total is not None and item.covariance_with_total >= 0}
    root_sum = math.fsum(roots.values())
    if root_sum > 0:
        items = [replace(item, effective_weight=100 * roots[item.slot] / root_sum) if item.slot in roots else item
                 for item in items]
    return items


def quiz_summary(attempts: Sequence[Mapping[str, float]], max_marks: Mapping[str, float], *,
                 items: Sequence[ItemStats] | None = None) -> dict[str, Any]:
    """Whole-test statistics of the attempt totals, as Moodle's quiz statistics report computes them.

    Returns a dict with ``n``, ``max_total``, ``mean``, ``median``, ``sd`` (sample), ``skewness``, ``kurtosis``,
    ``cic`` (coefficient of internal consistency, percent), ``error_ratio`` (percent) and ``standard_error`` (marks).
    Figures that cannot be computed are ``None``: sd needs 2 attempts, skewness and cic 3, kurtosis 4; skewness,
    kurtosis and cic also need totals that vary, and cic needs at least 2 items. ``items`` may pass the result of
    ``item_statistics`` for the same data to avoid computing it again.
    """
    maxima = _clean_max_marks(max_marks)
    rows = _clean_attempts(attempts, maxima)
    totals = [math.fsum(row.values()) for row in rows]
    s = len(totals)
    summary: dict[str, Any] = {
        "n": s, "max_total": math.fsum(maxima.values()), "mean": None, "median": None, "sd": None,
        "skewness": None, "kurtosis": None, "cic": None, "error_ratio": None, "standard_error": None,
    }
    if s == 0:
        return summary
    summary["mean"] = math.fsum(totals) / s
    summary["median"] = statistics.median(totals)
    if s < 2:
        return summary
    deviations = _deviations(totals)
    power2 = math.fsum(d**2 for d in deviations)
    summary["sd"] = math.sqrt(power2 / (s - 1))
    if s < 3:
        return summary
    m2, m3, m4 = power2 / s, math.fsum(d**3 for d in deviations) / s, math.fsum(d**4 for d in deviations) / s
    k2 = s * m2 / (s - 1)
    if k2 <= 0:
        return summary
    k3 = s * s * m3 / ((s - 1) * (s - 2))
    summary["skewness"] = k3 / k2**1.5
    if s > 3:
        k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
        summary["kurtosis"] = k4 / (k2 * k2)
    p = len(maxima)
    if p > 1:
        if items is None:
            items = item_statistics(rows, maxima)
        sum_of_mark_variance = math.fsum(item.mark_variance for item in items if item.mark_variance is not None)
        cic = (100 * p / (p - 1)) * (1 - sum_of_mark_variance / k2)
        summary["cic"] = cic
        if cic <= 100:  # cic can exceed 100 only in degenerate data; then the error ratio has no real value
            summary["error_ratio"] = 100 * math.sqrt(1 - cic / 100)
            summary["standard_error"] = summary["error_ratio"] * summary["sd"] / 100
    return summary
