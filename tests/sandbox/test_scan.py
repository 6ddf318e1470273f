"""Interpreting barcode scans: GS1 element strings, typed separators, printed (HRI) form, GTINs and UPC-As."""

import calendar
import dataclasses
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.sandbox.pharmacy.ndc import gtin14_from_ndc, upc_a_from_ndc
from lms.sandbox.pharmacy.scan import GS, MAX_LENGTH, ScanResult, interpret

# No example database: it would leave a .hypothesis directory in the working tree.
examples = settings(database=None, max_examples=400)

# The fictional NDC 99999-123-45. Its GTIN's check digit by hand: body 0039999912345, right to left with weights
# 3, 1, ...: 5*3 + 4 + 3*3 + 2 + 1*3 + 9 + 9*3 + 9 + 9*3 + 9 + 3*3 + 0 + 0 = 123, and 10 - 3 = 7.
GTIN = "00399999123457"
NDC_DIGITS = "9999912345"
UPC_A = "399999123457"
DSCSA = "01" + GTIN + "17271031" + "10U4227AA" + GS + "21SN12345678"


def assert_dscsa_fields(result: ScanResult) -> None:
    assert (result.kind, result.errors, result.warnings) == ("gs1", (), ())
    assert (result.gtin14, result.ndc10_digits) == (GTIN, NDC_DIGITS)
    assert (result.expiry, result.expiry_text) == (date(2027, 10, 31), "271031")
    assert (result.lot, result.serial) == ("U4227AA", "SN12345678")


def test_the_fixture_gtin_is_the_ndcs_gtin():
    assert gtin14_from_ndc("99999-123-45") == GTIN
    assert upc_a_from_ndc("99999-123-45") == UPC_A


# ---- GS1 element strings as a scanner sends them


def test_a_dscsa_element_string_with_a_group_separator():
    result = interpret(DSCSA)
    assert_dscsa_fields(result)
    assert result.raw == DSCSA
    assert result.ok


def test_element_order_does_not_matter():
    assert_dscsa_fields(interpret("01" + GTIN + "21SN12345678" + GS + "17271031" + "10U4227AA"))


@pytest.mark.parametrize("prefix", ["]d2", "]C1", "]Q3", "]e0", GS, "]d2" + GS, "  ", "\n"])
def test_symbology_identifiers_and_a_leading_fnc1_are_stripped(prefix):
    result = interpret(prefix + DSCSA + "\r\n")
    assert_dscsa_fields(result)
    assert result.raw == prefix + DSCSA + "\r\n"


def test_a_gs1_symbology_identifier_makes_even_bare_digits_gs1_data():
    result = interpret("]d201" + GTIN)
    assert (result.kind, result.gtin14, result.errors) == ("gs1", GTIN, ())


def test_a_non_gs1_symbology_identifier_is_noted_and_the_data_read():
    result = interpret("]C0" + UPC_A)
    assert (result.kind, result.gtin14, result.errors) == ("upc_a", GTIN, ())
    assert result.warnings == (
        "The symbology identifier ']C0' marks a barcode that is not a GS1 symbology; the data after it is read anyway.",
    )


@pytest.mark.parametrize("text", ["]W1" + DSCSA, "]", "]d", "]Yx" + DSCSA])
def test_an_unknown_symbology_identifier_is_an_error(text):
    result = interpret(text)
    assert result.kind == "unknown"
    assert "is not a symbology identifier such as ]d2 (GS1 DataMatrix), ]C1 (GS1-128) or ]E0 (EAN/UPC)" in (
        result.errors[0])


def test_a_symbology_identifier_alone_is_an_error():
    assert interpret("]d2").errors == ("The scan holds no data after its symbology identifier.",)


# ---- separators a trainee can type


@pytest.mark.parametrize("typed", ["<GS>", "<gs>", "{GS}", "{Gs}", "[GS]", "[gs]", "\\x1d", "\\X1D", "␝", "^]"])
def test_typed_group_separators_stand_for_ascii_29(typed):
    assert_dscsa_fields(interpret(DSCSA.replace(GS, typed)))


def test_several_typed_separators_in_one_scan():
    result = interpret("01" + GTIN + "10U4227AA<GS>21SN12345678{gs}17271031")
    assert (result.lot, result.serial, result.expiry_text, result.errors) == ("U4227AA", "SN12345678", "271031", ())


# ---- the printed (HRI) form with parentheses


