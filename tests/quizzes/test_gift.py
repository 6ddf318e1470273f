"""GIFT import and export: Moodle's own fixture as the oracle, syntax corners, errors with lines, round trips."""

import copy
from pathlib import Path

import pytest
import yaml

from lms.quizzes.gift import GiftError, GiftExportError, GiftImport, export_gift, import_gift

ROOT = Path(__file__).resolve().parents[2]
BANKS = sorted((ROOT / "quizzes" / "banks").glob("*.yaml"))
MOODLE_FIXTURE = ROOT / ".." / "shared" / "fixtures" / "moodle" / "questions.gift.txt"


def imported(text: str, **kwargs) -> GiftImport:
    return import_gift(text, "t.gift", **kwargs)


def only_item(text: str) -> dict:
    result = imported(text)
    assert len(result.bank["items"]) == 1, result
    return result.bank["items"][0]


def moodle_view(gift: str) -> str:
    """What Moodle reads of an export: it drops every comment line, the @lms metadata included."""
    return "\n".join(line for line in gift.split("\n") if not line.strip().startswith("//"))


# --- Moodle's fixture (question/format/gift/tests/fixtures/questions.gift.txt) ------------------------------

@pytest.fixture(scope="module")
def moodle() -> GiftImport:
    if not MOODLE_FIXTURE.is_file():
        pytest.skip(f"Moodle GIFT fixture not found at {MOODLE_FIXTURE} (the shared/ folder is not in this checkout)")
    return import_gift(MOODLE_FIXTURE.read_text(encoding="utf-8"), "questions.gift.txt")


# Every question of the fixture, exactly as the bank format should hold it (Moodle's meaning, our field names).
MOODLE_ITEMS = [
    {"id": "gift-001", "type": "essay", "name": "Q8", "stem": "How are you?"},
    {"id": "gift-002", "type": "matching", "name": "Moodle activities",
     "stem": "Match the activity to the description.",
     "pairs": [{"left": "An activity supporting asynchronous discussions.", "right": "Forum"},
               {"left": "A teacher asks a question and specifies a choice of multiple responses.", "right": "Choice"},
               {"left": "A bank of record entries which participants can add to.", "right": "Database"},
               {"left": "A collection of web pages that anyone can add to or edit.", "right": "Wiki"}],
     "distractors": ["Chat"]},
    {"id": "gift-003", "type": "single", "name": "Q2", "stem": "What's between orange and green in the spectrum?",
     "options": [{"id": "a", "text": "yellow", "feedback": "right; good!"},
                 {"id": "b", "text": "red", "feedback": "wrong, it's yellow"},
                 {"id": "c", "text": "blue", "feedback": "wrong, it's yellow"}],
     "key": "a"},
    {"id": "colours", "type": "multiple", "stem": "What's between orange and green in the spectrum?",
     "options": [{"id": "a", "text": "yellow", "weight": 50, "feedback": "right; good!"},
                 {"id": "b", "text": "red", "weight": -100, "feedback": "wrong"},
                 {"id": "c", "text": "off-beige", "weight": 50, "feedback": "right; good!"},
                 {"id": "d", "text": "blue", "weight": -100, "feedback": "wrong"}]},
    {"id": "gift-004", "type": "numeric", "name": "Q5", "stem": "What is a number from 1 to 5?",
     "answer": 3, "tolerance": 2, "feedback_incorrect": "Completely wrong"},
    {"id": "gift-005", "type": "short", "name": "Shortanswer", "stem": "Which is the best animal?",
     "answers": [{"text": "Frog", "score": 100, "feedback": "Good!"},
                 {"text": "Cat", "score": 50, "feedback": "What is it with Moodlers and cats?"},
                 {"text": "*", "score": 0, "feedback": "Completely wrong"}]},
    {"id": "gift-006", "type": "true_false", "name": "Q1", "stem": "42 is the Absolute Answer to everything.",
     "key": False,
     "feedback_true": "42 is the Ultimate Answer.",  # GIFT's first feedback: for the wrong answer, here "true"
     "feedback_false": "You gave the right answer.",
     "explanation": "This is, of course, a Hitchiker's Guide to the Galaxy reference."},
    {"id": "gift-007", "type": "true_false", "name": "2-08 TSL", "stem": "TSL is blablabla.", "key": True},
    {"id": "gift-008", "type": "true_false", "name": "2-08 TSL", "stem": "TSL is blablabla.", "key": True},
]


