"""Recording and reading lesson progress."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.accounts.models import User
from lms.certificates.codes import new_code
from lms.content.loader import Module
from lms.progress.models import ActivityEvaluation, Credit, LessonRead

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


# --- completion, evaluations and credits -----------------------------------------------------

@dataclass(frozen=True)
class Completion:
    """Where a trainee stands on a module's completion rule.

    ``credit`` is the module's earned credit (None when none is earned, even if a revoked one is on
    record); ``revoked`` is the most recent revoked credit when nothing is earned, so the page can say why.
    After a revocation the rule runs afresh: lessons stay read, but the post-test must be passed again
    and the activity evaluated again (``passed``, ``best_score`` and ``evaluated`` count only what came
    after the revocation).
    """

    module: Module
    lessons_read: int
    best_score: float | None
    passed: bool
    pass_mark: int | None
    evaluated: bool
    credit: Credit | None
    revoked: Credit | None = None

    @property
    def all_read(self) -> bool:
        return self.lessons_read >= len(self.module.lessons)

    @property
    def can_evaluate(self) -> bool:
        return self.all_read and self.passed and not self.evaluated

    @property
    def steps_done(self) -> float:
        """Completion steps done out of 3, counting lessons read as a share of the reading step."""
        lessons = len(self.module.lessons)
        return min(self.lessons_read / lessons, 1.0) + self.passed + self.evaluated if lessons else 0.0

    @property
    def started(self) -> bool:
        return bool(self.lessons_read or self.best_score is not None or self.evaluated or self.revoked)


def post_test_results(session: Session, user_id: int, module_id: str,
                      since: datetime | None = None) -> tuple[float | None, bool]:
    """Best submitted post-test score and whether any attempt passed (only attempts submitted after ``since``)."""
    from lms.quizzes.models import QuizAttempt  # progress reads quiz results; quizzes never import progress

    query = select(QuizAttempt.score_percent, QuizAttempt.passed).where(
        QuizAttempt.user_id == user_id, QuizAttempt.kind == "post_test", QuizAttempt.source_id == module_id,
        QuizAttempt.status == "submitted")
    if since is not None:
        query = query.where(QuizAttempt.submitted_at > since)
    rows = session.execute(query).all()
    if not rows:
        return None, False
    return max(score or 0.0 for score, _p in rows), any(passed for _s, passed in rows)


def evaluation_cycle(session: Session, user_id: int, module: Module) -> int:
    """Which completion cycle an evaluation of this module version belongs to: the credits already on record."""
    return session.scalar(select(func.count()).select_from(Credit).where(
        Credit.user_id == user_id, Credit.module_id == module.id, Credit.content_version == module.content_hash))


def completion(session: Session, user_id: int, module: Module, pass_mark: int | None = None) -> Completion:
    read = lessons_read(session, user_id, module.id).get(module.id, set())
    credits = list(session.scalars(select(Credit).where(Credit.user_id == user_id, Credit.module_id == module.id)
                                   .order_by(Credit.completed_at.desc(), Credit.id.desc())))
    credit = next((c for c in credits if c.earned), None)
    revoked = None if credit is not None else next((c for c in credits if c.revoked), None)
    # A revocation withdraws the assessment behind the credit: only a post-test passed since counts again.
    since = max((c.revoked_at for c in credits if c.revoked), default=None)
    best, passed = post_test_results(session, user_id, module.id, since)
    if credit is not None and credit.content_version == module.content_hash:
        evaluated = True  # the evaluation behind the earned credit
    else:
        cycle = sum(1 for c in credits if c.content_version == module.content_hash)
        evaluated = session.scalar(select(ActivityEvaluation.id).where(
            ActivityEvaluation.user_id == user_id, ActivityEvaluation.module_id == module.id,
            ActivityEvaluation.content_version == module.content_hash,
            ActivityEvaluation.cycle == cycle)) is not None
    return Completion(module, len(read & {lesson.id for lesson in module.lessons}), best, passed, pass_mark,
                      evaluated, credit, revoked)


class EvaluationError(ValueError):
    pass


def submit_evaluation(session: Session, user_id: int, module: Module, objectives_met: dict[str, bool],
                      relevance: int, free_of_bias: bool, minutes_spent: int, comments: str,
                      now: datetime) -> tuple[ActivityEvaluation, bool]:
    """Record the evaluation once (a double click returns the first); returns (evaluation, created)."""
    if set(objectives_met) != {o.id for o in module.objectives}:
        raise EvaluationError("Answer met or not met for every objective.")
    if not 1 <= relevance <= 5:
        raise EvaluationError("Rate the relevance from 1 to 5.")
    if not 1 <= minutes_spent <= 24 * 60:
        raise EvaluationError("Enter the time you actually spent, in minutes (1 to 1440).")
    cycle = evaluation_cycle(session, user_id, module)

    def existing() -> ActivityEvaluation | None:
        return session.scalar(select(ActivityEvaluation).where(
            ActivityEvaluation.user_id == user_id, ActivityEvaluation.module_id == module.id,
            ActivityEvaluation.content_version == module.content_hash, ActivityEvaluation.cycle == cycle))

    found = existing()
    if found is not None:
        return found, False
    evaluation = ActivityEvaluation(user_id=user_id, module_id=module.id, content_version=module.content_hash,
                                    cycle=cycle, objectives_met=objectives_met, relevance=relevance,
                                    free_of_bias=free_of_bias, minutes_spent=minutes_spent,
                                    comments=comments.strip()[:2000], submitted_at=now)
    try:
        with session.begin_nested():
            session.add(evaluation)
    except IntegrityError:
        return existing(), False
    return evaluation, True


def issue_credit_if_complete(session: Session, user_id: int, module: Module,
                             now: datetime) -> tuple[Credit | None, bool]:
    """Issue the module's credit at the moment the completion rule is met; safe to call after any step.

    Called by the action that may complete the module (the last lesson read, the passing
    post-test, the evaluation), inside that action's transaction: no background job, so the
    completion date is the moment of the triggering action. Returns (credit or None, newly issued).
    """
    def existing() -> Credit | None:
        return session.scalar(select(Credit).where(Credit.user_id == user_id, Credit.module_id == module.id,
                                                   Credit.content_version == module.content_hash, Credit.earned))

    credit = existing()
    if credit is not None:
        return credit, False
    state = completion(session, user_id, module)
    if not (state.all_read and state.passed and state.evaluated):
        return None, False
    holder = session.get(User, user_id)
    credit = Credit(user_id=user_id, module_id=module.id, content_version=module.content_hash,
                    holder_name=holder.display_name, holder_nabp_id=holder.nabp_eprofile_id,
                    module_version=module.version, activity_title=module.title,
                    activity_number=module.activity_number, activity_type=module.activity_type,
                    topic_code=module.topic_code, topics=list(module.topics), contact_hours=module.contact_hours,
                    ceus=module.ceus, score_percent=state.best_score or 0.0, completed_at=now,
                    verification_code=new_code())
    try:
        with session.begin_nested():  # two simultaneous triggers race to the partial unique index; one credit wins
            session.add(credit)
    except IntegrityError:
        return existing(), False
    return credit, True


def credits_for(session: Session, user_id: int, start: datetime | None = None,
                end: datetime | None = None) -> list[Credit]:
    """Every credit of ``user_id`` on record, earned and revoked, oldest first (totals count only earned ones)."""
    query = select(Credit).options(selectinload(Credit.events)).where(Credit.user_id == user_id) \
        .order_by(Credit.completed_at, Credit.id)
    if start is not None:
        query = query.where(Credit.completed_at >= start)
    if end is not None:
        query = query.where(Credit.completed_at < end)
    return list(session.scalars(query))


# --- transcripts and the requirement tracker ----------------------------------------------------

@dataclass(frozen=True)
class Total:
    label: str
    hours: float
    credits: int


def totals_by_year(credits: list[Credit]) -> list[Total]:
    years: dict[int, list[Credit]] = defaultdict(list)
    for credit in credits:
        if not credit.revoked:
            years[credit.completed_at.year].append(credit)
    return [Total(str(year), round(sum(c.contact_hours for c in items), 2), len(items))
            for year, items in sorted(years.items())]


def totals_by_cycle(credits: list[Credit], cycle_years: int = 2) -> list[Total]:
    """Hours per recertification cycle: consecutive ``cycle_years`` periods from the first credit's year."""
    valid = [c for c in credits if not c.revoked]
    if not valid:
        return []
    first = min(c.completed_at.year for c in valid)
    cycles: dict[int, list[Credit]] = defaultdict(list)
    for credit in valid:
        cycles[first + (credit.completed_at.year - first) // cycle_years * cycle_years].append(credit)
    return [Total(f"{start}–{start + cycle_years - 1}", round(sum(c.contact_hours for c in items), 2), len(items))
            for start, items in sorted(cycles.items())]


@dataclass(frozen=True)
class RequirementPart:
    label: str
    required: float
    earned: float
    note: str = ""

    @property
    def met(self) -> bool:
        return self.earned >= self.required


def requirement_progress(credits: list[Credit], rule: dict, now: datetime) -> tuple[str, list[RequirementPart]]:
    """Hours toward a recertification rule over the rolling window that ends today.

    ``rule`` comes from configuration (CE_REQUIREMENT): total hours over N years, plus hours
    in categories matched by ACPE topic code or by module topic tags.
    """
    start = now.replace(year=now.year - int(rule["years"]))
    window = [c for c in credits if not c.revoked and c.completed_at >= start]
    parts = [RequirementPart("All topics", float(rule["hours"]), round(sum(c.contact_hours for c in window), 2))]
    for category in rule.get("categories", []):
        codes, tags = set(category.get("topic_codes", [])), set(category.get("topics", []))
        earned = sum(c.contact_hours for c in window if c.topic_code in codes or tags & set(c.topics))
        parts.append(RequirementPart(category["label"], float(category["hours"]), round(earned, 2),
                                     category.get("note", "")))
    label = f"{rule['label']}: {rule['hours']:g} hours in {rule['years']} years (since {start:%B %d, %Y})"
    return label, parts
