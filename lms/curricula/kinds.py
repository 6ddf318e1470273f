"""Curriculum item kinds: a registry. Each kind names its items and reports progress for many trainees at
once (a fixed number of queries however many trainees and items), so dashboards stay constant-query.

Sandbox tickets count as done once solved.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.content.loader import Catalog
from lms.quizzes.bank import Library


@dataclass(frozen=True)
class ItemStatus:
    state: str  # not_started | in_progress | completed
    completed_at: datetime | None = None
    score: float | None = None


NOT_STARTED = ItemStatus("not_started")


@dataclass(frozen=True)
class Ref:
    """What a curriculum item points at: (kind, ref id, minimum score)."""

    item_id: int
    ref_id: str
    min_score: int | None


class ModuleKind:
    label = "Module"

    def options(self, catalog: Catalog, library: Library) -> list[tuple[str, str]]:
        return [(m.id, m.title) for m in catalog.modules]

    def title(self, ref_id: str, catalog: Catalog, library: Library) -> str | None:
        module = catalog.module(ref_id)
        return module.title if module else None

    def statuses(self, session: Session, user_ids: list[int], refs: list[Ref]) -> dict[tuple[int, int], ItemStatus]:
        """Completed = an earned (not revoked) credit exists; in progress = a lesson read or a post-test taken."""
        from lms.progress.models import Credit, LessonRead
        from lms.quizzes.models import QuizAttempt

        module_ids = {r.ref_id for r in refs}
        if not user_ids or not module_ids:
            return {}
        done = {(u, m): (at, score) for u, m, at, score in session.execute(
            select(Credit.user_id, Credit.module_id, func.min(Credit.completed_at), func.max(Credit.score_percent))
            .where(Credit.user_id.in_(user_ids), Credit.module_id.in_(module_ids), Credit.earned)
            .group_by(Credit.user_id, Credit.module_id))}
        started = {tuple(row) for row in session.execute(select(LessonRead.user_id, LessonRead.module_id).distinct()
                                                         .where(LessonRead.user_id.in_(user_ids),
                                                                LessonRead.module_id.in_(module_ids)))}
        started |= {tuple(row) for row in session.execute(
            select(QuizAttempt.user_id, QuizAttempt.source_id).distinct().where(
                QuizAttempt.user_id.in_(user_ids), QuizAttempt.kind == "post_test",
                QuizAttempt.source_id.in_(module_ids)))}
        result = {}
        for user_id in user_ids:
            for ref in refs:
                key = (user_id, ref.ref_id)
                if key in done:
                    result[(user_id, ref.item_id)] = ItemStatus("completed", done[key][0], done[key][1])
                elif key in started:
                    result[(user_id, ref.item_id)] = ItemStatus("in_progress")
        return result


    def completed_counts(self, session: Session, members, refs: list[Ref]) -> dict[int, int]:
        """Per trainee in ``members`` (a select of user ids): how many of ``refs`` are complete. One query."""
        from lms.progress.models import Credit

        rows = session.execute(select(Credit.user_id, func.count(func.distinct(Credit.module_id)))
                               .where(Credit.user_id.in_(members), Credit.module_id.in_({r.ref_id for r in refs}),
                                      Credit.earned)
                               .group_by(Credit.user_id))
        return dict(rows.all())


    def completions(self, session: Session, members, refs: list[Ref]) -> list[tuple[int, int, datetime, float]]:
        """(item id, user id, completed at, score) for every completed module; one grouped query."""
        from lms.progress.models import Credit

        by_module = defaultdict(list)
        for ref in refs:
            by_module[ref.ref_id].append(ref.item_id)
        rows = session.execute(select(Credit.module_id, Credit.user_id, func.min(Credit.completed_at),
                                      func.max(Credit.score_percent))
                               .where(Credit.user_id.in_(members), Credit.module_id.in_(by_module),
                                      Credit.earned)
                               .group_by(Credit.module_id, Credit.user_id))
        return [(item_id, user_id, at, score) for module_id, user_id, at, score in rows
                for item_id in by_module[module_id]]


class PracticeExamKind:
    label = "Practice exam"

    def options(self, catalog: Catalog, library: Library) -> list[tuple[str, str]]:
        return [(b.id, b.title) for b in library.blueprints]

    def title(self, ref_id: str, catalog: Catalog, library: Library) -> str | None:
        blueprint = library.blueprint(ref_id)
        return blueprint.title if blueprint else None

    def statuses(self, session: Session, user_ids: list[int], refs: list[Ref]) -> dict[tuple[int, int], ItemStatus]:
        """Completed = a submitted attempt at or above the item's minimum score (the exam's pass mark if none)."""
        from lms.quizzes.models import QuizAttempt

        blueprint_ids = {r.ref_id for r in refs}
        if not user_ids or not blueprint_ids:
            return {}
        attempts: dict[tuple[int, str], list] = defaultdict(list)
        for user_id, source, score, submitted, pass_mark in session.execute(
                select(QuizAttempt.user_id, QuizAttempt.source_id, QuizAttempt.score_percent,
                       QuizAttempt.submitted_at, QuizAttempt.pass_mark)
                .where(QuizAttempt.user_id.in_(user_ids), QuizAttempt.kind == "practice_exam",
                       QuizAttempt.source_id.in_(blueprint_ids)).order_by(QuizAttempt.started_at)):
            attempts[(user_id, source)].append((score, submitted, pass_mark))
        result = {}
        for (user_id, source), rows in attempts.items():
            for ref in refs:
                if ref.ref_id != source:
                    continue
                passing = [(s, at) for s, at, mark in rows
                           if at is not None and s is not None and s >= (ref.min_score or mark)]
                if passing:
                    result[(user_id, ref.item_id)] = ItemStatus("completed", passing[0][1],
                                                                max(s for s, _at in passing))
                else:
                    result[(user_id, ref.item_id)] = ItemStatus(
                        "in_progress", None, max((s for s, _a, _m in rows if s is not None), default=None))
        return result


    def completed_counts(self, session: Session, members, refs: list[Ref]) -> dict[int, int]:
        from lms.quizzes.models import QuizAttempt

        best = session.execute(select(QuizAttempt.user_id, QuizAttempt.source_id, func.max(QuizAttempt.score_percent),
                                      func.max(QuizAttempt.pass_mark))
                               .where(QuizAttempt.user_id.in_(members), QuizAttempt.kind == "practice_exam",
                                      QuizAttempt.status == "submitted",
                                      QuizAttempt.source_id.in_({r.ref_id for r in refs}))
                               .group_by(QuizAttempt.user_id, QuizAttempt.source_id)).all()
        counts: dict[int, int] = defaultdict(int)
        for user_id, source, score, pass_mark in best:
            counts[user_id] += sum(1 for r in refs if r.ref_id == source and (score or 0) >= (r.min_score or pass_mark))
        return dict(counts)


    def completions(self, session: Session, members, refs: list[Ref]) -> list[tuple[int, int, datetime, float]]:
        from lms.quizzes.models import QuizAttempt

        rows = session.execute(select(QuizAttempt.source_id, QuizAttempt.user_id, QuizAttempt.submitted_at,
                                      QuizAttempt.score_percent, QuizAttempt.pass_mark)
                               .where(QuizAttempt.user_id.in_(members), QuizAttempt.kind == "practice_exam",
                                      QuizAttempt.status == "submitted",
                                      QuizAttempt.source_id.in_({r.ref_id for r in refs}))
                               .order_by(QuizAttempt.submitted_at))
        first: dict[tuple[int, int], tuple] = {}
        for source, user_id, at, score, pass_mark in rows:
            for ref in refs:
                if ref.ref_id == source and (score or 0) >= (ref.min_score or pass_mark):
                    first.setdefault((ref.item_id, user_id), (at, score))
        return [(item_id, user_id, at, score) for (item_id, user_id), (at, score) in first.items()]


class SandboxTicketKind:
    """Sandbox tickets: completed = solved (a passing submission); in progress = an instance was started."""

    label = "Sandbox ticket"

    @staticmethod
    def _tickets():
        from lms.sandbox.core.services import get_tickets

        return get_tickets()

    def options(self, catalog: Catalog, library: Library) -> list[tuple[str, str]]:
        return [(t.id, f"{t.number}. {t.title}") for t in self._tickets().tickets]

    def title(self, ref_id: str, catalog: Catalog, library: Library) -> str | None:
        ticket = self._tickets().get(ref_id)
        return f"Sandbox ticket {ticket.number}: {ticket.title}" if ticket else None

    def statuses(self, session: Session, user_ids: list[int], refs: list[Ref]) -> dict[tuple[int, int], ItemStatus]:
        from lms.sandbox.core.models import SandboxInstance

        ticket_ids = {r.ref_id for r in refs}
        if not user_ids or not ticket_ids:
            return {}
        found = {(u, t): solved for u, t, solved in session.execute(
            select(SandboxInstance.user_id, SandboxInstance.ticket_id, SandboxInstance.solved_at)
            .where(SandboxInstance.user_id.in_(user_ids), SandboxInstance.ticket_id.in_(ticket_ids)))}
        result = {}
        for user_id in user_ids:
            for ref in refs:
                if (user_id, ref.ref_id) in found:
                    solved = found[(user_id, ref.ref_id)]
                    result[(user_id, ref.item_id)] = ItemStatus("completed", solved) if solved else \
                        ItemStatus("in_progress")
        return result

    def completed_counts(self, session: Session, members, refs: list[Ref]) -> dict[int, int]:
        from lms.sandbox.core.models import SandboxInstance

        rows = session.execute(select(SandboxInstance.user_id, func.count(func.distinct(SandboxInstance.ticket_id)))
                               .where(SandboxInstance.user_id.in_(members), SandboxInstance.solved_at.is_not(None),
                                      SandboxInstance.ticket_id.in_({r.ref_id for r in refs}))
                               .group_by(SandboxInstance.user_id))
        return dict(rows.all())

    def completions(self, session: Session, members, refs: list[Ref]) -> list[tuple[int, int, datetime, float]]:
        from lms.sandbox.core.models import SandboxInstance

        by_ticket = defaultdict(list)
        for ref in refs:
            by_ticket[ref.ref_id].append(ref.item_id)
        rows = session.execute(select(SandboxInstance.ticket_id, SandboxInstance.user_id, SandboxInstance.solved_at)
                               .where(SandboxInstance.user_id.in_(members), SandboxInstance.solved_at.is_not(None),
                                      SandboxInstance.ticket_id.in_(by_ticket)))
        return [(item_id, user_id, at, None) for ticket_id, user_id, at in rows for item_id in by_ticket[ticket_id]]


ITEM_KINDS = {"module": ModuleKind(), "practice_exam": PracticeExamKind(), "sandbox_ticket": SandboxTicketKind()}