def test_moodle_fixture_gives_every_question_in_order(moodle):
    assert [(i["id"], i["type"]) for i in moodle.bank["items"]] == [(i["id"], i["type"]) for i in MOODLE_ITEMS]
    assert moodle.bank["bank"] == "imported" and moodle.bank["title"] == "Imported questions"


@pytest.mark.parametrize("index", range(len(MOODLE_ITEMS)), ids=[i["type"] + "-" + i["id"] for i in MOODLE_ITEMS])
def test_moodle_fixture_question_exactly(moodle, index):
    assert moodle.bank["items"][index] == MOODLE_ITEMS[index]


def test_moodle_fixture_reports_html_and_stray_text_with_lines(moodle):
    # [html] on the matching stem (line 5) and on feedback (lines 17 and 25); the stray '";' on lines 31 and 43.
    assert [w.split(": ", 1)[0] for w in moodle.warnings] == [
        "questions.gift.txt:5", "questions.gift.txt:17", "questions.gift.txt:25",
        "questions.gift.txt:31", "questions.gift.txt:43"]
    assert all("[html]" in w for w in moodle.warnings[:3])
    assert all("'\";'" in w for w in moodle.warnings[3:])


def test_moodle_fixture_round_trips(moodle):
    again = import_gift(export_gift(moodle.bank))
    assert again.bank["items"] == moodle.bank["items"]
    assert again.warnings == []


def test_moodle_fixture_export_reads_the_same_in_moodle(moodle):
    """Without our @lms comments (Moodle drops them) everything but the human names survives."""
    again = import_gift(moodle_view(export_gift(moodle.bank)))
    assert again.bank["items"] == [{k: v for k, v in item.items() if k != "name"} for item in moodle.bank["items"]]


# --- syntax ---------------------------------------------------------------------------------------

def test_escaped_characters_everywhere():
    item = only_item(r"::esc-001:: Is 2 \= 2 \{really\}\: a\~b \# c\\d\nnext line? {"
                     "\n  =yes \\= right#ok \\#1 \\{x\\}"
                     "\n  ~no\\~#nope \\: colon"
                     "\n}")
    assert item["stem"] == "Is 2 = 2 {really}: a~b # c\\d\nnext line?"
    assert item["options"] == [{"id": "a", "text": "yes = right", "feedback": "ok #1 {x}"},
                               {"id": "b", "text": "no~", "feedback": "nope : colon"}]
    assert item["key"] == "a"


def test_escaped_newline_at_the_end_is_content_but_layout_whitespace_is_not():
    item = only_item("::t-001::  Stem line\\n  {TRUE####Why.\\n}")
    assert item["stem"] == "Stem line\n"
    assert item["explanation"] == "Why.\n"


def test_unknown_escape_is_kept_literally_as_moodle_does():
    assert only_item(r"::u-001:: C:\dir and \d+ {T}")["stem"] == r"C:\dir and \d+"


def test_escaped_colons_do_not_end_a_name():
    assert only_item(r"::Ratio 1\:2:: Q {T}")["name"] == "Ratio 1:2"


def test_comment_lines_are_skipped_even_inside_an_answer_block():
    result = imported("// header comment\n// another\n\n"
                      "// before the question\n::c-001:: See http://example.org/a//b {\n"
                      "  =yes\n  // a comment between answers\n  ~no\n}\n\n// trailing comment only\n")
    assert [i["id"] for i in result.bank["items"]] == ["c-001"]
    item = result.bank["items"][0]
    assert item["stem"] == "See http://example.org/a//b"  # '//' inside a line is text
    assert [o["text"] for o in item["options"]] == ["yes", "no"]
    assert result.warnings == []


def test_a_file_of_comments_has_no_items_and_no_warnings():
    result = imported("// nothing\n\n   \n// here\n")
    assert result.bank["items"] == [] and result.warnings == []


def test_category_applies_until_the_next_one_and_an_empty_one_ends_it():
    result = imported("$CATEGORY: $course$/top/Pharmacy\n\n::a-001:: A {T}\n\n::a-002:: B {F}\n\n"
                      "$CATEGORY: $course$/top/Law\n::a-003:: C {T}\n\n$CATEGORY:\n\n::a-004:: D {T}")
    assert [i.get("category") for i in result.bank["items"]] == [
        "$course$/top/Pharmacy", "$course$/top/Pharmacy", "$course$/top/Law", None]


