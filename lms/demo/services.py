"""Demo data for `make run`: a lived-in site. Idempotent: a second run changes nothing."""

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import Cohort, CohortMember, CohortSupervisor, User
from lms.accounts.services import Actor, audit, hash_password
from lms.content.loader import Catalog
from lms.curricula.models import Curriculum
from lms.db import utcnow
from lms.progress.services import EvaluationError, issue_credit_if_complete, mark_lesson_read, submit_evaluation
from lms.quizzes import services as quiz_services
from lms.quizzes.bank import Library
from lms.quizzes.grading import correct_response
from lms.quizzes.models import QuizAttempt

DEMO_PASSWORD = "demo-password"  # noqa: S105 - published demo credential, only seeded by `lms demo seed`

STAFF = [
    ("admin@demo.test", "Avery Admin", "admin"),
    ("supervisor@demo.test", "Sam Rivera, PharmD", "supervisor"),
    ("supervisor2@demo.test", "Priya Natarajan, PharmD", "supervisor"),
]
COHORTS = [
    ("Main Pharmacy", "Inpatient informatics technicians at the main campus.", "supervisor@demo.test"),
    ("Satellite Pharmacy", "Technicians at the satellite hospital and its telepharmacy sites.",
     "supervisor2@demo.test"),
]
# (email, name, cohort, NABP e-Profile ID, birth MMDD)
TRAINEES = [
    ("trainee@demo.test", "Jordan Lee", "Main Pharmacy", "1234567", "0415"),
    ("maria.garcia@demo.test", "María García", "Main Pharmacy", "2345678", "1102"),
    ("dmitri.volkov@demo.test", "Dmitri Volkov", "Main Pharmacy", None, None),
    ("aisha.bello@demo.test", "Aisha Bello", "Main Pharmacy", "3456789", "0730"),
    ("chen.wei@demo.test", "Chen Wei", "Satellite Pharmacy", "4567890", "0209"),
    ("siobhan.oconnor@demo.test", "Siobhán O'Connor", "Satellite Pharmacy", None, "1224"),
    ("tom.nguyen@demo.test", "Tom Nguyen", "Satellite Pharmacy", "5678901", None),
    ("noa.cohen@demo.test", "Noa Cohen", "Satellite Pharmacy", None, None),
]


# (email, module id, how many of its lessons were read): progress in various states.
READING = [
    ("trainee@demo.test", "informatics-role", None),  # None = every lesson
    ("trainee@demo.test", "bcma-barcodes", 2),
    ("maria.garcia@demo.test", "informatics-role", None),
    ("maria.garcia@demo.test", "order-entry-verification", 3),
    ("dmitri.volkov@demo.test", "informatics-role", 1),
    ("aisha.bello@demo.test", "automated-dispensing-cabinets", None),
    ("chen.wei@demo.test", "telepharmacy-virtual-care", 2),
    ("tom.nguyen@demo.test", "hl7-interfaces", 1),
]


# (email, kind, source, share of questions answered right, days ago): quiz history in various states.
QUIZ_HISTORY = [
    ("trainee@demo.test", "post_test", "informatics-role", 0.5, 9),
    ("trainee@demo.test", "post_test", "informatics-role", 0.9, 8),
    ("trainee@demo.test", "practice_exam", "informatics-technician", 0.55, 6),
    ("trainee@demo.test", "practice_exam", "informatics-technician", 0.68, 3),
    ("trainee@demo.test", "practice_exam", "informatics-technician", 0.8, 1),
    ("maria.garcia@demo.test", "post_test", "informatics-role", 1.0, 5),
    ("aisha.bello@demo.test", "post_test", "automated-dispensing-cabinets", 0.75, 2),
    ("dmitri.volkov@demo.test", "post_test", "informatics-role", 0.4, 1),
    ("chen.wei@demo.test", "post_test", "telepharmacy-virtual-care", 0.6, 4),
]


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created)


