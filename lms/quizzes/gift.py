"""GIFT, Moodle's plain-text quiz format: import into bank dicts and export from them.

``import_gift`` turns GIFT text into a bank dict in the structure of ``quizzes/README.md``;
``export_gift`` writes a bank dict as GIFT. Moodle's own parser (question/format/gift/format.php)
is the reference for what a piece of GIFT means.

How the importer reads a file:
  1. ``_chunks`` cuts the text into questions at blank lines, as Moodle does, and sets aside
     ``//`` comment lines (keeping the ``// @lms`` metadata ones, see below).
  2. ``_Scanner`` turns one question into tokens. It is a small state machine because the same
     character means different things in the stem, inside ``{...}`` and after ``####``.
  3. ``_group`` gathers the tokens into a name, a stem, an answer block (answers split at
     ``=``/``~``, each answer split at ``#`` into text and feedback) and any text after the block.
  4. ``_QuestionBuilder`` picks the question type (in Moodle's order) and builds the item fields.
  5. Ids are assigned last, so that a generated ``<prefix>-NNN`` never takes an id that a
     question further down names for itself.

Problems are of two kinds. GIFT that cannot be read (an unclosed ``{``, a matching pair without
``->``, a numeric answer that is not a number) raises ``GiftError("path:line: message")``. A
well-formed question that this bank format cannot hold (a description, a partial-credit
single-answer question) is skipped and reported in ``warnings`` with its line number. Nothing is
dropped without a warning.

GIFT cannot express some bank fields (objectives, domain, unit, scoring, item-level
feedback_correct/feedback_incorrect, ...). The exporter writes those fields as a JSON comment line,
``// @lms {...}``, just before the question. Moodle ignores comments; this importer reads that line
back, so export followed by import gives back every item. An item with no GIFT equivalent at all
(an ordering item) is exported as that comment only: Moodle skips it, this importer restores it.
"""

import json
import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import NoReturn

__all__ = ["GiftError", "GiftExportError", "GiftImport", "export_gift", "import_gift"]

ITEM_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # the rule lms.quizzes.bank applies to item ids
_META = re.compile(r"//\s*@lms\b(.*)")
_FORMAT = re.compile(r"\[(html|moodle|plain|markdown)\]")  # Moodle's format tags, case-sensitive as in Moodle
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d*)?)%")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_SPECIAL = "\\~=#{}:"
# An escaped newline (\n) stands in as this private-use character until a text has been trimmed:
# whitespace around a text is layout and gets trimmed, but an escaped newline is content and must survive
# (e.g. the trailing newline of a YAML `|` block).
_NL = "\ue000"
_ESCAPES = {"\\": "\\", "~": "~", "=": "=", "#": "#", "{": "{", "}": "}", ":": ":", "n": _NL}
# Item keys in the order quizzes/README.md lists them, so imported banks dump to familiar-looking YAML.
_KEY_ORDER = ("id", "type", "name", "category", "objectives", "domain", "difficulty", "references", "stem",
              "options", "key", "scoring", "answer", "tolerance", "unit", "answers", "pattern", "pairs",
              "distractors", "sequence", "feedback_true", "feedback_false", "feedback_correct",
              "feedback_incorrect", "explanation")