@pytest.mark.parametrize(("answer", "key"), [("T", True), ("TRUE", True), ("F", False), ("FALSE", False),
                                             ("true", True), (" FALSE ", False)])
def test_true_false_forms(answer, key):
    item = only_item(f"::tf-001:: Q {{{answer}}}")
    assert item["type"] == "true_false" and item["key"] is key
    assert "feedback_true" not in item and "feedback_false" not in item


def test_true_false_feedback_comes_wrong_first_then_right():
    item = only_item("::tf-001:: Q {T#No, it is true.#Yes.####General.}")
    assert item["feedback_false"] == "No, it is true."
    assert item["feedback_true"] == "Yes."
    assert item["explanation"] == "General."
    assert only_item("::tf-002:: Q {TRUE##Only the right one.}") == {
        "id": "tf-002", "type": "true_false", "stem": "Q", "key": True, "feedback_true": "Only the right one."}


def test_multi_line_stem_and_answer_block():
    item = only_item("::ml-001::\nFirst line\nsecond line\n{\n  ~%50%one\n    # its feedback\n  ~%50%two\n"
                     "  ~%-100%three\n  ####General\n  feedback.\n}")
    assert item["stem"] == "First line\nsecond line"
    assert [(o["text"], o["weight"], o.get("feedback")) for o in item["options"]] == [
        ("one", 50, "its feedback"), ("two", 50, None), ("three", -100, None)]
    assert item["explanation"] == "General\n  feedback."


def test_weights_may_be_decimal_and_unweighted_options_get_zero():
    item = only_item("::w-001:: Q {~%33.3%a ~%33.3%b ~%33.4%c ~d}")
    assert [o["weight"] for o in item["options"]] == [33.3, 33.3, 33.4, 0]


def test_several_equals_become_a_keyed_multiple_response_with_a_warning():
    result = imported("::m-001:: Which two? {=a =b ~c}")
    item = result.bank["items"][0]
    assert item["type"] == "multiple" and item["key"] == ["a", "b"]
    assert all("weight" not in o for o in item["options"])
    assert result.warnings == ["t.gift:1: 2 options are marked '=': imported as multiple-response with all of "
                               "them required (Moodle accepts any one of them)"]


@pytest.mark.parametrize(("block", "answer", "tolerance"), [
    ("{#3}", 3, 0), ("{#3:2}", 3, 2), ("{#1..5}", 3, 2), ("{#-5..-1}", -3, 2), ("{#0.1..0.3}", 0.2, 0.1),
    ("{#2.5:0.25}", 2.5, 0.25), ("{#1e3:5}", 1000, 5), ("{#=1.5..2.5}", 2, 0.5),
])
def test_numeric_answer_forms(block, answer, tolerance):
    item = only_item(f"::n-001:: N? {block}")
    assert (item["type"], item["answer"], item["tolerance"]) == ("numeric", answer, tolerance)


def test_numeric_partial_credit_answers_and_feedback():
    item = only_item("::n-001:: When? {#\n  =1822:0#Exactly.\n  =%50%1822:2#Close.\n  ~#Grant was born in 1822.\n}")
    assert item["answers"] == [{"answer": 1822, "tolerance": 0, "score": 100, "feedback": "Exactly."},
                               {"answer": 1822, "tolerance": 2, "score": 50, "feedback": "Close."}]
    assert item["feedback_incorrect"] == "Grant was born in 1822."
    assert "answer" not in item


def test_numeric_single_answer_feedback_is_the_correct_feedback():
    item = only_item("::n-001:: N? {#=12:0.5#Right. ~#Wrong.}")
    assert (item["answer"], item["tolerance"]) == (12, 0.5)
    assert (item["feedback_correct"], item["feedback_incorrect"]) == ("Right.", "Wrong.")


def test_short_answers_keep_scores_feedback_and_wildcard():
    item = only_item("::s-001:: Trigger? {=RDE^O11 =%50%RDE*#Which trigger? =%0%*#No.}")
    assert item["answers"] == [{"text": "RDE^O11", "score": 100},
                               {"text": "RDE*", "score": 50, "feedback": "Which trigger?"},
                               {"text": "*", "score": 0, "feedback": "No."}]


