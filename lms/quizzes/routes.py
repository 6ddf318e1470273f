"""My quizzes, taking an attempt (one question per page, saved as you go), results, and item statistics."""

import secrets
from random import Random

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.access import roles, rule, signed_in
from lms.accounts import services as accounts
from lms.accounts.models import CohortMember
from lms.content.services import get_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import charts, forms, services, stats
from lms.quizzes.bank import DOMAINS
from lms.quizzes.grading import ResponseError, correct_response, grade
from lms.quizzes.models import AttemptAnswer, QuizAttempt
from lms.quizzes.services import QuizError, get_library
from lms.web import issue_credit

bp = Blueprint("quizzes", __name__)


def _own_attempt(view_args: dict) -> None:
    attempt = db.session.get(QuizAttempt, view_args["attempt_id"])
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)  # someone else's attempt does not exist, as far as this user can tell


attempt_owner = rule("the trainee who started this attempt", ("trainee", "supervisor", "admin"), _own_attempt)


def _rng() -> Random:
    return Random(secrets.randbits(64))  # noqa: S311 - shuffling questions, not security


@bp.route("/quizzes")
@signed_in
def index():
    library, catalog = get_library(), get_catalog()
    now = utcnow()
    attempts = services.history(db.session, current_user.id)
    best: dict[str, QuizAttempt] = {}
    for attempt in attempts:
        if attempt.kind != "post_test" or attempt.status != "submitted":
            continue
        if (attempt.score_percent or 0) > (getattr(best.get(attempt.source_id), "score_percent", None) or -1):
            best[attempt.source_id] = attempt
    open_ids = {a.source_id: a for a in attempts if a.status == "in_progress"}
    modules = [(m, library.bank_for_module(m.id)) for m in catalog.modules]
    practice = [a for a in attempts if a.kind == "practice_exam" and a.status == "submitted"]
    due = len(services.due_review_items(db.session, library, current_user.id, now))
    return render_template("quizzes/index.html", modules=modules, best=best, open_ids=open_ids,
                           blueprints=library.blueprints, due=due, chart=charts.score_chart(practice),
                           practice=practice, recent=list(reversed(attempts))[:15], catalog=catalog)


@bp.route("/quizzes/post-test/<module_id>", methods=["POST"])
@signed_in
def start_post_test(module_id: str):
    module = get_catalog().module(module_id)
    if module is None:
        abort(404)
    objectives = [f"{module.id}:{o.id}" for o in module.objectives]
    return _open_attempt(lambda: services.start_post_test(db.session, get_library(), current_user.id, module.id,
                                                          objectives, request.form.get("mode", "exam"), utcnow(),
                                                          _rng()),
                         url_for("content.module_overview", module_id=module.id))


@bp.route("/quizzes/practice/<blueprint_id>", methods=["POST"])
@signed_in
def start_practice_exam(blueprint_id: str):
    return _open_attempt(lambda: services.start_practice_exam(db.session, get_library(), current_user.id,
                                                              blueprint_id, utcnow(), _rng()),
                         url_for("quizzes.index"))


@bp.route("/quizzes/review", methods=["POST"])
@signed_in
def start_review():
    return _open_attempt(lambda: services.start_review(db.session, get_library(), current_user.id, utcnow(), _rng()),
                         url_for("quizzes.index"), category="info")


def _open_attempt(start, refused_url: str, category: str = "error"):
    """Start (or resume) an attempt and go to it; on a QuizError say why and go back."""
    try:
        attempt = start()
    except QuizError as error:
        db.session.rollback()
        flash(str(error), category)
        return redirect(refused_url)
    db.session.commit()
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


def _title(attempt: QuizAttempt) -> str:
    if attempt.kind == "post_test":
        module = get_catalog().module(attempt.source_id)
        return f"Post-test: {module.title if module else attempt.source_id}"
    if attempt.kind == "practice_exam":
        blueprint = get_library().blueprint(attempt.source_id)
        return blueprint.title if blueprint else "Practice exam"
    return "Review of missed questions"