class GiftError(ValueError):
    """GIFT text that cannot be read. ``str(error)`` is ``"path:line: message"``, like the other checkers."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


class GiftExportError(ValueError):
    """A bank item that cannot be written as GIFT (bad data or an unknown type). The message names the item."""

    def __init__(self, item_id, message: str):
        super().__init__(f"item {item_id}: {message}")
        self.item_id = item_id


@dataclass
class GiftImport:
    bank: dict
    warnings: list[str]  # "path:line: message", in line order


# --- reading: chunks and tokens -------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    number: int  # 1-based line in the file
    text: str


@dataclass
class _Chunk:
    lines: list[_Line]  # the question's own lines, comments left out
    meta: list[_Line]  # its "// @lms {...}" lines


def _chunks(text: str):
    """Yield the questions of a file: runs of lines between blank lines.

    A comment line does not end a question (Moodle blanks comment lines after splitting), so a
    comment between an answer block's lines is fine. Lines are split on \\n only: str.splitlines
    would also split on characters such as U+2028 that are ordinary text to GIFT.
    """
    lines: list[_Line] = []
    meta: list[_Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.rstrip("\r").strip()
        if not stripped:
            if lines or meta:
                yield _Chunk(lines, meta)
            lines, meta = [], []
        elif stripped.startswith("//"):
            if _META.match(stripped):
                meta.append(_Line(number, stripped))
        else:
            lines.append(_Line(number, raw.rstrip("\r")))
    if lines or meta:
        yield _Chunk(lines, meta)


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "text", "{", "}", "=", "~", "#" or "####"
    text: str  # name and text tokens: escapes resolved, an escaped newline still _NL, layout not trimmed
    line: int


class _Scanner:
    """Turn one question's lines into tokens.

    States: "stem" (before the block), "answers" (inside {...}, where = ~ # separate answers and
    feedback), "general" (after ####, where only } ends the text) and "after" (after the block).
    """

    def __init__(self, lines: list[_Line], path: str):
        self.path = path
        self.text = "\n".join(line.text for line in lines)
        self.numbers = [line.number for line in lines]
        self.starts = []  # offset of each line's first character, to give every token its line number
        offset = 0
        for line in lines:
            self.starts.append(offset)
            offset += len(line.text) + 1
        self.pos = 0
        self.tokens: list[_Token] = []
        self.buffer: list[str] = []
        self.content_at: int | None = None  # offset of the buffer's first non-blank character

    def line_at(self, offset: int) -> int:
        return self.numbers[bisect_right(self.starts, offset) - 1]

    def error(self, offset: int, message: str) -> NoReturn:
        raise GiftError(self.path, self.line_at(offset), message)

    def scan(self) -> list[_Token]:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        if text.startswith("::", self.pos):
            self._name()
        state, opened_at = "stem", 0
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in _ESCAPES:
                self._keep(_ESCAPES[text[self.pos + 1]], self.pos)
                self.pos += 2
                continue
            if state in ("stem", "after"):
                if char == "{":
                    if state == "after":
                        self.error(self.pos, "a second answer block: a GIFT question has one {...} "
                                             "(write \\{ for a literal brace)")
                    self._emit("{")
                    state, opened_at = "answers", self.pos
                elif char == "}":
                    self.error(self.pos, "'}' without an opening '{' (write \\} for a literal brace)")
                else:
                    self._keep(char, self.pos)
            elif char == "}":
                self._emit("}")
                state = "after"
            elif char == "{":
                # Most often the previous block lost its '}', so point at the block that is still open.
                self.error(opened_at, f"answer block '{{' is not closed before the '{{' on line "
                                      f"{self.line_at(self.pos)} (write \\{{ for a literal brace)")
            elif state == "answers" and char in "=~":
                self._emit(char)
            elif state == "answers" and char == "#":
                if text.startswith("####", self.pos):
                    self._emit("####")
                    self.pos += 4
                    state = "general"
                    continue
                self._emit("#")
            else:
                self._keep(char, self.pos)
            self.pos += 1
        if state in ("answers", "general"):
            self.error(opened_at, "answer block '{' is never closed with '}'")
        self._flush()
        return self.tokens

    def _name(self) -> None:
        start = self.pos
        self.pos += 2
        name: list[str] = []
        while self.pos < len(self.text):
            if self.text.startswith("::", self.pos):
                self.tokens.append(_Token("name", "".join(name).replace(_NL, " ").strip(), self.line_at(start)))
                self.pos += 2
                return
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in _ESCAPES:
                name.append(_ESCAPES[self.text[self.pos + 1]])
                self.pos += 2
            else:
                name.append(char)
                self.pos += 1
        self.error(start, "question name '::' is never closed with '::'")

    def _keep(self, char: str, offset: int) -> None:
        if self.content_at is None and not char.isspace():
            self.content_at = offset
        self.buffer.append(char)

    def _flush(self) -> None:
        if self.buffer:
            line = self.line_at(self.content_at if self.content_at is not None else self.pos)
            self.tokens.append(_Token("text", "".join(self.buffer), line))
        self.buffer, self.content_at = [], None

    def _emit(self, kind: str) -> None:
        self._flush()
        self.tokens.append(_Token(kind, "", self.line_at(self.pos)))


# --- reading: grouping tokens into a question ---------------------------------------------

@dataclass
class _Part:
    text: str  # raw, as in _Token.text
    line: int


@dataclass
class _Answer:
    marker: str  # "=" or "~"; "" for the text before the first marker (a T/F word, a numeric answer)
    parts: list[_Part]  # the answer text, then each '#' feedback
    line: int


@dataclass
class _Block:
    head: _Answer
    answers: list[_Answer]
    numeric: bool  # the block starts with '#'
    general: _Part | None  # the text after ####
    line: int


@dataclass
class _Question:
    line: int
    name: str | None
    stem: _Part
    block: _Block | None
    after: _Part | None  # text after the closing brace


def _group(tokens: list[_Token], line: int) -> _Question:
    name = None
    stem = _Part("", line)
    after = None
    block: _Block | None = None
    current: _Answer | None = None  # the answer that text and '#' tokens belong to
    seen = False  # has the block shown anything but blank text yet?
    state = "stem"
    for token in tokens:
        if token.kind == "name":
            name = token.text
        elif token.kind == "{":
            head = _Answer("", [_Part("", token.line)], token.line)
            block = _Block(head, [], False, None, token.line)
            state, current = "answers", head
        elif token.kind == "}":
            state = "after"
        elif state == "stem":
            stem = _Part(token.text, token.line)
        elif state == "after":
            after = _Part(token.text, token.line)
        elif token.kind == "####":
            block.general = _Part("", token.line)
            state = "general"
        elif state == "general":
            block.general = _Part(token.text, token.line)
        else:
            if token.kind == "#" and not seen:
                block.numeric = True  # Moodle: an answer block whose first character is '#' is numerical
            seen = seen or token.kind != "text" or bool(token.text.strip())
            if token.kind in "=~":
                current = _Answer(token.kind, [_Part("", token.line)], token.line)
                block.answers.append(current)
            elif token.kind == "#":
                current.parts.append(_Part("", token.line))
            else:
                part = current.parts[-1]
                part.text += token.text
                if token.text.strip():
                    part.line = token.line
    return _Question(line, name, stem, block, after)


# --- reading: building items ----------------------------------------------------------------

class _HtmlText(HTMLParser):
    """Collect the text of an HTML fragment; block-level tags become line breaks."""

    BREAKS = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "table", "blockquote", "pre",
                        "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data):
        self.chunks.append(data)


def _html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.chunks).split("\n")]
    kept: list[str] = []
    for line in lines:  # HTML whitespace collapses; keep at most one blank line between paragraphs
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def _plain_number(value: Decimal) -> int | float:
    """Whole numbers as int (YAML shows 3, not 3.0), others as float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _option_id(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


class _QuestionBuilder:
    """Build the fields of one item (everything but its id) from a grouped question."""

    def __init__(self, question: _Question, path: str, warnings: list[tuple[int, str]]):
        self.q, self.path, self.warnings = question, path, warnings
        self.html_lines: list[int] = []

    def warn(self, line: int, message: str) -> None:
        self.warnings.append((line, message))

    def error(self, line: int, message: str) -> NoReturn:
        raise GiftError(self.path, line, message)

    def build(self) -> dict | None:
        q = self.q
        if q.block is None:
            self.warn(q.line, "a description (text with no answer block) is not a question; skipped")
            return None
        stem = q.stem
        if q.after is not None and q.after.text.strip():
            if any(char.isalnum() for char in q.after.text):
                # Missing-word format: the blank goes where the block was, as Moodle does.
                stem = _Part(q.stem.text + "_____" + q.after.text, q.stem.line)
            else:
                # Punctuation alone (Moodle's own fixture has a stray '";') carries no content.
                self.warn(q.after.line, f"ignored {q.after.text.strip()!r} after the answer block")
        fields = self._fields(q.block)
        if fields is None:
            return None
        item = {"type": fields.pop("type"), "stem": self.text(stem), **fields}
        if q.block.general is not None and (explanation := self.text(q.block.general)):
            item["explanation"] = explanation
        if self.html_lines:
            self.warn(min(self.html_lines), "[html] text imported as plain text: tags and formatting removed")
        return item

    # -- texts

    def text(self, part: _Part, formats: bool = True) -> str:
        """Trim layout whitespace, apply a leading [format] tag, then turn escaped newlines into newlines."""
        text = part.text.strip()
        if formats and (match := _FORMAT.match(text)):
            text = text[match.end():].strip()
            if match.group(1) == "html":
                self.html_lines.append(part.line)
                return _html_to_text(text.replace(_NL, "\n"))
        return text.replace(_NL, "\n")

    def feedback(self, answer: _Answer, start: int = 1) -> str:
        """Everything after the answer's first '#': Moodle keeps further '#' in the feedback."""
        if len(answer.parts) <= start:
            return ""
        return self.text(_Part("#".join(p.text for p in answer.parts[start:]), answer.parts[start].line))

    def weight(self, part: _Part) -> tuple[int | float | None, _Part]:
        text = part.text.lstrip()
        match = _WEIGHT.match(text)
        if not match:
            return None, part
        value = _plain_number(Decimal(match.group(1)))
        if not -100 <= value <= 100:
            self.error(part.line, f"weight {match.group(0)} is outside -100%..100%")
        return value, _Part(text[match.end():], part.line)

    def no_head(self, block: _Block) -> None:
        head = "#".join(p.text for p in block.head.parts).strip()
        if head:
            self.error(block.head.parts[0].line, f"{head.replace(_NL, ' ')!r} comes before the first answer: "
                                                 "start every answer with = or ~")

    # -- types

    def _fields(self, block: _Block) -> dict | None:
        """Pick the question type in Moodle's order, then build it."""
        if block.numeric:
            return self.numeric(block)
        if not block.answers and not "#".join(p.text for p in block.head.parts).strip():
            return {"type": "essay"}
        if any(a.marker == "~" for a in block.answers):
            self.no_head(block)
            return self.choice(block)
        if any("->" in a.parts[0].text for a in block.answers):
            self.no_head(block)
            return self.matching(block)
        if not block.answers:
            word = block.head.parts[0].text.strip().upper()  # T/TRUE/F/FALSE, any case
            if word in _TRUE_FALSE:
                return self.true_false(block, _TRUE_FALSE[word])
        self.no_head(block)
        return self.short(block)

    def choice(self, block: _Block) -> dict | None:
        options, explicit = [], []
        for index, answer in enumerate(block.answers):
            weight, text = self.weight(answer.parts[0])
            explicit.append(weight)
            option = {"id": _option_id(index), "text": self.text(text)}
            if not option["text"]:
                self.error(answer.line, "an option has no text")
            if answer.marker == "~" and weight is not None:
                option["weight"] = weight
            if feedback := self.feedback(answer):
                option["feedback"] = feedback
            options.append(option)
        if len(options) < 2:
            self.error(block.line, "a choice question needs at least two options")
        correct = [o["id"] for o, a in zip(options, block.answers, strict=True) if a.marker == "="]
        partial = any(w not in (None, 0) for w, a in zip(explicit, block.answers, strict=True)
                      if a.marker == "~")
        if not correct:  # Moodle: no '=' means a multiple-response question scored by weights
            if not any("weight" in o for o in options):
                self.warn(block.line, "no option is marked correct (no '=' and no %weight%); skipped")
                return None
            for option in options:
                option.setdefault("weight", 0)  # the bank format wants a weight on every option
            return {"type": "multiple", "options": [_ordered_option(o) for o in options]}
        if partial or any(w not in (None, 100) for w, a in zip(explicit, block.answers, strict=True)
                          if a.marker == "="):
            self.warn(block.line, "a single-answer question with partial-credit weights is not supported; skipped")
            return None
        if len(correct) == 1:
            return {"type": "single", "options": options, "key": correct[0]}
        self.warn(block.line, f"{len(correct)} options are marked '=': imported as multiple-response with all of "
                              "them required (Moodle accepts any one of them)")
        return {"type": "multiple", "options": options, "key": correct}

    def true_false(self, block: _Block, key: bool) -> dict:
        # GIFT gives the feedback for a wrong answer first, then for a right one.
        wrong = self.text(block.head.parts[1]) if len(block.head.parts) > 1 else ""
        right = self.feedback(block.head, start=2)
        fields: dict = {"type": "true_false", "key": key}
        feedback_true, feedback_false = (right, wrong) if key else (wrong, right)
        if feedback_true:
            fields["feedback_true"] = feedback_true
        if feedback_false:
            fields["feedback_false"] = feedback_false
        return fields

    def numeric(self, block: _Block) -> dict:
        # The text after the leading '#' may hold the first answer ({#3:2}); '=' adds more ({#=3:2 =%50%3:4}).
        answers = [a for a in block.answers if a.marker == "="]
        head = block.head.parts
        if len(head) > 1 and head[1].text.strip():
            answers.insert(0, _Answer("=", head[1:], head[1].line))
        elif len(head) > 2:
            self.error(head[2].line, "numeric feedback with no answer before it")
        feedback_incorrect = ""
        for wrong in (a for a in block.answers if a.marker == "~"):
            if wrong.parts[0].text.strip() or feedback_incorrect:
                self.error(wrong.line, "write the wrong-answer feedback of a numeric question once, as ~#feedback")
            feedback_incorrect = self.feedback(wrong)
        entries = []
        for answer in answers:
            weight, part = self.weight(answer.parts[0])
            score = 100 if weight is None else weight
            text = self.text(part)
            if text == "*":  # Moodle's "any other answer": its feedback is the wrong-answer feedback
                if score or feedback_incorrect:
                    self.warn(answer.line, "a '*' numeric answer worth marks is not supported; ignored")
                else:
                    feedback_incorrect = self.feedback(answer)
                continue
            value, tolerance = self.number(text, answer.line)
            entries.append({"answer": value, "tolerance": tolerance, "score": score,
                            "feedback": self.feedback(answer)})
        if not entries:
            self.error(block.line, "a numeric question needs an answer, e.g. {#3:0.5} or {#1..5}")
        if len(entries) == 1 and entries[0]["score"] == 100:
            only = entries[0]
            fields = {"type": "numeric", "answer": only["answer"], "tolerance": only["tolerance"]}
            if only["feedback"]:
                fields["feedback_correct"] = only["feedback"]
        else:
            fields = {"type": "numeric", "answers": [{k: v for k, v in e.items() if k != "feedback" or v}
                                                     for e in entries]}
        if feedback_incorrect:
            fields["feedback_incorrect"] = feedback_incorrect
        return fields

    def number(self, text: str, line: int) -> tuple[int | float, int | float]:
        """Read `answer`, `answer:tolerance` or `min..max` (midpoint and half-width). Decimal keeps 0.1..0.3 exact."""
        def decimal(raw: str) -> Decimal:
            raw = raw.strip()
            if not _NUMBER.fullmatch(raw):
                self.error(line, f"numeric answer {text!r}: {raw!r} is not a number")
            return Decimal(raw)

        if text.find("..") > 0:
            low, high = (decimal(x) for x in text.split("..", 1))
            if low > high:
                self.error(line, f"numeric range {text!r} runs backwards")
            middle = (low + high) / 2
            return _plain_number(middle), _plain_number(high - middle)
        if text.find(":") > 0:
            value, tolerance = (decimal(x) for x in text.split(":", 1))
            if tolerance < 0:
                self.error(line, f"numeric answer {text!r}: the tolerance cannot be negative")
            return _plain_number(value), _plain_number(tolerance)
        return _plain_number(decimal(text)), 0

    def short(self, block: _Block) -> dict:
        answers = []
        for answer in block.answers:
            weight, part = self.weight(answer.parts[0])
            score = 100 if weight is None else weight
            if score < 0:
                self.error(answer.line, "a short-answer score cannot be negative")
            entry = {"text": self.text(part), "score": score}
            if not entry["text"]:
                self.error(answer.line, "an answer has no text")
            if feedback := self.feedback(answer):
                entry["feedback"] = feedback
            answers.append(entry)
        return {"type": "short", "answers": answers}

    def matching(self, block: _Block) -> dict:
        pairs, distractors = [], []
        for answer in block.answers:
            raw = answer.parts[0].text
            if "->" not in raw:
                self.error(answer.line, f"matching pair {raw.strip()!r} has no '->': write =left -> right")
            left_raw, right_raw = raw.split("->", 1)
            left = self.text(_Part(left_raw, answer.parts[0].line))
            right = self.text(_Part(right_raw, answer.parts[0].line), formats=False)  # Moodle: right side is plain
            if not right:
                self.error(answer.line, "matching pair has no text after '->'")
            if len(answer.parts) > 1:
                self.warn(answer.parts[1].line, "GIFT matching pairs have no feedback; ignored "
                                                f"'#{self.feedback(answer)}'")
            if left:
                pairs.append({"left": left, "right": right})
            else:
                distractors.append(right)  # "= -> X": a right-hand choice that matches nothing
        if not pairs:
            self.error(block.line, "a matching question needs at least one pair")
        fields: dict = {"type": "matching", "pairs": pairs}
        if distractors:
            fields["distractors"] = distractors
        return fields


def _ordered_option(option: dict) -> dict:
    return {k: option[k] for k in ("id", "text", "weight", "feedback") if k in option}


# --- reading: the file -------------------------------------------------------------------------

@dataclass
class _Parsed:
    line: int
    name: str | None  # the GIFT ::name::
    fields: dict  # type, stem, ...: everything but id, name and category
    category: str | None
    id_hint: str | None = None  # the id of an item restored from metadata alone


def _read_meta(lines: list[_Line], path: str) -> dict:
    meta: dict = {}
    for line in lines:
        try:
            value = json.loads(_META.match(line.text).group(1))
        except json.JSONDecodeError as error:
            raise GiftError(path, line.number, f"@lms metadata is not valid JSON: {error.msg}") from error
        if not isinstance(value, dict):
            raise GiftError(path, line.number, "@lms metadata must be a JSON object")
        meta.update(value)
    return meta


def _apply_meta(fields: dict, meta: dict, name: str | None, line: int, warnings: list[tuple[int, str]]) -> None:
    """Add the fields GIFT cannot express. The GIFT text wins where both give a field."""
    meta = dict(meta)
    option_ids = meta.pop("option_ids", None)
    options = fields.get("options") or []
    if isinstance(option_ids, list) and len(option_ids) == len(options):
        renamed = {o["id"]: str(new) for o, new in zip(options, option_ids, strict=True)}
        for option in options:
            option["id"] = renamed[option["id"]]
        if isinstance(fields.get("key"), str):
            fields["key"] = renamed[fields["key"]]
    elif option_ids is not None:
        warnings.append((line, "@lms option_ids does not fit the options; ignored"))
    if fields["type"] == "multiple" and "key" in meta and any("weight" in o for o in options):
        # The exporter writes a keyed multiple-response item as Moodle weights (so Moodle scores it
        # sensibly) and the key here: go back to the key when it still agrees with the weights.
        key = meta.pop("key")
        positive = [o["id"] for o in options if o.get("weight", 0) > 0]
        if isinstance(key, list) and sorted(map(str, key)) == sorted(positive):
            for option in options:
                option.pop("weight", None)
            fields["key"] = key
        else:
            warnings.append((line, f"@lms key {key!r} does not match the option weights; the weights are kept"))
            meta.pop("scoring", None)
    if "type" in meta and meta.pop("type") != fields["type"]:
        warnings.append((line, f"@lms type ignored: the GIFT question is a {fields['type']} question"))
    if "id" in meta and meta.pop("id") != name:
        warnings.append((line, "@lms id ignored: the question's ::name:: gives the id"))
    for key, value in meta.items():
        if key not in fields:
            fields[key] = value
        elif fields[key] != value:
            warnings.append((line, f"@lms {key} ignored: the GIFT text gives a different value"))


def import_gift(text: str, path: str = "<gift>", bank_id: str = "imported", title: str = "Imported questions",
                id_prefix: str = "gift") -> GiftImport:
    """Read GIFT text into a bank dict; raise GiftError for text that is not valid GIFT."""
    warnings: list[tuple[int, str]] = []
    parsed: list[_Parsed] = []
    category = None
    for chunk in _chunks(text.removeprefix("\ufeff")):
        meta = _read_meta(chunk.meta, path)
        lines = chunk.lines
        if lines and lines[0].text.strip().startswith("$CATEGORY:"):
            # Moodle makes the whole question a category switch; here the rest of the chunk stays a question.
            category = lines[0].text.strip().removeprefix("$CATEGORY:").strip() or None
            lines = lines[1:]
        if not lines:
            if meta.get("id") and isinstance(meta.get("type"), str):  # an item GIFT cannot express
                fields = {k: v for k, v in meta.items() if k not in ("id", "category")}
                parsed.append(_Parsed(chunk.meta[0].number, None, fields, category, str(meta["id"])))
            elif meta:
                warnings.append((chunk.meta[0].number, "@lms metadata with no question after it; ignored"))
            continue
        question = _group(_Scanner(lines, path).scan(), lines[0].number)
        fields = _QuestionBuilder(question, path, warnings).build()
        if fields is not None:
            _apply_meta(fields, meta, question.name, question.line, warnings)
            parsed.append(_Parsed(question.line, question.name, fields, category))
    items = _assign_ids(parsed, id_prefix, warnings)
    warnings.sort(key=lambda w: w[0])
    return GiftImport({"bank": bank_id, "title": title, "items": items},
                      [f"{path}:{line}: {message}" for line, message in warnings])


def _assign_ids(parsed: list[_Parsed], prefix: str, warnings: list[tuple[int, str]]) -> list[dict]:
    """A question named like an id keeps it; the others get <prefix>-NNN, skipping every id already named."""
    ids: dict[int, str] = {}
    taken: set[str] = set()
    for index, entry in enumerate(parsed):
        wanted = entry.id_hint or entry.name
        if wanted and ITEM_ID.fullmatch(wanted):
            if wanted in taken:
                warnings.append((entry.line, f"id {wanted!r} is already used above; this question gets a new id"))
            else:
                ids[index] = wanted
                taken.add(wanted)
    number = 0
    for index in range(len(parsed)):
        if index not in ids:
            number += 1
            while f"{prefix}-{number:03d}" in taken:
                number += 1
            ids[index] = f"{prefix}-{number:03d}"
            taken.add(ids[index])
    rank = {key: position for position, key in enumerate(_KEY_ORDER)}
    items = []
    for index, entry in enumerate(parsed):
        item = {"id": ids[index], **entry.fields}
        # The name is kept as a human title unless it became the id (then it would only repeat the id).
        if "name" not in item and entry.name and entry.name != ids[index]:
            item["name"] = entry.name
        if entry.category:
            item["category"] = entry.category
        items.append(dict(sorted(item.items(), key=lambda kv: rank.get(kv[0], len(rank)))))
    return items


# --- writing ------------------------------------------------------------------------------

def _escape(text) -> str:
    """Escape GIFT's special characters; newlines become \\n so a text never breaks its question."""
    out = []
    for char in "" if text is None else str(text):
        if char in _SPECIAL:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char != "\r":
            out.append(char)
    return "".join(out)


def _field(text) -> str:
    """An escaped text that the importer will read back as the same text.

    A text that itself starts like a format tag ("[html]...") or a weight ("%50%...") gets an
    explicit [markdown] tag: the importer strips one tag and reads no weight after it.
    """
    escaped = _escape(text)
    if _FORMAT.match(escaped.lstrip()) or _WEIGHT.match(escaped.lstrip()):
        return "[markdown]" + escaped
    return escaped


def _feedback(text) -> str:
    return f"#{_field(text)}" if text else ""


def _number(value, item_id) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise GiftExportError(item_id, f"{value!r} is not a number")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)  # the shortest text that reads back as the same float


def _percent(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _one_line(text) -> str:
    return " ".join(str(text or "").split())


@dataclass
class _Written:
    head: str  # right after the '{': "#" for numeric
    lines: list[str]  # one answer per line
    carried: frozenset[str]  # the item fields this GIFT expresses; the others go to the @lms line
    meta: dict = field(default_factory=dict)  # extra metadata (option ids GIFT cannot keep)


def _options(item: dict) -> tuple[list[dict], dict]:
    options = item.get("options")
    if not isinstance(options, list) or not all(isinstance(o, dict) and o.get("id") is not None
                                                and str(o.get("text") or "").strip() for o in options):
        raise GiftExportError(item["id"], "options must be a list of {id, text, feedback}")
    ids = [str(o["id"]) for o in options]
    extra = {} if ids == [_option_id(i) for i in range(len(ids))] else {"option_ids": ids}
    return options, extra


def _write_single(item: dict) -> _Written:
    options, extra = _options(item)
    if item.get("key") not in [o["id"] for o in options]:
        raise GiftExportError(item["id"], f"key {item.get('key')!r} is not one of the option ids")
    lines = [("=" if o["id"] == item["key"] else "~") + _field(o["text"]) + _feedback(o.get("feedback"))
             for o in options]
    return _Written("", lines, frozenset({"options", "key"}), extra)


def _write_multiple(item: dict) -> _Written:
    options, extra = _options(item)
    if any(o.get("weight") is not None for o in options):
        weights = [_number(o.get("weight") or 0, item["id"]) for o in options]
    else:
        # GIFT has no "all of these" key, only weights: write the weights Moodle scores closest to
        # the key (partial: exactly), and keep the key and scoring in the @lms line.
        key = item.get("key")
        if not isinstance(key, list) or not key or any(k not in [o["id"] for o in options] for k in key):
            raise GiftExportError(item["id"], f"key {key!r} must list option ids")
        share = 100 / len(key)
        wrong = -share if item.get("scoring") == "partial" else -100
        weights = [_percent(share if o["id"] in key else wrong) for o in options]
    lines = [f"~%{w}%{_field(o['text'])}{_feedback(o.get('feedback'))}"
             for w, o in zip(weights, options, strict=True)]
    return _Written("", lines, frozenset({"options"}), extra)


def _write_true_false(item: dict) -> _Written:
    key = item.get("key")
    if not isinstance(key, bool):
        raise GiftExportError(item["id"], f"key must be true or false, got {key!r}")
    feedback_true, feedback_false = item.get("feedback_true") or "", item.get("feedback_false") or ""
    right, wrong = (feedback_true, feedback_false) if key else (feedback_false, feedback_true)
    line = "TRUE" if key else "FALSE"
    if wrong:  # GIFT: the wrong-answer feedback comes first
        line += _feedback(wrong)
    if right:
        line += ("" if wrong else "#") + _feedback(right)
    return _Written("", [line], frozenset({"key", "feedback_true", "feedback_false"}))


def _write_numeric(item: dict) -> _Written:
    item_id = item["id"]
    if item.get("answers") is not None:
        lines = [f"=%{_number(a.get('score', 100), item_id)}%{_number(a.get('answer'), item_id)}:"
                 f"{_number(a.get('tolerance', 0), item_id)}{_feedback(a.get('feedback'))}"
                 for a in item["answers"]]
        carried = {"answers", "feedback_incorrect"}
    else:
        lines = [f"={_number(item.get('answer'), item_id)}:{_number(item.get('tolerance', 0), item_id)}"
                 f"{_feedback(item.get('feedback_correct'))}"]
        carried = {"answer", "tolerance", "feedback_correct", "feedback_incorrect"}
    if item.get("feedback_incorrect"):
        lines.append(f"~{_feedback(item['feedback_incorrect'])}")
    return _Written("#", lines, frozenset(carried))


def _write_short(item: dict) -> _Written | None:
    answers = item.get("answers") or []
    if not answers or any("->" in str(a.get("text", "")) for a in answers):
        return None  # a pattern-only item, or '->' that GIFT would read as a matching pair
    lines = []
    for answer in answers:
        score = answer.get("score", 100)
        weight = "" if score == 100 else f"%{_number(score, item['id'])}%"
        lines.append(f"={weight}{_field(answer.get('text'))}{_feedback(answer.get('feedback'))}")
    return _Written("", lines, frozenset({"answers"}))


def _write_matching(item: dict) -> _Written | None:
    pairs = item.get("pairs") or []
    if not all(isinstance(p, dict) and str(p.get("left") or "").strip() and str(p.get("right") or "").strip()
               for p in pairs) or not pairs:
        raise GiftExportError(item["id"], "pairs must be a list of {left, right}")
    if any("->" in str(p["left"]) for p in pairs):
        return None  # GIFT splits a pair at its first '->'
    lines = [f"={_field(p['left'])} -> {_escape(p['right'])}" for p in pairs]
    lines += [f"= -> {_escape(d)}" for d in item.get("distractors") or []]
    return _Written("", lines, frozenset({"pairs", "distractors"}))


def _write_essay(item: dict) -> _Written:
    return _Written("", [], frozenset())


_WRITERS = {
    "single": _write_single, "multiple": _write_multiple, "true_false": _write_true_false,
    "numeric": _write_numeric, "short": _write_short, "matching": _write_matching, "essay": _write_essay,
    "ordering": lambda item: None,  # GIFT has no ordering question
}
_ALWAYS_CARRIED = frozenset({"id", "type", "stem", "explanation", "category"})


def _meta_line(meta: dict) -> str:
    return "// @lms " + json.dumps(meta, ensure_ascii=False, default=str)


def _write_item(item: dict) -> list[str]:
    writer = _WRITERS.get(item.get("type"))
    if writer is None:
        raise GiftExportError(item["id"], f"type {item.get('type')!r} is not a known question type")
    written = writer(item)
    if written is None:
        return [f"// {item['id']} ({item['type']}) cannot be written as a GIFT question: Moodle skips it, "
                "the LMS importer restores it from the next line.",
                _meta_line({k: v for k, v in item.items() if k != "category"})]
    meta = {k: v for k, v in item.items() if k not in _ALWAYS_CARRIED | written.carried} | written.meta
    lines = [_meta_line(meta)] if meta else []
    body = written.lines + ([f"####{_field(item['explanation'])}"] if item.get("explanation") else [])
    # Stems are Markdown, and saying so keeps Moodle from guessing.
    question = f"::{_escape(item['id'])}::[markdown]{_escape(item.get('stem'))}{{{written.head}"
    question += "".join(f"\n\t{line}" for line in body) + ("\n" if body else "") + "}"
    return lines + [question]


def export_gift(bank: dict) -> str:
    """Write a bank dict as GIFT. Raise GiftExportError (a ValueError) for an item that cannot be written."""
    out = [f"// Bank {_one_line(bank.get('bank'))}: {_one_line(bank.get('title'))}",
           "// '// @lms' lines keep the fields GIFT has no syntax for; Moodle ignores them.", ""]
    seen: set[str] = set()
    category = None
    for item in bank.get("items") or []:
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
            raise GiftExportError(item_id, "needs a kebab-case id (e.g. bcma-001): GIFT keeps it as the ::name::")
        if item_id in seen:
            raise GiftExportError(item_id, "the id is used twice in the bank")
        seen.add(item_id)
        wanted = _one_line(item.get("category")) or None
        if wanted != category:  # a category applies until the next one; an empty one ends it
            out += [f"$CATEGORY: {wanted or ''}".rstrip(), ""]
            category = wanted
        out += _write_item(item) + [""]
    return "\n".join(out)