def seed_demo(session: Session, catalog: Catalog | None = None, library: Library | None = None) -> SeedReport:
    """Create the demo accounts, cohorts and progress that are missing; never touch existing rows."""
    report = SeedReport()
    actor = Actor(None, "demo-seed")
    password_hash: str | None = None

    def user(email: str, name: str, role: str, nabp: str | None = None, mmdd: str | None = None) -> User:
        nonlocal password_hash
        existing = session.scalar(select(User).where(User.email == email))
        if existing is not None:
            return existing
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        created = User(email=email, name=name, role=role, password_hash=password_hash,
                       nabp_eprofile_id=nabp, birth_mmdd=mmdd)
        session.add(created)
        session.flush()
        audit(session, actor, "user.created", created, email=email, role=role, source="demo seed")
        report.created.append(f"user {email}")
        return created

    staff = {email: user(email, name, role) for email, name, role in STAFF}
    cohorts: dict[str, Cohort] = {}
    for name, description, owner in COHORTS:
        cohort = session.scalar(select(Cohort).where(Cohort.name == name))
        if cohort is None:
            cohort = Cohort(name=name, description=description)
            session.add(cohort)
            session.flush()
            session.add(CohortSupervisor(cohort_id=cohort.id, user_id=staff[owner].id))
            audit(session, actor, "cohort.created", cohort, name=name, source="demo seed")
            report.created.append(f"cohort {name}")
        cohorts[name] = cohort
    for email, name, cohort_name, nabp, mmdd in TRAINEES:
        trainee = user(email, name, "trainee", nabp, mmdd)
        cohort = cohorts[cohort_name]
        member = session.scalar(select(CohortMember).where(CohortMember.cohort_id == cohort.id,
                                                           CohortMember.user_id == trainee.id))
        if member is None:
            session.add(CohortMember(cohort_id=cohort.id, user_id=trainee.id))
            report.created.append(f"membership {email} in {cohort_name}")
    session.flush()
    if catalog is not None:
        _seed_reading(session, catalog, report)
    if catalog is not None and library is not None:
        _seed_quizzes(session, catalog, library, report)
        _seed_credits(session, catalog, report)
        _seed_curricula(session, catalog, library, report)
        _seed_sandbox(session, report)
    return report


# (email, ticket id, solve it?, hints revealed): a solved ticket, one in progress with a failed submission.
SANDBOX_ATTEMPTS = [("trainee@demo.test", "ed-naloxone-override", True, 0),
                    ("trainee@demo.test", "new-supplier-ndc-not-linked", False, 1),
                    ("maria.garcia@demo.test", "cabinet-not-profiled", False, 0)]


def _seed_sandbox(session: Session, report: SeedReport) -> None:
    """Sandbox attempts made the way a trainee makes them: start, change through the screens' service, submit."""
    from lms.sandbox.core import services as sandbox

    tickets = sandbox.get_tickets()
    for email, ticket_id, solve, hints in SANDBOX_ATTEMPTS:
        trainee, ticket = session.scalar(select(User).where(User.email == email)), tickets.get(ticket_id)
        if trainee is None or ticket is None or sandbox.find_instance(session, trainee.id, ticket.id):
            continue
        now = utcnow()
        instance, _created = sandbox.start_ticket(session, trainee.id, ticket, now - timedelta(hours=3))
        sandbox.submit(session, instance, ticket, trainee.id, now - timedelta(hours=2))
        for _ in range(hints):
            sandbox.reveal_next_hint(session, instance, ticket, now - timedelta(hours=2))
        if solve:
            sandbox.run_steps(session, instance, ticket, sandbox.Actor(trainee.id, trainee.name), ticket.solution,
                              now - timedelta(hours=1))
            sandbox.submit(session, instance, ticket, trainee.id, now - timedelta(minutes=50))
        report.created.append(f"sandbox attempt {email} {ticket_id}")


# (owner, name, items as kind:ref, cohort, start days ago, due in days): one on track, one overdue.
CURRICULA = [
    ("supervisor@demo.test", "New informatics technician onboarding",
     ["module:informatics-role", "module:order-entry-verification", "module:bcma-barcodes",
      "module:automated-dispensing-cabinets", "practice_exam:informatics-technician",
      "sandbox_ticket:ed-naloxone-override", "sandbox_ticket:new-supplier-ndc-not-linked"], "Main Pharmacy", 14, 21),
    ("supervisor2@demo.test", "Telepharmacy site readiness",
     ["module:informatics-role", "module:telepharmacy-virtual-care", "module:hl7-interfaces"],
     "Satellite Pharmacy", 30, -3),
]


