"""Receiving an HL7 v2 message: framing, segment terminators, encoding characters and the MSH header.

Pure functions of the bytes and the channel's setting. python-hl7 parses the segments and fields; this module
decides what the text is before python-hl7 sees it (the terminators and MSH-2, which python-hl7 takes as given),
and reads MSH. Anything the receiver cannot accept raises ``Rejected`` with the issues for the AR; nothing else
escapes (``receive`` turns any parser failure into a rejection).
"""

import re
from dataclasses import dataclass, field

import hl7

from lms.sandbox.interfaces.issues import Issue

STANDARD_ENCODING = "^~\\&"
SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
# Versions whose MSH, PID, PV1, ORC, RXE, RXR, TQ1 and AL1 fields this receiver reads the same way.
SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2")
MLLP_FRAME = "\x0b\x1c"


class Rejected(Exception):
    """The message cannot be accepted at all (AR). Carries what MSA-2 can still name."""

    def __init__(self, issues: list[Issue], control_id: str = "", warnings: list[Issue] | None = None):
        super().__init__("; ".join(i.text for i in issues))
        self.issues = issues
        self.control_id = control_id
        self.warnings = warnings or []


@dataclass
class Header:
    """MSH, read once. Empty strings where a field is absent."""

    field_separator: str = "|"
    encoding: str = STANDARD_ENCODING
    sending_application: str = ""
    sending_facility: str = ""
    timestamp: str = ""
    message_code: str = ""  # MSH-9.1, e.g. RDE
    trigger: str = ""  # MSH-9.2, e.g. O11
    structure: str = ""  # MSH-9.3, e.g. RDE_O11
    control_id: str = ""  # MSH-10
    processing_id: str = ""  # MSH-11: P production, T training, D debugging
    version: str = ""  # MSH-12
    accept_ack: str = ""  # MSH-15: AL, NE, ER, SU (enhanced mode when 15 or 16 is valued)
    application_ack: str = ""  # MSH-16

    @property
    def message_type(self) -> str:
        return f"{self.message_code}^{self.trigger}" if self.trigger else self.message_code

    @property
    def enhanced_mode(self) -> bool:
        return bool(self.accept_ack or self.application_ack)


@dataclass
class Received:
    raw: str  # as it arrived (decoded)
    text: str  # what was parsed: segments joined by CR
    header: Header
    message: hl7.Message
    warnings: list[Issue] = field(default_factory=list)

    @property
    def segments(self) -> list[str]:
        return [s for s in self.text.split("\r") if s]


def decode(data: bytes | str) -> tuple[str, list[Issue]]:
    """Bytes to text: UTF-8 (v2.8's preferred character set, and ASCII's superset), else Latin-1 with a warning."""
    if isinstance(data, str):
        return data, []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        return data.decode("latin-1"), [Issue(0, "MSH", 1, 18, severity="W",
                                              text="The message is not valid UTF-8; it was read as Latin-1 (ISO "
                                                   "8859-1). Ask the sender to declare MSH-18.")]


def first_line_control_id(text: str) -> str:
    """MSH-10 read from the first physical line, so even a message that cannot be parsed gets an AR naming it."""
    line = re.split(r"[\r\n]", text.lstrip(MLLP_FRAME + "\ufeff \t"), maxsplit=1)[0]
    if not line.startswith("MSH") or len(line) < 4:
        return ""
    parts = line.split(line[3])
    return parts[9].strip() if len(parts) > 9 else ""


def split_segments(text: str, normalize: bool, separator: str) -> list[str]:
    """Segments by the channel's rule. CR always ends a segment; a normalising channel also takes CRLF, and a bare LF
    where a segment id and the field separator follow it (so an LF inside field text stays text)."""
    if normalize:
        text = text.replace("\r\n", "\r")
        text = re.sub(r"\n(?=[A-Z][A-Z0-9]{2}" + re.escape(separator) + r")", "\r", text)
        text = re.sub(r"\n+$", "", text)
    return [s for s in text.split("\r") if s.strip()]


def _field(parts: list[str], n: int) -> str:
    """MSH-n from the MSH line split on the field separator (MSH-1 is the separator itself)."""
    return parts[n - 1].strip() if len(parts) > n - 1 else ""