def test_html_is_stripped_to_text_with_a_warning():
    result = imported("::h-001::[html]<p>Dose &amp; <b>route</b>?</p><p>Second<br>line</p>{\n"
                      "  =[html]<i>IV</i>\n  ~[moodle]PO\n  ~[plain]SC [not a tag]\n}")
    item = result.bank["items"][0]
    assert item["stem"] == "Dose & route?\n\nSecond\nline"  # paragraphs stay Markdown paragraphs
    assert [o["text"] for o in item["options"]] == ["IV", "PO", "SC [not a tag]"]
    assert result.warnings == ["t.gift:1: [html] text imported as plain text: tags and formatting removed"]


def test_markdown_stem_is_kept_as_written():
    assert only_item("::md-001::[markdown]**Bold** and `code`{T}")["stem"] == "**Bold** and `code`"


def test_missing_word_question_puts_a_blank_where_the_block_was():
    item = only_item("::mw-001:: Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert item["stem"] == "Grant is _____ in Grant's tomb."
    assert item["type"] == "single" and item["key"] == "b"


def test_ids_from_names_and_generated_ids_never_collide():
    result = imported("::Q1:: A {T}\n\n::p-002:: B {T}\n\nNo name {T}\n\n::p-001:: D {T}\n\n::p-001:: E {T}",
                      id_prefix="p", bank_id="mine", title="Mine")
    items = result.bank["items"]
    # p-001 and p-002 are named further down, so the generated ids skip them.
    assert [i["id"] for i in items] == ["p-003", "p-002", "p-004", "p-001", "p-005"]
    assert [i.get("name") for i in items] == ["Q1", None, None, None, "p-001"]
    assert result.bank["bank"] == "mine" and result.bank["title"] == "Mine"
    assert result.warnings == ["t.gift:9: id 'p-001' is already used above; this question gets a new id"]


# --- malformed files raise GiftError at the right line ---------------------------------------------

@pytest.mark.parametrize(("text", "line", "fragment"), [
    # an unclosed block at the end of a question, then the next question after a blank line
    ("::a-001:: Fine {T}\n\n// c\n::a-002:: Broken\n{\n  =yes\n  ~no\n\n::a-003:: Next {T}\n", 5, "never closed"),
    # an unclosed block that runs into the next question: the open block is the problem
    ("::a-001:: Broken {=yes ~no\n::a-002:: Next {T}\n", 1, "not closed before the '{' on line 2"),
    ("::a-001:: Fine {T}\n\n::a-002:: Stray } here {T}", 3, "'}' without an opening '{'"),
    ("::m-001:: Match {\n  =a -> 1\n  =b -> 2\n  =c 3\n}", 4, "has no '->'"),
    ("::m-001:: Match {\n  =a -> 1\n  =b ->\n}", 3, "no text after '->'"),
    ("\n\n::n-001:: N? {#\n  =abc\n}", 4, "'abc' is not a number"),
    ("::n-001:: N? {#3:x}", 1, "'x' is not a number"),
    ("::n-001:: N? {#5..1}", 1, "runs backwards"),
    ("::n-001:: N? {#3:-1}", 1, "cannot be negative"),
    ("::n-001:: N? {#}", 1, "needs an answer"),
    ("::n-001:: N? {#3 ~wrong}", 1, "~#feedback"),
    ("\n::Unclosed name Q {T}", 2, "never closed with '::'"),
    ("::a-001:: Two {T} blocks {F}", 1, "second answer block"),
    ("::a-001:: Q {stray =yes ~no}", 1, "comes before the first answer"),
    ("::a-001:: Q {=yes ~%150%no}", 1, "outside -100%..100%"),
    ("::a-001:: Q {=only}\n\n::a-002:: Q {~%100%only}", 3, "at least two options"),
    ("::a-001:: Q {=yes ~ #fb}", 1, "an option has no text"),
    ("// @lms {not json\n::a-001:: Q {T}", 1, "not valid JSON"),
])
def test_malformed_gift_raises_with_path_and_line(text, line, fragment):
    with pytest.raises(GiftError) as caught:
        import_gift(text, "bank.gift")
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.path, error.line) == ("bank.gift", line)
    assert str(error) == f"bank.gift:{line}: {error.message}"
    assert fragment in error.message


