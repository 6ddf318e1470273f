"""Interpret a drug barcode scan (GS1 element string, GTIN or UPC-A), as a scanner sends it or a trainee types it."""

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.symbology import GS1Symbology, SymbologyIdentifier

from lms.sandbox.pharmacy.ndc import NdcError, gs1_check_digit, ndc10_digits_from_gtin

__all__ = ["GS", "MAX_LENGTH", "ScanKind", "ScanResult", "interpret"]

ScanKind = Literal["gs1", "gtin", "upc_a", "unknown"]

GS = "\x1d"  # ASCII group separator: what a scanner sends for the FNC1 that ends a variable-length element
MAX_LENGTH = 200  # a GS1 DataMatrix on a drug holds well under 100 characters; longer is a paste gone wrong
# Spellings of GS that can be typed into a web form. None can be part of GS1 data: "{", "[", "\", "^" and "]"
# are outside the GS1 character set, and a lot literally containing "<GS>" is not worth supporting.
_TYPED_GS = re.compile(r"<gs>|\{gs\}|\[gs\]|\\x1d|\u241d|\^\]", re.IGNORECASE)
_DIGITS = frozenset("0123456789")  # not str.isdigit(), which also accepts other scripts' digits
# The GS1 character set 82 that lots and serials are drawn from, for explaining where a value was cut short.
_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_LABELS = {"01": "GTIN", "17": "expiry date", "10": "lot", "21": "serial"}
_PRODUCT_IDENTIFIER = frozenset(_LABELS)  # the four DSCSA elements a drug's 2D barcode carries
_BARCODE_SHAPES = "a 12-digit UPC-A, a 13- or 14-digit GTIN, or GS1 data starting with 01, or (01) as printed"
_HRI_ELEMENT = re.compile(r"\(([0-9]+)\)([^()]*)")
_MAX_VARIABLE_LENGTH = re.compile(r"\.\.(\d+)$")