@pytest.mark.parametrize("text", [
    f"(01){GTIN}(17)271031(10)U4227AA(21)SN12345678",
    f"(01) {GTIN} (17) 271031 (10) U4227AA (21) SN12345678",
    f"(01){GTIN}(17)271031(10)U4227AA<GS>(21)SN12345678",  # a separator typed out of habit does no harm
    f"]d2(01){GTIN}(17)271031(10)U4227AA(21)SN12345678",
])
def test_the_printed_form_with_parentheses(text):
    assert_dscsa_fields(interpret(text))


def test_the_printed_form_delimits_every_value_so_no_separator_is_missing():
    result = interpret(f"(01){GTIN}(10)AB1217271031")
    assert (result.lot, result.warnings) == ("AB1217271031", ())


@pytest.mark.parametrize(("text", "error"), [
    (f"(01){GTIN}(23)x", "(23) is not a known GS1 application identifier."),
    (f"(01){GTIN}(1)0ABC", "(1) is not a known GS1 application identifier."),
    (f"(01){GTIN}(17)(10)AB", "The expiry date (17) has no value."),
    (f"(01){GTIN}(17)271331", "The expiry date (17) must be a real date written as 6 digits YYMMDD (day 00 meaning "
                              "the last day of the month); got '271331'."),
    ("(01)0039999912345", "The GTIN (01) must be 14 digits; got '0039999912345'."),
    (f"(01){GTIN}(10)ABCDEFGHIJKLMNOPQRSTU", "The lot (10) must be 1 to 20 characters: letters, digits and "
                                             "!\"%&'()*+,-./:;<=>?_; got 'ABCDEFGHIJKLMNOPQRSTU'."),
    (f"(01){GTIN}(10)A B", "The lot (10) must be 1 to 20 characters: letters, digits and !\"%&'()*+,-./:;<=>?_; "
                           "got 'A B'."),
    (f"(01){GTIN}(30)12X", "The (30) Variable count of items (variable measure trade item) does not fit its "
                           "format N2+N..8; got '12X'."),
    (f"(01){GTIN}(10)AB(C)", "Could not read '(C)': in the printed form every element is an application identifier "
                             "in parentheses followed by its value, such as (17)271031; a value cannot contain "
                             "parentheses in this form."),
    ("(01", "Could not read '(01': in the printed form every element is an application identifier in parentheses "
            "followed by its value, such as (17)271031; a value cannot contain parentheses in this form."),
])
def test_errors_in_the_printed_form(text, error):
    result = interpret(text)
    assert result.kind == "gs1"
    assert result.errors == (error,)


def test_the_printed_form_keeps_what_was_read_before_an_error_but_not_a_value_that_may_be_cut_short():
    result = interpret(f"(01){GTIN}(17)271031(10)AB(C)")
    assert (result.gtin14, result.expiry_text, result.lot) == (GTIN, "271031", None)


# ---- expiry dates


@pytest.mark.parametrize(("text", "expiry"), [
    ("271031", date(2027, 10, 31)),
    ("280200", date(2028, 2, 29)),  # day 00: the last day of the month, here of a leap-year February
    ("270200", date(2027, 2, 28)),
    ("300200", date(2030, 2, 28)),
    ("271100", date(2027, 11, 30)),
    ("271200", date(2027, 12, 31)),
    ("290100", date(2029, 1, 31)),
])
def test_expiry_dates_with_day_00_meaning_the_end_of_the_month(text, expiry):
    result = interpret("01" + GTIN + "17" + text)
    assert (result.expiry, result.expiry_text, result.errors) == (expiry, text, ())


@pytest.mark.parametrize("month", range(1, 13))
def test_day_00_agrees_with_the_calendar_in_every_month_of_a_leap_year(month):
    result = interpret(f"(01){GTIN}(17)28{month:02d}00")
    assert result.expiry == date(2028, month, calendar.monthrange(2028, month)[1])


@pytest.mark.parametrize("text", ["270231", "271301", "270001", "271032", "2710"])
def test_an_impossible_expiry_date_is_an_error(text):
    result = interpret("01" + GTIN + "17" + text)
    assert result.errors == (
        f"The expiry date (17) must be a real date written as 6 digits YYMMDD (day 00 meaning the last day of the "
        f"month); got '{text}'.",
    )
    assert result.expiry is None


