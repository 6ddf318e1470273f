"""Curricula, their items, assignments to cohorts or trainees, and per-trainee due-date extensions."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import utcnow
from lms.extensions import db

# The database refuses dates outside the range every form and service accepts (lms.validation): a due date of
# 9999-12-31 once broke the calendar feed, which adds a day to it.
_IN_RANGE = "BETWEEN '1900-01-01' AND '2199-12-31'"


class Curriculum(db.Model):
    __tablename__ = "curriculum"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(1000), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Bumped on every change to the items, so an assignment can show which version it started from.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list["CurriculumItem"]] = relationship(
        back_populates="curriculum", order_by="CurriculumItem.position", cascade="all, delete-orphan")


class CurriculumItem(db.Model):
    """One step of a curriculum: a module, a practice exam (with a minimum score) or a sandbox ticket."""

    __tablename__ = "curriculum_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("curriculum.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # a key of lms.curricula.kinds.ITEM_KINDS
    ref_id: Mapped[str] = mapped_column(String(80))  # module id, blueprint id or ticket id
    required: Mapped[bool] = mapped_column(default=True)
    min_score: Mapped[int | None]  # practice exams: the score that counts as done
    expected_minutes: Mapped[int] = mapped_column(default=60)

    curriculum: Mapped[Curriculum] = relationship(back_populates="items")


class Assignment(db.Model):
    """A curriculum assigned to a whole cohort (members now and later) or to one trainee."""

    __tablename__ = "assignment"
    __table_args__ = (CheckConstraint(f"start_on {_IN_RANGE} AND due_on {_IN_RANGE}", name="dates_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("curriculum.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    start_on: Mapped[date]
    due_on: Mapped[date]
    curriculum_version: Mapped[int]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]  # unassigned: kept for history, no longer active

    curriculum: Mapped[Curriculum] = relationship()
    extensions: Mapped[list["DueDateExtension"]] = relationship(back_populates="assignment")

    @property
    def active(self) -> bool:
        return self.ended_at is None


class DueDateExtension(db.Model):
    __tablename__ = "due_date_extension"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),
                      CheckConstraint(f"due_on {_IN_RANGE}", name="due_on_in_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    due_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="extensions")