# --- unsupported pieces are reported with their line, never dropped silently -----------------------

def test_unsupported_questions_are_skipped_with_a_warning_each():
    text = ("::ok-001:: Kept {T}\n\n"
            "::d-001:: Only a description, no answer block.\n\n"
            "::p-001:: Partial single {=right ~%50%half ~wrong}\n\n"
            "::z-001:: Nothing correct {~a ~b}\n\n"
            "::n-001:: Any number {#=3:1 =%50%*#anything}\n\n"
            "::m-001:: Match {=a -> 1 #good =b -> 2}\n\n"
            "::s-001:: Stray {T}.;")
    result = imported(text)
    assert [i["id"] for i in result.bank["items"]] == ["ok-001", "n-001", "m-001", "s-001"]
    assert result.warnings == [
        "t.gift:3: a description (text with no answer block) is not a question; skipped",
        "t.gift:5: a single-answer question with partial-credit weights is not supported; skipped",
        "t.gift:7: no option is marked correct (no '=' and no %weight%); skipped",
        "t.gift:9: a '*' numeric answer worth marks is not supported; ignored",
        "t.gift:11: GIFT matching pairs have no feedback; ignored '#good'",
        "t.gift:13: ignored '.;' after the answer block",
    ]
    assert result.bank["items"][2]["pairs"] == [{"left": "a", "right": "1"}, {"left": "b", "right": "2"}]


def test_metadata_without_a_question_is_reported():
    result = imported("// @lms {\"domain\": \"medications\"}\n\n::a-001:: Q {T}")
    assert result.warnings == ["t.gift:1: @lms metadata with no question after it; ignored"]
    assert "domain" not in result.bank["items"][0]


def test_metadata_that_contradicts_the_gift_text_loses_with_a_warning():
    result = imported('// @lms {"key": ["a"], "domain": "medications"}\n::m-001:: Q {~%50%a ~%50%b ~%-100%c}')
    item = result.bank["items"][0]
    assert [o["weight"] for o in item["options"]] == [50, 50, -100] and "key" not in item
    assert item["domain"] == "medications"
    assert result.warnings == ["t.gift:2: @lms key ['a'] does not match the option weights; the weights are kept"]


# --- export ------------------------------------------------------------------------------------------