def read_header(msh: str) -> Header:
    sep = msh[3]
    parts = msh.split(sep)  # parts[0] = "MSH", parts[1] = MSH-2, parts[n-1] = MSH-n
    enc = parts[1]
    comp = enc[0] if enc else "^"

    def component(value: str, n: int) -> str:
        pieces = value.split(comp)
        return pieces[n - 1].strip() if len(pieces) >= n else ""

    msh9 = _field(parts, 9)
    return Header(field_separator=sep, encoding=enc, sending_application=component(_field(parts, 3), 1),
                  sending_facility=component(_field(parts, 4), 1), timestamp=component(_field(parts, 7), 1),
                  message_code=component(msh9, 1), trigger=component(msh9, 2), structure=component(msh9, 3),
                  control_id=_field(parts, 10), processing_id=component(_field(parts, 11), 1),
                  version=component(_field(parts, 12), 1), accept_ack=_field(parts, 15),
                  application_ack=_field(parts, 16))


def receive(data: bytes | str, normalize: bool) -> Received:
    """Frame, split, check and parse one message. Raises Rejected (never anything else) when it cannot be accepted."""
    try:
        return _receive(data, normalize)
    except Rejected:
        raise
    except Exception as error:  # a parser failure on input nobody anticipated: still an AR, never a crash
        raise Rejected([Issue(207, "MSH", 1, text=f"The message could not be parsed ({type(error).__name__}).")],
                       first_line_control_id(decode(data)[0])) from None


def _receive(data: bytes | str, normalize: bool) -> Received:
    raw, warnings = decode(data)
    text = raw.strip(MLLP_FRAME).lstrip("\ufeff \t\r\n")
    control_id = first_line_control_id(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise Rejected([Issue(100, "MSH", 1, text="The message does not begin with an MSH segment.")], control_id,
                       warnings)
    sep = text[3]
    if sep.isalnum() or sep in " \r\n":
        raise Rejected([Issue(102, "MSH", 1, 1, text=f"MSH-1 (field separator) {sep!r} is not a usable separator.")],
                       control_id, warnings)
    segments = split_segments(text, normalize, sep)
    if not normalize and re.search(r"\n(?=[A-Z][A-Z0-9]{2}" + re.escape(sep) + ")", text):
        raise Rejected([Issue(100, "MSH", 1, text="The segments end with LF (or CR LF), not CR as HL7 requires, so "
                                                  "the message reads as one malformed segment. A channel for this "
                                                  "sender can be set to normalise line endings.")],
                       control_id, warnings)
    msh = segments[0]
    encoding = msh[4:].split(sep, 1)[0]
    if encoding == "^~\\\\&":
        # Some senders double the escape character when they write MSH-2 from a string literal. python-hl7 reads
        # MSH-2 up to the next separator and would take the second backslash as the sub-component separator.
        warnings.append(Issue(102, "MSH", 1, 2, severity="W",
                              text="MSH-2 has five encoding characters: the escape character is doubled. "
                                   "Read as the standard four (component, repetition, escape, sub-component)."))
        msh = msh[:4] + STANDARD_ENCODING + msh[4 + len(encoding):]
        segments[0] = msh
        encoding = STANDARD_ENCODING
    if len(encoding) not in (4, 5) or len(set(encoding)) != len(encoding) or sep in encoding \
            or any(c.isalnum() or c in " \r\n" for c in encoding):
        raise Rejected([Issue(102, "MSH", 1, 2, text=f"MSH-2 (encoding characters) {encoding!r} must be four "
                                                     "distinct symbols such as ^~\\&.")], control_id, warnings)
    for number, segment in enumerate(segments, start=1):
        if not SEGMENT_ID.fullmatch(segment[:3]) or (len(segment) > 3 and segment[3] != sep):
            raise Rejected([Issue(100, segment[:3], 1,
                                  text=f"Segment {number} ({segment[:12]!r}) does not start with a segment id "
                                       f"and the field separator.")], control_id, warnings)
    header = read_header(msh)
    if "MSH" in (s[:3] for s in segments[1:]):
        raise Rejected([Issue(100, "MSH", 2, text="A second MSH segment: one message per batch here.")],
                       header.control_id, warnings)
    problems = []
    if not header.control_id:
        problems.append(Issue(101, "MSH", 1, 10, text="MSH-10 (message control id) is empty."))
    if not header.message_code:
        problems.append(Issue(101, "MSH", 1, 9, text="MSH-9 (message type) is empty."))
    if not header.version:
        problems.append(Issue(101, "MSH", 1, 12, text="MSH-12 (version id) is empty."))
    elif header.version not in SUPPORTED_VERSIONS:
        problems.append(Issue(203, "MSH", 1, 12, text=f"Version {header.version} is not supported here "
                                                      f"({SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]})."))
    if problems:
        raise Rejected(problems, header.control_id, warnings)
    text = "\r".join(segments) + "\r"
    return Received(raw=raw, text=text, header=header, message=hl7.parse(text), warnings=warnings)
