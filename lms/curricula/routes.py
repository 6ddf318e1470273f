"""Building curricula, assigning them, the supervisor dashboard and the trainee's assignments."""

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.access import roles, rule, signed_in
from lms.accounts import services as accounts
from lms.accounts.models import Cohort, CohortMember, User
from lms.charts import bar_chart, line_chart
from lms.content.services import get_catalog
from lms.curricula import forms, services
from lms.curricula.calendar import assignments_calendar
from lms.curricula.kinds import ITEM_KINDS
from lms.curricula.models import Assignment, Curriculum
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes.services import get_library
from lms.validation import page_arg, parse_int
from lms.web import actor, csv_response

bp = Blueprint("curricula", __name__)

STATE_LABELS = {"completed": "Completed", "in_progress": "In progress", "not_started": "Not started",
                "overdue": "Overdue", "behind": "Not finished"}


def _editable(view_args: dict) -> None:
    curriculum = db.session.get(Curriculum, view_args["curriculum_id"])
    if curriculum is None or not services.can_edit(current_user, curriculum):
        abort(404)


curriculum_owner = rule("owner of this curriculum, or admin", ("supervisor", "admin"), _editable)


def _assignment_manager(view_args: dict) -> None:
    assignment = db.session.get(Assignment, view_args["assignment_id"])
    if assignment is None:
        abort(404)
    if not services.can_manage_assignment(db.session, current_user, assignment):
        abort(403)


assignment_manager = rule("supervisor of the assigned cohort or trainee, or admin", ("supervisor", "admin"),
                          _assignment_manager)


def _today() -> date:
    return utcnow().date()


# --- curricula -----------------------------------------------------------------------------

@bp.route("/curricula", methods=["GET", "POST"])
@roles("supervisor", "admin")
def curriculum_list():
    form = forms.CurriculumForm()
    if form.validate_on_submit():
        try:
            curriculum = services.create_curriculum(db.session, actor(), current_user.id, form.name.data,
                                                    form.description.data or "", utcnow())
        except services.CurriculumError as error:
            db.session.rollback()
            form.name.errors = [str(error)]
        else:
            db.session.commit()
            return redirect(url_for("curricula.curriculum_edit", curriculum_id=curriculum.id))
    return render_template("curricula/list.html", curricula=services.visible_curricula(db.session, current_user),
                           form=form)


def _item_options() -> dict:
    catalog, library = get_catalog(), get_library()
    return {kind: impl.options(catalog, library) for kind, impl in ITEM_KINDS.items()}


def _targets() -> list[SelectChoice]:
    cohorts = accounts.visible_cohorts(db.session, current_user)
    choices = [SelectChoice(f"cohort:{c.id}", f"Cohort: {c.name}") for c in cohorts]
    trainees = db.session.execute(select(User.id, User.name, User.email).join(CohortMember)
                                  .where(CohortMember.cohort_id.in_([c.id for c in cohorts]))
                                  .distinct().order_by(User.name)).all()
    choices += [SelectChoice(f"user:{uid}", f"Trainee: {name} ({email})") for uid, name, email in trainees]
    return choices


def _edit_page(curriculum: Curriculum, item_form=None, assign_form=None, status: int = 200):
    item_form = item_form or forms.ItemForm(prefix="item")
    item_form.set_choices(_item_options())
    assign_form = assign_form or forms.AssignForm(prefix="assign")
    assign_form.target.choices = _targets()
    catalog, library = get_catalog(), get_library()
    titles = {item.id: (ITEM_KINDS[item.kind].title(item.ref_id, catalog, library) if item.kind in ITEM_KINDS
                        else None) for item in curriculum.items}
    assignments = db.session.scalars(select(Assignment).where(Assignment.curriculum_id == curriculum.id)
                                     .order_by(Assignment.created_at.desc())).all()
    names = dict(db.session.execute(select(Cohort.id, Cohort.name)).all())
    return render_template("curricula/edit.html", curriculum=curriculum, item_form=item_form,
                           assign_form=assign_form, titles=titles, kinds=ITEM_KINDS, assignments=assignments,
                           cohort_names=names, sandbox_ready=bool(_item_options()["sandbox_ticket"])), status


@bp.route("/curricula/<int:curriculum_id>")
@curriculum_owner
def curriculum_edit(curriculum_id: int):
    return _edit_page(db.session.get(Curriculum, curriculum_id))


@bp.route("/curricula/<int:curriculum_id>/items", methods=["POST"])
@curriculum_owner
def add_item(curriculum_id: int):
    curriculum = db.session.get(Curriculum, curriculum_id)
    form = forms.ItemForm(prefix="item")
    form.set_choices(_item_options())
    if form.validate_on_submit():
        kind, _, ref_id = form.ref.data.partition(":")
        try:
            services.add_item(db.session, actor(), curriculum, kind, ref_id, form.required.data, form.min_score.data,
                              form.expected_minutes.data, get_catalog(), get_library(), utcnow())
        except services.CurriculumError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            return redirect(url_for("curricula.curriculum_edit", curriculum_id=curriculum.id))
    return _edit_page(curriculum, item_form=form, status=400)


