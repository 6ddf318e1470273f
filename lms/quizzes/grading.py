"""Grading: one pure function per item type, in a registry. Responses are plain JSON values.

Response shapes (what the attempt stores):
  single: "b"                      multiple: ["a", "c"]          true_false: true | false
  numeric: "1,200" (text as typed)  short: "RDE^O11"             essay: "free text"
  matching: {"<left text>": "<right text>", ...}                ordering: ["step", "step", ...]
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from lms.quizzes.bank import Item


@dataclass(frozen=True)
class Grade:
    score: float  # 0..1
    correct: bool
    feedback: tuple[str, ...]


class ResponseError(ValueError):
    """The response does not fit the item (wrong shape, unknown option): nothing is saved."""


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _single(item: Item, response) -> Grade:
    if not isinstance(response, str) or item.option(response) is None:
        raise ResponseError("choose one of the options")
    correct = response == item.key[0]
    return Grade(1.0 if correct else 0.0, correct, (item.option(response).feedback,))


def _multiple(item: Item, response) -> Grade:
    if not isinstance(response, list) or not response or any(item.option(r) is None for r in response):
        raise ResponseError("choose at least one of the options")
    chosen = list(dict.fromkeys(response))
    feedback = tuple(item.option(r).feedback for r in chosen)
    if any(o.weight is not None for o in item.options):
        score = _clamp(sum(item.option(r).weight or 0 for r in chosen) / 100)
        return Grade(score, score >= 0.999, feedback)
    right = set(item.key)
    exact = set(chosen) == right
    if not item.partial:
        return Grade(1.0 if exact else 0.0, exact, feedback)
    share = 1 / len(right)
    score = _clamp(sum(share if r in right else -share for r in chosen))
    return Grade(score, exact, feedback)


def _true_false(item: Item, response) -> Grade:
    if not isinstance(response, bool):
        raise ResponseError("choose true or false")
    correct = response == item.truth
    return Grade(1.0 if correct else 0.0, correct, (item.feedback_true if response else item.feedback_false,))


def parse_number(text) -> float:
    """Read a number as people type it: '1,200', ' 2.5 ', '-3'. Raise ResponseError otherwise."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    cleaned = str(text).strip().replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", cleaned):
        raise ResponseError("enter a number, e.g. 12 or 0.5")
    return float(cleaned)


def _numeric(item: Item, response) -> Grade:
    value = parse_number(response)
    best = max((a for a in item.numeric if abs(value - a.answer) <= a.tolerance + 1e-9),
               key=lambda a: a.score, default=None)
    score = best.score / 100 if best else 0.0
    correct = score >= 0.999
    extra = (best.feedback,) if best and best.feedback else ()
    return Grade(score, correct, extra + ((item.feedback_correct if correct else item.feedback_incorrect),))


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(_normalise(part)) for part in pattern.split("*")), re.DOTALL)


def _short(item: Item, response) -> Grade:
    if not isinstance(response, str) or not response.strip():
        raise ResponseError("type an answer")
    given = _normalise(response)
    best = None
    for answer in item.short:
        matched = _wildcard(answer.text).fullmatch(given) if "*" in answer.text else given == _normalise(answer.text)
        if matched and (best is None or answer.score > best.score):
            best = answer
    score = best.score / 100 if best else 0.0
    if item.pattern and re.fullmatch(item.pattern, response.strip(), re.IGNORECASE):
        score = 1.0
    correct = score >= 0.999
    extra = (best.feedback,) if best and best.feedback else ()
    return Grade(score, correct, extra + ((item.feedback_correct if correct else item.feedback_incorrect),))


def _matching(item: Item, response) -> Grade:
    rights = {right for _left, right in item.pairs} | set(item.distractors)
    if not isinstance(response, dict) or set(response) != {left for left, _r in item.pairs} \
            or any(value not in rights for value in response.values()):
        raise ResponseError("match every item on the left")
    right_count = sum(response[left] == right for left, right in item.pairs)
    score = right_count / len(item.pairs)
    correct = right_count == len(item.pairs)
    return Grade(score, correct, (item.feedback_correct if correct else item.feedback_incorrect,))


def _ordering(item: Item, response) -> Grade:
    if not isinstance(response, list) or sorted(response) != sorted(item.sequence):
        raise ResponseError("put every step in a position, each position once")
    correct = tuple(response) == item.sequence
    return Grade(1.0 if correct else 0.0, correct, (item.feedback_correct if correct else item.feedback_incorrect,))


def _essay(item: Item, response) -> Grade:
    if not isinstance(response, str) or not response.strip():
        raise ResponseError("write a response")
    return Grade(0.0, False, ())


GRADERS: dict[str, Callable[[Item, object], Grade]] = {
    "single": _single, "multiple": _multiple, "true_false": _true_false, "numeric": _numeric,
    "short": _short, "matching": _matching, "ordering": _ordering, "essay": _essay,
}


def grade(item: Item, response) -> Grade:
    """Grade ``response`` to ``item``; raise ResponseError when it does not fit the item."""
    return GRADERS[item.type](item, response)


def correct_response(item: Item):
    """A response that earns full marks (shown in feedback after an item is answered, and used in tests)."""
    match item.type:
        case "single":
            return item.key[0]
        case "multiple":
            return list(item.key)
        case "true_false":
            return item.truth
        case "numeric":
            return f"{next(a.answer for a in item.numeric if a.score == 100):g}"
        case "short":
            return next((a.text for a in item.short if a.score == 100 and "*" not in a.text), "")
        case "matching":
            return {left: right for left, right in item.pairs}
        case "ordering":
            return list(item.sequence)
    return None
