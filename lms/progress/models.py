"""Progress records. Keyed by stable module/lesson ids plus the content version read."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import utcnow
from lms.extensions import db

if TYPE_CHECKING:
    from lms.accounts.models import User


class LessonRead(db.Model):
    """A trainee marked a lesson as read. One row per trainee and lesson; a second mark is a no-op."""

    __tablename__ = "lesson_read"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    module_id: Mapped[str] = mapped_column(String(80), index=True)
    lesson_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(16))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Seconds between the page being served and "mark as read", capped; None if unknown.
    seconds_on_page: Mapped[int | None]


class ActivityEvaluation(db.Model):
    """The trainee's evaluation of a module, required before credit (as accredited CE requires)."""

    __tablename__ = "activity_evaluation"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "content_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    module_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(16))
    objectives_met: Mapped[dict] = mapped_column(JSON)  # {"o1": true, "o2": false, ...}
    relevance: Mapped[int]  # 1 (not relevant) .. 5 (highly relevant) to the trainee's practice
    free_of_bias: Mapped[bool]  # free of commercial bias
    minutes_spent: Mapped[int]
    comments: Mapped[str] = mapped_column(String(2000), default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Credit(db.Model):
    """CE-style credit for one module: issued once per trainee, module and content version; never deleted.

    Everything a certificate shows is copied here at the moment of completion, so later content
    edits cannot change what was earned.
    """

    __tablename__ = "credit"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "content_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    module_id: Mapped[str] = mapped_column(String(80), index=True)
    content_version: Mapped[str] = mapped_column(String(16))
    module_version: Mapped[str] = mapped_column(String(20))
    activity_title: Mapped[str] = mapped_column(String(200))
    activity_number: Mapped[str] = mapped_column(String(40))
    activity_type: Mapped[str] = mapped_column(String(20))
    topic_code: Mapped[str] = mapped_column(String(2))
    topics: Mapped[list] = mapped_column(JSON)
    contact_hours: Mapped[float]
    ceus: Mapped[float]
    score_percent: Mapped[float]
    completed_at: Mapped[datetime] = mapped_column(index=True)
    verification_code: Mapped[str] = mapped_column(String(14), unique=True)

    user: Mapped["User"] = relationship()
    revocation: Mapped["CreditRevocation | None"] = relationship(back_populates="credit", uselist=False)

    @property
    def revoked(self) -> bool:
        return self.revocation is not None


class CreditRevocation(db.Model):
    """A credit withdrawn by an admin, with the reason. The credit itself stays on record."""

    __tablename__ = "credit_revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("credit.id"), unique=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(500))

    credit: Mapped[Credit] = relationship(back_populates="revocation")
