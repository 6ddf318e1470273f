"""What the message browser shows of a message: its segments as a tree of named fields, and an ACK's ERR entries.

Pure functions of the stored text. ``receive`` (with normalisation on, for display only, whatever the channel's
setting) decides where the segments end; a message it cannot accept is shown raw with the reason.
"""

import re
from dataclasses import dataclass, field

from lms.sandbox.interfaces.fields import SEGMENTS, field_name
from lms.sandbox.interfaces.issues import CONDITION_CODES, SEVERITIES
from lms.sandbox.interfaces.receive import Rejected, receive

# Where an unmapped code lives, by ERR location (segment, field): the code map type that translates it.
MAPPED_FIELDS = {("RXE", 2): "drug", ("RXE", 5): "unit", ("RXR", 1): "route", ("TQ1", 3): "frequency",
                 ("RXE", 1): "frequency", ("PV1", 3): "location", ("AL1", 3): "allergen"}


@dataclass
class FieldView:
    number: int
    name: str
    value: str  # as it arrived, escapes and all
    repetitions: list[list[str]]  # each repetition's components (a single value is one component)
    issues: list = field(default_factory=list)

    @property
    def split(self) -> bool:
        """True when the field has more than one repetition or component, so the components are listed."""
        return len(self.repetitions) > 1 or any(len(r) > 1 for r in self.repetitions)


@dataclass
class SegmentView:
    position: int  # 1 = the first segment of the message
    segment_id: str
    sequence: int  # which occurrence of this segment id (ERR-2.2)
    fields: list[FieldView]

    @property
    def name(self) -> str:
        return SEGMENTS.get(self.segment_id, "")


@dataclass
class MessageView:
    lines: list[str]  # the raw text, one segment (or physical line) a line
    segments: list[SegmentView] | None  # None when the message could not be parsed
    problem: str = ""  # why it could not be parsed
    warnings: list[str] = field(default_factory=list)


def raw_lines(raw: str) -> list[str]:
    """The raw text one segment a line: CR, CR LF and LF all end a line here (only for reading it)."""
    return [line for line in re.split(r"\r\n|\r|\n", raw or "") if line != ""]


def message_view(raw: str, issues: list | None = None) -> MessageView:
    """Split ``raw`` into segments and fields with their v2.5.1 names; ``issues`` (from the last ACK) are attached
    to the fields they name."""
    lines = raw_lines(raw)
    try:
        received = receive(raw, normalize=True)
    except Rejected as rejected:
        return MessageView(lines, None, " ".join(i.text for i in rejected.issues),
                           [i.text for i in rejected.warnings])
    header = received.header
    sep = header.field_separator
    comp, rep = (header.encoding + "^~")[0], (header.encoding + "^~")[1]
    by_place: dict[tuple[str, int, int], list] = {}
    for issue in issues or []:
        if issue.get("field"):
            by_place.setdefault((issue["segment"], issue["sequence"], issue["field"]), []).append(issue)
    seen: dict[str, int] = {}
    segments = []
    for position, text in enumerate(received.segments, start=1):
        segment_id = text[:3]
        seen[segment_id] = sequence = seen.get(segment_id, 0) + 1
        parts = text.split(sep)
        if segment_id == "MSH":  # MSH-1 is the separator itself, MSH-2 the encoding characters: never split
            values = [(1, sep, [[sep]]), (2, parts[1] if len(parts) > 1 else "", [[parts[1] if len(parts) > 1
                                                                                  else ""]])]
            numbered = [(n, v) for n, v in enumerate(parts[2:], start=3)]
        else:
            values = []
            numbered = list(enumerate(parts[1:], start=1))
        for number, value in numbered:
            values.append((number, value, [r.split(comp) for r in value.split(rep)]))
        fields = [FieldView(number, field_name(segment_id, number), value, repetitions,
                            by_place.get((segment_id, sequence, number), []))
                  for number, value, repetitions in values if value.strip()]
        segments.append(SegmentView(position, segment_id, sequence, fields))
    return MessageView(lines, segments, warnings=[w.text for w in received.warnings])


