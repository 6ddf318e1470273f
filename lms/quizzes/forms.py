"""Quiz forms are built from the item at hand; this module turns submitted form data into a response."""

from werkzeug.datastructures import MultiDict

from lms.quizzes.bank import Item
from lms.quizzes.grading import ResponseError
from lms.validation import parse_int, text_problem


def parse_form(item: Item, layout: dict, form: MultiDict):
    """Turn the posted fields for one item into a grading response; raise ResponseError when incomplete.

    Matching and ordering fields carry indexes into the attempt's stored layout, so a client can
    only choose among the texts it was shown.
    """
    match item.type:
        case "single":
            return form.get("answer", "")
        case "multiple":
            return form.getlist("answer")
        case "true_false":
            value = form.get("answer")
            if value not in ("true", "false"):
                raise ResponseError("choose true or false")
            return value == "true"
        case "numeric" | "short" | "essay":
            value = form.get("answer", "")
            if len(value) > 2000:
                raise ResponseError("keep the answer under 2,000 characters")
            if text_problem(value, multiline=True):
                raise ResponseError(text_problem(value, multiline=True).rstrip(".").lower())
            return value
        case "matching":
            rights = layout["rights"]
            response = {}
            for index, (left, _right) in enumerate(item.pairs):
                choice = parse_int(form.get(f"match-{index}", ""), 0, len(rights) - 1)
                if choice is None:
                    raise ResponseError("match every item on the left")
                response[left] = rights[choice]
            return response
        case "ordering":
            steps = layout["steps"]
            positions = {}
            for index, step in enumerate(steps):
                value = parse_int(form.get(f"position-{index}", ""), 1, len(steps))
                if value is None:
                    raise ResponseError("give every step a position")
                positions[step] = value
            if len(set(positions.values())) != len(steps):
                raise ResponseError("use each position once")
            return sorted(positions, key=positions.get)
    raise ResponseError("unsupported question type")
