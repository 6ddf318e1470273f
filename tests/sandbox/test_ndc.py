"""NDC parsing, 10/11-digit conversion, GTIN and UPC-A mapping, and resolving barcode digits by product lookup."""

import dataclasses
import itertools

import pytest
from biip.checksums import gs1_standard_check_digit
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.sandbox.pharmacy.ndc import (
    SEGMENT_LENGTHS,
    TEN_DIGIT_FORMATS,
    Ndc,
    NdcError,
    from_ndc11,
    gs1_check_digit,
    gtin14_from_ndc,
    ndc10_digits_from_gtin,
    parse_ndc,
    resolve_ndc10_digits,
    ten_digit_candidates,
    to_ndc11,
    upc_a_from_ndc,
)

# No example database: it would leave a .hypothesis directory in the working tree.
examples = settings(database=None, max_examples=300)
DIGITS = "0123456789"


@st.composite
def ten_digit_ndcs(draw) -> Ndc:
    fmt = draw(st.sampled_from(TEN_DIGIT_FORMATS))
    segments = [draw(st.text(DIGITS, min_size=n, max_size=n)) for n in SEGMENT_LENGTHS[fmt]]
    return Ndc(*segments, fmt)


def independent_check_digit(body: str) -> str:
    """Compute the GS1 check digit the way the GS1 General Specifications table lays it out."""
    # Right-align the body in the 17 positions of the longest GS1 key (SSCC); from the left, odd positions weigh 3.
    padded = body.rjust(17, "0")
    total = sum(int(d) * w for d, w in zip(padded, itertools.cycle((3, 1)), strict=False))
    return str((10 - total % 10) % 10)


# ---- parsing: the three 10-digit formats and the 11-digit billing form


@pytest.mark.parametrize(("text", "fmt", "ndc11", "ndc11_display", "digits10"), [
    ("0574-4072-05", "4-4-2", "00574407205", "00574-4072-05", "0574407205"),
    ("51655-089-52", "5-3-2", "51655008952", "51655-0089-52", "5165508952"),
    ("58118-1397-3", "5-4-1", "58118139703", "58118-1397-03", "5811813973"),
])
def test_the_three_ten_digit_formats_pad_their_short_segment(text, fmt, ndc11, ndc11_display, digits10):
    ndc = parse_ndc(text)
    assert ndc.format == fmt
    assert ndc.display == str(ndc) == text
    assert ndc.ndc11 == to_ndc11(text) == to_ndc11(ndc) == ndc11
    assert ndc.ndc11_display == ndc11_display
    assert ndc.digits10 == digits10


def test_segments_stay_strings_so_leading_zeros_survive():
    ndc = parse_ndc("0574-0072-05")
    assert (ndc.labeler, ndc.product, ndc.package) == ("0574", "0072", "05")


@pytest.mark.parametrize("text", ["00574-4072-05", "00574407205", "  00574-4072-05\n"])
def test_eleven_digits_hyphenated_or_bare_is_the_unambiguous_5_4_2(text):
    ndc = parse_ndc(text)
    assert ndc == Ndc("00574", "4072", "05", "5-4-2")
    assert ndc.display == ndc.ndc11_display == "00574-4072-05"
    assert ndc.ndc11 == "00574407205"


def test_an_eleven_digit_ndc_has_no_ten_digit_form_of_its_own():
    # Its padded zero could have been added to the labeler (4-4-2) or the package (5-4-1): only a lookup can tell.
    assert parse_ndc("00574-4072-05").digits10 is None


def test_surrounding_spaces_are_trimmed():
    assert parse_ndc("  0574-4072-05\t") == parse_ndc("0574-4072-05")


def test_ndc_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_ndc("0574-4072-05").labeler = "9999"  # type: ignore[misc]


