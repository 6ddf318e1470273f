"""Attempts: start (stratified draw), save answers as the trainee goes, submit once, score reports,
and the Leitner review queue. Functions take a session and explicit arguments; routes commit."""

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.content.services import get_catalog
from lms.datafiles import FolderCache
from lms.quizzes.bank import Item, Library, domain_quotas, load_library
from lms.quizzes.grading import Grade, ResponseError, grade
from lms.quizzes.models import AttemptAnswer, QuizAttempt, ReviewCard

# Answers arriving this long after the deadline still count: the request was in flight.
DEADLINE_GRACE = timedelta(seconds=15)
# Leitner boxes: days until an item in box N is due again; past the last box it is mastered.
LEITNER_DAYS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
REVIEW_SESSION_ITEMS = 10


ALREADY_SUBMITTED = "This attempt was already submitted; your answer was not saved."


class QuizError(ValueError):
    """A quiz action that cannot be done (limit reached, attempt closed, item not served...)."""


def init_quizzes(app: Flask) -> None:
    quizzes_dir = Path(app.config["QUIZZES_DIR"])
    app.extensions["lms_quizzes"] = FolderCache(
        [quizzes_dir, Path(app.config["CONTENT_DIR"])], lambda: load_library(quizzes_dir, get_catalog()),
        watch=app.debug)


def get_library() -> Library:
    return current_app.extensions["lms_quizzes"].get()


# --- starting attempts -------------------------------------------------------------------

def _layout(item: Item, rng: random.Random) -> dict:
    """The shuffled presentation of one item, stored with the attempt."""
    if item.type in ("single", "multiple"):
        order = [o.id for o in item.options]
        rng.shuffle(order)
        return {"options": order}
    if item.type == "matching":
        rights = [right for _left, right in item.pairs] + list(item.distractors)
        rng.shuffle(rights)
        return {"rights": rights}
    if item.type == "ordering":
        steps = list(item.sequence)
        while len(steps) > 1 and tuple(steps) == item.sequence:
            rng.shuffle(steps)
        return {"steps": steps}
    return {}


def stratified_draw(items: list[Item], count: int, objectives: list[str], rng: random.Random) -> list[Item]:
    """Draw ``count`` items so every objective is assessed at least once, then fill at random."""
    pool = [i for i in items if i.graded]
    chosen: list[Item] = []
    for objective in objectives:
        if len(chosen) >= count or any(objective in i.objectives for i in chosen):
            continue
        candidates = [i for i in pool if objective in i.objectives and i not in chosen]
        if candidates:
            chosen.append(rng.choice(candidates))
    rest = [i for i in pool if i not in chosen]
    rng.shuffle(rest)
    chosen.extend(rest[:max(0, count - len(chosen))])
    rng.shuffle(chosen)
    return chosen


def open_attempt(session: Session, user_id: int, kind: str, source_id: str) -> QuizAttempt | None:
    return session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.kind == kind,
                                                    QuizAttempt.source_id == source_id,
                                                    QuizAttempt.status == "in_progress"))


def start_or_resume(session: Session, library: Library, user_id: int, kind: str, source_id: str, now: datetime,
                    draw: Callable[[], QuizAttempt]) -> QuizAttempt:
    """Return the trainee's open attempt at this quiz, or the new one ``draw()`` builds.

    An open attempt whose time ran out is submitted first (timed out, with the answers saved before
    the deadline), so an expired exam never blocks the next one. The partial unique index allows
    one open attempt per trainee and quiz: when parallel starts race, one insert wins and the others
    fail inside their savepoint and resume the winner's attempt.
    """
    current = open_attempt(session, user_id, kind, source_id)
    if current is not None and past_deadline(current, now):
        submit_attempt(session, library, current, now, timed_out=True)
        current = open_attempt(session, user_id, kind, source_id)  # a parallel start may have made one since
    if current is not None:
        return current
    attempt = draw()
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        current = open_attempt(session, user_id, kind, source_id)
        if current is None:
            raise
        return current
    return attempt


def _new_attempt(user_id: int, kind: str, source_id: str, mode: str, version: str, items: list[Item],
                 pass_mark: int, minutes: int | None, now: datetime, rng: random.Random) -> QuizAttempt:
    return QuizAttempt(
        user_id=user_id, kind=kind, source_id=source_id, mode=mode, content_version=version,
        item_ids=[i.id for i in items], layout={i.id: _layout(i, rng) for i in items}, pass_mark=pass_mark,
        started_at=now, deadline_at=now + timedelta(minutes=minutes) if minutes else None, status="in_progress")


def attempts_used(session: Session, user_id: int, kind: str, source_id: str) -> int:
    return session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.kind == kind, QuizAttempt.source_id == source_id)) or 0


