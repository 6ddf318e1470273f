"""Certificate and transcript PDFs, read back the way a person (pdftotext) and a phone (zbarimg) would.

pdftotext and zbarimg come from apt (poppler-utils, zbar-tools). Locally a missing tool skips its
checks with the install command; in CI (CI set) they always run, so a missing tool fails there.
"""

import logging
import os
import re
import shutil
import subprocess
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from fontTools.ttLib import TTFont

from lms.certificates import pdf as pdfmod
from lms.certificates.pdf import CertificateData, TranscriptRow, certificate_pdf, transcript_pdf

PROVIDER = "Pharmacy Informatics Academy"
URL = "https://lms.example.org/verify/7KQ4-M2XD-9PLA"
CERT = CertificateData(
    trainee_name="Siobhán Ó Ceallaigh",
    activity_title="Barcode Medication Administration: NDC, GTIN and the Scan That Saves a Dose",
    activity_number="LMS-2026-014-K",
    activity_type="knowledge",
    contact_hours=2.0,
    ceus=0.2,
    completed_on=date(2026, 11, 25),
    provider_name=PROVIDER,
    accredited=False,
    verification_code="7KQ4-M2XD-9PLA",
    verify_url=URL,
    topic="Medication safety technology",
    score_percent=92.0,
)
NOT_ACCREDITED = (f"{PROVIDER} is not an accredited provider of continuing pharmacy education; "
                  "this certificate is not ACPE credit.")


def need(tool: str, package: str) -> None:
    """Skip locally when ``tool`` is missing; in CI run anyway (and fail loudly if it is missing)."""
    if shutil.which(tool) is None and not os.environ.get("CI"):
        pytest.skip(f"{tool} is not installed: apt-get install -y {package}")


def pdf_text(data: bytes, tmp_path, *options: str) -> str:
    need("pdftotext", "poppler-utils")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def flat(text: str) -> str:
    """Lines joined: wrapped sentences read as one."""
    return " ".join(text.split())


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def media_boxes(data: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)]


def assert_valid_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")


# --- certificate ---------------------------------------------------------------------------

def test_certificate_text_has_every_fact_and_the_not_accredited_statement(tmp_path):
    text = flat(pdf_text(certificate_pdf(CERT), tmp_path))

    for fact in ("Certificate of Completion", CERT.trainee_name, CERT.activity_title, "LMS-2026-014-K",
                 "Knowledge-based activity", "Topic: Medication safety technology",
                 "2.0 contact hours (0.2 CEU)", "November 25, 2026", "Score 92%", "7KQ4-M2XD-9PLA", URL, PROVIDER,
                 NOT_ACCREDITED):
        assert fact in text, fact


def test_an_accredited_provider_gets_no_disclaimer(tmp_path):
    text = flat(pdf_text(certificate_pdf(replace(CERT, accredited=True)), tmp_path))

    assert "not an accredited provider" not in text
    assert "not ACPE credit" not in text
    assert f"{PROVIDER} is accredited by the Accreditation Council for Pharmacy Education" in text


def test_optional_fields_are_left_out_when_empty(tmp_path):
    text = flat(pdf_text(certificate_pdf(replace(CERT, topic="", score_percent=None, activity_type="application",
                                                 contact_hours=1.0, ceus=0.1)), tmp_path))

    assert "Topic" not in text
    assert "Score" not in text
    assert "Application-based activity" in text
    assert "1.0 contact hour (0.1 CEU)" in text


@pytest.mark.parametrize("name", [
    "Siobhán Ó Ceallaigh",
    "Zoë Łukasiewicz",
    "Ἀλέξανδρος Παπαδόπουλος",
    "Дмитрий Волков",
    "Nguyễn Thị Minh Khai",
    "Ørjan Ærøskøbing-Şahin",
])
def test_names_in_latin_greek_and_cyrillic_come_back_exactly(tmp_path, name):
    text = pdf_text(certificate_pdf(replace(CERT, trainee_name=name)), tmp_path)

    assert name in text.splitlines()


def test_decomposed_accents_are_normalised_to_the_precomposed_letters(tmp_path):
    text = pdf_text(certificate_pdf(replace(CERT, trainee_name="Zoe\u0308 Lo\u0301pez")), tmp_path)

    assert "Zoë López" in text.splitlines()


def test_a_cjk_name_does_not_crash_and_shows_when_a_system_font_has_it(tmp_path):
    name = "李小龍"
    data = certificate_pdf(replace(CERT, trainee_name=name))

    assert_valid_pdf(data)
    assert page_count(data) == 1
    covered = any(all(font.covers(ord(ch)) for ch in name) for font in pdfmod.system_fonts())
    text = pdf_text(data, tmp_path)
    expected = name if covered else "\ufffd" * len(name)  # no CJK font installed here: see the next test
    assert expected in text.splitlines()