def _expire(attempt: QuizAttempt) -> bool:
    if services.close_if_expired(db.session, get_library(), attempt, utcnow()):
        db.session.commit()
        flash("Time ran out. Your attempt was submitted with the answers saved before the deadline.", "warning")
        return True
    return False


@bp.route("/attempts/<int:attempt_id>")
@attempt_owner
def take(attempt_id: int):
    attempt = db.session.get(QuizAttempt, attempt_id)
    if _expire(attempt) or attempt.status != "in_progress":
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    library = get_library()
    answers = {a.item_id: a for a in attempt.answers}
    position = request.args.get("n", type=int) or next(
        (i + 1 for i, item_id in enumerate(attempt.item_ids) if item_id not in answers), 1)
    position = min(max(position, 1), len(attempt.item_ids))
    item_id = attempt.item_ids[position - 1]
    item = library.items.get(item_id)
    answer = answers.get(item_id)
    feedback = None
    if item is not None and answer is not None and attempt.mode == "practice":
        feedback = grade(item, answer.response["value"])
    return render_template("quizzes/take.html", attempt=attempt, title=_title(attempt), position=position,
                           item=item, item_id=item_id, layout=attempt.layout.get(item_id, {}), answer=answer,
                           answers=answers, feedback=feedback, remaining=services.remaining(attempt, utcnow()),
                           correct=correct_response(item) if feedback else None, domains=DOMAINS)


@bp.route("/attempts/<int:attempt_id>/answer/<int:position>", methods=["POST"])
@attempt_owner
def answer(attempt_id: int, position: int):
    attempt = db.session.get(QuizAttempt, attempt_id)
    if _expire(attempt):
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    library = get_library()
    try:
        item = services.served_item(attempt, library, position, request.form.get("item_id", ""))
        response = forms.parse_form(item, attempt.layout.get(item.id, {}), request.form)
        services.save_answer(db.session, attempt, item, response, utcnow())
    except ResponseError as error:
        db.session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("quizzes.take", attempt_id=attempt.id, n=position)), 303
    except QuizError as error:
        db.session.rollback()
        flash(str(error), "error")
        target = "quizzes.result" if attempt.status != "in_progress" else "quizzes.take"
        return redirect(url_for(target, attempt_id=attempt.id, n=position)), 303
    db.session.commit()
    if attempt.mode == "practice":
        return redirect(url_for("quizzes.take", attempt_id=attempt.id, n=position) + "#feedback"), 303
    if request.form.get("go") == "submit" or position >= len(attempt.item_ids):
        return redirect(url_for("quizzes.review_page", attempt_id=attempt.id)), 303
    return redirect(url_for("quizzes.take", attempt_id=attempt.id, n=position + 1)), 303