def start_post_test(session: Session, library: Library, user_id: int, module_id: str, objectives: list[str],
                    mode: str, now: datetime, rng: random.Random) -> QuizAttempt:
    """Resume the open post-test for a module, or start one if the attempt limit allows."""
    bank = library.bank_for_module(module_id)
    if bank is None or not any(i.graded for i in bank.items):
        raise QuizError("This module has no post-test yet.")

    def draw() -> QuizAttempt:
        if bank.attempt_limit and attempts_used(session, user_id, "post_test", module_id) >= bank.attempt_limit:
            raise QuizError(f"You have used all {bank.attempt_limit} attempts at this post-test.")
        if mode not in ("exam", "practice"):
            raise QuizError("Choose exam or practice mode.")
        items = stratified_draw(list(bank.items), bank.post_test_items, objectives, rng)
        return _new_attempt(user_id, "post_test", module_id, mode, bank.version, items, bank.pass_mark,
                            bank.time_limit_minutes, now, rng)

    return start_or_resume(session, library, user_id, "post_test", module_id, now, draw)


def start_practice_exam(session: Session, library: Library, user_id: int, blueprint_id: str, now: datetime,
                        rng: random.Random) -> QuizAttempt:
    """Resume or assemble a timed practice exam from every bank, by the blueprint's domain weights."""
    blueprint = library.blueprint(blueprint_id)
    if blueprint is None:
        raise QuizError("No such practice exam.")

    def draw() -> QuizAttempt:
        chosen: list[Item] = []
        for domain, quota in domain_quotas(blueprint).items():
            pool = [i for i in library.items.values() if i.graded and i.domain == domain]
            chosen.extend(rng.sample(pool, min(quota, len(pool))))
        if not chosen:
            raise QuizError("The question banks have no items for this practice exam yet.")
        rng.shuffle(chosen)
        version = "".join(sorted(b.version for b in library.banks))[:16]
        return _new_attempt(user_id, "practice_exam", blueprint_id, "exam", version, chosen, blueprint.pass_mark,
                            blueprint.time_limit_minutes, now, rng)

    return start_or_resume(session, library, user_id, "practice_exam", blueprint_id, now, draw)


def due_review_items(session: Session, library: Library, user_id: int, now: datetime) -> list[str]:
    ids = session.scalars(select(ReviewCard.item_id).where(ReviewCard.user_id == user_id, ReviewCard.due_at <= now)
                          .order_by(ReviewCard.box, ReviewCard.due_at)).all()
    return [i for i in ids if i in library.items]


def start_review(session: Session, library: Library, user_id: int, now: datetime, rng: random.Random) -> QuizAttempt:
    def draw() -> QuizAttempt:
        due = due_review_items(session, library, user_id, now)[:REVIEW_SESSION_ITEMS]
        if not due:
            raise QuizError("Nothing is due for review. Missed items come back here on a schedule.")
        items = [library.items[i] for i in due]
        return _new_attempt(user_id, "review", "review", "practice", "review", items, 0, None, now, rng)

    return start_or_resume(session, library, user_id, "review", "review", now, draw)


# --- answering -----------------------------------------------------------------------------

