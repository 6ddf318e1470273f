"""Item statistics against Moodle's own fixture (results00.csv -> qstats00.csv) and on edge cases."""

import csv
import math
import random
import re
import statistics
from pathlib import Path

import pytest

from lms.quizzes.stats import LOW_DISCRIMINATION_THRESHOLD, ItemStats, item_statistics, quiz_summary

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "moodle"
needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "results00.csv").is_file() or not (FIXTURES / "qstats00.csv").is_file(),
    reason=f"Moodle fixtures not found at {FIXTURES} (a clone without ../shared/); CI provides them",
)

# qstats00.csv column -> ItemStats attribute. Units: facility and sd are fractions of the max mark (0-1);
# covariance, markvariance, othermarkvariance and covariancemax are in marks (max mark is 1 per slot);
# discriminationindex, discriminativeefficiency and effectiveweight are percentages.
QSTATS_COLUMNS = {
    "facility": "facility",
    "sd": "sd",
    "effectiveweight": "effective_weight",
    "covariance": "covariance",
    "markvariance": "mark_variance",
    "othermarkvariance": "rest_variance",
    "discriminationindex": "discrimination_index",
    "covariancemax": "covariance_max",
    "discriminativeefficiency": "discriminative_efficiency",
}
SLOT_COLUMN = re.compile(r"slots\.(\d+)\.mark")