@bp.route("/attempts/<int:attempt_id>/review")
@attempt_owner
def review_page(attempt_id: int):
    """Before submitting: which questions are answered, with links back."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if _expire(attempt) or attempt.status != "in_progress":
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    answered = {a.item_id for a in attempt.answers}
    return render_template("quizzes/before_submit.html", attempt=attempt, title=_title(attempt), answered=answered,
                           remaining=services.remaining(attempt, utcnow()))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@attempt_owner
def submit(attempt_id: int):
    attempt = db.session.get(QuizAttempt, attempt_id)
    timed_out = services.past_deadline(attempt, utcnow())
    if services.submit_attempt(db.session, get_library(), attempt, utcnow(), timed_out=timed_out):
        module = get_catalog().module(attempt.source_id) if attempt.kind == "post_test" else None
        if module is not None and attempt.passed:
            issue_credit(module)  # passing the post-test can be the step that completes the module
        db.session.commit()
        flash("Submitted. Your results are below." if not timed_out else
              "Time ran out before you submitted; the answers saved before the deadline were scored.", "success")
    else:
        db.session.rollback()
        flash("This attempt was already submitted; nothing changed.", "info")
    return redirect(url_for("quizzes.result", attempt_id=attempt.id)), 303


@bp.route("/attempts/<int:attempt_id>/result")
@attempt_owner
def result(attempt_id: int):
    attempt = db.session.get(QuizAttempt, attempt_id)
    _expire(attempt)
    if attempt.status != "submitted":
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    library, catalog = get_library(), get_catalog()
    answers = {a.item_id: a for a in attempt.answers}
    rows = []
    for item_id in attempt.item_ids:
        item = library.items.get(item_id)
        answer = answers.get(item_id)
        feedback = grade(item, answer.response["value"]) if item and answer else None
        rows.append((item_id, item, answer, feedback, correct_response(item) if item else None))

    def objective_label(item):
        for qualified in item.objectives:
            module_id, _, objective_id = qualified.partition(":")
            module = catalog.module(module_id)
            objective = next((o for o in module.objectives if o.id == objective_id), None) if module else None
            yield f"{module.title}: {objective.text}" if objective else qualified

    return render_template("quizzes/result.html", attempt=attempt, title=_title(attempt), rows=rows,
                           by_domain=services.breakdown(attempt, library, lambda i: [DOMAINS[i.domain]]),
                           by_objective=services.breakdown(attempt, library, lambda i: list(objective_label(i))))


# --- item statistics (supervisors see their cohorts' attempts; admins see all) -------------------

def _scoped_attempts(bank_id: str) -> list[QuizAttempt]:
    library = get_library()
    bank = library.bank(bank_id)
    if bank is None:
        abort(404)
    item_ids = {i.id for i in bank.items}
    query = select(QuizAttempt).where(QuizAttempt.status == "submitted")
    if bank.module_id:
        query = query.where(QuizAttempt.kind == "post_test", QuizAttempt.source_id == bank.module_id)
    if current_user.role != "admin":
        cohort_ids = [c.id for c in accounts.visible_cohorts(db.session, current_user)]
        query = query.where(QuizAttempt.user_id.in_(select(CohortMember.user_id)
                                                    .where(CohortMember.cohort_id.in_(cohort_ids))))
    attempts = list(db.session.scalars(query))
    return [a for a in attempts if item_ids & set(a.item_ids)]


@bp.route("/quizzes/stats")
@roles("supervisor", "admin")
def stats_index():
    library = get_library()
    counts = {bank.id: len(_scoped_attempts(bank.id)) for bank in library.banks}
    return render_template("quizzes/stats_index.html", banks=library.banks, counts=counts)


@bp.route("/quizzes/stats/<bank_id>")
@roles("supervisor", "admin")
def stats_bank(bank_id: str):
    library = get_library()
    bank = library.bank(bank_id)
    attempts = _scoped_attempts(bank_id)
    answers = db.session.scalars(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id.in_([a.id for a in attempts]))).all() if attempts else []
    by_attempt: dict[int, dict[str, float]] = {a.id: {} for a in attempts}
    for answer in answers:
        by_attempt[answer.attempt_id][answer.item_id] = answer.score
    graded = {i.id: i for i in bank.items if i.graded}
    marks = []
    for attempt in attempts:
        served = [i for i in attempt.item_ids if i in library.items and library.items[i].graded]
        marks.append({i: by_attempt[attempt.id].get(i, 0.0) for i in served})
    served_ids = [i for i in graded if any(i in m for m in marks)]
    rows = stats.item_statistics(marks, {i: 1.0 for i in served_ids}) if served_ids else []
    option_counts: dict[str, dict[str, int]] = {}
    for answer in answers:
        item = graded.get(answer.item_id)
        if item is not None and item.type in ("single", "multiple"):
            value = answer.response["value"]
            for choice in value if isinstance(value, list) else [value]:
                option_counts.setdefault(item.id, {}).setdefault(choice, 0)
                option_counts[item.id][choice] += 1
    return render_template("quizzes/stats_bank.html", bank=bank, rows=rows, items=graded, attempts=attempts,
                           option_counts=option_counts)
