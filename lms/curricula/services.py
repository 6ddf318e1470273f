"""Curriculum editing, assignments and progress roll-ups. Services flush; routes commit."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from lms.accounts.models import Cohort, CohortMember, User
from lms.accounts.services import Actor, SessionUser, audit, can_manage_cohort, can_manage_trainee
from lms.content.loader import Catalog
from lms.curricula.kinds import ITEM_KINDS, NOT_STARTED, ItemStatus, Ref
from lms.curricula.models import Assignment, Curriculum, CurriculumItem, DueDateExtension
from lms.notifications import notices
from lms.quizzes.bank import Library
from lms.validation import date_problem


class CurriculumError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- editing -------------------------------------------------------------------------------

def can_edit(user: SessionUser | User, curriculum: Curriculum) -> bool:
    return user.role == "admin" or curriculum.owner_id == user.id


def visible_curricula(session: Session, user: SessionUser | User) -> list[Curriculum]:
    query = select(Curriculum).options(selectinload(Curriculum.items)).order_by(Curriculum.name)
    if user.role != "admin":
        query = query.where(Curriculum.owner_id == user.id)
    return list(session.scalars(query))


def create_curriculum(session: Session, actor: Actor, owner_id: int, name: str, description: str,
                      now: datetime) -> Curriculum:
    name = name.strip()
    if not name:
        raise CurriculumError("Give the curriculum a name.", "name")
    curriculum = Curriculum(name=name[:120], description=description.strip()[:1000], owner_id=owner_id,
                            created_at=now, updated_at=now)
    session.add(curriculum)
    session.flush()
    audit(session, actor, "curriculum.created", curriculum, name=curriculum.name)
    return curriculum


def _touch(curriculum: Curriculum, now: datetime) -> None:
    curriculum.version += 1
    curriculum.updated_at = now


def add_item(session: Session, actor: Actor, curriculum: Curriculum, kind: str, ref_id: str, required: bool,
             min_score: int | None, expected_minutes: int, catalog: Catalog, library: Library,
             now: datetime) -> CurriculumItem:
    if kind not in ITEM_KINDS:
        raise CurriculumError("Choose a module, practice exam or sandbox ticket.", "kind")
    if ITEM_KINDS[kind].title(ref_id, catalog, library) is None:
        raise CurriculumError(f"No {ITEM_KINDS[kind].label.lower()} has the id {ref_id!r}.", "ref_id")
    if any(i.kind == kind and i.ref_id == ref_id for i in curriculum.items):
        raise CurriculumError("That item is already in the curriculum.", "ref_id")
    if min_score is not None and not 0 <= min_score <= 100:
        raise CurriculumError("A minimum score is a percent from 0 to 100.", "min_score")
    if not 1 <= expected_minutes <= 100 * 60:
        raise CurriculumError("Expected duration is in minutes, from 1 to 6000.", "expected_minutes")
    item = CurriculumItem(curriculum=curriculum, position=len(curriculum.items) + 1, kind=kind, ref_id=ref_id,
                          required=required, min_score=min_score if kind == "practice_exam" else None,
                          expected_minutes=expected_minutes)
    session.add(item)
    _touch(curriculum, now)
    session.flush()
    audit(session, actor, "curriculum.item_added", curriculum, kind=kind, ref_id=ref_id)
    return item


def move_item(session: Session, actor: Actor, curriculum: Curriculum, item_id: int, offset: int, now: datetime) -> None:
    items = list(curriculum.items)
    index = next((i for i, item in enumerate(items) if item.id == item_id), None)
    if index is None:
        raise CurriculumError("No such item in this curriculum.")
    target = index + offset
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    for position, item in enumerate(items, start=1):
        item.position = position
    _touch(curriculum, now)


def remove_item(session: Session, actor: Actor, curriculum: Curriculum, item_id: int, now: datetime) -> None:
    item = next((i for i in curriculum.items if i.id == item_id), None)
    if item is None:
        raise CurriculumError("No such item in this curriculum.")
    curriculum.items.remove(item)
    for position, remaining in enumerate(curriculum.items, start=1):
        remaining.position = position
    _touch(curriculum, now)
    audit(session, actor, "curriculum.item_removed", curriculum, kind=item.kind, ref_id=item.ref_id)


def copy_curriculum(session: Session, actor: Actor, source: Curriculum, owner_id: int, now: datetime) -> Curriculum:
    copy = create_curriculum(session, actor, owner_id, f"{source.name} (copy)", source.description, now)
    for item in source.items:
        session.add(CurriculumItem(curriculum=copy, position=item.position, kind=item.kind, ref_id=item.ref_id,
                                   required=item.required, min_score=item.min_score,
                                   expected_minutes=item.expected_minutes))
    session.flush()
    return copy


# --- assignments -----------------------------------------------------------------------------

def assign(session: Session, actor: Actor, assigner: SessionUser | User, curriculum: Curriculum,
           cohort_id: int | None, user_id: int | None, start_on: date, due_on: date, now: datetime) -> Assignment:
    for name, value, label in (("start_on", start_on, "The start date"), ("due_on", due_on, "The due date")):
        if date_problem(value, label):
            raise CurriculumError(date_problem(value, label), name)
    if due_on < start_on:
        raise CurriculumError("The due date is before the start date.", "due_on")
    if not curriculum.items:
        raise CurriculumError("Add at least one item before assigning the curriculum.")
    if (cohort_id is None) == (user_id is None):
        raise CurriculumError("Assign to a cohort or to one trainee.")
    if cohort_id is not None:
        if session.get(Cohort, cohort_id) is None or not can_manage_cohort(session, assigner, cohort_id):
            raise PermissionError("You can assign only to cohorts you supervise.")
    elif not can_manage_trainee(session, assigner, user_id):
        raise PermissionError("You can assign only to trainees in cohorts you supervise.")
    assignment = Assignment(curriculum_id=curriculum.id, cohort_id=cohort_id, user_id=user_id, start_on=start_on,
                            due_on=due_on, curriculum_version=curriculum.version, created_by_id=actor.user_id,
                            created_at=now)
    session.add(assignment)
    session.flush()
    audit(session, actor, "assignment.created", assignment, curriculum_id=curriculum.id, cohort_id=cohort_id,
          user_id=user_id, due_on=due_on.isoformat())
    notices.notify_assigned(session, assignment, curriculum.name, now)  # in this transaction: no cron needed
    return assignment


def can_manage_assignment(session: Session, user: SessionUser | User, assignment: Assignment) -> bool:
    """Who may see, extend and unassign an assignment: admins, the owners of the cohort it was made
    through, and for an individual assignment the owners of the trainee's cohorts."""
    if assignment.cohort_id is not None:
        return can_manage_cohort(session, user, assignment.cohort_id)
    return can_manage_trainee(session, user, assignment.user_id)


