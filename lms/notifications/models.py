"""In-app notifications and the email outbox that mirrors them when SMTP is configured."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import utcnow
from lms.extensions import db

# "assigned" also comes from `lms notify run` (for cohort members who join later); the reminders and
# "overdue" only from there. The others are written in the same transaction as the change they report.
KINDS = ("assigned", "due_7", "due_1", "overdue", "extended", "unassigned", "credit_revoked", "credit_reinstated")
EMAIL_STATUSES = ("pending", "sending", "sent", "failed")


class Notification(db.Model):
    """One message in a user's inbox. ``dedupe_key`` makes producing it twice impossible, whoever races."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of KINDS
    # What the notification is about: an assignment, or (revoked / reinstated) a credit.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"), index=True)
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("credit.id"), index=True)
    # e.g. "due_7:12:34:2026-03-01": the due date is part of the key, so an extension earns new reminders.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000), default="")
    link: Mapped[str] = mapped_column(String(300), default="")  # a site-relative path
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]

    @property
    def unread(self) -> bool:
        return self.read_at is None


class OutboxEmail(db.Model):
    """A notification waiting to be (or already) emailed: at most one per notification.

    ``status`` moves pending -> sending -> sent, or back to pending with a later ``next_attempt_at``
    after a failure, and to failed after the last attempt. While ``sending``, ``next_attempt_at`` is
    the end of the sender's lease on the row.
    """

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # one of EMAIL_STATUSES
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    notification: Mapped[Notification] = relationship()
