"""The trainee's due dates as an iCalendar file (RFC 5545), built with the icalendar library."""

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vText

from lms.curricula.services import Progress

PRODID = "-//Pharmacy Informatics Academy//Assignments//EN"
UID_DOMAIN = "pharmacy-informatics-academy"
# Control characters and line/paragraph separators: a calendar client may read any of them as a line
# break, which would let text (a curriculum name) start a property of its own.
_BREAKING = {"Cc", "Zl", "Zp"}


def one_line(text: str) -> str:
    """Return ``text`` with every control character and line or paragraph separator as a space."""
    return "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)


class _Text(vText):
    """A TEXT value escaped exactly as RFC 5545 3.3.11 says.

    icalendar's own escaper turns a literal backslash-N into a line break; one_line() has already
    removed every real line break, so backslash, semicolon and comma are all that need escaping.
    """

    def to_ical(self) -> bytes:
        return self.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").encode(self.encoding)


def _text(value: str) -> _Text:
    return _Text(one_line(value))


def event_uid(assignment_id: int, user_id: int) -> str:
    """Stable per assignment and trainee, so re-importing the file updates events instead of adding copies."""
    return f"assignment-{assignment_id}-user-{user_id}@{UID_DOMAIN}"


def assignments_calendar(progress: Iterable[Progress], url: str, now: datetime) -> bytes:
    """Return one all-day VEVENT per assignment on its (possibly extended) due date, serialised with CRLFs."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for p in progress:
        event = Event()
        event.add("uid", event_uid(p.assignment.id, p.user_id))
        event.add("dtstamp", now)
        event.add("dtstart", p.due_on)
        event.add("dtend", p.due_on + timedelta(days=1))
        event.add("summary", _text(f"Due: {p.assignment.curriculum.name}"))
        event.add("description", _text(f"{p.done} of {len(p.required)} required items done"))
        event.add("url", url)
        calendar.add_component(event)
    return calendar.to_ical()