def past_deadline(attempt: QuizAttempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + DEADLINE_GRACE


def served_item(attempt: QuizAttempt, library: Library, position: int, item_id: str) -> Item:
    """The item at ``position`` (1-based) if the client names the same item; otherwise refuse."""
    if not 1 <= position <= len(attempt.item_ids) or attempt.item_ids[position - 1] != item_id:
        raise QuizError("That question is not part of this attempt. Nothing was saved.")
    item = library.items.get(item_id)
    if item is None:
        raise QuizError("That question has been retired from the bank. Skip it: it will not count against you.")
    return item


def save_answer(session: Session, attempt: QuizAttempt, item: Item, response,
                now: datetime) -> tuple[AttemptAnswer, Grade]:
    """Grade and save (or, in exam mode, replace) the answer to one served item, only while the attempt is open."""
    if attempt.status != "in_progress":
        raise QuizError(ALREADY_SUBMITTED)
    if past_deadline(attempt, now):
        raise QuizError("Time is up for this attempt; answers after the deadline are not saved.")
    result = grade(item, response)  # raises ResponseError for a malformed answer: nothing saved
    # The attempt may have been submitted since it was read. Writing to its row first, on the condition
    # that it is still open, settles that in the database: this UPDATE takes the row lock (PostgreSQL) or
    # the write lock (SQLite) that submit_attempt's closing UPDATE takes too, so the two run one after
    # the other and no answer is written once the attempt is closed and scored.
    still_open = session.execute(
        update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.status == "in_progress")
        .values(last_saved_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not still_open:
        session.refresh(attempt)
        raise QuizError(ALREADY_SUBMITTED)
    existing = session.scalar(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id,
                                                          AttemptAnswer.item_id == item.id)
                              .execution_options(populate_existing=True))
    if existing is not None:
        if attempt.mode == "practice":
            raise QuizError("You already answered this question in practice mode; the rationale is shown below.")
        existing.response, existing.score, existing.correct, existing.answered_at = \
            {"value": response}, result.score, result.correct, now
        return existing, result
    answer = AttemptAnswer(attempt_id=attempt.id, item_id=item.id, response={"value": response},
                           score=result.score, correct=result.correct, answered_at=now)
    try:
        with session.begin_nested():  # two tabs saving the same item race to the unique constraint
            session.add(answer)
    except IntegrityError as error:
        raise QuizError("That answer was already saved from another window. Reload the page.") from error
    return answer, result


# --- submitting ------------------------------------------------------------------------------

def score_attempt(attempt: QuizAttempt, library: Library, answers: dict[str, AttemptAnswer]) -> float:
    graded = [i for i in attempt.item_ids if i in library.items and library.items[i].graded]
    if not graded:
        return 0.0
    return round(100 * sum(answers[i].score for i in graded if i in answers) / len(graded), 1)


def submit_attempt(session: Session, library: Library, attempt: QuizAttempt, now: datetime,
                   timed_out: bool = False) -> bool:
    """Finalise an attempt once. Returns False (and changes nothing) if it was already submitted.

    Close first, then score: the conditional UPDATE makes a double submission (two clicks, two tabs)
    a no-op, and it waits for any save holding the attempt's row (see save_answer). The answers
    are read after it, so the score is computed from exactly the answers that can ever be stored.
    """
    closed = session.execute(
        update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.status == "in_progress")
        .values(status="submitted", submitted_at=now, timed_out=timed_out)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(attempt)
    if closed != 1:
        return False
    answers = {a.item_id: a for a in session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
        .execution_options(populate_existing=True))}
    session.expire(attempt, ["answers"])
    attempt.score_percent = score_attempt(attempt, library, answers)
    attempt.passed = attempt.score_percent >= attempt.pass_mark if attempt.kind != "review" else None
    session.flush()
    _update_review_cards(session, attempt, library, answers, now)
    return True


def close_if_expired(session: Session, library: Library, attempt: QuizAttempt, now: datetime) -> bool:
    """Submit an attempt whose time ran out, with the answers saved before the deadline."""
    if attempt.status == "in_progress" and past_deadline(attempt, now):
        return submit_attempt(session, library, attempt, now, timed_out=True)
    return False


def _update_review_cards(session: Session, attempt: QuizAttempt, library: Library,
                         answers: dict[str, AttemptAnswer], now: datetime) -> None:
    cards = {c.item_id: c for c in session.scalars(select(ReviewCard).where(
        ReviewCard.user_id == attempt.user_id, ReviewCard.item_id.in_(attempt.item_ids)))}
    for item_id in attempt.item_ids:
        item = library.items.get(item_id)
        if item is None or not item.graded:
            continue
        answer = answers.get(item_id)
        card = cards.get(item_id)
        if answer is None or not answer.correct:
            if card is None:
                session.add(ReviewCard(user_id=attempt.user_id, item_id=item_id, box=1, due_at=now, updated_at=now))
            else:
                card.box, card.due_at, card.updated_at = 1, now + timedelta(days=LEITNER_DAYS[1]), now
        elif card is not None:
            if card.box >= max(LEITNER_DAYS):
                session.delete(card)  # mastered
            else:
                card.box += 1
                card.due_at, card.updated_at = now + timedelta(days=LEITNER_DAYS[card.box]), now


# --- reports -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Breakdown:
    label: str
    items: int
    score: float  # percent

    @property
    def percent(self) -> int:
        return round(self.score)


def breakdown(attempt: QuizAttempt, library: Library, key) -> list[Breakdown]:
    """Score by domain or objective: ``key(item)`` returns the labels an item counts towards."""
    answers = {a.item_id: a for a in attempt.answers}
    totals: dict[str, list[float]] = defaultdict(list)
    for item_id in attempt.item_ids:
        item = library.items.get(item_id)
        if item is None or not item.graded:
            continue
        for label in key(item):
            totals[label].append(answers[item_id].score if item_id in answers else 0.0)
    return sorted((Breakdown(label, len(scores), 100 * sum(scores) / len(scores)) for label, scores in totals.items()),
                  key=lambda b: b.label)


def history(session: Session, user_id: int, kind: str | None = None) -> list[QuizAttempt]:
    query = select(QuizAttempt).where(QuizAttempt.user_id == user_id).order_by(QuizAttempt.started_at)
    if kind:
        query = query.where(QuizAttempt.kind == kind)
    return list(session.scalars(query))


def remaining(attempt: QuizAttempt, now: datetime) -> timedelta | None:
    if attempt.deadline_at is None:
        return None
    return max(attempt.deadline_at - now, timedelta(0))


__all__ = ["QuizError", "ResponseError"]
