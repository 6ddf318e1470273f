"""Progress records. Keyed by stable module/lesson ids plus the content version read."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import utcnow
from lms.extensions import db


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
