"""National Drug Codes: parse, convert between the 10- and 11-digit forms, and map to and from GS1 GTINs."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

__all__ = ["ELEVEN_DIGIT_FORMAT", "SEGMENT_LENGTHS", "TEN_DIGIT_FORMATS", "Ndc", "NdcError", "NdcFormat", "from_ndc11",
           "gs1_check_digit", "gtin14_from_ndc", "ndc10_digits_from_gtin", "parse_ndc", "resolve_ndc10_digits",
           "ten_digit_candidates", "to_ndc11", "upc_a_from_ndc"]

NdcFormat = Literal["4-4-2", "5-3-2", "5-4-1", "5-4-2"]

# Segment lengths (labeler, product, package) of each format. The 11-digit 5-4-2 form is the billing form:
# every 10-digit format pads its one short segment with a leading zero to reach it. The 12-digit 6-4-2 form
# the FDA adopts in 2033 is not handled yet; adding it means adding it here and to the messages below.
SEGMENT_LENGTHS: dict[NdcFormat, tuple[int, int, int]] = {
    "4-4-2": (4, 4, 2),
    "5-3-2": (5, 3, 2),
    "5-4-1": (5, 4, 1),
    "5-4-2": (5, 4, 2),
}
TEN_DIGIT_FORMATS: tuple[NdcFormat, ...] = ("4-4-2", "5-3-2", "5-4-1")
ELEVEN_DIGIT_FORMAT: NdcFormat = "5-4-2"
_PADDED_SEGMENT: dict[str, str] = {"4-4-2": "labeler", "5-3-2": "product", "5-4-1": "package"}
_SHAPES = "10 digits as 4-4-2, 5-3-2 or 5-4-1, or 11 digits as 5-4-2"
_DIGITS = frozenset("0123456789")  # str.isdigit() also accepts superscripts and other scripts' digits
# After the indicator digit, a GTIN built from an NDC carries "03": the GS1 US prefix reserved for NDCs.
_NDC_GTIN_PREFIX = "03"

Product = TypeVar("Product")


class NdcError(ValueError):
    """An NDC, or a GTIN that should hold one, is malformed; the message says what is wrong in plain words."""


def _is_digits(text: str) -> bool:
    return bool(text) and set(text) <= _DIGITS


@dataclass(frozen=True)
class Ndc:
    """An NDC as three digit strings (never integers: leading zeros matter) in a known format."""

    labeler: str
    product: str
    package: str
    format: NdcFormat

    def __post_init__(self) -> None:
        if self.format not in SEGMENT_LENGTHS:
            raise NdcError(f"Unknown NDC format {self.format!r}; expected one of {', '.join(SEGMENT_LENGTHS)}.")
        segments = (self.labeler, self.product, self.package)
        if tuple(len(s) for s in segments) != SEGMENT_LENGTHS[self.format] or not all(map(_is_digits, segments)):
            raise NdcError(f"NDC segments {'-'.join(segments)!r} do not form a {self.format} NDC.")

    @property
    def display(self) -> str:
        """Return the NDC with hyphens in its own format, e.g. 0574-4072-05."""
        return f"{self.labeler}-{self.product}-{self.package}"

    @property
    def digits10(self) -> str | None:
        """Return the 10 digits without hyphens, or None for an 11-digit NDC, whose 10-digit format is unknown."""
        if self.format == ELEVEN_DIGIT_FORMAT:
            # Which segment was padded cannot be told from the digits: see ten_digit_candidates().
            return None
        return self.labeler + self.product + self.package

    @property
    def ndc11(self) -> str:
        """Return the 11-digit billing form without hyphens, e.g. 00574407205."""
        return self.labeler.zfill(5) + self.product.zfill(4) + self.package.zfill(2)

    @property
    def ndc11_display(self) -> str:
        """Return the 11-digit billing form with hyphens, e.g. 00574-4072-05."""
        return f"{self.labeler.zfill(5)}-{self.product.zfill(4)}-{self.package.zfill(2)}"

    def __str__(self) -> str:
        return self.display


def _format_of(lengths: tuple[int, ...]) -> NdcFormat | None:
    for name, expected in SEGMENT_LENGTHS.items():
        if lengths == expected:
            return name
    return None


def parse_ndc(text: str) -> Ndc:
    """Parse a hyphenated 10- or 11-digit NDC, or a bare 11-digit one; raise NdcError saying what is wrong."""
    value = text.strip()
    if not value:
        raise NdcError(f"No NDC given; an NDC has {_SHAPES}.")
    stray = next((c for c in value if c not in _DIGITS and c != "-"), None)
    if stray is not None:
        what = "a space" if stray.isspace() else repr(stray)
        raise NdcError(f"NDC {value!r} contains {what}; an NDC has only digits and hyphens.")
    digits = value.replace("-", "")
    if len(digits) not in (10, 11):
        raise NdcError(f"NDC {value!r} has {len(digits)} digits; an NDC has {_SHAPES}.")
    segments = value.split("-")
    if len(segments) == 1:
        if len(digits) == 11:  # only one 11-digit format exists, so bare digits are unambiguous
            return Ndc(digits[:5], digits[5:9], digits[9:], ELEVEN_DIGIT_FORMAT)
        raise NdcError(
            f"NDC {value!r} has 10 digits but no hyphens, so its format is ambiguous (4-4-2, 5-3-2 or 5-4-1); "
            "type it with the hyphens printed on the package."
        )
    if len(segments) != 3:
        raise NdcError(
            f"NDC {value!r} has {len(segments)} segments; an NDC has three, labeler-product-package, "
            "separated by hyphens."
        )
    lengths = tuple(len(s) for s in segments)
    fmt = _format_of(lengths)
    if fmt is None:
        shape = "a 10-digit NDC is 4-4-2, 5-3-2 or 5-4-1" if len(digits) == 10 else "an 11-digit NDC is 5-4-2"
        raise NdcError(f"NDC {value!r} has segments of {'-'.join(map(str, lengths))} digits; {shape}.")
    return Ndc(segments[0], segments[1], segments[2], fmt)


def _as_ndc(ndc: str | Ndc) -> Ndc:
    return ndc if isinstance(ndc, Ndc) else parse_ndc(ndc)


def to_ndc11(ndc: str | Ndc) -> str:
    """Return the 11 digits (no hyphens) of an NDC given as text or as an Ndc."""
    return _as_ndc(ndc).ndc11


def _as_ndc11(ndc11: str | Ndc) -> Ndc:
    ndc = _as_ndc(ndc11)
    if ndc.format != ELEVEN_DIGIT_FORMAT:
        raise NdcError(f"NDC {ndc.display!r} is a 10-digit {ndc.format} NDC, not an 11-digit 5-4-2 one.")
    return ndc


def from_ndc11(ndc11: str | Ndc, format: str) -> Ndc:
    """Return the 11-digit NDC in the given 10-digit format, if its padding zero is where that format puts it."""
    ndc = _as_ndc11(ndc11)
    if format not in TEN_DIGIT_FORMATS:
        raise NdcError(f"Unknown 10-digit NDC format {format!r}; expected one of {', '.join(TEN_DIGIT_FORMATS)}.")
    segment = _PADDED_SEGMENT[format]
    value = getattr(ndc, segment)
    if not value.startswith("0"):
        raise NdcError(
            f"NDC {ndc.display} cannot come from a {format} NDC: that format's 11-digit form pads the {segment} "
            f"with a leading zero, but the {segment} {value} does not start with 0."
        )
    labeler, product, package = ndc.labeler, ndc.product, ndc.package
    if format == "4-4-2":
        labeler = labeler[1:]
    elif format == "5-3-2":
        product = product[1:]
    else:
        package = package[1:]
    return Ndc(labeler, product, package, cast(NdcFormat, format))


def ten_digit_candidates(ndc11: str | Ndc) -> list[NdcFormat]:
    """Return the 10-digit formats an 11-digit NDC could have been converted from."""
    ndc = _as_ndc11(ndc11)
    return [f for f in TEN_DIGIT_FORMATS if getattr(ndc, _PADDED_SEGMENT[f]).startswith("0")]


def gs1_check_digit(digits: str) -> str:
    """Return the GS1 mod-10 check digit for the digits before it (the body of a GTIN-8, -12, -13 or -14)."""
    if not _is_digits(digits):
        raise NdcError(f"Cannot compute a GS1 check digit for {digits!r}: expected digits only.")
    # Weights alternate 3, 1, 3, ... from the rightmost body digit, so leading zeros never change the result:
    # that is why a UPC-A and the GTIN-14 made by padding it with zeros share their check digit.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _ten_digit(ndc: str | Ndc, purpose: str) -> str:
    parsed = _as_ndc(ndc)
    if parsed.digits10 is None:
        candidates = ten_digit_candidates(parsed)
        fits = f"it could be {' or '.join(candidates)}" if candidates else "no 10-digit format fits it"
        raise NdcError(
            f"Cannot build {purpose} from the 11-digit NDC {parsed.display}: a barcode holds the 10-digit NDC, and "
            f"11 digits do not tell which 10-digit format it has ({fits}); convert it with from_ndc11() first."
        )
    return parsed.digits10


def gtin14_from_ndc(ndc: str | Ndc, indicator: int = 0) -> str:
    """Return the GTIN-14 of a 10-digit NDC: indicator, "03", the 10 digits and a check digit."""
    # 0 is the unit of sale, 1-8 higher packaging levels; 9 marks variable-measure items, never an NDC package.
    if isinstance(indicator, bool) or not isinstance(indicator, int) or not 0 <= indicator <= 8:
        raise NdcError(f"GTIN indicator digit must be 0 to 8, got {indicator!r}.")
    body = f"{indicator}{_NDC_GTIN_PREFIX}{_ten_digit(ndc, 'a GTIN')}"
    return body + gs1_check_digit(body)


def upc_a_from_ndc(ndc: str | Ndc) -> str:
    """Return the 12-digit UPC-A of a 10-digit NDC: "3", the 10 digits and a check digit."""
    body = "3" + _ten_digit(ndc, "a UPC-A")
    return body + gs1_check_digit(body)


def ndc10_digits_from_gtin(gtin: str) -> str:
    """Return the 10 NDC digits inside a US drug GTIN (14 digits, or 12 or 13 that pad to 14 with zeros)."""
    value = gtin.strip()
    if not _is_digits(value) or len(value) not in (12, 13, 14):
        raise NdcError(f"GTIN {value!r} is not 12, 13 or 14 digits.")
    value = value.zfill(14)
    expected = gs1_check_digit(value[:-1])
    if value[-1] != expected:
        raise NdcError(
            f"GTIN {value} has check digit {value[-1]}, but its other digits give {expected}: "
            "a digit was misread or mistyped."
        )
    if value[0] == "9":
        raise NdcError(f"GTIN {value} has indicator digit 9 (a variable-measure item), so it does not hold an NDC.")
    if value[1:3] != _NDC_GTIN_PREFIX:
        raise NdcError(
            f"GTIN {value} is not an NDC-based GTIN: after the indicator digit a US drug GTIN has "
            f"{_NDC_GTIN_PREFIX!r}, and this one has {value[1:3]!r}."
        )
    return value[3:13]


def resolve_ndc10_digits(digits10: str, lookup: Callable[[str], Product | None]) -> list[Product]:
    """Return the products lookup(ndc11) finds for the 4-4-2, 5-3-2 and 5-4-1 readings of 10 NDC digits, in that order.

    A barcode carries the 10 digits without hyphens, and they split as 4-4-2, 5-3-2 or 5-4-1: the format must
    never be guessed, only confirmed by a product that exists. No match means the product is unknown. More than
    one match means the product data is inconsistent (two products whose NDCs share the same 10 digits): the
    caller must report it rather than pick one.
    """
    if not _is_digits(digits10) or len(digits10) != 10:
        raise NdcError(f"Expected the 10 digits of an NDC, got {digits10!r}.")
    matches: list[Product] = []
    looked_up: set[str] = set()
    for fmt in TEN_DIGIT_FORMATS:
        lab, prod, _ = SEGMENT_LENGTHS[fmt]
        ndc = Ndc(digits10[:lab], digits10[lab : lab + prod], digits10[lab + prod :], fmt)
        # Runs of zeros make two segmentations pad to the same 11 digits (0000012345 is 00000-0123-45 either as
        # 4-4-2 or 5-3-2): that is one product, not an ambiguity, so look each 11-digit form up once.
        if ndc.ndc11 in looked_up:
            continue
        looked_up.add(ndc.ndc11)
        product = lookup(ndc.ndc11)
        if product is not None:
            matches.append(product)
    return matches
