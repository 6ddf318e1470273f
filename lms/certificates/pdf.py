"""Certificate and transcript PDFs: pure functions from plain data to PDF bytes (fpdf2 + segno).

No Flask and no database here: callers build a ``CertificateData`` or a list of ``TranscriptRow``
and get bytes back, byte-for-byte the same for the same input (the PDF dates come from the data).

Fonts
    DejaVu Sans regular and bold, pre-subset once with pyftsubset to Latin (Basic, Latin-1,
    Extended-A/B and Additional), IPA, spacing modifiers, combining marks, Greek (and Greek
    Extended), Cyrillic, general punctuation, currency, letterlike symbols and arrows; they live
    in static/fonts/ (see the README there). Each face is parsed once per process and cloned
    into every document, so a certificate costs only its own glyph subsetting.

Names in any script
    Text is NFC-normalised first, so "e" + combining acute uses the precomposed glyph. A
    character the bundled fonts lack (Chinese, Arabic, Hebrew, Devanagari, ...) is drawn with a
    font installed on the machine: fontconfig's ``fc-list`` (or, without fontconfig, a walk of
    the usual font folders) is read once per process and the fonts covering the most missing
    characters are added to that document only, as fpdf2 fallback fonts (e.g. Debian's
    fonts-noto-core, fonts-noto-cjk or fonts-droid-fallback). Right-to-left and complex scripts
    are shaped with HarfBuzz when the optional ``uharfbuzz`` package is installed; without it
    right-to-left runs are still put in visual order (fpdf2's bidi algorithm), though Arabic
    letters then stay unjoined and Indic vowel signs are not reordered. A character that no
    available font covers is first replaced by its compatibility decomposition (fullwidth
    letters, ligatures, an uncovered combining mark is dropped) and otherwise by U+FFFD, so a PDF
    is always produced; the exact name is still in the document's metadata (its title), and the
    verify URL leads to a web page, which browsers render with their own fonts.

Cost
    ~35 ms for a certificate in the bundled fonts (bench/certificate_pdf.py). A name that needs a
    system font pays for subsetting that font: ~200 ms with the 4 MB Droid Sans Fallback (CJK).
"""

from __future__ import annotations

import bisect
import copy
import functools
import io
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from fpdf.bidi import BidiParagraph
from fpdf.enums import MethodReturnValue, TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
BASE_FONT_FILES = {"": FONT_DIR / "DejaVuSans-subset.ttf", "B": FONT_DIR / "DejaVuSans-Bold-subset.ttf"}
FAMILY = "dejavu"

BRAND = (0x0B, 0x5D, 0x6B)
BRAND_LIGHT = (0xB6, 0xD0, 0xD4)
BRAND_TINT = (0xEE, 0xF5, 0xF6)
INK = (0x1F, 0x29, 0x33)
MUTED = (0x55, 0x61, 0x6B)
REVOKED = (0x8A, 0x93, 0x99)
REPLACEMENT = "\ufffd"

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
ACTIVITY_TYPES = {"knowledge": "Knowledge-based", "application": "Application-based", "practice": "Practice-based"}


@dataclass(frozen=True)
class CertificateData:
    trainee_name: str
    activity_title: str
    activity_number: str
    activity_type: str  # "knowledge" / "application"
    contact_hours: float
    ceus: float
    completed_on: date
    provider_name: str
    accredited: bool
    verification_code: str
    verify_url: str
    topic: str = ""
    score_percent: float | None = None


@dataclass(frozen=True)
class TranscriptRow:
    completed_on: date
    activity_title: str
    activity_number: str
    activity_type: str
    contact_hours: float
    ceus: float
    verification_code: str
    status: str  # "valid" | "revoked"


# --- formatting ---------------------------------------------------------------------------

