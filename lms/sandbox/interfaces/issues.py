"""What an ACK reports about a message: one ``Issue`` per ERR segment, coded from HL7 table 0357."""

from dataclasses import dataclass

# HL7 table 0357, message error condition codes (HL7 Terminology, CC0): the codes this receiver sends.
CONDITION_CODES = {
    0: "Message accepted",
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    103: "Table value not found",
    200: "Unsupported message type",
    201: "Unsupported event code",
    203: "Unsupported version id",
    204: "Unknown key identifier",
    205: "Duplicate key identifier",
    207: "Application internal error",
}

SEVERITIES = {"E": "error", "W": "warning", "I": "information"}  # HL7 table 0516


@dataclass(frozen=True)
class Issue:
    code: int  # table 0357
    segment: str = ""  # ERR-2.1 segment id
    sequence: int = 1  # ERR-2.2 which occurrence of the segment (1 = the first)
    field: int | None = None  # ERR-2.3 field position
    component: int | None = None  # ERR-2.5 component number
    text: str = ""  # ERR-8, the message a person reads
    severity: str = "E"  # ERR-4: E error, W warning, I information

    @property
    def location(self) -> str:
        """ERR-2 as written in the ACK: segment^sequence^field (^repetition^component when a component is named)."""
        parts = [self.segment, str(self.sequence)] if self.segment else []
        if self.segment and self.field is not None:
            parts.append(str(self.field))
            if self.component is not None:
                parts += ["1", str(self.component)]
        return "^".join(parts)

    @property
    def label(self) -> str:
        return CONDITION_CODES.get(self.code, "")

    @property
    def is_error(self) -> bool:
        return self.severity == "E"

    def as_dict(self) -> dict:
        return {"code": self.code, "location": self.location, "severity": self.severity, "text": self.text}