HAND_BUILT = {
    "bank": "hand-built",
    "title": "Every item type",
    "items": [
        {"id": "hb-001", "type": "single", "name": "Special {characters}: ~ = # \\", "category": "Pharmacy/Basics",
         "objectives": ["o1"], "domain": "medications", "difficulty": "easy", "references": ["ref-1"],
         "stem": "Which is right?\nSecond line: {braces}, ~tilde, =equals, #hash and a back\\slash.\n",
         "options": [{"id": "a", "text": "%50% looks like a weight", "feedback": "No: a *wrong* one."},
                     {"id": "b", "text": "[html]<b>looks like HTML</b>", "feedback": "Correct.\nTwo lines."},
                     {"id": "c", "text": "a -> b", "feedback": "[plain] looks like a format tag"}],
         "key": "b", "explanation": "Because {reasons}.\n"},
        {"id": "hb-002", "type": "multiple", "category": "Pharmacy/Basics", "stem": "Select all (partial).",
         "options": [{"id": "a", "text": "one", "feedback": "Yes."}, {"id": "b", "text": "two", "feedback": "No."},
                     {"id": "c", "text": "three", "feedback": "Yes."}, {"id": "d", "text": "four", "feedback": "No."}],
         "key": ["a", "c"], "scoring": "partial", "explanation": "One and three."},
        {"id": "hb-003", "type": "multiple", "stem": "Select all (all or nothing).",
         "options": [{"id": "a", "text": "one", "feedback": "No."}, {"id": "b", "text": "two", "feedback": "Yes."},
                     {"id": "c", "text": "three", "feedback": "Yes."}, {"id": "d", "text": "four", "feedback": "Yes."}],
         "key": ["b", "c", "d"], "explanation": "Two, three and four."},
        {"id": "hb-004", "type": "multiple", "stem": "Weighted.",
         "options": [{"id": "a", "text": "yellow", "weight": 50, "feedback": "Yes."},
                     {"id": "b", "text": "red", "weight": -100, "feedback": "No."},
                     {"id": "c", "text": "off-beige", "weight": 50, "feedback": "Yes."},
                     {"id": "d", "text": "grey", "weight": 0, "feedback": "Neutral."}],
         "explanation": "Weights."},
        {"id": "hb-005", "type": "true_false", "stem": "True?", "key": True,
         "feedback_true": "Right: it is #1.", "feedback_false": "It is true.", "explanation": "Yes."},
        {"id": "hb-006", "type": "true_false", "stem": "False?", "key": False, "feedback_false": "Right."},
        {"id": "hb-007", "type": "numeric", "stem": "Volume?", "answer": 2.5, "tolerance": 0.25, "unit": "mL",
         "feedback_correct": "Right: 5 mg ÷ 2 mg/mL = 2.5 mL.", "feedback_incorrect": "Divide dose by strength.",
         "explanation": "Dose / strength."},
        {"id": "hb-008", "type": "numeric", "stem": "Year?",
         "answers": [{"answer": 1822, "tolerance": 0, "score": 100, "feedback": "Exactly."},
                     {"answer": 1822, "tolerance": 2, "score": 50}, {"answer": -0.001, "tolerance": 1e-05,
                                                                      "score": 10}],
         "feedback_correct": "Well done.", "feedback_incorrect": "Born 1822."},
        {"id": "hb-009", "type": "short", "stem": "Trigger event?",
         "answers": [{"text": "RDE^O11", "score": 100}, {"text": "RDE*", "score": 50, "feedback": "Which one?"},
                     {"text": "*", "score": 0, "feedback": "An RDE."}],
         "feedback_correct": "Correct.", "feedback_incorrect": "It is RDE^O11.", "explanation": "Pharmacy encoded."},
        {"id": "hb-010", "type": "short", "stem": "Any whole number.", "pattern": r"^\d+$",
         "feedback_correct": "Yes.", "feedback_incorrect": "Digits only."},
        {"id": "hb-011", "type": "matching", "stem": "Match.",
         "pairs": [{"left": "ADT", "right": "admissions -> transfers"}, {"left": "ORM", "right": "orders"},
                   {"left": "RDE", "right": "pharmacy = encoded"}],
         "distractors": ["results", "billing: #1"], "feedback_correct": "All right.",
         "feedback_incorrect": "Check the message types.", "explanation": "HL7 v2."},
        {"id": "hb-012", "type": "ordering", "category": "Process", "stem": "Order the steps.",
         "sequence": ["Read", "Scan", "Fix"], "feedback_correct": "Yes.", "feedback_incorrect": "Read first."},
        {"id": "hb-013", "type": "essay", "stem": "Reflect on a near miss."},
        {"id": "hb-014", "type": "essay", "stem": "Reflect again.", "explanation": "A model answer."},
        {"id": "hb-015", "type": "single", "stem": "Custom option ids.",
         "options": [{"id": "x", "text": "ex", "feedback": "No."}, {"id": "y", "text": "why", "feedback": "Yes."}],
         "key": "y"},
    ],
}


def test_hand_built_bank_of_every_type_round_trips_exactly():
    text = export_gift(HAND_BUILT)
    again = import_gift(text, "export.gift")
    assert again.warnings == []
    assert again.bank["items"] == HAND_BUILT["items"]


def test_export_writes_gift_moodle_understands():
    text = export_gift(HAND_BUILT)
    assert "$CATEGORY: Pharmacy/Basics\n" in text
    assert "$CATEGORY: Process\n" in text and "\n$CATEGORY:\n" in text  # back to no category
    assert "::hb-001::[markdown]Which is right?\\nSecond line\\: \\{braces\\}, \\~tilde, \\=equals, \\#hash " \
           "and a back\\\\slash.\\n{" in text
    assert "\t~[markdown]%50% looks like a weight#No\\: a *wrong* one.\n" in text
    assert "\t=[markdown][html]<b>looks like HTML</b>#Correct.\\nTwo lines.\n" in text
    assert "\t####Because \\{reasons\\}.\\n\n}" in text
    assert "{\n\tTRUE#It is true.#Right\\: it is \\#1.\n\t####Yes.\n}" in text
    assert "{\n\tFALSE##Right.\n}" in text
    assert "{#\n\t=2.5:0.25#Right\\: 5 mg ÷ 2 mg/mL \\= 2.5 mL.\n\t~#Divide dose by strength.\n" in text
    assert "\t=%50%1822:2\n\t=%10%-0.001:1e-05\n" in text
    assert "\t=%50%RDE*#Which one?\n\t=%0%*#An RDE.\n" in text
    assert "\t=ADT -> admissions -> transfers\n" in text and "\t= -> billing\\: \\#1\n" in text
    assert "::hb-013::[markdown]Reflect on a near miss.{}" in text
    assert "\t~%50%yellow#Yes.\n\t~%-100%red#No.\n\t~%50%off-beige#Yes.\n\t~%0%grey#Neutral.\n" in text