def long_date(day: date) -> str:
    """``November 25, 2026``, whatever the process locale."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def number(value: float | Decimal, max_decimals: int = 3) -> str:
    """At least one decimal, at most ``max_decimals``, no float noise: 2 -> "2.0", 0.075 -> "0.075"."""
    text = f"{Decimal(str(value)):.{max_decimals}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def credit_line(contact_hours: float | Decimal, ceus: float | Decimal) -> str:
    """``2.0 contact hours (0.2 CEU)``."""
    unit = "contact hour" if Decimal(str(contact_hours)) == 1 else "contact hours"
    return f"{number(contact_hours, 2)} {unit} ({number(ceus)} CEU)"


def activity_type_label(activity_type: str) -> str:
    return ACTIVITY_TYPES.get(activity_type.strip().lower(), activity_type.strip().capitalize())


def not_accredited_statement(provider_name: str) -> str:
    return (f"{provider_name} is not an accredited provider of continuing pharmacy education; "
            "this certificate is not ACPE credit.")


def accredited_statement(provider_name: str) -> str:
    return (f"{provider_name} is accredited by the Accreditation Council for Pharmacy Education "
            "as a provider of continuing pharmacy education.")


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


# --- fonts: parsed once per process, cloned into each document -------------------------------

# TTFFont's attributes in the fpdf2 versions this clone was written against (2.8.x). If fpdf2
# changes them, cloning is switched off and every document loads its fonts with add_font().
_KNOWN_TTFFONT_SLOTS = frozenset({
    "i", "type", "name", "desc", "glyph_ids", "_hbfont", "sp", "ss", "up", "ut", "cw", "ttffile",
    "fontkey", "emphasis", "scale", "subset", "cmap", "ttfont", "missing_glyphs", "biggest_size_pt",
    "color_font", "unicode_range", "palette_index", "is_compressed", "is_cff", "is_cid_keyed",
    "is_symbol", "cff_ros", "collection_font_number",
})
CLONING = frozenset(getattr(TTFFont, "__slots__", ())) == _KNOWN_TTFFONT_SLOTS


@dataclass(frozen=True)
class _Prototype:
    font: TTFFont
    path: str
    data: bytes | None  # the file, kept in memory unless it is large (a CJK font can be 20 MB)
    glyph_order: tuple[str, ...]
    clonable: bool


KEEP_IN_MEMORY = 2_000_000  # bytes


@functools.lru_cache(maxsize=12)
def _prototype(path: str, index: int, style: str) -> _Prototype:
    """Parse a font file once: its cmap, widths and glyph order, as fpdf2's add_font() would."""
    scratch = FPDF()
    scratch.add_font("proto", style, path, collection_font_number=index)
    font = scratch.fonts["proto" + style]
    ttfont = font.ttfont
    clonable = (font.color_font is None and not font.is_compressed
                and ("glyf" not in ttfont or ".notdef" in ttfont["glyf"]))
    order = tuple(ttfont.getGlyphOrder())
    ttfont.close()  # clones get their own TTFont
    data = Path(path).read_bytes() if os.path.getsize(path) <= KEEP_IN_MEMORY else None
    return _Prototype(font, path, data, order, clonable)


def _install_font(pdf: FPDF, family: str, style: str, path: str, index: int = 0) -> TTFFont:
    """Add a font to ``pdf`` from the process-wide prototype; same result as ``pdf.add_font``."""
    proto = _prototype(path, index, style)
    if not (CLONING and proto.clonable):
        pdf.add_font(family, style, path, collection_font_number=index)
        return pdf.fonts[family.lower() + style]
    font = copy.copy(proto.font)
    font.i = len(pdf.fonts) + 1
    font.fontkey = family.lower() + style
    source = io.BytesIO(proto.data) if proto.data is not None else proto.path  # a path is closed by _output()
    ttfont = TTFont(source, recalcTimestamp=False, fontNumber=index, lazy=True)
    ttfont.setGlyphOrder(list(proto.glyph_order))
    font.ttfont = ttfont  # fpdf2 subsets this TTFont in place when it writes the PDF
    font.desc = copy.copy(proto.font.desc)  # ... and records object ids on the descriptor
    font.cw = copy.copy(proto.font.cw)  # a defaultdict: reading a missing width inserts it
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        pdf._set_min_pdf_version("1.6")
    return font


