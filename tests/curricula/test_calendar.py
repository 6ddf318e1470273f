"""The trainee's .ics calendar: RFC 5545 content lines whatever a curriculum is called, checked with a parser."""

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

import icalendar
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lms.curricula.calendar import assignments_calendar
from lms.curricula.models import Assignment, Curriculum
from lms.curricula.services import Progress
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import create_cohort, create_user, login

HOSTILE = "Safety\rATTACH:http://evil.example/x.exe\rX"
TODAY = utcnow().date()


def assign_directly(name: str, trainee, due: date) -> Assignment:
    """Store a curriculum under ``name`` as it is: old rows and imports never passed today's form checks."""
    supervisor = create_user("supervisor")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    curriculum = Curriculum(name=name, owner_id=supervisor.id)
    db.session.add(curriculum)
    db.session.flush()
    assignment = Assignment(curriculum_id=curriculum.id, cohort_id=cohort.id, start_on=TODAY, due_on=due,
                            curriculum_version=1, created_by_id=supervisor.id)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def assert_rfc5545_lines(body: bytes) -> None:
    """Every content line ends in CRLF, holds no other CR or LF, and is folded at 75 octets."""
    assert body.endswith(b"\r\n")
    lines = body[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line and b"\n" not in line, line
        assert len(line) <= 75, line
    unfolded = [line for line in lines if not line.startswith((b" ", b"\t"))]
    names = [re.match(rb"[A-Za-z-]+", line).group().upper() for line in unfolded]
    assert set(names) <= {b"BEGIN", b"END", b"VERSION", b"PRODID", b"CALSCALE", b"METHOD", b"UID", b"DTSTAMP",
                          b"DTSTART", b"DTEND", b"SUMMARY", b"DESCRIPTION", b"URL"}, names


def test_a_hostile_curriculum_name_stays_inside_its_summary(app, client):
    trainee = create_user("trainee")
    assignment = assign_directly(HOSTILE, trainee, TODAY + timedelta(days=3))
    login(client, trainee)
    response = client.get("/my/assignments.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert_rfc5545_lines(response.data)
    assert b"\nATTACH" not in response.data and b"\rATTACH" not in response.data
    calendar = icalendar.Calendar.from_ical(response.data)
    assert "ATTACH" not in calendar
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert "ATTACH" not in event and not event.walk("VALARM")
    # RFC 5545 TEXT has no way to carry a carriage return: each one is shown as a space.
    assert str(event["SUMMARY"]) == "Due: " + HOSTILE.replace("\r", " ")
    assert event.decoded("DTSTART") == TODAY + timedelta(days=3)
    assert event.decoded("DTEND") == TODAY + timedelta(days=4)
    assert str(event["UID"]) == f"assignment-{assignment.id}-user-{trainee.id}@pharmacy-informatics-academy"
    assert str(event["URL"]).endswith("/my/assignments")
    assert str(event["DESCRIPTION"]) == "0 of 0 required items done"
    assert calendar["VERSION"] == "2.0" and "Pharmacy Informatics Academy" in str(calendar["PRODID"])


def test_an_ordinary_name_round_trips_exactly(app, client):
    trainee = create_user("trainee")
    name = "IV room, part 2; C:\\New\\Nightly - ça va 💊"
    assign_directly(name, trainee, TODAY)
    login(client, trainee)
    body = client.get("/my/assignments.ics").data
    assert_rfc5545_lines(body)
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Due: {name}"


def _progress(names: list[str], user_id: int) -> list[Progress]:
    owner = 1
    result = []
    for number, name in enumerate(names, start=1):
        assignment = Assignment(id=number, curriculum=Curriculum(name=name, owner_id=owner), due_on=TODAY)
        result.append(Progress(user_id, assignment, TODAY + timedelta(days=number)))
    return result


def _shown(name: str) -> str:
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in name)


@settings(max_examples=100, deadline=None)
@example(names=[HOSTILE, "C:\\New\\Nightly, part 2; ok", ""])
@given(names=st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=120), max_size=4))
def test_any_curriculum_name_gives_exactly_the_expected_events(names):
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    body = assignments_calendar(_progress(names, user_id=7), "https://lms.test/my/assignments", now)
    assert_rfc5545_lines(body)
    calendar = icalendar.Calendar.from_ical(body)
    assert [c.name for c in calendar.subcomponents] == ["VEVENT"] * len(names)
    for number, (name, event) in enumerate(zip(names, calendar.subcomponents, strict=True), start=1):
        assert str(event["SUMMARY"]) == f"Due: {_shown(name)}"
        assert event.decoded("DTSTART") == TODAY + timedelta(days=number)
        assert str(event["UID"]) == f"assignment-{number}-user-7@pharmacy-informatics-academy"
        assert set(event) == {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "URL"}
