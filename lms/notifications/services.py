"""Producing notifications from assignment progress, queueing them as email, and delivering the outbox.

`lms notify run` (``generate``) produces what depends on the calendar: due-date reminders, overdue
notices, and new-assignment notices for cohort members who joined after the assignment was made. Notices
about a change (assigned, extended, unassigned, credit revoked or reinstated) are written by the service
making the change, in its transaction (lms.notifications.notices), under the same keys.

Services flush and the caller commits, except ``deliver``: an email leaves the building the moment it is
sent, so each claim and each outcome is committed on its own (see there).
"""

import smtplib
import ssl
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from lms.accounts.models import CohortMember, User
from lms.content.loader import Catalog
from lms.curricula.models import Assignment, Curriculum
from lms.curricula.services import Progress, build_progress, item_statuses
from lms.notifications.models import Notification, OutboxEmail
from lms.notifications.notices import DEFAULT_LINK, assigned_message, dedupe_key, insert_absent, long_date
from lms.quizzes.bank import Library

# Outbox timing. A failed send waits 5, 10, 20, 40 ... minutes (capped); a claim not settled within
# the lease means the sending process died mid-send.
RETRY_BASE = timedelta(minutes=5)
RETRY_CAP = timedelta(hours=6)
LEASE = timedelta(hours=1)
BATCH = 200
# Email only what is still news: switching SMTP on must not mail out a year of old reminders.
EMAIL_MAX_AGE = timedelta(days=1)

Sender = Callable[[str, str, str], None]  # (to_address, subject, body); raises on failure


# --- producing notifications ---------------------------------------------------------------------

def due_kind(days_left: int) -> str | None:
    """Return the reminder due ``days_left`` days before the due date (negative: after), or None.

    Windows rather than exact days, so a run that was skipped for a day still reminds; only the most
    urgent window applies, so a late run never sends a stale "due in 7 days".
    """
    if days_left < 0:
        return "overdue"
    if days_left <= 1:
        return "due_1"
    if days_left <= 7:
        return "due_7"
    return None


def message(kind: str, progress: Progress, today: date) -> tuple[str, str]:
    """Return the (title, body) of a notification of ``kind`` about ``progress``."""
    name = progress.assignment.curriculum.name
    due = long_date(progress.due_on)
    done = f"{progress.done} of {len(progress.required)} required items are done"
    days_left = (progress.due_on - today).days
    if kind == "assigned":
        return assigned_message(name, progress.assignment.start_on, progress.due_on, today)
    if kind == "due_7":
        return f"Due in {days_left} days: {name}", f"{name} is due {due}. {done}."
    if kind == "due_1":
        when = "today" if days_left == 0 else "tomorrow"
        return f"Due {when}: {name}", f"{name} is due {when}, {due}. {done}."
    return (f"Overdue: {name}",
            f"{name} was due {due}. {done}. Finish it as soon as you can, or ask your supervisor for an extension.")


def generate(session: Session, today: date, now: datetime, catalog: Catalog, library: Library,
             link: str = DEFAULT_LINK) -> int:
    """Add every notification that is due and not yet produced; return how many were added.

    Idempotent: each notification has a unique ``dedupe_key``, so running again (or two runs at once)
    adds nothing twice. Trainees who completed an assignment, and deactivated accounts, get nothing.
    Uses a fixed number of queries however many assignments and trainees there are.
    """
    assignments = list(session.scalars(
        select(Assignment).options(selectinload(Assignment.curriculum).selectinload(Curriculum.items),
                                   selectinload(Assignment.extensions))
        .where(Assignment.ended_at.is_(None)).order_by(Assignment.id)))
    if not assignments:
        return 0
    members: dict[int, list[int]] = defaultdict(list)
    cohort_ids = {a.cohort_id for a in assignments if a.cohort_id}
    if cohort_ids:
        for cohort_id, user_id in session.execute(select(CohortMember.cohort_id, CohortMember.user_id)
                                                  .where(CohortMember.cohort_id.in_(cohort_ids))
                                                  .order_by(CohortMember.user_id)):
            members[cohort_id].append(user_id)
    user_ids = sorted({u for ids in members.values() for u in ids} | {a.user_id for a in assignments if a.user_id})
    if not user_ids:
        return 0
    active = set(session.scalars(select(User.id).where(User.id.in_(user_ids), User.active)))
    items = [item for a in assignments for item in a.curriculum.items]
    statuses = item_statuses(session, user_ids, items)
    existing = set(session.scalars(select(Notification.dedupe_key)
                                   .where(Notification.assignment_id.in_([a.id for a in assignments]))))
    rows = []
    for progress in build_progress(assignments, members, statuses, catalog, library, today):
        if progress.user_id not in active or progress.completed:
            continue
        kinds = ["assigned", due_kind((progress.due_on - today).days)]
        for kind in filter(None, kinds):
            key = dedupe_key(kind, progress.assignment.id, progress.user_id, progress.due_on)
            if key in existing:
                continue
            existing.add(key)
            title, body = message(kind, progress, today)
            rows.append({"user_id": progress.user_id, "kind": kind, "assignment_id": progress.assignment.id,
                         "dedupe_key": key, "title": title[:200], "body": body[:1000], "link": link,
                         "created_at": now})
    return insert_absent(session, Notification, "dedupe_key", rows)


# --- the inbox -------------------------------------------------------------------------------------

def inbox_query(user_id: int) -> Select:
    return select(Notification).where(Notification.user_id == user_id) \
        .order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None)))