def load_results() -> tuple[list[dict[str, float]], dict[str, float]]:
    """Attempts (slot -> mark) from results00.csv; every slot's max mark is 1 (SOURCE.md)."""
    with (FIXTURES / "results00.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    slots = {match.group(1): column for column in rows[0] if (match := SLOT_COLUMN.fullmatch(column))}
    attempts = []
    for row in rows:
        attempt = {slot: float(row[column]) for slot, column in slots.items()}
        # The file's own total is rounded (4.33333 for 0.3333333 + ...): a check on parsing, not an input.
        assert sum(attempt.values()) == pytest.approx(float(row["summarks"]), abs=1e-4)
        attempts.append(attempt)
    return attempts, dict.fromkeys(slots, 1.0)


def load_expected() -> dict[str, dict[str, str]]:
    with (FIXTURES / "qstats00.csv").open(newline="") as handle:
        return {row["slot"]: row for row in csv.DictReader(handle)}


def by_slot(items: list[ItemStats]) -> dict[str, ItemStats]:
    return {item.slot: item for item in items}


@needs_fixtures
def test_reproduces_every_figure_in_moodle_qstats00():
    attempts, max_marks = load_results()
    expected = load_expected()
    assert len(attempts) == 25 and len(max_marks) == 7
    items = by_slot(item_statistics(attempts, max_marks))
    assert set(items) == set(expected)
    checked = 0
    for slot, row in expected.items():
        assert items[slot].n == 25
        for column, attribute in QSTATS_COLUMNS.items():
            want, got = float(row[column]), getattr(items[slot], attribute)
            assert got is not None, f"{column} for slot {slot} is None"
            assert got == pytest.approx(want, abs=0.01), f"{column} for slot {slot}"
            # Moodle's own test is stricter (relative 1e-5); the inputs' rounding still leaves room for that.
            assert got == pytest.approx(want, rel=1e-5, abs=1e-9), f"{column} for slot {slot}"
            checked += 1
    assert checked == 7 * len(QSTATS_COLUMNS)


@needs_fixtures
def test_fixture_items_are_all_flagged_as_negatively_discriminating():
    attempts, max_marks = load_results()
    items = item_statistics(attempts, max_marks)
    assert all(item.negative_discrimination and item.low_discrimination for item in items)
    assert math.fsum(item.effective_weight for item in items) == pytest.approx(100)


@needs_fixtures
def test_quiz_summary_matches_moodle_walkthrough_expectations():
    # Expected values from Moodle's stats_from_steps_walkthrough_test.php (check_quiz_stats_for_quiz_00).
    attempts, max_marks = load_results()
    summary = quiz_summary(attempts, max_marks)
    assert summary["n"] == 25
    assert summary["max_total"] == 7
    assert summary["median"] == pytest.approx(4.5)
    assert summary["mean"] == pytest.approx(4.617333332, rel=1.5e-5)
    assert summary["sd"] == pytest.approx(0.8117265554, rel=1.5e-5)
    assert summary["skewness"] == pytest.approx(-0.092502502, rel=1.5e-5)
    assert summary["kurtosis"] == pytest.approx(-0.7073968557, rel=1.5e-5)
    assert summary["cic"] == pytest.approx(-87.2230935542, rel=1.5e-5)
    assert summary["error_ratio"] == pytest.approx(136.8294900795, rel=1.5e-5)
    assert summary["standard_error"] == pytest.approx(1.1106813066, rel=1.5e-5)
    items = item_statistics(attempts, max_marks)
    assert quiz_summary(attempts, max_marks, items=items) == summary


def test_hand_computed_example():
    attempts = [{"a": 1, "b": 1}, {"a": 1, "b": 0}, {"a": 0, "b": 1}, {"a": 0, "b": 0}, {"a": 1, "b": 1}]
    a = by_slot(item_statistics(attempts, {"a": 1, "b": 2}))["a"]
    marks, rests = [1, 1, 0, 0, 1], [1, 0, 1, 0, 1]
    assert a.n == 5 and a.mean_mark == pytest.approx(0.6) and a.facility == pytest.approx(0.6)
    assert a.mark_variance == pytest.approx(statistics.variance(marks))
    assert a.rest_variance == pytest.approx(statistics.variance(rests))
    assert a.covariance == pytest.approx(statistics.covariance(marks, rests))
    assert a.discrimination_index == pytest.approx(100 * statistics.correlation(marks, rests))
    # Sorted independently: [0,0,1,1,1] with [0,0,1,1,1] -- the best pairing, here a perfect one.
    assert a.covariance_max == pytest.approx(statistics.variance(marks))
    assert a.discriminative_efficiency == pytest.approx(100 * a.covariance / a.covariance_max)


def test_sd_and_facility_are_fractions_of_the_max_mark():
    attempts = [{"q": 2}, {"q": 4}, {"q": 0}]
    item = item_statistics(attempts, {"q": 4})[0]
    assert item.facility == pytest.approx(0.5)
    assert item.mark_variance == pytest.approx(4.0)  # in marks
    assert item.sd == pytest.approx(2.0 / 4)


def test_single_attempt_has_no_variance_based_figures():
    items = by_slot(item_statistics([{"a": 1, "b": 0.5}], {"a": 1, "b": 1}))
    a = items["a"]
    assert a.n == 1 and a.facility == 1.0 and a.mean_mark == 1.0
    for attribute in ("sd", "mark_variance", "rest_variance", "covariance", "covariance_max", "covariance_with_total",
                      "discrimination_index", "discriminative_efficiency", "effective_weight"):
        assert getattr(a, attribute) is None, attribute
    assert not a.low_discrimination and not a.negative_discrimination
    summary = quiz_summary([{"a": 1, "b": 0.5}], {"a": 1, "b": 1})
    assert summary["n"] == 1 and summary["mean"] == 1.5 and summary["median"] == 1.5
    assert all(summary[key] is None for key in ("sd", "skewness", "kurtosis", "cic", "error_ratio", "standard_error"))


def test_no_attempts():
    item = item_statistics([], {"a": 1})[0]
    assert item.n == 0 and item.mean_mark is None and item.facility is None and item.covariance is None
    summary = quiz_summary([], {"a": 1})
    assert summary["n"] == 0 and summary["mean"] is None and summary["median"] is None


def test_constant_item_marks_give_no_index_or_efficiency():
    attempts = [{"easy": 1, "b": 1}, {"easy": 1, "b": 0}, {"easy": 1, "b": 1}]
    easy = by_slot(item_statistics(attempts, {"easy": 1, "b": 1}))["easy"]
    assert easy.facility == 1.0 and easy.sd == 0.0 and easy.mark_variance == 0.0
    assert easy.covariance == 0.0 and easy.covariance_max == 0.0 and easy.covariance_with_total == 0.0
    assert easy.discrimination_index is None and easy.discriminative_efficiency is None
    assert not easy.low_discrimination and not easy.negative_discrimination


def test_constant_rest_of_test_gives_no_index():
    attempts = [{"a": 1, "b": 1}, {"a": 0, "b": 1}, {"a": 1, "b": 1}]
    a = by_slot(item_statistics(attempts, {"a": 1, "b": 1}))["a"]
    assert a.rest_variance == 0.0 and a.mark_variance > 0
    assert a.discrimination_index is None and a.discriminative_efficiency is None


def test_float_residue_counts_as_constant():
    # 0.1 + 0.2 - ... style sums leave residue of ~1e-17; that is not a variance worth an index.
    attempts = [{"a": 0.1, "b": 0.2, "c": 0.7}, {"a": 0.1, "b": 0.2, "c": 0.7}, {"a": 0.1, "b": 0.2, "c": 0.7}]
    for item in item_statistics(attempts, {"a": 1, "b": 1, "c": 1}):
        assert item.mark_variance == 0.0 and item.rest_variance == 0.0
        assert item.discrimination_index is None and item.effective_weight is None


def test_zero_max_mark():
    attempts = [{"info": 0, "q": 1}, {"info": 0, "q": 0}, {"info": 0, "q": 1}]
    info = by_slot(item_statistics(attempts, {"info": 0, "q": 1}))["info"]
    assert info.n == 3 and info.mean_mark == 0.0
    assert info.facility is None and info.sd is None
    assert info.mark_variance == 0.0 and info.discrimination_index is None


def test_items_missing_from_some_attempts_use_only_the_attempts_that_include_them():
    attempts = [
        {"a": 1, "b": 1, "c": 0.5},
        {"a": 0, "c": 1},
        {"a": 1, "b": 0},
        {"b": 1, "c": 0},
        {"a": 0.5, "b": 0, "c": 0.5},
        {"a": 1, "b": 1, "c": 1},
    ]
    items = by_slot(item_statistics(attempts, {"a": 1, "b": 1, "c": 1, "never": 1}))
    for slot in "abc":
        served = [attempt for attempt in attempts if slot in attempt]
        marks = [attempt[slot] for attempt in served]
        rests = [sum(attempt.values()) - attempt[slot] for attempt in served]
        item = items[slot]
        assert item.n == len(served) == 5
        assert item.facility == pytest.approx(statistics.fmean(marks))
        assert item.mark_variance == pytest.approx(statistics.variance(marks))
        assert item.rest_variance == pytest.approx(statistics.variance(rests))
        assert item.covariance == pytest.approx(statistics.covariance(marks, rests))
        assert item.discrimination_index == pytest.approx(100 * statistics.correlation(marks, rests))
        cov_max = math.fsum((x - statistics.fmean(marks)) * (y - statistics.fmean(rests))
                            for x, y in zip(sorted(marks), sorted(rests), strict=True)) / (len(marks) - 1)
        assert item.covariance_max == pytest.approx(cov_max)
    never = items["never"]
    assert never.n == 0 and never.facility is None and never.effective_weight is None
    assert list(items) == ["a", "b", "c", "never"]  # the order of max_marks


def test_flags_and_threshold():
    # "good" tracks the rest of the test; "bad" runs against it; "weak" is only loosely related.
    attempts = [
        {"good": 1, "bad": 0, "weak": 1, "x": 1, "y": 1},
        {"good": 1, "bad": 0, "weak": 0, "x": 1, "y": 1},
        {"good": 1, "bad": 0, "weak": 1, "x": 1, "y": 0},
        {"good": 0, "bad": 1, "weak": 1, "x": 0, "y": 0},
        {"good": 0, "bad": 1, "weak": 0, "x": 0, "y": 1},
        {"good": 0, "bad": 1, "weak": 0, "x": 0, "y": 0},
    ]
    max_marks = dict.fromkeys(["good", "bad", "weak", "x", "y"], 1)
    items = by_slot(item_statistics(attempts, max_marks))
    assert items["good"].discrimination_index > 50
    assert not items["good"].low_discrimination and not items["good"].negative_discrimination
    assert items["bad"].discrimination_index < 0
    assert items["bad"].low_discrimination and items["bad"].negative_discrimination
    assert 0 <= items["weak"].discrimination_index < LOW_DISCRIMINATION_THRESHOLD
    assert items["weak"].low_discrimination and not items["weak"].negative_discrimination
    strict = by_slot(item_statistics(attempts, max_marks, low_discrimination_threshold=90))
    assert strict["good"].low_discrimination == (strict["good"].discrimination_index < 90)
    assert by_slot(item_statistics(attempts, max_marks, low_discrimination_threshold=-100))["bad"].low_discrimination \
        is False


def test_effective_weight_is_none_for_negative_covariance_with_total():
    attempts = [{"a": 1, "b": 1, "c": 0}, {"a": 0, "b": 0, "c": 1}, {"a": 1, "b": 0, "c": 0}, {"a": 0, "b": 1, "c": 0}]
    items = by_slot(item_statistics(attempts, {"a": 1, "b": 1, "c": 1}))
    assert items["c"].covariance_with_total < 0 and items["c"].effective_weight is None
    positives = [item for item in items.values() if item.covariance_with_total >= 0]
    assert math.fsum(item.effective_weight for item in positives) == pytest.approx(100)
    root_sum = math.fsum(math.sqrt(item.covariance_with_total) for item in positives)
    for item in positives:
        assert item.effective_weight == pytest.approx(100 * math.sqrt(item.covariance_with_total) / root_sum)


def test_quiz_summary_needs_two_items_for_cic():
    attempts = [{"a": 1}, {"a": 0}, {"a": 1}, {"a": 0.5}]
    summary = quiz_summary(attempts, {"a": 1})
    assert summary["sd"] == pytest.approx(statistics.stdev([1, 0, 1, 0.5]))
    assert summary["median"] == pytest.approx(0.75)
    assert summary["skewness"] is not None and summary["kurtosis"] is not None
    assert summary["cic"] is None and summary["error_ratio"] is None


def test_quiz_summary_cic_is_cronbachs_alpha_when_every_item_is_served():
    attempts = [{"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1, "c": 0}, {"a": 0, "b": 1, "c": 0},
                {"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 0, "c": 1}]
    k = 3
    item_variance = sum(statistics.variance([attempt[slot] for attempt in attempts]) for slot in "abc")
    total_variance = statistics.variance([sum(attempt.values()) for attempt in attempts])
    alpha = k / (k - 1) * (1 - item_variance / total_variance)
    summary = quiz_summary(attempts, {"a": 1, "b": 1, "c": 1})
    assert summary["cic"] == pytest.approx(100 * alpha)
    assert summary["error_ratio"] == pytest.approx(100 * math.sqrt(1 - alpha))
    assert summary["standard_error"] == pytest.approx(math.sqrt(1 - alpha) * summary["sd"])


def test_quiz_summary_with_constant_totals():
    attempts = [{"a": 1, "b": 0}, {"a": 0, "b": 1}, {"a": 1, "b": 0}, {"a": 0, "b": 1}]
    summary = quiz_summary(attempts, {"a": 1, "b": 1})
    assert summary["sd"] == 0.0
    assert summary["skewness"] is None and summary["kurtosis"] is None and summary["cic"] is None


@pytest.mark.parametrize(("attempts", "max_marks", "message"), [
    ([{"a": 1, "zz": 1}], {"a": 1}, "unknown item"),
    ([{"a": float("nan")}], {"a": 1}, "non-finite mark"),
    ([{"a": 1}], {"a": -1}, "max mark"),
    ([{"a": 1}], {"a": float("inf")}, "max mark"),
])
def test_rejects_bad_input(attempts, max_marks, message):
    with pytest.raises(ValueError, match=message):
        item_statistics(attempts, max_marks)
    with pytest.raises(ValueError, match=message):
        quiz_summary(attempts, max_marks)


def random_attempts(seed: int) -> list[dict[str, float]]:
    """Up to 12 attempts, each served a random non-empty subset of four items, with marks from a small grid."""
    rng = random.Random(seed)
    return [{slot: rng.choice([0.0, 0.25, 0.5, 1.0]) for slot in rng.sample("abcd", rng.randint(1, 4))}
            for _ in range(rng.randint(0, 12))]


@pytest.mark.parametrize("seed", range(150))
def test_properties_hold_on_random_data(seed):
    attempts = random_attempts(seed)
    items = item_statistics(attempts, dict.fromkeys("abcd", 1.0))
    weights = [item.effective_weight for item in items if item.effective_weight is not None]
    if weights:
        assert math.fsum(weights) == pytest.approx(100)
    for item in items:
        assert item.n == sum(item.slot in attempt for attempt in attempts)
        if item.n < 2:
            assert item.covariance is None and item.discrimination_index is None
            continue
        # Rearrangement inequality and Cauchy-Schwarz: cov <= covmax <= sqrt(var_item * var_rest), covmax >= 0.
        assert item.covariance_max >= 0
        assert item.covariance <= item.covariance_max + 1e-12
        assert item.covariance_max <= math.sqrt(item.mark_variance * item.rest_variance) + 1e-12
        if item.discrimination_index is not None:
            assert -100 - 1e-9 <= item.discrimination_index <= 100 + 1e-9
            assert abs(item.discriminative_efficiency) >= abs(item.discrimination_index) - 1e-9
            assert item.negative_discrimination == (item.discrimination_index < 0)