def test_expired_compares_with_the_given_day():
    result = interpret("01" + GTIN + "17280200")
    assert not result.expired(date(2028, 2, 28))
    assert not result.expired(date(2028, 2, 29))  # usable through its expiry date
    assert result.expired(date(2028, 3, 1))


def test_no_expiry_is_never_expired():
    assert not interpret(UPC_A).expired(date(2999, 1, 1))


# ---- a missing group separator after a lot or serial


@pytest.mark.parametrize(("text", "warning"), [
    ("01" + GTIN + "10AB1217271031",
     "The lot 'AB1217271031' may include another element: a group separator (GS) is probably missing after the lot."),
    ("01" + GTIN + "17271031" + "10U4227AA21SN12345678",
     "The lot 'U4227AA21SN12345678' may include another element: a group separator (GS) is probably missing after "
     "the lot."),
    ("01" + GTIN + "17271031" + "21SN1234510U4227",
     "The serial 'SN1234510U4227' may include another element: a group separator (GS) is probably missing after "
     "the serial."),
    ("01" + GTIN + "21SN1" + GS + "10AB3317271031",  # only the expiry is missing
     "The lot 'AB3317271031' may include another element: a group separator (GS) is probably missing after the lot."),
    ("01" + GTIN + "21SN1" + GS + "10AB3317280229",  # 29 February 2028 is a date
     "The lot 'AB3317280229' may include another element: a group separator (GS) is probably missing after the lot."),
    ("01" + GTIN + "10AB121728020021X",  # an expiry swallowed between the lot and a serial
     "The lot 'AB121728020021X' may include another element: a group separator (GS) is probably missing after the "
     "lot."),
])
def test_a_lot_or_serial_that_swallowed_the_next_element_is_flagged(text, warning):
    result = interpret(text)
    assert result.warnings == (warning,)
    assert result.errors == ()


def test_a_lot_that_swallowed_the_gtin_is_flagged():
    result = interpret("10AB01" + GTIN)
    assert result.lot == "AB01" + GTIN
    assert result.errors == ("The GS1 data has no GTIN (01), so it does not identify a product.",)
    assert result.warnings == (
        f"The lot 'AB01{GTIN}' may include another element: a group separator (GS) is probably missing after the lot.",
    )


@pytest.mark.parametrize("text", [
    "01" + GTIN + "10AB12" + GS + "17271031",  # the separator is there
    "01" + GTIN + "21SN1" + GS + "17271031" + "10A21B",  # a serial is already present: "21" inside the lot is data
    "01" + GTIN + "17271031" + "10AB3317280200",  # an expiry is already present
    "01" + GTIN + "10L1710",  # "17" followed by too few digits for a date
    "01" + GTIN + "10AB17279931",  # "17" followed by six digits that are no date (month 99)
    "01" + GTIN + "10AB17280230",  # 30 February
    "01" + GTIN + "10AB17270229",  # 29 February of a common year
    "01" + GTIN + "10AB3317271031XYZ",  # a date followed by something that is not another element
    "01" + GTIN + "1021ABC",  # "21" at the very start is the lot's own first characters
    "01" + GTIN + "10AB21",  # "21" with nothing after it
    "10AB0100399999123458",  # "01" followed by a GTIN whose check digit is wrong
    "01" + GTIN + "17271031" + "21SN1" + GS + "10LOT21A",  # the lot is last and the serial is present
])
def test_lots_and_serials_that_merely_contain_ai_like_digits_are_not_flagged(text):
    assert interpret(text).warnings == ()


# ---- GTINs and UPC-As on their own


def test_a_upc_a():
    result = interpret(UPC_A)
    assert (result.kind, result.gtin14, result.ndc10_digits, result.errors) == ("upc_a", GTIN, NDC_DIGITS, ())
    assert (result.expiry, result.lot, result.serial) == (None, None, None)


@pytest.mark.parametrize("text", [GTIN, GTIN[1:], "]E0" + GTIN[1:]])
def test_a_13_or_14_digit_gtin(text):
    result = interpret(text)
    assert (result.kind, result.gtin14, result.ndc10_digits, result.errors) == ("gtin", GTIN, NDC_DIGITS, ())


def test_a_higher_packaging_level_is_noted():
    case = gtin14_from_ndc("99999-123-45", indicator=1)
    assert case == "10399999123454"
    result = interpret("01" + case)
    assert (result.gtin14, result.ndc10_digits, result.errors) == (case, NDC_DIGITS, ())
    assert result.warnings == (
        "The GTIN's indicator digit is 1: it identifies a higher packaging level (such as a case or bundle), not "
        "the unit of sale.",
    )