def extend_due(session: Session, actor: Actor, assignment: Assignment, user_id: int, due_on: date,
               now: datetime) -> DueDateExtension:
    if date_problem(due_on, "The new due date"):
        raise CurriculumError(date_problem(due_on, "The new due date"), "due_on")
    if due_on < assignment.start_on:
        raise CurriculumError("The new due date is before the assignment's start date.", "due_on")
    extension = next((e for e in assignment.extensions if e.user_id == user_id), None)
    old_due = extension.due_on if extension is not None else assignment.due_on
    if extension is None:
        extension = DueDateExtension(assignment=assignment, user_id=user_id, due_on=due_on,
                                     created_by_id=actor.user_id, created_at=now)
        session.add(extension)
    else:
        extension.due_on = due_on
    audit(session, actor, "assignment.extended", assignment, user_id=user_id, due_on=due_on.isoformat())
    session.flush()
    notices.notify_extended(session, assignment, assignment.curriculum.name, user_id, old_due, due_on, now)
    return extension


def unassign(session: Session, actor: Actor, assignment: Assignment, now: datetime) -> None:
    if assignment.ended_at is None:
        assignment.ended_at = now
        audit(session, actor, "assignment.ended", assignment)
        session.flush()
        notices.notify_unassigned(session, assignment, assignment.curriculum.name, now)


# --- progress ----------------------------------------------------------------------------------

@dataclass
class ItemView:
    item: CurriculumItem
    title: str | None  # None: the module or exam no longer exists (retired)
    status: ItemStatus
    overdue: bool

    @property
    def retired(self) -> bool:
        return self.title is None