@pytest.mark.parametrize("name", ["李小龍", "محمد الأحمد", "דוד לוי", "देवनागरी शर्मा", "Bruce 李 Lee"])
def test_without_any_fallback_font_characters_are_replaced_not_fatal(monkeypatch, caplog, name):
    monkeypatch.setattr(pdfmod, "system_fonts", lambda: ())

    with caplog.at_level(logging.WARNING, logger="fpdf"):
        data = certificate_pdf(replace(CERT, trainee_name=name))

    assert_valid_pdf(data)
    assert page_count(data) == 1
    assert not caplog.records  # no "font is missing glyphs" warnings: nothing undrawable was handed to fpdf2
    title = "Certificate of Completion: " + name  # the exact name is kept in the metadata
    assert b"<feff" + title.encode("utf-16-be").hex().encode() + b">" in data


def test_the_writer_replaces_only_what_no_font_covers(monkeypatch):
    monkeypatch.setattr(pdfmod, "system_fonts", lambda: ())
    doc = pdfmod.FPDF()
    writer = pdfmod._Writer(doc, ["Bruce 李\ufeff Lee", "ﬁne"])

    assert writer.text("Bruce 李\ufeff Lee") == "Bruce \ufffd Lee"  # an undrawable format character is dropped
    assert writer.text("ﬁne Ｌｉ") == "fine Li"  # compatibility forms fall back to plain letters
    assert writer.text("a\tb\n c") == "a b c"


def test_fallback_fonts_cover_the_most_missing_characters_with_the_fewest_fonts():
    def font(name, chars, bold=False, rank=0):
        starts, ends = pdfmod._ranges(ord(c) for c in chars)
        return pdfmod.SystemFont(f"/fonts/{name}.ttf", 0, name, bold, (rank,), starts, ends)

    cjk, hebrew, both = font("CJK", "李小龍"), font("Hebrew", "דול"), font("Both", "李小龍דוי", rank=1)
    both_bold = font("Both", "李小龍דוי", bold=True)
    missing = {ord(c) for c in "李小龍דוי"}

    chosen = pdfmod.choose_fallbacks(missing, [cjk, hebrew, both, both_bold])

    assert chosen == [(both, both_bold)]
    assert pdfmod.choose_fallbacks({ord("李"), ord("ד")}, [cjk, hebrew]) == [(cjk, None), (hebrew, None)]
    assert pdfmod.choose_fallbacks({ord("€")}, [cjk]) == []


def test_without_fontconfig_the_usual_font_folders_are_read(monkeypatch, tmp_path):
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "Sans.ttf").write_bytes(pdfmod.BASE_FONT_FILES[""].read_bytes())
    (tmp_path / "fonts" / "broken.ttf").write_bytes(b"not a font")
    monkeypatch.setattr(pdfmod, "FONT_FOLDERS", (str(tmp_path / "fonts"),))

    (font,) = pdfmod._walked_fonts()

    assert (font.path, font.family, font.bold) == (str(tmp_path / "fonts" / "Sans.ttf"), "DejaVu Sans", False)
    assert font.covers(ord("Ж")) and not font.covers(ord("李"))


def test_the_qr_code_decodes_to_the_verify_url(tmp_path):
    need("pdftoppm", "poppler-utils")
    need("zbarimg", "zbar-tools")
    (tmp_path / "cert.pdf").write_bytes(certificate_pdf(CERT))
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(tmp_path / "cert.pdf"), str(tmp_path / "cert")],
                   check=True)

    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "cert.png")], capture_output=True,
                            text=True, check=True)

    assert result.stdout.strip() == URL


def test_a_certificate_is_one_landscape_letter_page():
    data = certificate_pdf(CERT)

    assert_valid_pdf(data)
    assert page_count(data) == 1
    assert media_boxes(data) == [(792.0, 612.0)]


def test_long_names_and_titles_still_fit_on_one_page(tmp_path):
    long = replace(CERT, trainee_name="Maria da Conceição " * 6, activity_title="Interoperability " * 40)
    data = certificate_pdf(long)

    assert page_count(data) == 1
    text = flat(pdf_text(data, tmp_path))
    assert "Maria da Conceição" in text
    assert "…" in text  # the title is cut to three lines
    assert URL in text


def test_the_same_data_gives_the_same_bytes():
    assert certificate_pdf(CERT) == certificate_pdf(CERT)


def test_threads_sharing_the_font_cache_get_the_same_bytes():
    names = ["Zoë Łukasiewicz", "Дмитрий Волков", "Ἀλέξανδρος", "Siobhán Ó Ceallaigh"] * 4
    expected = {name: certificate_pdf(replace(CERT, trainee_name=name)) for name in set(names)}

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: certificate_pdf(replace(CERT, trainee_name=name)), names))

    assert results == [expected[name] for name in names]


def test_cloned_fonts_give_the_same_document_as_add_font(monkeypatch, tmp_path):
    assert pdfmod.CLONING, "fpdf2's TTFFont changed: review _install_font() before enabling the font cache again"
    cloned = certificate_pdf(CERT)
    monkeypatch.setattr(pdfmod, "CLONING", False)
    loaded = certificate_pdf(CERT)

    assert pdf_text(cloned, tmp_path) == pdf_text(loaded, tmp_path)
    assert len(cloned) == len(loaded)