def test_keyed_multiple_response_exports_as_moodle_weights():
    """Moodle has no "all of these" key: it gets weights (partial scoring exactly), the key rides in @lms."""
    text = export_gift(HAND_BUILT)
    assert "\t~%50%one#Yes.\n\t~%-50%two#No.\n\t~%50%three#Yes.\n\t~%-50%four#No.\n" in text
    assert "\t~%-100%one#No.\n\t~%33.33333%two#Yes.\n" in text
    items = {i["id"]: i for i in import_gift(moodle_view(text)).bank["items"]}
    assert [o["weight"] for o in items["hb-002"]["options"]] == [50, -50, 50, -50]
    assert [o["id"] for o in items["hb-003"]["options"] if o["weight"] > 0] == ["b", "c", "d"]


def test_ordering_items_are_written_as_a_comment_moodle_skips_and_we_restore():
    text = export_gift(HAND_BUILT)
    assert "// hb-012 (ordering) cannot be written as a GIFT question" in text
    assert "::hb-012::" not in text
    moodle_sees = import_gift(moodle_view(text))
    assert [i["id"] for i in moodle_sees.bank["items"]] == [
        i["id"] for i in HAND_BUILT["items"] if i["type"] != "ordering" and "pattern" not in i]
    restored = {i["id"]: i for i in import_gift(text).bank["items"]}
    assert restored["hb-012"] == HAND_BUILT["items"][11]


def test_export_of_an_unknown_type_raises_naming_the_item():
    bank = copy.deepcopy(HAND_BUILT)
    bank["items"][4]["type"] = "hotspot"
    with pytest.raises(GiftExportError, match=r"^item hb-005: type 'hotspot' is not a known question type$"):
        export_gift(bank)


@pytest.mark.parametrize(("change", "message"), [
    ({"id": "Not An Id"}, "needs a kebab-case id"),
    ({"id": "hb-001"}, "the id is used twice"),
    ({"key": "z"}, "key 'z' is not one of the option ids"),
])
def test_export_rejects_items_it_cannot_write_faithfully(change, message):
    bank = copy.deepcopy(HAND_BUILT)
    bank["items"][14].update(change)
    with pytest.raises(ValueError, match=message):
        export_gift(bank)


# --- the real banks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", BANKS, ids=[p.stem for p in BANKS])
def test_every_real_bank_round_trips(path):
    bank = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = export_gift(bank)
    again = import_gift(text, path.name)
    assert again.warnings == []
    assert [(i["id"], i["type"]) for i in again.bank["items"]] == [(i["id"], i["type"]) for i in bank["items"]]
    for original, back in zip(bank["items"], again.bank["items"], strict=True):
        for key in ("key", "options", "answer", "tolerance", "answers", "pairs", "sequence", "scoring"):
            assert back.get(key) == original.get(key), (original["id"], key)
    assert again.bank["items"] == bank["items"]  # and every other field too, through the @lms lines


@pytest.mark.parametrize("path", BANKS, ids=[p.stem for p in BANKS])
def test_every_real_bank_reads_in_moodle_without_the_ordering_items(path):
    bank = yaml.safe_load(path.read_text(encoding="utf-8"))
    moodle_sees = import_gift(moodle_view(export_gift(bank)), path.name)
    expected = [i for i in bank["items"] if i["type"] != "ordering"]
    assert [(i["id"], i["type"]) for i in moodle_sees.bank["items"]] == [(i["id"], i["type"]) for i in expected]
    for original, seen in zip(expected, moodle_sees.bank["items"], strict=True):
        if original["type"] == "multiple":  # keys become weights: the positive ones are exactly the key
            assert [o["id"] for o in seen["options"] if o["weight"] > 0] == original["key"]
        else:
            assert seen.get("key") == original.get("key")
