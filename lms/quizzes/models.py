"""Quiz attempts, their answers, and the Leitner review queue."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import utcnow
from lms.extensions import db

# An attempt is open until it is submitted; open_attempt() and the conditional updates use the same test.
OPEN_ATTEMPT = text("status = 'in_progress'")


class QuizAttempt(db.Model):
    """One sitting of a post-test, practice exam or review session. Never deleted."""

    __tablename__ = "quiz_attempt"
    # At most one open attempt per trainee and quiz, whatever races to start one: parallel starts all
    # land on the same attempt (see services.start_or_resume).
    __table_args__ = (Index("uq_quiz_attempt_one_open", "user_id", "kind", "source_id", unique=True,
                            sqlite_where=OPEN_ATTEMPT, postgresql_where=OPEN_ATTEMPT),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # post_test | practice_exam | review
    source_id: Mapped[str] = mapped_column(String(80), index=True)  # module id, blueprint id or "review"
    mode: Mapped[str] = mapped_column(String(10))  # exam: feedback after submitting; practice: after each answer
    content_version: Mapped[str] = mapped_column(String(16))
    # The items served, in order, and each item's shuffled option/step order: the key never leaves the server.
    item_ids: Mapped[list] = mapped_column(JSON)
    layout: Mapped[dict] = mapped_column(JSON)
    pass_mark: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="in_progress", index=True)  # in_progress | submitted
    timed_out: Mapped[bool] = mapped_column(default=False)
    # Every save touches this first, only while the attempt is open: the write that serializes it with a submit.
    last_saved_at: Mapped[datetime | None]
    score_percent: Mapped[float | None]
    passed: Mapped[bool | None]

    answers: Mapped[list["AttemptAnswer"]] = relationship(back_populates="attempt", order_by="AttemptAnswer.id")


class AttemptAnswer(db.Model):
    """The trainee's latest answer to one served item. Saved as they go; final once the attempt is submitted."""

    __tablename__ = "attempt_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(80), index=True)
    response: Mapped[dict] = mapped_column(JSON)  # {"value": ...}
    score: Mapped[float]
    correct: Mapped[bool]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers")


class ReviewCard(db.Model):
    """A missed item in the trainee's Leitner queue: box 1 is due daily, higher boxes less often."""

    __tablename__ = "review_card"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(80))
    box: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