def _seed_curricula(session: Session, catalog: Catalog, library: Library, report: SeedReport) -> None:
    from lms.curricula import services as curricula

    today = utcnow().date()
    for owner_email, name, items, cohort_name, started, due_in in CURRICULA:
        owner = session.scalar(select(User).where(User.email == owner_email))
        cohort = session.scalar(select(Cohort).where(Cohort.name == cohort_name))
        if owner is None or cohort is None or session.scalar(select(Curriculum.id).where(Curriculum.name == name)):
            continue
        actor = Actor(owner.id, "demo-seed")
        curriculum = curricula.create_curriculum(session, actor, owner.id, name, "Demo curriculum.", utcnow())
        for entry in items:
            kind, _, ref = entry.partition(":")
            try:
                curricula.add_item(session, actor, curriculum, kind, ref, True, 70 if kind == "practice_exam" else None,
                                   60, catalog, library, utcnow())
            except curricula.CurriculumError:
                continue  # content not shipped in this tree
        if curriculum.items:
            curricula.assign(session, actor, owner, curriculum, cohort.id, None, today - timedelta(days=started),
                             today + timedelta(days=due_in), utcnow())
            report.created.append(f"curriculum {name} assigned to {cohort_name}")


# (email, module id, days ago): evaluations that complete a module and issue its credit.
COMPLETIONS = [("trainee@demo.test", "informatics-role", 7), ("maria.garcia@demo.test", "informatics-role", 4)]


def _seed_credits(session: Session, catalog: Catalog, report: SeedReport) -> None:
    for email, module_id, days_ago in COMPLETIONS:
        module = catalog.module(module_id)
        user = session.scalar(select(User).where(User.email == email))
        if module is None or user is None:
            continue
        when = utcnow() - timedelta(days=days_ago)
        try:
            _evaluation, created = submit_evaluation(session, user.id, module, {o.id: True for o in module.objectives},
                                                     5, True, module.estimated_minutes, "Clear and practical.", when)
        except EvaluationError:
            continue
        credit, issued = issue_credit_if_complete(session, user.id, module, when)
        if created and issued:
            report.created.append(f"credit {email} {module_id} {credit.verification_code}")


def _seed_quizzes(session: Session, catalog: Catalog, library: Library, report: SeedReport) -> None:
    """Submitted attempts with a chosen share of right answers; skipped entirely once any exist."""
    if session.scalar(select(QuizAttempt.id).limit(1)) is not None:
        return
    rng = random.Random(2026)  # noqa: S311 - demo data, reproducible
    for email, kind, source, share, days_ago in QUIZ_HISTORY:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            continue
        when = utcnow() - timedelta(days=days_ago)
        try:
            if kind == "post_test":
                module = catalog.module(source)
                if module is None:
                    continue
                attempt = quiz_services.start_post_test(session, library, user.id, source,
                                                        [f"{source}:{o.id}" for o in module.objectives], "exam",
                                                        when, rng)
            else:
                attempt = quiz_services.start_practice_exam(session, library, user.id, source, when, rng)
        except quiz_services.QuizError:
            continue
        right = round(share * len(attempt.item_ids))
        for index, item_id in enumerate(attempt.item_ids):
            item = library.items[item_id]
            response = correct_response(item) if index < right else _wrong(item)
            if response is not None:
                quiz_services.save_answer(session, attempt, item, response, when + timedelta(minutes=index))
        session.flush()
        session.refresh(attempt)
        quiz_services.submit_attempt(session, library, attempt, when + timedelta(minutes=40))
        report.created.append(f"{kind} {email} {source}")


def _wrong(item):
    """A plausible wrong answer for demo data (None for types where one is awkward: left unanswered)."""
    match item.type:
        case "single":
            return next(o.id for o in item.options if o.id not in item.key)
        case "true_false":
            return not item.truth
        case "numeric":
            return "0"
    return None


def _seed_reading(session: Session, catalog: Catalog, report: SeedReport) -> None:
    now = utcnow()
    for email, module_id, count in READING:
        module = catalog.module(module_id)
        user = session.scalar(select(User).where(User.email == email))
        if module is None or user is None:
            continue  # content not shipped in this tree: nothing to seed
        for position, lesson in enumerate(module.lessons[:count]):
            _record, created = mark_lesson_read(session, user.id, module, lesson.id, 600 + 90 * position, now)
            if created:
                report.created.append(f"read {email} {module_id}/{lesson.id}")