def mark_read(session: Session, user_id: int, notification_id: int, now: datetime) -> Notification | None:
    """Mark one of ``user_id``'s notifications read; None if it is not theirs (or does not exist)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return None
    if notification.read_at is None:
        notification.read_at = now
    session.flush()
    return notification


def mark_all_read(session: Session, user_id: int, now: datetime) -> int:
    return session.execute(update(Notification)
                           .where(Notification.user_id == user_id, Notification.read_at.is_(None))
                           .values(read_at=now).execution_options(synchronize_session=False)).rowcount


# --- email -------------------------------------------------------------------------------------------

def smtp_configured(config: Mapping) -> bool:
    """Email is on only when an SMTP host is set."""
    return bool(config.get("SMTP_HOST"))


def queue_emails(session: Session, smtp_configured: bool, now: datetime, base_url: str = "",
                 max_age: timedelta = EMAIL_MAX_AGE) -> int:
    """Put one email in the outbox for each recent, unread notification that has none; return how many.

    Does nothing unless SMTP is configured. ``base_url`` (the site's public address) turns the
    notification's link into one the email can carry.
    """
    if not smtp_configured:
        return 0
    found = session.execute(
        select(Notification.id, Notification.title, Notification.body, Notification.link, User.email)
        .join(User, User.id == Notification.user_id)
        .outerjoin(OutboxEmail, OutboxEmail.notification_id == Notification.id)
        .where(OutboxEmail.id.is_(None), Notification.read_at.is_(None), Notification.created_at >= now - max_age,
               User.active)
        .order_by(Notification.id)).all()
    rows = [{"notification_id": notification_id, "to_address": email, "subject": title,
             "body": email_body(body, link, base_url)[:2000], "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for notification_id, title, body, link, email in found]
    return insert_absent(session, OutboxEmail, "notification_id", rows)


def email_body(body: str, link: str, base_url: str) -> str:
    where = f"{base_url.rstrip('/')}{link}" if base_url and link else "your inbox on the site"
    return f"{body}\n\nSee {where}.\n\nThis message repeats a notification in your inbox; there is no need to reply.\n"


@dataclass(frozen=True)
class Delivery:
    """What one ``deliver`` run did."""

    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    failed: int = 0  # failed for the last time (or abandoned mid-send by a run that died)
    skipped: int = 0  # claimed by another run first


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the ``attempts``-th failed attempt: doubling, capped."""
    return min(RETRY_BASE * 2 ** (attempts - 1), RETRY_CAP)


def deliver(session: Session, sender: Sender, now: datetime, max_attempts: int = 5, batch: int = BATCH) -> Delivery:
    """Send the outbox's due emails through ``sender``; commits as it goes.

    Each email is claimed with a conditional UPDATE (pending -> sending) and the claim is committed
    before sending: of two concurrent runs only one claims a row, so nothing is sent twice. The outcome
    is committed straight after the send, so a later crash cannot forget that a message went out. A
    failure goes back to pending after ``backoff``; the ``max_attempts``-th failure is final. A claim
    older than its lease belongs to a run that died mid-send: it is marked failed, not retried, because
    the message may already have gone.
    """
    abandoned = session.execute(
        update(OutboxEmail).where(OutboxEmail.status == "sending", OutboxEmail.next_attempt_at <= now)
        .values(status="failed", last_error="Interrupted while sending; not retried, as it may have been sent.")
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    due = session.execute(
        select(OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body, OutboxEmail.attempts)
        .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(batch)).all()
    counts = {"sent": 0, "retrying": 0, "failed": abandoned, "skipped": 0}
    for email_id, to_address, subject, body, attempts in due:
        claimed = session.execute(
            update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.status == "pending",
                                      OutboxEmail.attempts == attempts, OutboxEmail.next_attempt_at <= now)
            .values(status="sending", attempts=attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if claimed != 1:
            counts["skipped"] += 1
            continue
        attempt = attempts + 1
        try:
            sender(to_address, subject, body)
        except Exception as error:  # noqa: BLE001 - any failure of the sender is retried
            final = attempt >= max_attempts
            values = {"status": "failed" if final else "pending", "next_attempt_at": now + backoff(attempt),
                      "last_error": f"{type(error).__name__}: {error}"[:500]}
            counts["failed" if final else "retrying"] += 1
        else:
            values = {"status": "sent", "sent_at": now, "last_error": None}
            counts["sent"] += 1
        session.execute(update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.status == "sending")
                        .values(**values).execution_options(synchronize_session=False))
        session.commit()
    return Delivery(**counts)


def _flag(value) -> bool:
    """Read a yes/no setting that may arrive from the environment as a string."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


@dataclass(frozen=True)
class SmtpSender:
    """Send plain-text email through an SMTP server, one connection per message (a run sends few)."""

    host: str
    port: int
    from_address: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping) -> "SmtpSender":
        """Build a sender from LMS_SMTP_* settings; ValueError if the sender address is missing."""
        from_address = config.get("SMTP_FROM") or config.get("SMTP_USERNAME") or ""
        if "@" not in str(from_address):
            raise ValueError("Set LMS_SMTP_FROM to the address emails come from.")
        return cls(host=str(config["SMTP_HOST"]), port=int(config.get("SMTP_PORT") or 587),
                   from_address=str(from_address), username=str(config.get("SMTP_USERNAME") or ""),
                   password=str(config.get("SMTP_PASSWORD") or ""), starttls=_flag(config.get("SMTP_STARTTLS", True)))

    def __call__(self, to_address: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = to_address
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders should not answer
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