@dataclass
class Progress:
    """One trainee on one assignment."""

    user_id: int
    assignment: Assignment
    due_on: date
    items: list[ItemView] = field(default_factory=list)

    @property
    def required(self) -> list[ItemView]:
        return [v for v in self.items if v.item.required and not v.retired]

    @property
    def done(self) -> int:
        return sum(v.status.state == "completed" for v in self.required)

    @property
    def overdue(self) -> bool:
        return any(v.overdue for v in self.required)

    @property
    def completed(self) -> bool:
        return self.done == len(self.required)

    @property
    def next_item(self) -> ItemView | None:
        return next((v for v in self.items if not v.retired and v.status.state != "completed"), None)

    @property
    def state(self) -> str:
        if self.completed:
            return "completed"
        if self.overdue:
            return "overdue"
        return "in_progress" if any(v.status.state != "not_started" for v in self.items) else "not_started"


def item_statuses(session: Session, user_ids: list[int], items: list[CurriculumItem]) -> dict:
    """Statuses for every (trainee, item): one batch of queries per item kind, whatever the counts."""
    by_kind: dict[str, list[Ref]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(Ref(item.id, item.ref_id, item.min_score))
    statuses: dict = {}
    for kind, refs in by_kind.items():
        if kind in ITEM_KINDS:
            statuses.update(ITEM_KINDS[kind].statuses(session, user_ids, refs))
    return statuses


def build_progress(assignments: list[Assignment], members: dict[int, list[int]], statuses: dict,
                   catalog: Catalog, library: Library, today: date) -> list[Progress]:
    """Roll statuses up per trainee and assignment. ``members`` maps cohort id -> trainee ids."""
    titles = {}
    result = []
    for assignment in assignments:
        user_ids = [assignment.user_id] if assignment.user_id else members.get(assignment.cohort_id, [])
        extensions = {e.user_id: e.due_on for e in assignment.extensions}
        for user_id in user_ids:
            due = extensions.get(user_id, assignment.due_on)
            progress = Progress(user_id, assignment, due)
            for item in assignment.curriculum.items:
                key = (item.kind, item.ref_id)
                if key not in titles:
                    titles[key] = ITEM_KINDS[item.kind].title(item.ref_id, catalog, library) \
                        if item.kind in ITEM_KINDS else None
                status = statuses.get((user_id, item.id), NOT_STARTED)
                overdue = status.state != "completed" and today > due and titles[key] is not None
                progress.items.append(ItemView(item, titles[key], status, overdue))
            result.append(progress)
    return result


def active_assignments_for_trainee(session: Session, user_id: int) -> list[Assignment]:
    cohort_ids = select(CohortMember.cohort_id).where(CohortMember.user_id == user_id)
    return list(session.scalars(
        select(Assignment).options(selectinload(Assignment.curriculum).selectinload(Curriculum.items),
                                   selectinload(Assignment.extensions))
        .where(Assignment.ended_at.is_(None),
               or_(Assignment.user_id == user_id, Assignment.cohort_id.in_(cohort_ids)))
        .order_by(Assignment.due_on)))


def trainee_progress(session: Session, user_id: int, catalog: Catalog, library: Library,
                     today: date) -> list[Progress]:
    assignments = active_assignments_for_trainee(session, user_id)
    items = [item for a in assignments for item in a.curriculum.items]
    statuses = item_statuses(session, [user_id], items)
    members = {a.cohort_id: [user_id] for a in assignments if a.cohort_id}
    return build_progress(assignments, members, statuses, catalog, library, today)


SUMMARY_STATES = ("completed", "overdue", "behind")


def assignment_states(session: Session, assignment: Assignment, user_ids: list[int], catalog: Catalog,
                      library: Library, today: date) -> dict[int, str]:
    """completed | overdue | behind for every trainee, from grouped counts (cheap on any cohort size)."""
    required = [i for i in assignment.curriculum.items if i.required and i.kind in ITEM_KINDS
                and ITEM_KINDS[i.kind].title(i.ref_id, catalog, library) is not None]
    by_kind: dict[str, list[Ref]] = defaultdict(list)
    for item in required:
        by_kind[item.kind].append(Ref(item.id, item.ref_id, item.min_score))
    members = (select(CohortMember.user_id).where(CohortMember.cohort_id == assignment.cohort_id)
               if assignment.cohort_id else select(User.id).where(User.id == assignment.user_id))
    done: dict[int, int] = defaultdict(int)
    for kind, refs in by_kind.items():
        for user_id, count in ITEM_KINDS[kind].completed_counts(session, members, refs).items():
            done[user_id] += count
    extended = {e.user_id: e.due_on for e in assignment.extensions}
    states = {}
    for user_id in user_ids:
        if done.get(user_id, 0) >= len(required):
            states[user_id] = "completed"
        elif today > extended.get(user_id, assignment.due_on):
            states[user_id] = "overdue"
        else:
            states[user_id] = "behind"
    return states


@dataclass(frozen=True)
class Cell:
    """One cohort x assignment on the supervisor's matrix: counts, not per-trainee objects."""

    cohort: Cohort
    assignment: Assignment
    trainees: int
    required: int  # required items that still exist
    done_pairs: int  # (trainee, required item) pairs completed
    completed: int  # trainees with every required item done
    overdue: int  # trainees past their due date with work left

    @property
    def completion(self) -> float:
        total = self.trainees * self.required
        return 100 * self.done_pairs / total if total else 0.0


def cohort_matrix(session: Session, cohorts: list[Cohort], catalog: Catalog, library: Library,
                  today: date) -> list[Cell]:
    """Every active cohort assignment with its roll-up.

    The database does the counting: per assignment one grouped query per item kind returns how many
    required items each trainee has finished, so the work and the number of queries do not grow with
    the number of trainees (the drill-down pages, which show each trainee, are paginated instead).
    """
    cohort_ids = [c.id for c in cohorts]
    if not cohort_ids:
        return []
    assignments = list(session.scalars(
        select(Assignment).options(selectinload(Assignment.curriculum).selectinload(Curriculum.items),
                                   selectinload(Assignment.extensions))
        .where(Assignment.cohort_id.in_(cohort_ids), Assignment.ended_at.is_(None))
        .order_by(Assignment.due_on, Assignment.id)))
    sizes = dict(session.execute(select(CohortMember.cohort_id, func.count()).where(
        CohortMember.cohort_id.in_(cohort_ids)).group_by(CohortMember.cohort_id)).all())
    cohorts_by_id = {c.id: c for c in cohorts}
    cells = []
    for assignment in assignments:
        members = select(CohortMember.user_id).where(CohortMember.cohort_id == assignment.cohort_id)
        required = [i for i in assignment.curriculum.items if i.required and i.kind in ITEM_KINDS
                    and ITEM_KINDS[i.kind].title(i.ref_id, catalog, library) is not None]
        by_kind: dict[str, list[Ref]] = defaultdict(list)
        for item in required:
            by_kind[item.kind].append(Ref(item.id, item.ref_id, item.min_score))
        done: dict[int, int] = defaultdict(int)
        for kind, refs in by_kind.items():
            for user_id, count in ITEM_KINDS[kind].completed_counts(session, members, refs).items():
                done[user_id] += count
        trainees = sizes.get(assignment.cohort_id, 0)
        finished = {user_id for user_id, count in done.items() if count >= len(required)}
        extended = {e.user_id: e.due_on for e in assignment.extensions}
        # Past the cohort's due date everyone unfinished is overdue, except those given a later date;
        # before it, only trainees whose own (extended or shortened) date has passed.
        late_by_default = today > assignment.due_on
        overdue = (trainees - len(finished)) if late_by_default else 0
        for user_id, due in extended.items():
            if user_id in finished:
                continue
            if late_by_default and due >= today:
                overdue -= 1
            elif not late_by_default and due < today:
                overdue += 1
        cells.append(Cell(cohorts_by_id[assignment.cohort_id], assignment, trainees, len(required),
                          sum(min(count, len(required)) for count in done.values()), len(finished), max(overdue, 0)))
    return cells


# --- per-item view and charts for one assignment --------------------------------------------------

@dataclass(frozen=True)
class ItemSummary:
    item: CurriculumItem
    title: str | None
    completed: int
    next_for: int  # trainees for whom this is the first unfinished item: where people are stuck


@dataclass(frozen=True)
class AssignmentInsight:
    items: list[ItemSummary]
    over_time: list[tuple[date, int]]  # cumulative completed (trainee, item) pairs by day
    scores: list[float]


def assignment_insight(session: Session, assignment: Assignment, trainees: int, catalog: Catalog,
                       library: Library) -> AssignmentInsight:
    """Per-item completion, where trainees are stuck, completions over time and the score spread."""
    members = (select(CohortMember.user_id).where(CohortMember.cohort_id == assignment.cohort_id)
               if assignment.cohort_id else select(User.id).where(User.id == assignment.user_id))
    items = list(assignment.curriculum.items)
    by_kind: dict[str, list[Ref]] = defaultdict(list)
    for item in items:
        if item.kind in ITEM_KINDS:
            by_kind[item.kind].append(Ref(item.id, item.ref_id, item.min_score))
    rows = [row for kind, refs in by_kind.items() for row in ITEM_KINDS[kind].completions(session, members, refs)]
    done_by_user: dict[int, set[int]] = defaultdict(set)
    for item_id, user_id, _at, _score in rows:
        done_by_user[user_id].add(item_id)
    titles = {i.id: ITEM_KINDS[i.kind].title(i.ref_id, catalog, library) if i.kind in ITEM_KINDS else None
              for i in items}
    live = [i for i in items if titles[i.id] is not None]
    next_counts: dict[int, int] = defaultdict(int)
    untouched = trainees - len(done_by_user)
    if live:
        next_counts[live[0].id] += max(untouched, 0)
    for done in done_by_user.values():
        upcoming = next((i for i in live if i.id not in done), None)
        if upcoming is not None:
            next_counts[upcoming.id] += 1
    completed = defaultdict(int)
    for item_id, *_rest in rows:
        completed[item_id] += 1
    per_day: dict[date, int] = defaultdict(int)
    for _item, _user, at, _score in rows:
        if at is not None:
            per_day[at.date()] += 1
    running, over_time = 0, []
    for day in sorted(per_day):
        running += per_day[day]
        over_time.append((day, running))
    return AssignmentInsight([ItemSummary(i, titles[i.id], completed[i.id], next_counts[i.id]) for i in items],
                             over_time, [score for *_r, score in rows if score is not None])


SCORE_BINS = [(0, 60, "<60"), (60, 70, "60s"), (70, 80, "70s"), (80, 90, "80s"), (90, 101, "90+")]


def score_bins(scores: list[float]) -> list[tuple[str, int]]:
    return [(label, sum(low <= s < high for s in scores)) for low, high, label in SCORE_BINS]


@dataclass(frozen=True)
class ItemDetail:
    minutes_reading: int  # time on lesson pages (modules)
    minutes_reported: int | None  # time the trainee reported in the evaluation
    attempts: int  # post-test or practice-exam attempts
    best_score: float | None


def trainee_item_details(session: Session, user_id: int, items: list[CurriculumItem]) -> dict[int, ItemDetail]:
    """Reading time, reported time and attempts per item, for one trainee (a handful of queries)."""
    from lms.progress.models import ActivityEvaluation, LessonRead
    from lms.quizzes.models import QuizAttempt

    refs = {item.ref_id for item in items}
    seconds = dict(session.execute(select(LessonRead.module_id, func.sum(LessonRead.seconds_on_page))
                                   .where(LessonRead.user_id == user_id, LessonRead.module_id.in_(refs))
                                   .group_by(LessonRead.module_id)).all())
    reported = dict(session.execute(select(ActivityEvaluation.module_id, func.max(ActivityEvaluation.minutes_spent))
                                    .where(ActivityEvaluation.user_id == user_id,
                                           ActivityEvaluation.module_id.in_(refs))
                                    .group_by(ActivityEvaluation.module_id)).all())
    attempts = {(kind, source): (count, best) for kind, source, count, best in session.execute(
        select(QuizAttempt.kind, QuizAttempt.source_id, func.count(), func.max(QuizAttempt.score_percent))
        .where(QuizAttempt.user_id == user_id, QuizAttempt.source_id.in_(refs))
        .group_by(QuizAttempt.kind, QuizAttempt.source_id))}
    from lms.sandbox.core.models import SandboxInstance

    for ticket_id, submissions in session.execute(
            select(SandboxInstance.ticket_id, SandboxInstance.submissions)
            .where(SandboxInstance.user_id == user_id, SandboxInstance.ticket_id.in_(refs))):
        attempts[("sandbox_ticket", ticket_id)] = (submissions, None)  # a sandbox attempt = a graded submission
    details = {}
    for item in items:
        kind = "post_test" if item.kind == "module" else item.kind
        count, best = attempts.get((kind, item.ref_id), (0, None))
        details[item.id] = ItemDetail(round((seconds.get(item.ref_id) or 0) / 60), reported.get(item.ref_id),
                                      count, best)
    return details
