"""Notices written in the same transaction as the change they report: a new assignment, a due date
extended, an assignment ended, a credit revoked or reinstated.

The services that make those changes call these functions before they return, so the notice commits (or
rolls back) with the change and no `lms notify run` is needed. Each notice has the same ``dedupe_key``
that `lms notify run` would give it, so a later run adds nothing twice. This module imports only
models, so curricula and certificates services can use it without an import cycle.
"""

from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.accounts.models import CohortMember, User
from lms.curricula.models import Assignment
from lms.notifications.models import Notification

DEFAULT_LINK = "/my/assignments"


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def dedupe_key(kind: str, assignment_id: int, user_id: int, due_on: date) -> str:
    """The identity of an assignment notification. Reminders and extensions include the due date, so an
    extension earns new reminders (and a second extension to another date a second notice)."""
    if kind in ("assigned", "unassigned"):
        return f"{kind}:{assignment_id}:{user_id}"
    return f"{kind}:{assignment_id}:{user_id}:{due_on.isoformat()}"


def assigned_message(name: str, start_on: date, due_on: date, today: date) -> tuple[str, str]:
    starts = f" It starts {long_date(start_on)} and" if start_on > today else " It"
    return f"New assignment: {name}", f"{name} is assigned to you.{starts} is due {long_date(due_on)}."


def insert_absent(session: Session, model, key: str, rows: list[dict]) -> int:
    """Insert ``rows``, skipping any whose unique ``key`` another run inserted since we looked; return the count.

    One bulk insert in the usual case. If it hits the unique constraint (a concurrent run won the race
    for some rows) the savepoint is rolled back and the rows go in one by one, each in its own savepoint.
    """
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.execute(insert(model), rows)
        return len(rows)
    except IntegrityError:
        pass
    added = 0
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(insert(model), [row])
            added += 1
        except IntegrityError:
            # Only a duplicate key is a lost race; any other constraint failure is a real error.
            if session.scalar(select(func.count()).where(getattr(model, key) == row[key])) == 0:
                raise
    return added


def recipients(session: Session, assignment: Assignment) -> list[int]:
    """The active trainees an assignment reaches now: its one trainee, or the cohort's current members."""
    if assignment.user_id is not None:
        query = select(User.id).where(User.id == assignment.user_id)
    else:
        query = (select(User.id).join(CohortMember, CohortMember.user_id == User.id)
                 .where(CohortMember.cohort_id == assignment.cohort_id))
    return list(session.scalars(query.where(User.active).order_by(User.id)))


def _row(user_id: int, kind: str, key: str, title: str, body: str, link: str, now: datetime,
         assignment_id: int | None = None, credit_id: int | None = None) -> dict:
    return {"user_id": user_id, "kind": kind, "assignment_id": assignment_id, "credit_id": credit_id,
            "dedupe_key": key[:120], "title": title[:200], "body": body[:1000], "link": link[:300],
            "created_at": now}


def notify_assigned(session: Session, assignment: Assignment, name: str, now: datetime,
                    link: str = DEFAULT_LINK) -> int:
    """Tell every trainee the new assignment reaches now. Members who join a cohort later are told by
    `lms notify run` (same key, so nobody hears twice)."""
    title, body = assigned_message(name, assignment.start_on, assignment.due_on, now.date())
    rows = [_row(user_id, "assigned", dedupe_key("assigned", assignment.id, user_id, assignment.due_on), title,
                 body, link, now, assignment_id=assignment.id) for user_id in recipients(session, assignment)]
    return insert_absent(session, Notification, "dedupe_key", rows)


def notify_extended(session: Session, assignment: Assignment, name: str, user_id: int, old_due: date,
                    new_due: date, now: datetime, link: str = DEFAULT_LINK) -> int:
    """Tell the trainee their due date moved (one notice per new date; setting the same date again says nothing)."""
    if new_due == old_due:
        return 0
    verb = "extended" if new_due > old_due else "moved earlier"
    title = f"Due date {verb}: {name}"
    body = f"{name} is now due {long_date(new_due)} (it was due {long_date(old_due)})."
    key = dedupe_key("extended", assignment.id, user_id, new_due)
    return insert_absent(session, Notification, "dedupe_key",
                         [_row(user_id, "extended", key, title, body, link, now, assignment_id=assignment.id)])


def notify_unassigned(session: Session, assignment: Assignment, name: str, now: datetime,
                      link: str = DEFAULT_LINK) -> int:
    body = (f"{name} is no longer assigned to you; you need not finish it for this assignment. "
            "What you completed stays on your record.")
    rows = [_row(user_id, "unassigned", dedupe_key("unassigned", assignment.id, user_id, assignment.due_on),
                 f"Assignment ended: {name}", body, link, now, assignment_id=assignment.id)
            for user_id in recipients(session, assignment)]
    return insert_absent(session, Notification, "dedupe_key", rows)


def notify_credit_status(session: Session, credit, event, link: str, now: datetime) -> int:
    """Tell the trainee their credit was revoked (with the reason and how to earn it again) or reinstated."""
    if event.action == "revoked":
        kind, title = "credit_revoked", f"Credit revoked: {credit.activity_title}"
        body = (f"Your credit for {credit.activity_title} ({credit.verification_code}, {credit.contact_hours:g} "
                f"contact hours) was revoked. Reason: {event.reason} It no longer counts and its certificate "
                "is withdrawn. To earn the module again, pass the post-test and evaluate the activity again.")
    else:
        kind, title = "credit_reinstated", f"Credit reinstated: {credit.activity_title}"
        body = (f"Your credit for {credit.activity_title} ({credit.verification_code}) was reinstated and "
                f"counts again. Reason: {event.reason}")
    key = f"{kind}:{credit.id}:{event.id}"
    return insert_absent(session, Notification, "dedupe_key",
                         [_row(credit.user_id, kind, key, title, body, link, now, credit_id=credit.id)])
