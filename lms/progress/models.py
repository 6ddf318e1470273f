"""Progress records. Keyed by stable module/lesson ids plus the content version read."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, column, select, table, text
from sqlalchemy.ext.hybrid import hybrid_property
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
    """The trainee's evaluation of a module, required before credit (as accredited CE requires).

    ``cycle`` counts the credits already on record for this module version when the evaluation was
    given: 0 the first time; after a revocation the trainee evaluates again, as cycle 1, and so on. One
    evaluation per cycle, so a double submit still stores one.
    """

    __tablename__ = "activity_evaluation"
    __table_args__ = (UniqueConstraint("user_id", "module_id", "content_version", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    module_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[int] = mapped_column(default=0)
    objectives_met: Mapped[dict] = mapped_column(JSON)  # {"o1": true, "o2": false, ...}
    relevance: Mapped[int]  # 1 (not relevant) .. 5 (highly relevant) to the trainee's practice
    free_of_bias: Mapped[bool]  # free of commercial bias
    minutes_spent: Mapped[int]
    comments: Mapped[str] = mapped_column(String(2000), default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


_USERS = table("user_account", column("id"), column("name"), column("email"), column("nabp_eprofile_id"))


def _holder_default(field: str):
    """Default a credit's holder name or NABP ID to the trainee's profile at the moment the row is inserted.

    The completion rule sets both explicitly; this only makes any other insert (a seed, a test, a
    bulk load) copy the values as issued instead of failing or leaving them blank.
    """
    def default(context):
        user_id = context.get_current_parameters().get("user_id")
        row = context.connection.execute(select(_USERS.c.name, _USERS.c.email, _USERS.c.nabp_eprofile_id)
                                         .where(_USERS.c.id == user_id)).first()
        if row is None:
            return "" if field == "name" else None
        return (row.name or row.email) if field == "name" else row.nabp_eprofile_id

    return default


# One definition of "earned": a credit whose revoked_at is NULL. The database allows at most one earned
# credit per trainee, module and content version; revoked ones stay on record beside a re-earned one.
EARNED = "revoked_at IS NULL"


class Credit(db.Model):
    """CE-style credit for one module: at most one earned per trainee, module and content version; never deleted.

    Everything a certificate shows is copied here at the moment of completion, so later content
    edits, and later changes to the trainee's profile, cannot change what was earned: the holder's
    name and NABP e-Profile ID are as issued and change only through an admin's name correction
    (``CreditNameCorrection``). ``revoked_at`` is the current state of the append-only status history
    (``CreditStatusEvent``): set by a revocation, cleared by a reinstatement.
    """

    __tablename__ = "credit"
    __table_args__ = (Index("uq_credit_earned", "user_id", "module_id", "content_version", unique=True,
                            sqlite_where=text(EARNED), postgresql_where=text(EARNED)),)

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
    holder_name: Mapped[str] = mapped_column(String(120), default=_holder_default("name"))
    holder_nabp_id: Mapped[str | None] = mapped_column(String(10), default=_holder_default("nabp"))
    revoked_at: Mapped[datetime | None]

    user: Mapped["User"] = relationship()
    events: Mapped[list["CreditStatusEvent"]] = relationship(back_populates="credit",
                                                             order_by="CreditStatusEvent.id")
    corrections: Mapped[list["CreditNameCorrection"]] = relationship(back_populates="credit",
                                                                     order_by="CreditNameCorrection.id")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @hybrid_property
    def earned(self) -> bool:
        """The one definition of "earned": not currently revoked. ``Credit.earned`` is the same test in SQL."""
        return self.revoked_at is None

    @earned.inplace.expression
    @classmethod
    def _earned_expression(cls):
        return cls.revoked_at.is_(None)

    @property
    def revocation(self) -> "CreditStatusEvent | None":
        """The revocation in force, or None while the credit is earned."""
        if self.revoked_at is None:
            return None
        return next((e for e in reversed(self.events) if e.action == "revoked"), None)


STATUS_ACTIONS = ("revoked", "reinstated")


class CreditStatusEvent(db.Model):
    """One revocation or reinstatement of a credit, with who, when and why. Append-only: the history."""

    __tablename__ = "credit_status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("credit.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))  # one of STATUS_ACTIONS
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(500))

    credit: Mapped[Credit] = relationship(back_populates="events")
    actor: Mapped["User"] = relationship()


class CreditNameCorrection(db.Model):
    """An admin's reissue of a credit under a corrected name (and NABP ID). Append-only: the history."""

    __tablename__ = "credit_name_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("credit.id"), index=True)
    old_name: Mapped[str] = mapped_column(String(120))
    new_name: Mapped[str] = mapped_column(String(120))
    old_nabp_id: Mapped[str | None] = mapped_column(String(10))
    new_nabp_id: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500))
    corrected_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    corrected_at: Mapped[datetime] = mapped_column(default=utcnow)

    credit: Mapped[Credit] = relationship(back_populates="corrections")
    corrected_by: Mapped["User"] = relationship()