@pytest.mark.parametrize(("text", "kind", "error"), [
    ("00399999123458", "gtin", "The GTIN 00399999123458 ends in check digit 8, but its other digits give 7: a digit "
                               "was misread or mistyped."),
    ("0399999123450", "gtin", "The GTIN 0399999123450 ends in check digit 0, but its other digits give 7"),
    ("399999123451", "upc_a", "The UPC-A 399999123451 ends in check digit 1, but its other digits give 7"),
    ("0100399999123458", "gs1", "The GTIN 00399999123458 ends in check digit 8, but its other digits give 7"),
])
def test_a_wrong_check_digit_names_the_expected_one(text, kind, error):
    result = interpret(text)
    assert result.kind == kind
    assert result.errors[0].startswith(error)
    assert (result.gtin14, result.ndc10_digits) == (None, None)


@pytest.mark.parametrize(("text", "kind", "error"), [
    # 4006381333931: the usual EAN-13 textbook example, a German product
    ("04006381333931", "gtin", "GTIN 04006381333931 is not an NDC-based GTIN: after the indicator digit a US drug "
                               "GTIN has '03', and this one has '40'."),
    ("4006381333931", "gtin", "this one has '40'"),
    ("0104006381333931" + "17271031", "gs1", "this one has '40'"),
    ("00614141999996", "gtin", "this one has '06'"),  # GS1's own example GTIN
    # 036000291452: the usual UPC-A textbook example, a retail item
    ("036000291452", "upc_a", "The UPC-A 036000291452 does not hold an NDC: a drug's UPC-A starts with 3, and this "
                              "one starts with 0."),
    ("0190399999123450", "gs1", "GTIN 90399999123450 has indicator digit 9 (a variable-measure item)"),
])
def test_a_gtin_that_is_not_ndc_based_is_an_error(text, kind, error):
    result = interpret(text)
    assert result.kind == kind
    assert error in result.errors[0]
    assert result.ndc10_digits is None
    assert result.gtin14 is not None  # the GTIN itself is valid


def test_the_non_ndc_gs1_scan_still_reads_its_other_elements():
    assert interpret("0104006381333931" + "17271031").expiry == date(2027, 10, 31)


@pytest.mark.parametrize("ndc", ["9999-1234-56", "99998-123-45", "99997-1234-5"])
def test_upc_a_gtin_and_gs1_forms_of_one_ndc_read_alike(ndc):
    gtin = gtin14_from_ndc(ndc)
    readings = [interpret(upc_a_from_ndc(ndc)), interpret(gtin), interpret("01" + gtin), interpret(f"(01){gtin}")]
    assert {(r.gtin14, r.ndc10_digits, r.errors) for r in readings} == {(gtin, gtin[3:13], ())}


# ---- other GS1 problems


@pytest.mark.parametrize(("text", "error"), [
    ("01" + GTIN + "23x", "The data '23x' does not start with a known GS1 application identifier."),
    ("]d223" + GTIN, f"GS1 data starts with an application identifier such as 01 (GTIN); '23{GTIN}' does not."),
    ("01" + GTIN + "10ABCDEFGHIJKLMNOPQRSTUVWXYZ",
     "The data 'UVWXYZ' does not start with a known GS1 application identifier: the lot (10) "
     "'ABCDEFGHIJKLMNOPQRST' reached its 20-character limit with no group separator (GS) after it, so the data may "
     "still belong to it or a GS is missing."),
    ("01" + GTIN + "10AB#C", "The data '#C' does not start with a known GS1 application identifier: the lot (10) 'AB' "
                             "stops at '#', which GS1 data cannot contain."),
    ("01" + GTIN + "10" + GS + "21SN1", "The lot (10) has no value."),
    ("01" + GTIN + " 17271031", "GS1 data cannot contain spaces. Type the elements one after another, and after a lot "
                                "or serial that is followed by more data type a group separator as <GS>; or type the "
                                "form printed under the barcode, with each application identifier in parentheses."),
    ("010039999912345", "The GTIN (01) must be 14 digits; got '0039999912345'."),
    ("01" + GTIN + "10A" + GS + "10B", "The lot (10) appears more than once in the scan."),
    ("17271031" + "10U4227AA", "The GS1 data has no GTIN (01), so it does not identify a product."),
])
def test_gs1_errors_explain_what_is_wrong(text, error):
    result = interpret(text)
    assert result.kind == "gs1"
    assert result.errors == (error,)


