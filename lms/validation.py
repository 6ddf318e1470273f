"""One path for untrusted input: bounded ids and integers, dates in a sane range, and text without control characters.

Everything a request carries (path segments, query strings, form fields) is checked here before it reaches a
service or the database, so bad input answers 400/404 with a message naming the field instead of overflowing a
driver (an id past PostgreSQL's 32-bit INTEGER keys, a due date of 9999-12-31 plus one day) or being stored where it
cannot be shown (a NUL byte, a right-to-left override in a name).

- Integers: only ASCII digits 0-9 count. ``str.isdigit()`` also accepts "²" (which ``int()`` refuses) and
  "٣" (which ``int()`` reads as 3); neither is a number anyone types into this site.
- Dates: 1900-01-01 to 2199-12-31 everywhere (due dates, transcript and export ranges, sandbox expiry dates).
- Text: no NUL, no C0/C1 control characters (tab, LF and CR only in multi-line fields). Names additionally refuse
  bidirectional controls (they reorder what is displayed next to them) and text made only of invisible characters.
"""

import re
import unicodedata
from datetime import date

import flask_wtf
from flask import Flask, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from wtforms import DateField as _WTFormsDateField
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import ValidationError

MAX_ID = 2**31 - 1  # every id column is INTEGER, which PostgreSQL stores in 4 bytes (SQLite in up to 8)
MAX_PAGE = 100_000  # pagination: far past any real list, far below an offset that overflows
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2199, 12, 31)

_ASCII_INT = re.compile(r"-?[0-9]{1,19}")  # 19 digits hold every 64-bit value; longer is out of every range here


class InputError(BadRequest):
    """A 400 whose message says what was wrong with which field; the error page shows it in the site layout."""

    title = "That input could not be used"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(description=message)
        self.field = field


# --- integers ------------------------------------------------------------------------------------------------------

def parse_int(text, low: int = 0, high: int = MAX_ID) -> int | None:
    """The integer ``text`` spells in ASCII digits within [low, high], or None (never an exception)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _ASCII_INT.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def int_arg(name: str, default: int | None = None, low: int = 0, high: int = MAX_ID, args=None) -> int | None:
    """A query-string integer; anything that is not a whole number in range gives ``default``."""
    raw = (request.args if args is None else args).get(name)
    value = parse_int(raw, low, high) if raw is not None else None
    return default if value is None else value


def page_arg(name: str = "page") -> int:
    """The page number of a paginated list: 1 unless the query asks for a sane page."""
    return int_arg(name, 1, 1, MAX_PAGE)


class BoundedIntConverter(IntegerConverter):
    """The app's ``<int:...>`` converter: ASCII digits only, 0 to MAX_ID (2**31-1), so any other id is a plain 404
    instead of an integer the database driver cannot send."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False):  # werkzeug's argument names
        low = 0 if min is None else min
        high = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits, low, high, signed)


class WholeNumberField(IntegerField):
    """An integer form field with explicit bounds: ASCII digits only, and the message names the range."""

    def __init__(self, label=None, validators=None, low: int = 0, high: int = 100_000, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.low, self.high = low, high

    def _range_message(self) -> str:
        return f"Enter a whole number from {self.low:,} to {self.high:,}."

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0]
        if isinstance(raw, str) and not raw.strip():
            self.data = None
            return
        self.data = parse_int(raw, -MAX_ID - 1, MAX_ID)
        if self.data is None:
            raise ValueError(self._range_message())

    def pre_validate(self, form):
        if self.data is not None and not self.low <= self.data <= self.high:
            raise ValidationError(self._range_message())


# --- dates ---------------------------------------------------------------------------------------------------------

def date_problem(value: date | None, label: str) -> str | None:
    """A message when ``value`` lies outside the range the site accepts, else None."""
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        return f"{label} must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."
    return None


def parse_date(text, label: str) -> date:
    """An ISO date (2026-01-31) within the sane range; raise InputError naming ``label`` otherwise."""
    raw = text.strip() if isinstance(text, str) else ""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise InputError(f"{label} must be a date like 2026-01-31.")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{label} is not a real date (check the month and day).") from None
    problem = date_problem(value, label)
    if problem:
        raise InputError(problem)
    return value


class DateRange:
    """A from/to pair read from a query string; ``errors`` maps each bad parameter to its message."""

    def __init__(self, args: MultiDict, start: str = "start", end: str = "end",
                 labels: tuple[str, str] = ("The start date", "The end date")):
        self.start: date | None = None
        self.end: date | None = None
        self.errors: dict[str, str] = {}
        for name, label in ((start, labels[0]), (end, labels[1])):
            raw = (args.get(name) or "").strip()
            if not raw:
                continue
            try:
                setattr(self, "start" if name == start else "end", parse_date(raw, label))
            except InputError as error:
                self.errors[name] = error.description
        if self.start and self.end and self.end < self.start:
            self.errors[end] = f"{labels[1]} ({self.end.isoformat()}) is before {labels[0].lower()} " \
                               f"({self.start.isoformat()})."

    def raise_for_errors(self) -> None:
        """For downloads and the API, which have no form to show the message on: a 400 with it."""
        if self.errors:
            raise InputError(" ".join(self.errors.values()))


