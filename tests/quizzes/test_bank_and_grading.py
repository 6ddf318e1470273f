"""Bank validation (file:line: message) and grading of every item type."""

import shutil

import pytest

from lms.config import PROJECT_ROOT
from lms.content.loader import load_catalog
from lms.quizzes.bank import load_library
from lms.quizzes.grading import ResponseError, correct_response, grade
from tests.conftest import DATA


@pytest.fixture
def library():
    return load_library(DATA / "quizzes", load_catalog(DATA / "content"))


def test_test_bank_loads_every_type(library):
    assert [str(p) for p in library.problems] == []
    types = {item.type for item in library.items.values()}
    assert types == {"single", "numeric", "true_false", "multiple", "short", "matching", "ordering"}
    assert library.items["alpha-001"].objectives == ("alpha:o1",)
    assert library.bank_for_module("alpha").pass_mark == 75


@pytest.fixture
def bank_copy(tmp_path):
    shutil.copytree(DATA / "quizzes", tmp_path / "quizzes")
    return tmp_path / "quizzes"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    key: a\n", "    key: z\n",
     "banks/alpha.yaml:18: item alpha-001: key: must be one option id (a, b, c), got 'z'"),
    ("objectives: [o2]\n    domain: informatics-automation\n    difficulty: medium\n    stem: How many",
     "objectives: [o9]\n    domain: informatics-automation\n    difficulty: medium\n    stem: How many",
     "banks/alpha.yaml:22: item alpha-002: objectives: 'o9' is not an objective of module alpha"),
    ("    answer: 11\n", "    answer: eleven\n", "banks/alpha.yaml:26: item alpha-002: answer: must be a number"),
    ("    type: true_false\n", "    type: truefalse\n", "banks/alpha.yaml:33: item alpha-003: type: 'truefalse'"),
    ("    references: [ref-one]\n", "    references: [nope]\n",
     "banks/alpha.yaml:12: item alpha-001: references: 'nope' is not a reference of module alpha"),
    ('      - {id: b, text: "5-3-2", feedback: "Count the labeler digits again."}\n',
     '      - {id: b, text: "5-3-2"}\n', "banks/alpha.yaml:14: item alpha-001: options: option 'b' has no feedback"),
    ("  - id: alpha-002\n", "  - id: alpha-001\n", "banks/alpha.yaml:1: item alpha-001: duplicate item id"),
])
def test_bad_items_are_reported_with_file_line_and_field(bank_copy, old, new, expected):
    path = bank_copy / "banks/alpha.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    library = load_library(bank_copy, load_catalog(DATA / "content"))
    messages = [str(p) for p in library.problems]
    assert any(m.startswith(expected) for m in messages), messages


def test_malformed_yaml_is_reported(bank_copy):
    (bank_copy / "banks/alpha.yaml").write_text("bank: alpha\nitems: [\n")
    library = load_library(bank_copy, None)
    assert [p.path for p in library.problems] == ["banks/alpha.yaml"]
    assert "not valid YAML" in library.problems[0].message


def test_standards_need_25_items_and_3_per_objective(library):
    strict = load_library(DATA / "quizzes", load_catalog(DATA / "content"), standards=True)
    messages = [str(p) for p in strict.problems]
    assert any("7 items; a module bank needs at least 25" in m for m in messages)
    assert any("module beta has no question bank" in m for m in messages)


def test_shipped_banks_meet_the_standard():
    """Every module has a bank of 25+ items, each objective assessed by 3+ items, 330+ items in all."""
    catalog = load_catalog(PROJECT_ROOT / "content")
    library = load_library(PROJECT_ROOT / "quizzes", catalog, standards=True)
    assert [str(p) for p in library.problems] == []
    assert library.item_count >= 330
    for item in library.items.values():
        assert item.explanation_html, item.id
        for option in item.options:
            assert option.feedback, (item.id, option.id)
    for item in library.items.values():  # every key earns full marks through the real grader
        assert grade(item, correct_response(item)).score == 1.0, item.id


def test_single_and_true_false(library):
    single, tf = library.items["alpha-001"], library.items["alpha-003"]
    assert grade(single, "a").correct and grade(single, "a").feedback == ("Right: four, four, two digits.",)
    assert grade(single, "b").score == 0
    assert grade(tf, False).correct and not grade(tf, True).correct
    assert grade(tf, True).feedback == ("No - leading zeros vanish.",)
    with pytest.raises(ResponseError):
        grade(single, "z")
    with pytest.raises(ResponseError):
        grade(tf, "false")


def test_multiple_response_partial_credit_never_below_zero(library):
    item = library.items["alpha-004"]
    assert grade(item, ["a", "b", "d"]).score == 1.0
    assert grade(item, ["a", "b"]).score == pytest.approx(2 / 3)
    assert grade(item, ["a", "c"]).score == 0.0
    assert grade(item, ["c"]).score == 0.0  # would be -1/3: clamped
    assert not grade(item, ["a", "b"]).correct


def test_numeric_accepts_typed_forms_and_refuses_text(library):
    item = library.items["alpha-002"]
    assert grade(item, " 11 ").correct and grade(item, "11.0").correct
    assert not grade(item, "10").correct
    with pytest.raises(ResponseError):
        grade(item, "eleven")


def test_short_answer_ignores_case_space_and_punctuation(library):
    item = library.items["alpha-005"]
    assert grade(item, "00574 4072 05").correct and grade(item, "00574-4072-05").correct
    assert not grade(item, "0574-4072-05").correct


def test_matching_scores_each_pair_and_ordering_needs_the_whole_order(library):
    matching, ordering = library.items["alpha-006"], library.items["alpha-007"]
    assert grade(matching, {"0574-4072-05": "00574-4072-05", "51655-089-52": "05744-0720-05"}).score == 0.5
    with pytest.raises(ResponseError):
        grade(matching, {"0574-4072-05": "made up"})
    steps = list(ordering.sequence)
    assert grade(ordering, steps).correct
    assert not grade(ordering, [steps[1], steps[0], *steps[2:]]).correct
    with pytest.raises(ResponseError):
        grade(ordering, steps[:-1])