@pytest.mark.parametrize(("text", "message"), [
    ("1234-56", "NDC '1234-56' has 6 digits; an NDC has 10 digits as 4-4-2, 5-3-2 or 5-4-1, or 11 digits as 5-4-2."),
    ("", "No NDC given; an NDC has 10 digits as 4-4-2, 5-3-2 or 5-4-1, or 11 digits as 5-4-2."),
    ("   ", "No NDC given"),
    ("0574-4O72-05", "NDC '0574-4O72-05' contains 'O'; an NDC has only digits and hyphens."),
    ("0574 4072 05", "NDC '0574 4072 05' contains a space; an NDC has only digits and hyphens."),
    ("0574–4072–05", "contains '–'"),  # an en dash pasted from a word processor
    ("٠٥٧٤-4072-05", "contains '٠'"),  # Arabic-Indic digits pass str.isdigit() but are not NDC digits
    ("0574407205", "NDC '0574407205' has 10 digits but no hyphens, so its format is ambiguous (4-4-2, 5-3-2 or "
                   "5-4-1); type it with the hyphens printed on the package."),
    ("0574-407205", "NDC '0574-407205' has 2 segments; an NDC has three, labeler-product-package, "
                    "separated by hyphens."),
    ("0574--4072-05", "has 4 segments"),
    ("057-44072-05", "NDC '057-44072-05' has segments of 3-5-2 digits; a 10-digit NDC is 4-4-2, 5-3-2 or 5-4-1."),
    ("005744-072-05", "NDC '005744-072-05' has segments of 6-3-2 digits; an 11-digit NDC is 5-4-2."),
    ("100574-4072-05", "has 12 digits"),  # the 12-digit 6-4-2 format of 2033 is not accepted yet
])
def test_every_malformed_ndc_is_refused_with_what_is_wrong(text, message):
    with pytest.raises(NdcError) as caught:
        parse_ndc(text)
    assert message in str(caught.value)


def test_ndc_error_is_a_value_error():
    assert issubclass(NdcError, ValueError)


@pytest.mark.parametrize(("segments", "message"), [
    (("0574", "4072", "05", "4-4-1"), "Unknown NDC format '4-4-1'"),
    (("574", "4072", "05", "4-4-2"), "do not form a 4-4-2 NDC"),
    (("05a4", "4072", "05", "4-4-2"), "do not form a 4-4-2 NDC"),
])
def test_an_ndc_cannot_be_built_inconsistent(segments, message):
    with pytest.raises(NdcError, match=message):
        Ndc(*segments)


# ---- from the 11-digit form back to a 10-digit format


@pytest.mark.parametrize(("ndc11", "fmt", "display"), [
    ("00574-4072-05", "4-4-2", "0574-4072-05"),
    ("51655-0089-52", "5-3-2", "51655-089-52"),
    ("58118-1397-03", "5-4-1", "58118-1397-3"),
    ("58118139703", "5-4-1", "58118-1397-3"),
])
def test_from_ndc11_removes_the_padding_zero_of_the_given_format(ndc11, fmt, display):
    ndc = from_ndc11(ndc11, fmt)
    assert (ndc.display, ndc.format) == (display, fmt)
    assert from_ndc11(parse_ndc(ndc11), fmt) == ndc


@pytest.mark.parametrize(("ndc11", "fmt", "message"), [
    ("51655-0089-52", "4-4-2", "NDC 51655-0089-52 cannot come from a 4-4-2 NDC: that format's 11-digit form pads the "
                               "labeler with a leading zero, but the labeler 51655 does not start with 0."),
    ("51655-0089-52", "5-4-1", "the package 52 does not start with 0"),
    ("00574-4072-05", "5-3-2", "the product 4072 does not start with 0"),
    ("00574-4072-05", "4-4-1", "Unknown 10-digit NDC format '4-4-1'; expected one of 4-4-2, 5-3-2, 5-4-1."),
    ("00574-4072-05", "5-4-2", "Unknown 10-digit NDC format '5-4-2'"),
    ("0574-4072-05", "4-4-2", "NDC '0574-4072-05' is a 10-digit 4-4-2 NDC, not an 11-digit 5-4-2 one."),
    ("0057440720", "4-4-2", "has 10 digits but no hyphens"),
])
def test_from_ndc11_refuses_a_format_the_digits_cannot_have(ndc11, fmt, message):
    with pytest.raises(NdcError) as caught:
        from_ndc11(ndc11, fmt)
    assert message in str(caught.value)


@pytest.mark.parametrize(("ndc11", "candidates"), [
    ("51655008952", ["5-3-2"]),
    ("00574-4072-05", ["4-4-2", "5-4-1"]),  # labeler 00574 and package 05 both start with 0
    ("58118139703", ["5-4-1"]),
    ("09999012304", ["4-4-2", "5-3-2", "5-4-1"]),
    ("99999123456", []),  # no segment was padded: this cannot be a converted 10-digit NDC
])
def test_ten_digit_candidates_are_the_formats_whose_padding_zero_is_present(ndc11, candidates):
    assert ten_digit_candidates(ndc11) == candidates
    for fmt in candidates:
        assert from_ndc11(ndc11, fmt).ndc11 == to_ndc11(ndc11)


def test_ten_digit_candidates_needs_an_eleven_digit_ndc():
    with pytest.raises(NdcError, match="not an 11-digit 5-4-2 one"):
        ten_digit_candidates("0574-4072-05")