class DateField(_WTFormsDateField):
    """WTForms' DateField limited to the sane range (1900-01-01 to 2199-12-31)."""

    def pre_validate(self, form):
        problem = date_problem(self.data, str(self.label.text))
        if problem:
            raise ValidationError(problem)


# --- text ----------------------------------------------------------------------------------------------------------

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_LINE_BREAKS = frozenset("\t\n\r")


def _is_control(char: str, multiline: bool) -> bool:
    if multiline and char in _LINE_BREAKS:
        return False
    return unicodedata.category(char) == "Cc"  # C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F)


def _is_invisible(char: str) -> bool:
    # Whitespace (Zs/Zl/Zp and the control whitespace), format characters (zero-width space and joiners, BOM,
    # soft hyphen...) and the Hangul/Braille blanks that render as nothing.
    return char.isspace() or unicodedata.category(char) in ("Cf", "Zs", "Zl", "Zp") or char in "\u115f\u1160\u3164" \
        "\u2800\uffa0"


def text_problem(value, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text (a NUL or other control character), or None."""
    if not isinstance(value, str):
        return None
    bad = next((c for c in value if _is_control(c, multiline)), None)
    if bad is not None:
        return f"Remove the control character U+{ord(bad):04X}" + (" (NUL)" if bad == "\0" else "") + "."
    return None


def name_problem(value) -> str | None:
    """Why ``value`` is not acceptable as a name shown to other people, or None."""
    if not isinstance(value, str) or not value:
        return None
    problem = text_problem(value)
    if problem:
        return problem
    bad = next((c for c in value if c in _BIDI_CONTROLS), None)
    if bad is not None:
        return f"Remove the text-direction control character U+{ord(bad):04X}: it changes how nearby text displays."
    if all(_is_invisible(c) for c in value):
        return "Enter a name with visible letters, not only spaces or invisible characters."
    return None


class SafeText:
    """WTForms validator: no control characters (``multiline`` allows tab, newline and carriage return; ``allow``
    names others a field legitimately carries, such as the GS1 group separator in barcode data).

    Declaring it on a field replaces the default check the project's FlaskForm adds to every text field."""

    def __init__(self, multiline: bool = False, allow: str = ""):
        self.multiline, self.allow = multiline, allow

    def __call__(self, form, field):
        value = field.data
        if self.allow and isinstance(value, str):
            value = value.translate({ord(c): None for c in self.allow if c != "\0"})
        problem = text_problem(value, self.multiline)
        if problem:
            raise ValidationError(problem)


class Name:
    """WTForms validator for names people see (users, cohorts, curricula, tokens): also no bidi controls and not
    only invisible characters."""

    def __call__(self, form, field):
        problem = name_problem(field.data)
        if problem:
            raise ValidationError(problem)


class FlaskForm(flask_wtf.FlaskForm):
    """The project's form base: Flask-WTF's form whose every text field also refuses control characters.

    Each feature's forms import ``FlaskForm`` from here, so a text field added later is covered without anyone
    remembering a validator. Text areas keep tab and line breaks.
    """

    def validate(self, extra_validators=None):
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField) and not any(isinstance(v, SafeText | Name) for v in field.validators):
                extra.setdefault(name, []).append(SafeText(multiline=isinstance(field, TextAreaField)))
        return super().validate(extra_validators=extra)


# --- the last line of defence --------------------------------------------------------------------------------------

def refuse_nul() -> None:
    """Before-request guard: a NUL byte anywhere in the path, query or form answers 400 and reaches no view.

    No browser sends NUL from a form a person filled in, PostgreSQL cannot store it in text, and hand-parsed
    values (quiz answers, path segments such as a verification code) would otherwise reach the database with it.
    The field validators above give the on-form message for every other control character.
    """
    if "\0" in request.path or any("\0" in key or any("\0" in v for v in request.args.getlist(key))
                                   for key in request.args):
        raise InputError("The address contains a NUL character (U+0000), which no page accepts. Nothing was changed.")
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in ("application/x-www-form-urlencoded",
                                                                           "multipart/form-data"):
        form = request.form
        if any("\0" in key or any("\0" in v for v in form.getlist(key)) for key in form):
            raise InputError("The form contained a NUL character (U+0000), which no field accepts. "
                             "Nothing was changed.")


def init_validation(app: Flask) -> None:
    """Register the bounded ``int`` converter (before any blueprint adds a rule) and the NUL guard."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul)