def _output(pdf: FPDF) -> bytes:
    data = bytes(pdf.output())
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.ttfont.close()  # add_font() (the non-cloned path) leaves its font file open
    return data


@functools.cache
def _base_coverage() -> frozenset[int]:
    """Code points both bundled faces cover."""
    regular, bold = (set(_prototype(str(path), 0, style).font.cmap) for style, path in BASE_FONT_FILES.items())
    return frozenset(regular & bold)


# --- system fonts for characters the bundled subset lacks ------------------------------------

@dataclass(frozen=True)
class SystemFont:
    path: str
    index: int
    family: str
    bold: bool
    rank: tuple
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def covers(self, codepoint: int) -> bool:
        i = bisect.bisect_right(self.starts, codepoint) - 1
        return i >= 0 and codepoint <= self.ends[i]


FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
                "/Library/Fonts", "/System/Library/Fonts")


def _ranges(codepoints: Iterable[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    starts: list[int] = []
    ends: list[int] = []
    for cp in sorted(codepoints):
        if ends and cp == ends[-1] + 1:
            ends[-1] = cp
        else:
            starts.append(cp)
            ends.append(cp)
    return tuple(starts), tuple(ends)


def _rank(family: str, weight_distance: int, mono: bool) -> tuple:
    """Prefer upright sans-serif text faces of regular weight (lower sorts first)."""
    return (mono, "sans" not in family.lower(), weight_distance, family)


def _fontconfig_fonts(fc_list: str) -> list[SystemFont]:
    fmt = "%{file}\t%{index}\t%{family[0]}\t%{weight}\t%{slant}\t%{spacing}\t%{color}\t%{charset}\n"
    try:
        listing = subprocess.run([fc_list, "--format", fmt], capture_output=True, text=True,  # noqa: S603 - fixed argv
                                 timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    fonts = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) != 8:
            continue
        path, index, family, weight, slant, spacing, color, charset = parts
        if not path.lower().endswith(FONT_SUFFIXES) or color.strip().lower() == "true" or slant not in ("", "0"):
            continue
        try:
            weight_value, index_value = int(float(weight or 80)), int(index or 0)
            pairs = [chunk.split("-") for chunk in charset.split()]
            starts = tuple(int(p[0], 16) for p in pairs)
            ends = tuple(int(p[-1], 16) for p in pairs)
        except ValueError:
            continue
        mono = spacing.strip() in ("90", "100", "110")  # dual, mono, charcell
        fonts.append(SystemFont(path, index_value, family, weight_value >= 180,
                                _rank(family, abs(weight_value - 80), mono), starts, ends))
    return fonts


def _walked_fonts(limit: int = 400) -> list[SystemFont]:
    """Without fontconfig: read the cmap of font files in the usual folders (first face of each)."""
    fonts: list[SystemFont] = []
    for folder in FONT_FOLDERS:
        for root, _dirs, files in os.walk(os.path.expanduser(folder)):
            for name in sorted(files):
                if len(fonts) >= limit:
                    return fonts
                if not name.lower().endswith(FONT_SUFFIXES):
                    continue
                path = os.path.join(root, name)
                try:  # the file is opened here so that a file fontTools rejects is still closed
                    with open(path, "rb") as file, TTFont(file, lazy=True, fontNumber=0) as ttfont:
                        cmap = ttfont.getBestCmap() or {}
                        weight = ttfont["OS/2"].usWeightClass
                        italic = bool(ttfont["OS/2"].fsSelection & 1)
                        family = ttfont["name"].getBestFamilyName() or name
                        mono = bool(ttfont["post"].isFixedPitch)
                        color = any(tag in ttfont for tag in ("CBDT", "COLR", "sbix", "SVG "))
                except Exception:  # noqa: S112 - an unreadable font file is skipped, not fatal
                    continue
                if italic or color or not cmap:
                    continue
                fonts.append(SystemFont(path, 0, family, weight >= 600,
                                        _rank(family, abs(weight - 400) // 5, mono), *_ranges(cmap)))
    return fonts


@functools.cache
def system_fonts() -> tuple[SystemFont, ...]:
    """Installed fonts that could stand in for missing characters, best first; read once."""
    fc_list = shutil.which("fc-list")
    fonts = _fontconfig_fonts(fc_list) if fc_list else _walked_fonts()
    own = {str(path.resolve()) for path in BASE_FONT_FILES.values()}
    unique = {(f.path, f.index): f for f in fonts if str(Path(f.path).resolve()) not in own}
    return tuple(sorted(unique.values(), key=lambda f: (f.rank, f.path, f.index)))


def choose_fallbacks(missing: set[int], fonts: Iterable[SystemFont]) -> list[tuple[SystemFont, SystemFont | None]]:
    """Greedy cover of ``missing``: (regular, bold sibling or None) pairs, fewest fonts first."""
    candidates = [f for f in fonts if not f.bold]
    bold = [f for f in fonts if f.bold]
    chosen = []
    left = set(missing)
    while left and candidates:
        best = max(candidates, key=lambda f: sum(map(f.covers, left)))  # max() keeps the best-ranked tie
        covered = {cp for cp in left if best.covers(cp)}
        if not covered:
            break
        sibling = next((f for f in bold if f.family == best.family and all(map(f.covers, covered))), None)
        chosen.append((best, sibling))
        candidates.remove(best)
        left -= covered
    return chosen


# --- text preparation ----------------------------------------------------------------------

def _shaping_available() -> bool:
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return False
    return True


SHAPING = _shaping_available()
COMPLEX_RANGES = ((0x0590, 0x08FF), (0x0900, 0x0DFF), (0x0E00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x18AF),
                  (0xA8E0, 0xA8FF), (0xAA60, 0xAA7F), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))


def _is_complex(char: str) -> bool:
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in COMPLEX_RANGES)


def _is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _one_line(text: str) -> str:
    """NFC, control characters and runs of white space folded to single spaces."""
    text = unicodedata.normalize("NFC", str(text))
    return " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text).split())


class _Writer:
    """One document's fonts: the bundled faces, plus system fallbacks for what its text needs."""

    def __init__(self, pdf: FPDF, texts: Iterable[str]):
        self.pdf = pdf
        for style, path in BASE_FONT_FILES.items():
            _install_font(pdf, FAMILY, style, str(path))
        self.coverage = set(_base_coverage())
        chars = {ch for text in texts for ch in _one_line(text)}
        missing = {ord(ch) for ch in chars if ord(ch) not in self.coverage and not _ignorable(ch)}
        missing |= {ord(part) for ch in chars if ord(ch) in missing
                    for part in unicodedata.normalize("NFKD", ch) if ord(part) not in self.coverage}
        if missing:
            families = []
            for n, (regular, bold) in enumerate(choose_fallbacks(missing, system_fonts())):
                family = f"fallback{n}"
                if not _try_install(pdf, family, "", regular):
                    continue  # a font fpdf2 cannot read: its characters get replaced below
                if bold is not None:
                    _try_install(pdf, family, "B", bold)  # without it, bold text uses the regular face
                families.append(family)
                self.coverage |= {cp for cp in missing if regular.covers(cp)}
            if families:
                pdf.set_fallback_fonts(families, exact_match=False)
        self.shaping = False
        if SHAPING and any(_is_complex(ch) for ch in chars if ord(ch) in self.coverage):
            pdf.set_text_shaping(True)
            self.shaping = True

    def text(self, value: str) -> str:
        """What to draw for ``value``: one line, only characters some font here can draw."""
        out = []
        for ch in _one_line(value):
            if ord(ch) in self.coverage:
                out.append(ch)
            elif _ignorable(ch):
                continue
            else:
                parts = [p for p in unicodedata.normalize("NFKD", ch)
                         if ord(p) in self.coverage or not unicodedata.combining(p)]
                if parts and all(ord(p) in self.coverage for p in parts):
                    out.append(unicodedata.normalize("NFC", "".join(parts)))
                else:
                    out.append(REPLACEMENT)
        text = "".join(out)
        if not self.shaping and _is_rtl(text):
            text = BidiParagraph(text).get_reordered_string()
        return text


def _try_install(pdf: FPDF, family: str, style: str, font: SystemFont) -> bool:
    try:
        _install_font(pdf, family, style, font.path, font.index)
    except Exception:  # any unreadable or unsupported font file is skipped, never fatal
        pdf.fonts.pop(family.lower() + style, None)
        return False
    return True


def _ignorable(ch: str) -> bool:
    """Format characters (zero-width joiners, bidi marks): dropped when no font has them."""
    return unicodedata.category(ch) == "Cf"


# --- drawing helpers -----------------------------------------------------------------------

def _fit_size(pdf: FPDF, text: str, style: str, largest: float, smallest: float, width: float) -> float:
    """The largest size (in half points) at which ``text`` fits on one line of a ``width`` cell."""
    pdf.set_font(FAMILY, style, largest)
    room = width - 2 * pdf.c_margin
    measured = pdf.get_string_width(text)
    if measured <= room:
        return largest
    return max(smallest, int(largest * room / measured * 2) / 2)


def _lines(pdf: FPDF, width: float, text: str) -> list[str]:
    """How multi_cell() would wrap ``text`` in the current font (one line without wrapping it)."""
    if pdf.get_string_width(text) <= width - 2 * pdf.c_margin:
        return [text]
    return pdf.multi_cell(width, 5, text, dry_run=True, output=MethodReturnValue.LINES)


def _centered(pdf: FPDF, y: float, text: str, style: str, size: float, color, line_height: float) -> float:
    """Draw ``text`` centred across the margins at ``y``, wrapped if need be; return the y below it."""
    pdf.set_font(FAMILY, style, size)
    pdf.set_text_color(*color)
    pdf.set_xy(pdf.l_margin, y)
    if pdf.get_string_width(text) <= pdf.epw - 2 * pdf.c_margin:
        pdf.cell(pdf.epw, line_height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(pdf.epw, line_height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.get_y()


def _qr_svg(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False, omitsize=True,
                                    dark="#1f2933")
    buffer.seek(0)
    return buffer


# --- certificate ---------------------------------------------------------------------------

PAGE_W, PAGE_H = 279.4, 215.9  # US Letter, landscape, in mm


def certificate_pdf(data: CertificateData) -> bytes:
    """One landscape Letter page: the certificate of completion for one activity."""
    pdf = FPDF(orientation="L", unit="mm", format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_margins(30, 20, 30)
    pdf.set_creation_date(_midnight_utc(data.completed_on))
    pdf.set_lang("en")
    statement = (accredited_statement if data.accredited else not_accredited_statement)(data.provider_name)
    topic = f"Topic: {data.topic}" if data.topic.strip() else ""
    w = _Writer(pdf, [data.trainee_name, data.activity_title, data.activity_number, data.provider_name,
                      data.verification_code, data.verify_url, data.topic, data.activity_type])
    name, title, provider = w.text(data.trainee_name), w.text(data.activity_title), w.text(data.provider_name)
    pdf.set_title(f"Certificate of Completion: {_one_line(data.trainee_name)}")
    pdf.set_subject(_one_line(data.activity_title))
    pdf.set_author(_one_line(data.provider_name))
    pdf.set_keywords(f"verification {data.verification_code}")
    pdf.set_creator("Pharmacy Informatics LMS")
    pdf.add_page()

    # Frame: a brand-coloured rule and a fine inner line.
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(1.2)
    pdf.rect(9, 9, PAGE_W - 18, PAGE_H - 18)
    pdf.set_draw_color(*BRAND_LIGHT)
    pdf.set_line_width(0.3)
    pdf.rect(12.5, 12.5, PAGE_W - 25, PAGE_H - 25)

    # The main block, centred vertically between the frame's top and the bottom band.
    blocks: list[tuple[float, str, str, float, tuple, float, str]] = []  # gap, text, style, size, colour, leading, rule

    def block(gap, text, style, size, color, leading, rule=""):
        blocks.append((gap, text, style, size, color, leading, rule))

    block(0, provider, "B", 11, BRAND, 5.5)
    block(6, "Certificate of Completion", "B", 32, BRAND, 14, "short")
    block(11, "This certifies that", "", 12, MUTED, 6)
    size = _fit_size(pdf, name, "B", 30, 14, pdf.epw)
    block(4, name, "B", size, INK, size * 0.5, "long")
    block(8, "has completed the continuing education activity", "", 12, MUTED, 6)
    for title_size in (18, 16, 14, 12):
        pdf.set_font(FAMILY, "B", title_size)
        if len(_lines(pdf, pdf.epw, title)) <= 2:
            break
    lines = _lines(pdf, pdf.epw, title)
    if len(lines) > 3:  # cut at a word on the third line
        words = " ".join(line.strip() for line in lines[:3]).split(" ")
        while len(words) > 1 and len(_lines(pdf, pdf.epw, " ".join(words) + "…")) > 3:
            words.pop()
        title = " ".join(words).rstrip(" ,;:-–—") + "…"
    block(3, title, "B", title_size, BRAND, title_size * 0.47)
    details = "   ·   ".join(part for part in (
        f"Activity number {w.text(data.activity_number)}",
        f"{activity_type_label(data.activity_type)} activity",
        w.text(topic),
    ) if part)
    block(2.5, details, "", _fit_size(pdf, details, "", 10.5, 8, pdf.epw), MUTED, 5.5)
    block(7, credit_line(data.contact_hours, data.ceus), "B", 16, INK, 8)
    completed = f"Completed {long_date(data.completed_on)}"
    if data.score_percent is not None:
        completed += f"   ·   Score {number(data.score_percent, 1).removesuffix('.0')}%"
    block(1.5, completed, "", 11, INK, 6)

    def height(gap, text, style, size, color, leading, rule):
        pdf.set_font(FAMILY, style, size)
        return gap + len(_lines(pdf, pdf.epw, text)) * leading

    top, bottom = 20, PAGE_H - 64
    y = top + max(0, (bottom - top - sum(height(*b) for b in blocks)) / 2)
    for gap, text, style, size, color, leading, rule in blocks:
        y = _centered(pdf, y + gap, text, style, size, color, leading)
        if rule == "short":
            pdf.set_draw_color(*BRAND)
            pdf.set_line_width(0.6)
            pdf.line(PAGE_W / 2 - 18, y + 4, PAGE_W / 2 + 18, y + 4)
        elif rule == "long":
            pdf.set_draw_color(*BRAND_LIGHT)
            pdf.set_line_width(0.3)
            pdf.line(PAGE_W / 2 - 80, y + 2.5, PAGE_W / 2 + 80, y + 2.5)

    # Bottom band: provider and statement on the left, verification and QR code on the right.
    qr_size, qr_x, qr_y = 36, PAGE_W - 24 - 36, PAGE_H - 22 - 36
    pdf.image(_qr_svg(data.verify_url), x=qr_x, y=qr_y, w=qr_size, h=qr_size)
    right = qr_x - 3
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_xy(right - 100, qr_y + 6)
    pdf.cell(100, 4.5, "Verification code", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(100, 6.5, w.text(data.verification_code), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.cell(100, 4.5, "Scan the code or visit", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    url = w.text(data.verify_url)
    pdf.set_text_color(*BRAND)
    pdf.set_font(FAMILY, "", _fit_size(pdf, url, "", 8.5, 5, 100))
    link = data.verify_url if data.verify_url.startswith(("https://", "http://")) else ""
    pdf.cell(100, 4.5, url, align="R", link=link)

    left, band_w = 24, 118
    pdf.set_draw_color(*BRAND_LIGHT)
    pdf.set_line_width(0.3)
    pdf.line(left, qr_y + 4, left + band_w, qr_y + 4)
    pdf.set_xy(left, qr_y + 6)
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", _fit_size(pdf, provider, "B", 11, 7, band_w))
    pdf.cell(band_w, 6, provider, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.multi_cell(band_w, 4.2, w.text(statement), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    return _output(pdf)


# --- transcript ----------------------------------------------------------------------------

class _TranscriptPDF(FPDF):
    """Portrait pages with a running header and a "Page N of M" footer."""

    running_title = ""
    footer_text = ""

    def header(self) -> None:
        self.set_font(FAMILY, "B", 9)
        self.set_text_color(*BRAND)
        self.set_xy(self.l_margin, 10)
        self.cell(self.epw / 2, 5, self.running_title)
        self.set_font(FAMILY, "", 9)
        self.set_text_color(*MUTED)
        self.cell(self.epw / 2, 5, "Continuing education transcript", align="R")
        self.set_draw_color(*BRAND)
        self.set_line_width(0.5)
        self.line(self.l_margin, 16.5, self.w - self.r_margin, 16.5)
        self.set_y(21)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_draw_color(*BRAND_LIGHT)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(self.epw * 0.75, 5, self.footer_text)
        self.cell(self.epw * 0.25, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def credit_totals(rows: Iterable[TranscriptRow]) -> tuple[dict[int, tuple[int, Decimal, Decimal]],
                                                           tuple[int, Decimal, Decimal]]:
    """(per year, overall) as (activities, contact hours, CEUs), counting valid credits only."""
    per_year: dict[int, tuple[int, Decimal, Decimal]] = {}
    for row in rows:
        if row.status != "valid":
            continue
        count, hours, ceus = per_year.get(row.completed_on.year, (0, Decimal(0), Decimal(0)))
        per_year[row.completed_on.year] = (count + 1, hours + Decimal(str(row.contact_hours)),
                                           ceus + Decimal(str(row.ceus)))
    overall = (sum(v[0] for v in per_year.values()), sum((v[1] for v in per_year.values()), Decimal(0)),
               sum((v[2] for v in per_year.values()), Decimal(0)))
    return dict(sorted(per_year.items())), overall


def transcript_pdf(trainee_name: str, rows: list[TranscriptRow], provider_name: str, accredited: bool,
                   generated_on: date, period_label: str, nabp_eprofile_id: str | None = None) -> bytes:
    """A portrait, paginated transcript: credit totals per year and overall (valid credits only),
    then every activity by completion date, revoked ones listed but not counted."""
    rows = sorted(rows, key=lambda r: (r.completed_on, r.activity_number, r.activity_title))
    pdf = _TranscriptPDF(orientation="P", unit="mm", format="letter")
    pdf.set_margins(14, 21, 14)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_creation_date(_midnight_utc(generated_on))
    pdf.set_lang("en")
    texts = [trainee_name, provider_name, period_label, nabp_eprofile_id or ""]
    texts += [t for r in rows for t in (r.activity_title, r.activity_number, r.activity_type, r.verification_code)]
    w = _Writer(pdf, texts)
    name, provider = w.text(trainee_name), w.text(provider_name)
    pdf.set_title(f"Continuing education transcript: {_one_line(trainee_name)}")
    pdf.set_subject(_one_line(period_label))
    pdf.set_author(_one_line(provider_name))
    pdf.set_creator("Pharmacy Informatics LMS")
    pdf.running_title = provider
    pdf.footer_text = f"{name}  ·  {w.text(period_label)}  ·  generated {long_date(generated_on)}"
    pdf.add_page()

    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", _fit_size(pdf, name, "B", 18, 11, pdf.epw))
    pdf.multi_cell(pdf.epw, 9, name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(*MUTED)
    facts = [f"Period: {w.text(period_label)}", f"Generated {long_date(generated_on)}"]
    if nabp_eprofile_id:
        facts.append(f"NABP e-Profile ID {w.text(nabp_eprofile_id)}")
    pdf.multi_cell(pdf.epw, 5.5, "   ·   ".join(facts), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    statement = accredited_statement(provider_name) if accredited else (
        f"{provider_name} is not an accredited provider of continuing pharmacy education; "
        "these credits are not ACPE credit.")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.multi_cell(pdf.epw, 4.5, w.text(statement), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_draw_color(*BRAND_LIGHT)
    pdf.set_line_width(0.25)
    heading = FontFace(family=FAMILY, emphasis="BOLD", color=(255, 255, 255), fill_color=BRAND, size_pt=8.5)
    per_year, overall = credit_totals(rows)
    revoked = sum(1 for r in rows if r.status != "valid")
    pdf.ln(4)
    _section(pdf, "Credit totals")
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*INK)
    with pdf.table(col_widths=(40, 30, 35, 30), width=135, align="L", headings_style=heading,
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"), line_height=5.5, padding=(1, 2),
                   borders_layout=TableBordersLayout.HORIZONTAL_LINES, cell_fill_color=BRAND_TINT,
                   cell_fill_mode=TableCellFillMode.ROWS, first_row_as_headings=True) as table:
        table.row(("Year", "Activities", "Contact hours", "CEUs"))
        for year, (count, hours, ceus) in per_year.items():
            table.row((str(year), str(count), number(hours, 2), number(ceus)))
        total_style = FontFace(emphasis="BOLD")
        row = table.row()
        for cell in ("All years", str(overall[0]), number(overall[1], 2), number(overall[2])):
            row.cell(cell, style=total_style)
    note = "Totals count valid credits only."
    if revoked:
        note += f" {revoked} revoked {'credit is' if revoked == 1 else 'credits are'} listed below but not counted."
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.ln(1)
    pdf.multi_cell(pdf.epw, 4.5, note, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(4)
    _section(pdf, "Activities")
    if not rows:
        pdf.set_font(FAMILY, "", 10)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(pdf.epw, 6, "No completed activities in this period.", align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return _output(pdf)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*INK)
    revoked_style = FontFace(color=REVOKED)
    with pdf.table(col_widths=(24, 66, 22, 14, 14, 27, 21), headings_style=heading, line_height=4.4,
                   text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "LEFT"), padding=(1.2, 1.5),
                   borders_layout=TableBordersLayout.HORIZONTAL_LINES, repeat_headings=1,
                   cell_fill_color=BRAND_TINT, cell_fill_mode=TableCellFillMode.ROWS) as table:
        table.row(("Completed", "Activity", "Type", "Hours", "CEUs", "Code", "Status"))
        for r in rows:
            valid = r.status == "valid"
            style = None if valid else revoked_style
            row = table.row()
            row.cell(f"{MONTHS[r.completed_on.month - 1][:3]} {r.completed_on.day}, {r.completed_on.year}",
                     style=style)
            row.cell(f"{w.text(r.activity_title)}\n{w.text(r.activity_number)}", style=style)
            row.cell(activity_type_label(w.text(r.activity_type)).removesuffix("-based"), style=style)
            row.cell(number(r.contact_hours, 2), style=style)
            row.cell(number(r.ceus), style=style)
            row.cell(w.text(r.verification_code), style=style)
            row.cell("Valid" if valid else "Revoked", style=style)
    return _output(pdf)


def _section(pdf: FPDF, title: str) -> None:
    pdf.set_font(FAMILY, "B", 11)
    pdf.set_text_color(*BRAND)
    pdf.cell(pdf.epw, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