@dataclass(frozen=True)
class ScanResult:
    """What a scan holds, with every problem found explained in errors (unusable) or warnings (check it)."""

    raw: str
    kind: ScanKind
    gtin14: str | None = None
    ndc10_digits: str | None = None  # unhyphenated: resolve the format with ndc.resolve_ndc10_digits()
    expiry: date | None = None
    expiry_text: str | None = None  # YYMMDD as scanned; day 00 means the last day of the month
    lot: str | None = None
    serial: str | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Return whether the scan was read without errors."""
        return not self.errors

    def expired(self, on: date) -> bool:
        """Return whether the product is past its expiry date on the given day (False when there is no expiry)."""
        return self.expiry is not None and self.expiry < on


@dataclass
class _Draft:
    raw: str
    kind: ScanKind = "unknown"
    gtin14: str | None = None
    ndc10_digits: str | None = None
    expiry: date | None = None
    expiry_text: str | None = None
    lot: str | None = None
    serial: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def result(self) -> ScanResult:
        return ScanResult(self.raw, self.kind, self.gtin14, self.ndc10_digits, self.expiry, self.expiry_text,
                          self.lot, self.serial, tuple(self.errors), tuple(self.warnings))


@dataclass(frozen=True)
class _Element:
    """One element string read from the scan, and whether a GS (or the HRI's parentheses) ended it."""

    parsed: GS1ElementString
    delimited: bool


def interpret(raw: str) -> ScanResult:
    """Read a scan or typed barcode text; never raise on bad input, explain it in errors and warnings instead."""
    draft = _Draft(raw)
    text = raw.strip()
    if not text:
        draft.errors.append("The scan is empty: scan the barcode again, or type its digits.")
        return draft.result()
    if len(text) > MAX_LENGTH:
        draft.errors.append(
            f"The scan has {len(text)} characters, more than the {MAX_LENGTH} any drug barcode holds: "
            "paste one barcode at a time."
        )
        return draft.result()
    text = _TYPED_GS.sub(GS, text)
    forced_gs1 = False
    if text.startswith("]"):
        symbology = _symbology(text)
        if symbology is None:
            draft.errors.append(
                f"The scan starts with {_quote(text[:3])}, which is not a symbology identifier such as ]d2 "
                "(GS1 DataMatrix), ]C1 (GS1-128) or ]E0 (EAN/UPC)."
            )
            return draft.result()
        text = text[len(symbology.value) :]
        forced_gs1 = symbology.gs1_symbology in GS1Symbology.with_gs1_messages()
        if symbology.gs1_symbology is None:
            draft.warnings.append(
                f"The symbology identifier {_quote(symbology.value)} marks a barcode that is not a GS1 symbology; "
                "the data after it is read anyway."
            )
    # A scanner may send the FNC1 that opens a GS1 symbol as a leading GS; a trailing GS ends nothing.
    # (str.strip() counts GS as whitespace, so this also drops any spaces around it.)
    text = text.strip()
    if not text:
        draft.errors.append("The scan holds no data after its symbology identifier.")
    elif text.startswith("("):
        draft.kind = "gs1"
        _read_elements(draft, _hri_elements(draft, text))
    elif forced_gs1:
        draft.kind = "gs1"
        _read_elements(draft, _raw_elements(draft, text))
    elif set(text) <= _DIGITS and len(text) in (10, 11):
        draft.errors.append(
            f"{_quote(text)} has {len(text)} digits: that looks like an NDC, not a barcode. "
            f"A drug barcode holds {_BARCODE_SHAPES}."
        )
    elif set(text) <= _DIGITS and len(text) == 12:
        draft.kind = "upc_a"
        _read_gtin(draft, text, "UPC-A")
    elif set(text) <= _DIGITS and len(text) in (13, 14):
        draft.kind = "gtin"
        _read_gtin(draft, text, "GTIN")
    elif _starts_with_ai(text) and (len(text) > 14 or not set(text) <= _DIGITS):
        draft.kind = "gs1"
        _read_elements(draft, _raw_elements(draft, text))
    else:
        draft.errors.append(f"{_quote(text)} is not a drug barcode: expected {_BARCODE_SHAPES}.")
    return draft.result()


def _symbology(text: str) -> SymbologyIdentifier | None:
    if len(text) < 3:
        return None
    try:
        return SymbologyIdentifier.extract(text)
    except (ParseError, ValueError):  # biip raises ValueError, not ParseError, for a malformed "]Y" prefix
        return None


def _starts_with_ai(text: str) -> bool:
    try:
        GS1ApplicationIdentifier.extract(text)
    except ParseError:
        return False
    return True


def _quote(text: str, limit: int = 40) -> str:
    """Quote scanned text for a message, with GS made visible and long text cut short."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return "'" + shown.replace(GS, "<GS>") + "'"


def _label(ai: GS1ApplicationIdentifier) -> str:
    return f"{_LABELS[ai.ai]} ({ai.ai})" if ai.ai in _LABELS else f"({ai.ai}) {ai.description}"


def _max_length(ai: GS1ApplicationIdentifier) -> int | None:
    match = _MAX_VARIABLE_LENGTH.search(ai.format)
    return int(match.group(1)) if match else None


def _bad_value(ai: GS1ApplicationIdentifier, value: str) -> str:
    """Explain why a value does not fit its application identifier."""
    if not value:
        return f"The {_label(ai)} has no value."
    if ai.ai == "01":
        return f"The GTIN (01) must be 14 digits; got {_quote(value[:14])}."
    if ai.ai == "17":
        return (
            f"The expiry date (17) must be a real date written as 6 digits YYMMDD (day 00 meaning the last day of "
            f"the month); got {_quote(value[:6])}."
        )
    longest = _max_length(ai)
    if longest is not None and ai.format.split("+")[-1].startswith("X"):
        return (
            f"The {_label(ai)} must be 1 to {longest} characters: letters, digits and !\"%&'()*+,-./:;<=>?_; "
            f"got {_quote(value)}."
        )
    return f"The {_label(ai)} does not fit its format {ai.format}; got {_quote(value)}."


def _parse_element(text: str) -> GS1ElementString | None:
    try:
        return GS1ElementString.extract(text)
    except (ParseError, ValueError):
        return None


def _raw_elements(draft: _Draft, text: str) -> tuple[list[_Element], bool]:
    """Split GS1 data as a scanner sends it into element strings: those read, and whether all of it was read."""
    if any(c.isspace() and c != GS for c in text):
        draft.errors.append(
            "GS1 data cannot contain spaces. Type the elements one after another, and after a lot or serial "
            "that is followed by more data type a group separator as <GS>; or type the form printed under the "
            "barcode, with each application identifier in parentheses."
        )
        return [], False
    elements: list[_Element] = []
    rest = text
    while rest:
        try:
            ai = GS1ApplicationIdentifier.extract(rest)
        except ParseError:
            draft.errors.append(_unknown_ai(rest, elements))
            if elements and _max_length(elements[-1].parsed.ai) is not None and not elements[-1].delimited:
                elements.pop()  # a lot or serial cut short by the unreadable data is not the real value
            return elements, False
        parsed = _parse_element(rest)
        if parsed is None:
            draft.errors.append(_bad_value(ai, rest[len(ai.ai) :].split(GS, 1)[0]))
            return elements, False
        rest = rest[len(parsed) :]
        elements.append(_Element(parsed, delimited=rest.startswith(GS)))
        rest = rest.lstrip(GS)
    return elements, True


def _unknown_ai(rest: str, elements: list[_Element]) -> str:
    """Explain data that does not start with an application identifier, pointing at the likely cause."""
    if not elements:
        return f"GS1 data starts with an application identifier such as 01 (GTIN); {_quote(rest)} does not."
    message = f"The data {_quote(rest)} does not start with a known GS1 application identifier"
    previous = elements[-1]
    longest = _max_length(previous.parsed.ai)
    if longest is not None and not previous.delimited:
        label, value = _label(previous.parsed.ai), previous.parsed.value
        if rest[0] not in _CSET82:
            return f"{message}: the {label} {_quote(value)} stops at {_quote(rest[0])}, which GS1 data cannot contain."
        if len(value) == longest:
            return (
                f"{message}: the {label} {_quote(value)} reached its {longest}-character limit with no group "
                "separator (GS) after it, so the data may still belong to it or a GS is missing."
            )
    return f"{message}."


def _hri_elements(draft: _Draft, text: str) -> tuple[list[_Element], bool]:
    """Split the printed form, (AI)value(AI)value…, into element strings: those read, and whether all were read."""
    # Spaces around a value and typed separators are layout here: the parentheses already delimit each value.
    text = text.replace(GS, "")
    elements: list[_Element] = []
    position = 0
    while position < len(text):
        match = _HRI_ELEMENT.match(text, position)
        if match is None:
            draft.errors.append(
                f"Could not read {_quote(text[position:])}: in the printed form every element is an application "
                "identifier in parentheses followed by its value, such as (17)271031; a value cannot contain "
                "parentheses in this form."
            )
            if elements:
                elements.pop()  # its value stopped at the parenthesis that could not be read, so it may be cut short
            return elements, False
        position = match.end()
        number, value = match.group(1), match.group(2).strip()
        ai = _known_ai(number)
        if ai is None:
            draft.errors.append(f"({number}) is not a known GS1 application identifier.")
            return elements, False
        try:
            parsed = GS1ElementString.parse(number + value)
        except (ParseError, ValueError):
            draft.errors.append(_bad_value(ai, value))
            return elements, False
        elements.append(_Element(parsed, delimited=True))
    return elements, True


def _known_ai(number: str) -> GS1ApplicationIdentifier | None:
    try:
        ai = GS1ApplicationIdentifier.extract(number)
    except ParseError:
        return None
    return ai if ai.ai == number else None


def _read_elements(draft: _Draft, read: tuple[list[_Element], bool]) -> None:
    """Fill the draft from the element strings read, checking the GTIN and looking for a missing separator."""
    # After a part that could not be read, the elements before it are still reported: a trainee sees how far
    # the scan made sense. What is absent is then unknown, so nothing is inferred from absence.
    elements, complete = read
    seen: set[str] = set()
    for element in elements:
        ai, value = element.parsed.ai, element.parsed.value
        if ai.ai in seen:
            draft.errors.append(f"The {_label(ai)} appears more than once in the scan.")
            continue
        seen.add(ai.ai)
        if ai.ai == "01":
            _read_gtin(draft, value, "GTIN")
        elif ai.ai == "17":
            if set(value) <= _DIGITS:  # biip's \d would let other scripts' digits through
                draft.expiry, draft.expiry_text = element.parsed.date, value
            else:
                draft.errors.append(_bad_value(ai, value))
        elif ai.ai == "10":
            draft.lot = value
        elif ai.ai == "21":
            draft.serial = value
        else:
            draft.warnings.append(f"The scan also holds {_label(ai)} {_quote(value)}, which is not used here.")
    if not complete:
        return
    if "01" not in seen:
        draft.errors.append("The GS1 data has no GTIN (01), so it does not identify a product.")
    missing = _PRODUCT_IDENTIFIER - seen
    for element in elements:
        ai, value = element.parsed.ai, element.parsed.value
        if ai.ai in ("10", "21") and not element.delimited and _holds_element(value, missing):
            label = _LABELS[ai.ai]
            draft.warnings.append(
                f"The {label} {_quote(value)} may include another element: a group separator (GS) is probably "
                f"missing after the {label}."
            )


def _holds_element(value: str, missing: frozenset[str]) -> bool:
    """Return whether a lot or serial contains what looks like one of the product identifier elements missing."""
    # Conservative on purpose, because real lots contain "10", "17" and "21" all the time: only an element the scan
    # otherwise lacks counts, it must start after at least one character of the value, and it must be well formed
    # (a GTIN with a valid check digit; a valid YYMMDD date at the end of the value or before another element).
    for start in range(1, len(value) - 2):
        ai, tail = value[start : start + 2], value[start + 2 :]
        if ai not in missing:
            continue
        if ai == "01" and _valid_gtin14(tail[:14]):
            return True
        if ai == "17" and _valid_yymmdd(tail[:6]) and (len(tail) == 6 or tail[6:8] in _PRODUCT_IDENTIFIER):
            return True
        if ai in ("10", "21"):  # tail is non-empty: the range stops before the value's last two characters
            return True
    return False


def _valid_gtin14(digits: str) -> bool:
    return len(digits) == 14 and set(digits) <= _DIGITS and gs1_check_digit(digits[:13]) == digits[13]


def _valid_yymmdd(text: str) -> bool:
    if len(text) != 6 or not set(text) <= _DIGITS:
        return False
    month, day = int(text[2:4]), int(text[4:6])
    # Only 29 February depends on the century, and 20YY is a leap year exactly when 19YY is (except YY = 00,
    # which GS1's sliding window reads as 2000, a leap year, until 2050).
    return 1 <= month <= 12 and day <= calendar.monthrange(2000 + int(text[:2]), month)[1]


def _read_gtin(draft: _Draft, digits: str, name: str) -> None:
    """Check a GTIN or UPC-A's digits and check digit, and take the NDC digits out of it."""
    if not set(digits) <= _DIGITS:
        draft.errors.append(f"The {name} {_quote(digits)} must be digits only.")
        return
    expected = gs1_check_digit(digits[:-1])
    if digits[-1] != expected:
        draft.errors.append(
            f"The {name} {digits} ends in check digit {digits[-1]}, but its other digits give {expected}: "
            "a digit was misread or mistyped."
        )
        return
    draft.gtin14 = digits.zfill(14)
    if name == "UPC-A" and not digits.startswith("3"):
        # A UPC-A starting with 3 is the form a US drug label uses; anything else is a retail item code.
        draft.errors.append(
            f"The UPC-A {digits} does not hold an NDC: a drug's UPC-A starts with 3, and this one starts with "
            f"{digits[0]}."
        )
        return
    try:
        draft.ndc10_digits = ndc10_digits_from_gtin(draft.gtin14)
    except NdcError as error:
        draft.errors.append(str(error))
        return
    indicator = draft.gtin14[0]
    if indicator != "0":
        draft.warnings.append(
            f"The GTIN's indicator digit is {indicator}: it identifies a higher packaging level (such as a case "
            "or bundle), not the unit of sale."
        )