def _unescape(text: str, esc: str) -> str:
    if not esc or esc not in text:
        return text
    for code, char in (("F", "|"), ("S", "^"), ("T", "&"), ("R", "~"), ("E", "\\")):
        text = text.replace(f"{esc}{code}{esc}", char)
    return text


def ack_entries(ack: str | None) -> tuple[str, str, list[dict]]:
    """(MSA-1 code, MSA-2 control id, one dict per ERR segment) read from a stored ACK.

    Each ERR: code, label (table 0357), location as ``segment^sequence^field`` with segment, sequence and field
    apart, severity and its word, and the text a person reads (ERR-8).
    """
    lines = raw_lines(ack or "")
    if not lines or not lines[0].startswith("MSH") or len(lines[0]) < 8:
        return "", "", []
    sep = lines[0][3]
    encoding = lines[0][4:].split(sep, 1)[0]
    comp, esc = (encoding + "^~\\")[0], (encoding + "^~\\")[2]
    code = control_id = ""
    entries = []
    for line in lines[1:]:
        parts = line.split(sep) + [""] * 9
        if parts[0] == "MSA":
            code, control_id = parts[1], _unescape(parts[2], esc)
        elif parts[0] == "ERR":
            where = [_unescape(p, esc) for p in parts[2].split(comp)] if parts[2] else []
            number = parts[3].split(comp)[0]
            numeric = int(number) if number.isdigit() else None
            entries.append({
                "code": number, "label": CONDITION_CODES.get(numeric, "") if numeric is not None else "",
                "location": "^".join(where), "segment": where[0] if where else "",
                "sequence": int(where[1]) if len(where) > 1 and where[1].isdigit() else 1,
                "field": int(where[2]) if len(where) > 2 and where[2].isdigit() else None,
                "severity": parts[4], "severity_label": SEVERITIES.get(parts[4], parts[4]),
                "text": _unescape(parts[8], esc)})
    return code, control_id, entries


def missing_map(entry: dict, view: MessageView) -> tuple[str, str] | None:
    """For an ERR 103 at a coded field: (code type, the sender's code) a new code map would translate."""
    if entry["code"] != "103" or entry["field"] is None or view.segments is None:
        return None
    code_type = MAPPED_FIELDS.get((entry["segment"], entry["field"]))
    if code_type is None:
        return None
    segment = next((s for s in view.segments if s.segment_id == entry["segment"]
                    and s.sequence == entry["sequence"]), None)
    found = next((f for f in segment.fields if f.number == entry["field"]), None) if segment else None
    if found is None:
        return None
    component = 2 if (entry["segment"], entry["field"]) == ("RXE", 1) else 1  # RXE-1.2 is the interval
    first = found.repetitions[0]
    value = first[component - 1].strip() if len(first) >= component else ""
    return (code_type, value) if value else None


def patient_mrn(message) -> str:
    """The message's patient: what the engine recorded, else PID-3 read from the raw text (the MR repetition, else
    the first), so messages that came with the hospital's data list their patient too."""
    if message.patient_mrn:
        return message.patient_mrn
    lines = raw_lines(message.raw)
    if not lines or not lines[0].startswith("MSH") or len(lines[0]) < 8:
        return ""
    sep = lines[0][3]
    encoding = lines[0][4:].split(sep, 1)[0] + "^~"
    comp, rep = encoding[0], encoding[1]
    pid = next((line for line in lines if line.startswith("PID" + sep)), None)
    parts = pid.split(sep) if pid else []
    if len(parts) < 4:
        return ""
    repetitions = [r.split(comp) for r in parts[3].split(rep)]
    chosen = next((r for r in repetitions if len(r) > 4 and r[4].strip().upper() == "MR"), repetitions[0])
    return chosen[0].strip()[:20]