@examples
@given(ten_digit_ndcs())
def test_display_to_ndc11_and_back_round_trips(ndc):
    parsed = parse_ndc(ndc.display)
    assert parsed == ndc
    ndc11 = to_ndc11(parsed)
    assert len(ndc11) == 11
    assert ndc.format in ten_digit_candidates(ndc11)
    assert from_ndc11(ndc11, ndc.format).display == ndc.display


# ---- GS1 check digits


def test_gs1_check_digit_of_gs1s_own_example_gtin():
    # GTIN 00614141999996. By hand, from the rightmost body digit leftwards with weights 3, 1, 3, ...:
    #   body 0 0 6 1 4 1 4 1 9 9 9 9 9
    #   9*3 + 9*1 + 9*3 + 9*1 + 9*3 + 1*1 + 4*3 + 1*1 + 4*3 + 1*1 + 6*3 + 0*1 + 0*3
    #   = 27 + 9 + 27 + 9 + 27 + 1 + 12 + 1 + 12 + 1 + 18 + 0 + 0 = 144; 10 - (144 mod 10) = 6.
    assert gs1_check_digit("0061414199999") == "6"


@pytest.mark.parametrize(("body", "check"), [
    ("03600029145", "2"),  # UPC-A 036000291452, the usual textbook example
    ("400638133393", "1"),  # EAN-13 4006381333931, the usual textbook example
    ("950110153100", "0"),  # GS1's EAN-13 example 9501101531000
    ("9501234", "6"),  # GS1's EAN-8 example 95012346
])
def test_gs1_check_digit_of_published_examples(body, check):
    assert gs1_check_digit(body) == check


@pytest.mark.parametrize("body", ["", "12a4", "12 34", "٣٤٥"])
def test_gs1_check_digit_needs_ascii_digits(body):
    with pytest.raises(NdcError, match="expected digits only"):
        gs1_check_digit(body)


@examples
@given(st.text(DIGITS, min_size=1, max_size=17))
def test_gs1_check_digit_agrees_with_independent_computations(body):
    assert gs1_check_digit(body) == independent_check_digit(body) == str(gs1_standard_check_digit(body))


@examples
@given(st.text(DIGITS, min_size=1, max_size=13), st.integers(1, 4))
def test_leading_zeros_never_change_the_check_digit(body, zeros):
    assert gs1_check_digit("0" * zeros + body) == gs1_check_digit(body)


# ---- GTIN-14 and UPC-A


def test_gtin14_of_a_fictional_ndc():
    # Body 0 03 9999912345; right to left with weights 3, 1, ...:
    #   5*3 + 4 + 3*3 + 2 + 1*3 + 9 + 9*3 + 9 + 9*3 + 9 + 3*3 + 0 + 0 = 123; 10 - 3 = 7.
    assert gtin14_from_ndc("99999-123-45") == "00399999123457"
    # Indicator 1 sits at a weight-3 position: 123 + 3 = 126, check digit 4.
    assert gtin14_from_ndc("99999-123-45", indicator=1) == "10399999123454"
    assert upc_a_from_ndc("99999-123-45") == "399999123457"


@pytest.mark.parametrize("text", ["9999-1234-56", "99998-123-45", "99997-1234-5"])
def test_gtin14_carries_the_ten_digits_whatever_the_format(text):
    ndc = parse_ndc(text)
    assert gtin14_from_ndc(ndc)[3:13] == ndc.digits10 == ndc10_digits_from_gtin(gtin14_from_ndc(text))


@pytest.mark.parametrize("indicator", [-1, 9, 10, True, "1", 1.0])
def test_gtin14_indicator_is_a_packaging_level_0_to_8(indicator):
    with pytest.raises(NdcError, match="indicator digit must be 0 to 8"):
        gtin14_from_ndc("99999-123-45", indicator=indicator)


@pytest.mark.parametrize("build", [gtin14_from_ndc, upc_a_from_ndc])
def test_no_barcode_from_an_eleven_digit_ndc(build):
    with pytest.raises(NdcError) as caught:
        build("99999-0123-45")
    message = str(caught.value)
    assert "from the 11-digit NDC 99999-0123-45" in message
    assert "it could be 5-3-2" in message
    assert "from_ndc11()" in message


def test_no_barcode_from_an_eleven_digit_ndc_no_ten_digit_format_fits():
    with pytest.raises(NdcError, match="no 10-digit format fits it"):
        gtin14_from_ndc("99999-1234-56")


@examples
@given(ten_digit_ndcs(), st.integers(0, 8))
def test_gtin14_to_ndc_digits_round_trips(ndc, indicator):
    gtin = gtin14_from_ndc(ndc, indicator)
    assert len(gtin) == 14
    assert gtin[0] == str(indicator)
    assert gtin[1:3] == "03"
    assert gtin[-1] == independent_check_digit(gtin[:-1])
    assert ndc10_digits_from_gtin(gtin) == ndc.digits10