# --- transcript ----------------------------------------------------------------------------

def row(day, hours, ceus, code, status="valid", kind="knowledge"):
    return TranscriptRow(day, f"Activity {code}", f"LMS-{day.year}-{code}", kind, hours, ceus, code, status)


def test_transcript_totals_per_year_and_overall_leave_out_revoked_credits(tmp_path):
    rows = [
        row(date(2025, 3, 1), 2.0, 0.2, "A1"),
        row(date(2025, 6, 9), 1.5, 0.15, "A2", kind="application"),
        row(date(2025, 7, 1), 3.0, 0.3, "R1", status="revoked"),
        row(date(2026, 1, 20), 0.75, 0.075, "B1"),
        row(date(2026, 2, 2), 0.1, 0.01, "B2"),
    ]

    per_year, overall = pdfmod.credit_totals(rows)
    assert per_year == {2025: (2, Decimal("3.5"), Decimal("0.35")), 2026: (2, Decimal("0.85"), Decimal("0.085"))}
    assert overall == (4, Decimal("4.35"), Decimal("0.435"))

    data = transcript_pdf("Дмитрий Волков", rows, PROVIDER, False, date(2026, 11, 25), "2025–2026", "123456")
    text = pdf_text(data, tmp_path, "-layout")
    assert re.search(r"2025\s+2\s+3\.5\s+0\.35\b", text)
    assert re.search(r"2026\s+2\s+0\.85\s+0\.085\b", text)
    assert re.search(r"All years\s+4\s+4\.35\s+0\.435\b", text)
    assert "Дмитрий Волков" in text
    assert "NABP e-Profile ID 123456" in text
    assert "not an accredited provider" in text
    assert "1 revoked credit is listed below but not counted" in text
    assert re.search(r"R1\s+Revoked", text)
    for code in ("A1", "A2", "B1", "B2"):
        assert re.search(rf"{code}\s+Valid", text), code


def test_an_empty_transcript_says_so(tmp_path):
    data = transcript_pdf("Zoë Łukasiewicz", [], PROVIDER, True, date(2026, 11, 25), "2026")
    text = pdf_text(data, tmp_path, "-layout")

    assert "No completed activities in this period." in text
    assert re.search(r"All years\s+0\s+0\.0\s+0\.0\b", text)
    assert "NABP" not in text
    assert "is accredited by the Accreditation Council for Pharmacy Education" in flat(text)


def test_a_long_transcript_runs_over_pages_with_page_numbers(tmp_path):
    rows = [row(date(2024 + i // 30, 1 + i % 12, 1 + i % 28), 1.0, 0.1, f"C{i:03d}",
                status="revoked" if i % 20 == 7 else "valid") for i in range(80)]
    data = transcript_pdf("Zoë Łukasiewicz", rows, PROVIDER, False, date(2026, 11, 25), "2024–2026")

    pages = page_count(data)
    assert pages >= 3
    assert set(media_boxes(data)) == {(612.0, 792.0)}  # portrait Letter
    text = pdf_text(data, tmp_path)
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    for i in range(80):
        assert f"C{i:03d}" in text
    assert text.count("Completed") == pages  # the table heading repeats on every page
    assert re.search(r"All years\s+76\s+76\.0\s+7\.6\b", pdf_text(data, tmp_path, "-layout"))


# --- formatting and fonts ------------------------------------------------------------------

@pytest.mark.parametrize(("hours", "ceus", "expected"), [
    (2.0, 0.2, "2.0 contact hours (0.2 CEU)"),
    (1, 0.1, "1.0 contact hour (0.1 CEU)"),
    (0.75, 0.075, "0.75 contact hours (0.075 CEU)"),
    (12.5, 1.25, "12.5 contact hours (1.25 CEU)"),
])
def test_credit_line(hours, ceus, expected):
    assert pdfmod.credit_line(hours, ceus) == expected


def test_long_date_is_english_whatever_the_locale():
    assert pdfmod.long_date(date(2026, 11, 25)) == "November 25, 2026"
    assert pdfmod.long_date(date(2027, 1, 5)) == "January 5, 2027"


def test_the_bundled_fonts_are_small_subsets_covering_latin_greek_and_cyrillic():
    sample = "AzÀÿĀžƀɏɐʯʰ\u0301ΑωἈῼАяѢӿ\u2014€№→"
    for path in pdfmod.BASE_FONT_FILES.values():
        assert path.stat().st_size < 250_000, path
        with TTFont(path) as font:
            cmap = font.getBestCmap()
        assert all(ord(ch) in cmap for ch in sample), [ch for ch in sample if ord(ch) not in cmap]
        assert not any(0x4E00 <= cp <= 0x9FFF or 0x0600 <= cp <= 0x06FF for cp in cmap)
    assert (pdfmod.FONT_DIR / "LICENSE").read_text().count("Permission is hereby granted") == 2
    assert unicodedata.normalize("NFC", "Zoe\u0308") == "Zoë"  # what the writer relies on