@bp.route("/curricula/<int:curriculum_id>/items/<int:item_id>/<any(up, down, remove):action>", methods=["POST"])
@curriculum_owner
def change_item(curriculum_id: int, item_id: int, action: str):
    curriculum = db.session.get(Curriculum, curriculum_id)
    try:
        if action == "remove":
            services.remove_item(db.session, actor(), curriculum, item_id, utcnow())
        else:
            services.move_item(db.session, actor(), curriculum, item_id, -1 if action == "up" else 1, utcnow())
    except services.CurriculumError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
    return redirect(url_for("curricula.curriculum_edit", curriculum_id=curriculum.id))


@bp.route("/curricula/<int:curriculum_id>/copy", methods=["POST"])
@curriculum_owner
def copy(curriculum_id: int):
    source = db.session.get(Curriculum, curriculum_id)
    copied = services.copy_curriculum(db.session, actor(), source, current_user.id, utcnow())
    db.session.commit()
    flash(f"Copied to “{copied.name}”.", "success")
    return redirect(url_for("curricula.curriculum_edit", curriculum_id=copied.id))


@bp.route("/curricula/<int:curriculum_id>/assign", methods=["POST"])
@curriculum_owner
def assign(curriculum_id: int):
    curriculum = db.session.get(Curriculum, curriculum_id)
    form = forms.AssignForm(prefix="assign")
    form.target.choices = _targets()
    kind, _, raw_id = (form.target.data or "").partition(":")
    target_id = parse_int(raw_id, 1)
    if kind == "cohort" and target_id is not None and not accounts.can_manage_cohort(db.session, current_user,
                                                                                   target_id):
        abort(403)  # someone else's cohort: refused outright, not treated as a typo
    if form.validate_on_submit():
        try:
            assignment = services.assign(db.session, actor(), current_user, curriculum,
                                         target_id if kind == "cohort" else None,
                                         target_id if kind == "user" else None,
                                         form.start_on.data, form.due_on.data, utcnow())
        except services.CurriculumError as error:
            db.session.rollback()
            getattr(form, error.field or "target").errors = [str(error)]
        except PermissionError:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash("Assigned. Trainees see it under My assignments.", "success")
            return redirect(url_for("curricula.assignment_detail", assignment_id=assignment.id))
    return _edit_page(curriculum, assign_form=form, status=400)


# --- assignments ---------------------------------------------------------------------------------

PAGE_SIZE = 50


def _assignment_user_ids(assignment: Assignment) -> list[int]:
    if assignment.user_id:
        return [assignment.user_id]
    return list(db.session.scalars(select(CohortMember.user_id).join(User, User.id == CohortMember.user_id)
                                   .where(CohortMember.cohort_id == assignment.cohort_id).order_by(User.name)))


def _assignment_progress(assignment: Assignment, user_ids: list[int]) -> list[services.Progress]:
    """Per-trainee detail for ``user_ids`` (a page of them, on large cohorts)."""
    members = {assignment.cohort_id: user_ids} if assignment.cohort_id else {}
    statuses = services.item_statuses(db.session, user_ids, list(assignment.curriculum.items))
    return services.build_progress([assignment], members, statuses, get_catalog(), get_library(), _today())


