"""Recording and reading lesson progress."""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.content.loader import Module
from lms.progress.models import LessonRead

MAX_SECONDS_ON_PAGE = 4 * 3600  # a tab left open overnight is not four hundred minutes of study


def mark_lesson_read(session: Session, user_id: int, module: Module, lesson_id: str, seconds: int | None,
                     now: datetime) -> tuple[LessonRead, bool]:
    """Record that ``user_id`` read a lesson; return (record, created). Safe to call twice."""
    existing = session.scalar(select(LessonRead).where(LessonRead.user_id == user_id,
                                                       LessonRead.module_id == module.id,
                                                       LessonRead.lesson_id == lesson_id))
    if existing is not None:
        return existing, False
    if seconds is not None:
        seconds = max(0, min(int(seconds), MAX_SECONDS_ON_PAGE))
    record = LessonRead(user_id=user_id, module_id=module.id, lesson_id=lesson_id,
                        content_version=module.content_hash, read_at=now, seconds_on_page=seconds)
    try:
        with session.begin_nested():  # a double click races to the unique constraint; the loser reads the winner
            session.add(record)
    except IntegrityError:
        existing = session.scalar(select(LessonRead).where(LessonRead.user_id == user_id,
                                                           LessonRead.module_id == module.id,
                                                           LessonRead.lesson_id == lesson_id))
        return existing, False
    return record, True


# Built once: the lesson page asks this on every view, and statement construction is not free.
_HAS_READ = select(LessonRead.id).where(LessonRead.user_id == bindparam("user_id"),
                                        LessonRead.module_id == bindparam("module_id"),
                                        LessonRead.lesson_id == bindparam("lesson_id")).limit(1)


def has_read(session: Session, user_id: int, module_id: str, lesson_id: str) -> bool:
    return session.execute(_HAS_READ, {"user_id": user_id, "module_id": module_id,
                                       "lesson_id": lesson_id}).first() is not None


def lessons_read(session: Session, user_id: int, module_id: str | None = None) -> dict[str, set[str]]:
    """Map module id -> ids of the lessons ``user_id`` has marked as read."""
    query = select(LessonRead.module_id, LessonRead.lesson_id).where(LessonRead.user_id == user_id)
    if module_id is not None:
        query = query.where(LessonRead.module_id == module_id)
    read: dict[str, set[str]] = defaultdict(set)
    for mod, lesson in session.execute(query):
        read[mod].add(lesson)
    return read


def last_read_module(session: Session, user_id: int) -> str | None:
    return session.scalar(select(LessonRead.module_id).where(LessonRead.user_id == user_id)
                          .order_by(LessonRead.read_at.desc(), LessonRead.id.desc()).limit(1))