@examples
@given(ten_digit_ndcs())
def test_the_unit_gtin14_is_the_upc_a_padded_with_two_zeros(ndc):
    # "0" + "03" + NDC + check and "00" + "3" + NDC + check share their body; the check digit ignores leading zeros.
    upc = upc_a_from_ndc(ndc)
    assert upc[0] == "3"
    assert gtin14_from_ndc(ndc) == "00" + upc
    assert ndc10_digits_from_gtin(upc) == ndc10_digits_from_gtin("0" + upc) == ndc.digits10


@pytest.mark.parametrize(("gtin", "message"), [
    ("00399999123458", "GTIN 00399999123458 has check digit 8, but its other digits give 7: "
                       "a digit was misread or mistyped."),
    ("04006381333931", "GTIN 04006381333931 is not an NDC-based GTIN: after the indicator digit a US drug GTIN has "
                       "'03', and this one has '40'."),
    ("00614141999996", "this one has '06'"),
    ("90399999123450", "indicator digit 9 (a variable-measure item)"),
    ("00399999123", "GTIN '00399999123' is not 12, 13 or 14 digits."),
    ("003999991234570", "is not 12, 13 or 14 digits"),
    ("0039999912345X", "is not 12, 13 or 14 digits"),
    ("", "is not 12, 13 or 14 digits"),
])
def test_ndc10_digits_from_gtin_refuses_what_is_not_a_valid_drug_gtin(gtin, message):
    with pytest.raises(NdcError) as caught:
        ndc10_digits_from_gtin(gtin)
    assert message in str(caught.value)


def test_the_indicator_9_example_has_a_valid_check_digit():
    # So that the refusal above is about the indicator, not the check digit.
    assert gs1_check_digit("9039999912345") == "0"


# ---- resolving the 10 digits of a barcode by product lookup


PRODUCTS = {
    "09999123456": "fictional product A (9999-1234-56)",
    "99998012345": "fictional product B (99998-123-45)",
    "99997123405": "fictional product C (99997-1234-5)",
}


@pytest.mark.parametrize(("digits10", "product"), [
    ("9999123456", "fictional product A (9999-1234-56)"),
    ("9999812345", "fictional product B (99998-123-45)"),
    ("9999712345", "fictional product C (99997-1234-5)"),
])
def test_resolve_finds_the_one_product_whose_format_fits(digits10, product):
    assert resolve_ndc10_digits(digits10, PRODUCTS.get) == [product]


def test_resolve_looks_up_each_segmentation_by_its_ndc11():
    calls: list[str] = []
    assert resolve_ndc10_digits("9999712345", lambda ndc11: calls.append(ndc11)) == []
    # 4-4-2 9999-7123-45, 5-3-2 99997-123-45, 5-4-1 99997-1234-5
    assert calls == ["09999712345", "99997012345", "99997123405"]


def test_resolve_reports_every_match_when_the_data_is_ambiguous():
    # Two products whose NDCs are different readings of the same barcode digits: a data problem the caller reports.
    lookup = {"09999712345": "9999-7123-45", "99997012345": "99997-123-45"}
    assert resolve_ndc10_digits("9999712345", lookup.get) == ["9999-7123-45", "99997-123-45"]


def test_resolve_looks_up_a_shared_eleven_digit_form_once():
    # 99999-000-07 (5-3-2) and 99999-0000-7 (5-4-1) both pad to 99999-0000-07: one product, not an ambiguity.
    calls: list[str] = []

    def lookup(ndc11: str) -> str | None:
        calls.append(ndc11)
        return {"99999000007": "fictional product D"}.get(ndc11)

    assert resolve_ndc10_digits("9999900007", lookup) == ["fictional product D"]
    assert calls == ["09999900007", "99999000007"]


def test_resolve_treats_only_none_as_not_found():
    lookup = {"09999123456": 0}  # a falsy product is still a product
    assert resolve_ndc10_digits("9999123456", lookup.get) == [0]


@pytest.mark.parametrize("digits10", ["999912345", "99991234567", "9999-12345", "999912345X", ""])
def test_resolve_needs_exactly_ten_digits(digits10):
    with pytest.raises(NdcError, match="Expected the 10 digits of an NDC"):
        resolve_ndc10_digits(digits10, PRODUCTS.get)


@examples
@given(ten_digit_ndcs())
def test_resolve_finds_exactly_the_product_stored_under_its_ndc11(ndc):
    product = object()
    assert resolve_ndc10_digits(ndc.digits10, {ndc.ndc11: product}.get) == [product]