def test_elements_before_an_unreadable_part_are_still_reported():
    result = interpret("01" + GTIN + "17271031" + "23x")
    assert (result.gtin14, result.expiry_text) == (GTIN, "271031")
    assert not result.ok


def test_a_lot_cut_short_by_unreadable_data_is_not_reported():
    assert interpret("01" + GTIN + "10AB#C").lot is None


def test_the_first_of_a_repeated_element_is_kept():
    assert interpret("01" + GTIN + "10A" + GS + "10B").lot == "A"


def test_other_application_identifiers_are_noted_not_used():
    result = interpret("01" + GTIN + "11260115" + "17271031")
    assert result.errors == ()
    assert result.expiry == date(2027, 10, 31)
    assert result.warnings == ("The scan also holds (11) Production date (YYMMDD) '260115', which is not used here.",)


# ---- input that is no barcode at all


@pytest.mark.parametrize("text", ["", "   ", "\n\t", GS, "<GS>"])
def test_empty_input(text):
    result = interpret(text)
    assert result.kind == "unknown"
    assert len(result.errors) == 1
    assert "empty" in result.errors[0] or "no data" in result.errors[0] or "not a drug barcode" in result.errors[0]


def test_empty_input_message():
    assert interpret("").errors == ("The scan is empty: scan the barcode again, or type its digits.",)


def test_absurdly_long_input_is_refused_without_being_parsed():
    result = interpret("01" + GTIN + "10" + "A" * 1_000_000)
    assert result.kind == "unknown"
    assert result.errors == (
        "The scan has 1000018 characters, more than the 200 any drug barcode holds: paste one barcode at a time.",
    )


def test_the_length_limit_counts_the_trimmed_text():
    padded = " " * 500 + DSCSA + " " * 500
    assert_dscsa_fields(interpret(padded))
    at_limit = "01" + GTIN + "90" + "X" * (MAX_LENGTH - 18)  # (90) takes up to 30 characters: too long, but parsed
    assert len(at_limit) == MAX_LENGTH
    assert "more than the 200" not in interpret(at_limit).errors[0]
    assert "more than the 200" in interpret(at_limit + "X").errors[0]


@pytest.mark.parametrize(("text", "error"), [
    ("0574407205", "'0574407205' has 10 digits: that looks like an NDC, not a barcode. A drug barcode holds a 12-digit "
                   "UPC-A, a 13- or 14-digit GTIN, or GS1 data starting with 01, or (01) as printed."),
    ("00574407205", "has 11 digits: that looks like an NDC"),
    ("0574-4072-05", "'0574-4072-05' is not a drug barcode: expected a 12-digit UPC-A"),
    ("95012346", "'95012346' is not a drug barcode"),
    ("hello", "'hello' is not a drug barcode"),
])
def test_unrecognised_input(text, error):
    result = interpret(text)
    assert result.kind == "unknown"
    assert error in result.errors[0]


def test_scan_result_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        interpret(UPC_A).lot = "X"  # type: ignore[misc]


# ---- never raises

PIECES = ["01", GTIN, "0100399999123458", "17", "271031", "280200", "279931", "10", "21", "11", "90", "23", "AB", "x",
          "#", " ", "(", ")", "(01)", "(17)", "(10)", "(99)", "]", "]d2", "]E0", "]Y", "]Y9", GS, "<GS>", "^]", "\\x1d",
          "0", "3", "9", "٣", "é", "\x00", "\u241d", UPC_A]


@examples
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_interpret_never_raises_on_assembled_scans(text):
    check_result(interpret(text), text)


@examples
@given(st.text(alphabet="0123456789ABZaz()[]{}<>^]\\x#%_- \t\n\x1d\u241d٣", max_size=60))
def test_interpret_never_raises_on_random_text(text):
    check_result(interpret(text), text)


def check_result(result: ScanResult, text: str) -> None:
    assert isinstance(result, ScanResult)
    assert result.raw == text
    assert result.kind in ("gs1", "gtin", "upc_a", "unknown")
    assert all(isinstance(m, str) and m for m in result.errors + result.warnings)
    if result.kind == "unknown":
        assert result.errors
    if result.ndc10_digits is not None:
        assert result.gtin14 is not None
        assert result.gtin14[3:13] == result.ndc10_digits