@bp.route("/assignments/<int:assignment_id>")
@assignment_manager
def assignment_detail(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    user_ids = _assignment_user_ids(assignment)
    state = request.args.get("state", "")
    summary = services.assignment_states(db.session, assignment, user_ids, get_catalog(), get_library(), _today())
    if state:
        user_ids = [u for u in user_ids if summary.get(u) == state]
    page = page_arg()
    pages = max((len(user_ids) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    shown_ids = user_ids[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    progress = _assignment_progress(assignment, shown_ids)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(shown_ids)))}
    extend = forms.ExtendForm(prefix="extend")
    extend.user_id.choices = [SelectChoice(u, users[u].display_name) for u in shown_ids]
    cohort = db.session.get(Cohort, assignment.cohort_id) if assignment.cohort_id else None
    counts = {key: sum(1 for value in summary.values() if value == key) for key in services.SUMMARY_STATES}
    insight = services.assignment_insight(db.session, assignment, len(summary), get_catalog(), get_library())
    over_time = line_chart([(day.strftime("%b %d"), count) for day, count in insight.over_time],
                           "Items completed over time (cumulative)", max([c for _d, c in insight.over_time] + [1]),
                           unit="")
    bins = services.score_bins(insight.scores)
    return render_template("curricula/assignment.html", assignment=assignment, progress=progress, users=users,
                           extend=extend, cohort=cohort, state=state, labels=STATE_LABELS, counts=counts,
                           total=len(summary), page=page, pages=pages, shown=len(user_ids), insight=insight,
                           over_time=over_time, bins=bins,
                           score_chart=bar_chart(bins, "Scores on completed items, by band"))


@bp.route("/assignments/<int:assignment_id>/trainees/<int:user_id>")
@assignment_manager
def trainee_detail(assignment_id: int, user_id: int):
    """One trainee on one assignment: each item's status, score, time spent and attempts."""
    assignment = db.session.get(Assignment, assignment_id)
    if user_id not in _assignment_user_ids(assignment):
        abort(404)
    progress = _assignment_progress(assignment, [user_id])[0]
    user = db.session.get(User, user_id)
    details = services.trainee_item_details(db.session, user_id, list(assignment.curriculum.items))
    return render_template("curricula/trainee.html", assignment=assignment, progress=progress, user=user,
                           details=details, labels=STATE_LABELS)


@bp.route("/assignments/<int:assignment_id>.csv")
@assignment_manager
def assignment_csv(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    progress = _assignment_progress(assignment, _assignment_user_ids(assignment))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([p.user_id for p in progress])))}
    items = list(assignment.curriculum.items)
    header = ["trainee", "email", "due_on", "status", "required_done", "required_total"] + \
             [f"{i.position}. {i.kind}:{i.ref_id}" for i in items]
    rows = []
    for p in progress:
        cells = {v.item.id: (f"completed {v.status.completed_at:%Y-%m-%d}" if v.status.state == "completed"
                             else "retired" if v.retired else "overdue" if v.overdue else v.status.state)
                 for v in p.items}
        rows.append([users[p.user_id].display_name, users[p.user_id].email, p.due_on.isoformat(), p.state,
                     p.done, len(p.required)] + [cells.get(i.id, "") for i in items])
    return csv_response(f"assignment-{assignment.id}.csv", header, rows)


@bp.route("/assignments/<int:assignment_id>/extend", methods=["POST"])
@assignment_manager
def extend(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    form = forms.ExtendForm(prefix="extend")
    form.user_id.choices = [SelectChoice(u, str(u)) for u in _assignment_user_ids(assignment)]
    if form.validate_on_submit():
        try:
            services.extend_due(db.session, actor(), assignment, form.user_id.data, form.due_on.data, utcnow())
        except services.CurriculumError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Due date extended.", "success")
    else:
        flash(" ".join(form.due_on.errors) or "Choose a trainee from this assignment and a valid date.", "error")
    return redirect(url_for("curricula.assignment_detail", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/unassign", methods=["POST"])
@assignment_manager
def unassign(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    services.unassign(db.session, actor(), assignment, utcnow())
    db.session.commit()
    flash("Unassigned. The assignment and the trainees' progress stay on record.", "success")
    return redirect(url_for("curricula.curriculum_edit", curriculum_id=assignment.curriculum_id))


# --- dashboard and the trainee's view ---------------------------------------------------------------

@bp.route("/dashboard")
@roles("supervisor", "admin")
def dashboard():
    cohorts = accounts.visible_cohorts(db.session, current_user)
    cells = services.cohort_matrix(db.session, cohorts, get_catalog(), get_library(), _today())
    if request.args.get("overdue"):
        cells = [c for c in cells if c.overdue]
    sort = request.args.get("sort", "due")
    keys = {"due": lambda c: (c.assignment.due_on, c.cohort.name), "completion": lambda c: c.completion,
            "overdue": lambda c: -c.overdue, "cohort": lambda c: (c.cohort.name, c.assignment.due_on)}
    cells.sort(key=keys.get(sort, keys["due"]))
    return render_template("curricula/dashboard.html", cells=cells, sort=sort,
                           overdue_only=bool(request.args.get("overdue")))


@bp.route("/dashboard.csv")
@roles("supervisor", "admin")
def dashboard_csv():
    cohorts = accounts.visible_cohorts(db.session, current_user)
    cells = services.cohort_matrix(db.session, cohorts, get_catalog(), get_library(), _today())
    rows = [[c.cohort.name, c.assignment.curriculum.name, c.assignment.start_on.isoformat(),
             c.assignment.due_on.isoformat(), c.trainees, c.completed, round(c.completion, 1), c.overdue]
            for c in cells]
    return csv_response("dashboard.csv", ["cohort", "curriculum", "start_on", "due_on", "trainees",
                                          "trainees_completed", "completion_percent", "trainees_overdue"], rows)


@bp.route("/my/assignments")
@signed_in
def my_assignments():
    progress = services.trainee_progress(db.session, current_user.id, get_catalog(), get_library(), _today())
    return render_template("curricula/mine.html", progress=progress, labels=STATE_LABELS, today=_today())


@bp.route("/my/assignments.ics")
@signed_in
def my_assignments_ics():
    """Due dates as an iCalendar file (RFC 5545) to import into any calendar."""
    progress = services.trainee_progress(db.session, current_user.id, get_catalog(), get_library(), _today())
    body = assignments_calendar(progress, url_for("curricula.my_assignments", _external=True), utcnow())
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="assignments.ics"'})
