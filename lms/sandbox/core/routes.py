"""Sandbox pages: ticket list, the ticket workspace with its maintenance screens and replay tools, and the
supervisor's view of attempts. A trainee reaches an instance only through URLs their own instance passes."""

from collections import defaultdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.access import roles, rule, signed_in
from lms.accounts.models import User
from lms.content.services import get_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import forms, services
from lms.sandbox.core.editors import EDITORS, NAV_GROUPS
from lms.sandbox.core.models import SandboxInstance
from lms.sandbox.core.schema import BY_NAME, BY_YAML
from lms.sandbox.pharmacy.editors import BROWSE
from lms.sandbox.pharmacy.engine import decide_removal, resolve_scan, robot_restock
from lms.validation import page_arg, parse_int
from lms.web import ActionForm, csv_response

# State-changing POSTs here carry only the CSRF token, which the app-wide CSRFProtect checks before any view runs.
bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

PAGE_SIZE = 50


def _own_instance(view_args: dict) -> None:
    """404, not 403, for anyone else's instance: its existence is not theirs to learn."""
    instance = db.session.get(SandboxInstance, view_args["instance_id"])
    if instance is None or instance.user_id != current_user.id:
        abort(404)


instance_owner = rule("the trainee who owns this sandbox instance", ("trainee", "supervisor", "admin"),
                      _own_instance)


def _actor() -> services.Actor:
    return services.Actor(current_user.id, current_user.name)


def _ticket_or_404(ticket_id: str):
    ticket = services.get_tickets().get(ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _workspace(instance_id: int):
    instance = db.session.get(SandboxInstance, instance_id)
    ticket = services.get_tickets().get(instance.ticket_id)
    if ticket is None:
        abort(410, "This ticket has been withdrawn.")
    return instance, ticket


# --- ticket list ---------------------------------------------------------------------------------------------------

@bp.route("/")
@signed_in
def home():
    tickets = services.get_tickets()
    mine = {i.ticket_id: i for i in db.session.scalars(
        select(SandboxInstance).where(SandboxInstance.user_id == current_user.id))}
    by_category = defaultdict(list)
    for ticket in sorted(tickets.tickets, key=lambda t: (t.difficulty, t.number)):
        by_category[ticket.category].append(ticket)
    return render_template("sandbox/home.html", by_category=dict(sorted(by_category.items())), mine=mine,
                           solved=sum(1 for i in mine.values() if i.solved_at), total=len(tickets.tickets))


@bp.route("/tickets/<ticket_id>")
@signed_in
def ticket(ticket_id: str):
    ticket = _ticket_or_404(ticket_id)
    instance = services.find_instance(db.session, current_user.id, ticket.id)
    return render_template("sandbox/ticket.html", ticket=ticket, instance=instance, form=ActionForm(),
                           modules=_modules(ticket))


@bp.route("/tickets/<ticket_id>/start", methods=["POST"])
@signed_in
def start(ticket_id: str):
    ticket = _ticket_or_404(ticket_id)
    try:
        instance, created = services.start_ticket(db.session, current_user.id, ticket, utcnow())
        db.session.commit()
    except IntegrityError:  # a double click raced us to it: use the instance the first click made
        db.session.rollback()
        instance, created = services.find_instance(db.session, current_user.id, ticket.id), False
    if created:
        flash("Your copy of the pharmacy system is ready. Nothing you do here touches anyone else's.", "success")
    return redirect(url_for("sandbox.workspace", instance_id=instance.id))


# --- the workspace -------------------------------------------------------------------------------------------------

def _modules(ticket) -> list:
    """The catalog modules a ticket links to (a link to a module that is gone is left out)."""
    catalog = get_catalog()
    return [m for m in (catalog.module(module_id) for module_id in ticket.modules) if m is not None]


def _render_workspace(template: str, instance, ticket, **context):
    hints = services.revealed_hints(db.session, instance)
    return render_template(template, instance=instance, ticket=ticket, editors=EDITORS, nav_groups=NAV_GROUPS,
                           modules=_modules(ticket),
                           browse=[BY_YAML[name] for name in BROWSE], hints_shown=hints,
                           action_form=ActionForm(), approver=services.APPROVER, **context)


@bp.route("/w/<int:instance_id>")
@instance_owner
def workspace(instance_id: int):
    instance, ticket = _workspace(instance_id)
    latest = services.latest_results(db.session, instance)
    return _render_workspace("sandbox/workspace.html", instance, ticket, latest=latest,
                             stale=instance.ticket_version != ticket.version)


@bp.route("/w/<int:instance_id>/submit", methods=["POST"])
@instance_owner
def submit(instance_id: int):
    instance, ticket = _workspace(instance_id)
    try:
        submission = services.submit(db.session, instance, ticket, current_user.id, utcnow())
        db.session.commit()
    except IntegrityError:  # the same click twice: the first one's grading stands
        db.session.rollback()
        return redirect(url_for("sandbox.workspace", instance_id=instance_id, _anchor="results"))
    if submission.solved:
        flash("Solved: every check passed. The ticket is marked solved.", "success")
    else:
        flash("Not fixed yet: see which checks still fail below.", "warning")
    return redirect(url_for("sandbox.workspace", instance_id=instance_id, _anchor="results"))


@bp.route("/w/<int:instance_id>/reset", methods=["POST"])
@instance_owner
def reset(instance_id: int):
    instance, ticket = _workspace(instance_id)
    services.reset_instance(db.session, instance, ticket, utcnow())
    db.session.commit()
    flash("Your instance was rebuilt from the start of the ticket. Past submissions are kept.", "info")
    return redirect(url_for("sandbox.workspace", instance_id=instance_id))


@bp.route("/w/<int:instance_id>/hint", methods=["POST"])
@instance_owner
def hint(instance_id: int):
    instance, ticket = _workspace(instance_id)
    try:
        services.reveal_next_hint(db.session, instance, ticket, utcnow())
        db.session.commit()
    except services.SandboxError as error:
        db.session.rollback()
        flash(str(error), "info")
    except IntegrityError:  # double click: the hint is already showing
        db.session.rollback()
    return redirect(url_for("sandbox.workspace", instance_id=instance_id, _anchor="hints"))


# --- maintenance screens -------------------------------------------------------------------------------------------

def _editor_or_404(name: str):
    editor = EDITORS.get(name)
    if editor is None:
        abort(404)
    return editor


@bp.route("/w/<int:instance_id>/screens/<name>")
@instance_owner
def screen(instance_id: int, name: str):
    instance, ticket = _workspace(instance_id)
    editor = _editor_or_404(name)
    if editor.page:
        return redirect(url_for(editor.page, instance_id=instance_id))
    world = services.instance_world(db.session, instance, utcnow())
    query = (request.args.get("q") or "").strip()[:80]
    rows = list(world.table(editor.table).values())
    if editor.sort:
        rows.sort(key=lambda r: editor.sort(world, r))
    if query and editor.search:
        words = query.casefold().split()
        rows = [r for r in rows if all(w in editor.search(world, r).casefold() for w in words)]
    page = page_arg()
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return _render_workspace("sandbox/screen.html", instance, ticket, editor=editor, world=world, rows=shown,
                             total=len(rows), query=query, page=page, pages=pages)


def _change(instance, ticket, editor, action: str, row_id: int | None, form):
    """Apply a submitted form through the service; on refusal put the messages on the form's fields."""
    values = {f.column: form[f.column].data for f in editor.fields if f.column in form}
    try:
        saved = services.apply_change(db.session, instance, ticket, _actor(), editor.name, action, row_id, values,
                                      form.change_request.data if "change_request" in form else None, utcnow())
        db.session.commit()
        return saved
    except services.ChangeRejected as error:
        db.session.rollback()
        for field_name, message in error.errors.items():
            column = next((f.column for f in editor.fields if field_name in (f.name, f.column)), field_name)
            if column in form:
                form[column].errors = [*form[column].errors, message]
            else:
                form.form_errors.append(message)
        return None
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append("That change clashes with a row saved a moment ago (a second click?). Reload and "
                                "check the list.")
        return None


@bp.route("/w/<int:instance_id>/screens/<name>/new", methods=["GET", "POST"])
@instance_owner
def create_row(instance_id: int, name: str):
    instance, ticket = _workspace(instance_id)
    editor = _editor_or_404(name)
    if not editor.create:
        abort(404)
    world = services.instance_world(db.session, instance, utcnow())
    prefill = {f.column: _prefill(f, request.args.get(f.name)) for f in editor.fields if request.args.get(f.name)}
    for f in editor.fields:  # a new row's check boxes start as the column's default (a new code map is active)
        default = BY_NAME[editor.table].table.c[f.column].default
        if f.kind == "bool" and f.column not in prefill and default is not None and not callable(default.arg):
            prefill[f.column] = bool(default.arg)
    form = forms.editor_form(editor, world, creating=True, formdata=request.form if request.method == "POST"
                             else None, data=prefill)
    if form.validate_on_submit():
        saved = _change(instance, ticket, editor, "create", None, form)
        if saved is not None:
            flash(f"Saved to {editor.label.lower()} and recorded in the audit trail.", "success")
            return redirect(url_for("sandbox.edit_row", instance_id=instance_id, name=name, row_id=saved)
                            if editor.update else url_for("sandbox.screen", instance_id=instance_id, name=name))
    return _render_workspace("sandbox/edit.html", instance, ticket, editor=editor, form=form, row=None, world=world)


def _prefill(field, value: str):
    """Values a link may pre-fill (e.g. "link a barcode" from a product page); ids only for references."""
    if field.kind == "ref":
        return parse_int(value)
    return value[:200]


def _change_without_form(instance, ticket, editor, row_id: int) -> None:
    """A change posted to a row whose screen has no form (an interface message): the service decides, and says why
    it refuses on the row's own page."""
    values = {f.column: request.form[f.column][:100_000] for f in editor.fields if f.column in request.form}
    try:
        services.apply_change(db.session, instance, ticket, _actor(), editor.name, "update", row_id, values,
                              request.form.get("change_request"), utcnow())
        db.session.commit()
    except services.ChangeRejected as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    except IntegrityError:
        db.session.rollback()
        flash("That change clashes with one saved a moment ago (a second click?).", "error")
    else:
        flash("Saved and recorded in the audit trail.", "success")


@bp.route("/w/<int:instance_id>/screens/<name>/<int:row_id>", methods=["GET", "POST"])
@instance_owner
def edit_row(instance_id: int, name: str, row_id: int):
    instance, ticket = _workspace(instance_id)
    editor = _editor_or_404(name)
    world = services.instance_world(db.session, instance, utcnow())
    row = world.get(editor.table, row_id)
    if row is None:
        abort(404)
    if editor.row_page:  # the row has its own page and no form here; a posted change still meets the rules
        if request.method == "POST":
            _change_without_form(instance, ticket, editor, row_id)
        return redirect(url_for(editor.row_page, instance_id=instance_id, row_id=row_id))
    locked = editor.can_edit_row(row)
    form = forms.editor_form(editor, world, creating=False,
                             formdata=request.form if request.method == "POST" else None, data=dict(row))
    if request.method == "POST" and (locked or not editor.update):
        abort(400)
    if form.validate_on_submit():
        saved = _change(instance, ticket, editor, "update", row_id, form)
        if saved is not None:
            flash("Saved and recorded in the audit trail.", "success")
            return redirect(url_for("sandbox.edit_row", instance_id=instance_id, name=name, row_id=row_id))
    history = [a for a in world.table("sb_audit").values() if a.table_name == editor.table and a.row_id == row_id]
    return _render_workspace("sandbox/edit.html", instance, ticket, editor=editor, form=form, row=row, world=world,
                             locked=locked, history=history[::-1])


@bp.route("/w/<int:instance_id>/screens/<name>/<int:row_id>/delete", methods=["POST"])
@instance_owner
def delete_row(instance_id: int, name: str, row_id: int):
    instance, ticket = _workspace(instance_id)
    editor = _editor_or_404(name)
    if not editor.delete:
        abort(404)
    try:
        services.apply_change(db.session, instance, ticket, _actor(), name, "delete", row_id, {},
                              request.form.get("change_request"), utcnow())
        db.session.commit()
        flash(f"Removed from {editor.label.lower()} and recorded in the audit trail.", "success")
    except services.ChangeRejected as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    return redirect(url_for("sandbox.screen", instance_id=instance_id, name=name))


@bp.route("/w/<int:instance_id>/browse/<name>")
@instance_owner
def browse(instance_id: int, name: str):
    instance, ticket = _workspace(instance_id)
    if name not in BROWSE:
        abort(404)
    spec = BY_YAML[name]
    world = services.instance_world(db.session, instance, utcnow())
    columns = [c.name for c in spec.columns]
    refs = spec.references
    rows = []
    for r in list(world.table(spec.name).values())[:500]:
        cells = []
        for column in columns:
            if column in refs and r[column] is not None:
                target = world.get(refs[column].table, r[column])
                cells.append(world.key_of(refs[column].table, target) if target else "?")
            else:
                cells.append(r[column])
        rows.append(cells)
    headers = [refs[c].field if c in refs else c for c in columns]
    return _render_workspace("sandbox/browse.html", instance, ticket, spec=spec, headers=headers, rows=rows)


# --- change requests -----------------------------------------------------------------------------------------------

@bp.route("/w/<int:instance_id>/change-requests")
@instance_owner
def change_requests(instance_id: int):
    instance, ticket = _workspace(instance_id)
    world = services.instance_world(db.session, instance, utcnow())
    rows = sorted(world.table("sb_change_request").values(), key=lambda c: c.reference, reverse=True)
    return _render_workspace("sandbox/change_requests.html", instance, ticket, requests=rows)


@bp.route("/w/<int:instance_id>/change-requests/new", methods=["GET", "POST"])
@instance_owner
def raise_change_request(instance_id: int):
    instance, ticket = _workspace(instance_id)
    form = forms.ChangeRequestForm()
    if form.validate_on_submit():
        values = {name: form[name].data for name in ("title", "reason", "risk", "test_plan")}
        try:
            reference = services.raise_change_request(db.session, instance, _actor(), values, utcnow())
            db.session.commit()
        except services.ChangeRejected as error:
            db.session.rollback()
            for name, message in error.errors.items():
                form[name].errors = [*form[name].errors, message]
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append("That request clashes with one saved a moment ago (a second click?). Check the "
                                    "list of change requests.")
        else:
            flash(f"{reference} is approved by the {services.APPROVER}. Quote {reference} in the change request "
                  "field of each change it covers.", "success")
            row = services.instance_world(db.session, instance, utcnow()).by_key("sb_change_request", reference)
            return redirect(url_for("sandbox.change_request", instance_id=instance_id, row_id=row.id))
    return _render_workspace("sandbox/change_request_new.html", instance, ticket, form=form)


@bp.route("/w/<int:instance_id>/change-requests/<int:row_id>")
@instance_owner
def change_request(instance_id: int, row_id: int):
    instance, ticket = _workspace(instance_id)
    world = services.instance_world(db.session, instance, utcnow())
    row = world.get("sb_change_request", row_id)
    if row is None:
        abort(404)
    changes = sorted((a for a in world.table("sb_audit").values()
                      if a.change_request == row.reference and a.table_name != "sb_change_request"),
                     key=lambda a: a.id)
    return _render_workspace("sandbox/change_request.html", instance, ticket, cr=row, changes=changes,
                             labels={name: spec.label for name, spec in BY_NAME.items()})


# --- replay tools and audit ----------------------------------------------------------------------------------------

@bp.route("/w/<int:instance_id>/tools")
@instance_owner
def tools(instance_id: int):
    instance, ticket = _workspace(instance_id)
    world = services.instance_world(db.session, instance, utcnow())
    scan_form = forms.ScanForm(request.args if "data" in request.args and "cell" not in request.args else None)
    removal_form = forms.RemovalForm(request.args if "cabinet" in request.args else None)
    robot_form = forms.RobotForm(request.args if "cell" in request.args else None)
    removal_form.cabinet.choices = forms.choices((c.id, c.name) for c in world.table("sb_cabinet").values())
    removal_form.drug.choices = forms.choices(forms.ref_choices(world, "sb_drug"))
    removal_form.patient.choices = forms.choices((p.id, f"{p.name} ({p.mrn})")
                                                 for p in world.table("sb_patient").values())
    robot_form.cell.choices = forms.choices((r.cell, r.cell) for r in world.table("sb_robot_item").values())
    scan = removal = robot = None
    if "data" in request.args and "cell" not in request.args and scan_form.validate():
        scan = resolve_scan(world, scan_form.data.data)
    if "cabinet" in request.args and removal_form.validate():
        removal = decide_removal(world, world.get("sb_cabinet", removal_form.cabinet.data),
                                 world.drug(removal_form.drug.data), world.get("sb_patient", removal_form.patient.data))
    if "cell" in request.args and robot_form.validate():
        robot = robot_restock(world, robot_form.cell.data, robot_form.data.data or "")
    return _render_workspace("sandbox/tools.html", instance, ticket, world=world, scan_form=scan_form, scan=scan,
                             removal_form=removal_form, removal=removal, robot_form=robot_form, robot=robot)


@bp.route("/w/<int:instance_id>/audit")
@instance_owner
def audit(instance_id: int):
    instance, ticket = _workspace(instance_id)
    world = services.instance_world(db.session, instance, utcnow())
    entries = sorted(world.table("sb_audit").values(), key=lambda a: a.id, reverse=True)
    return _render_workspace("sandbox/audit.html", instance, ticket, entries=entries, labels={
        s: BY_NAME[s].label for s in BY_NAME})


# --- supervisors ---------------------------------------------------------------------------------------------------

def _reviewer(view_args: dict) -> None:
    instance = db.session.get(SandboxInstance, view_args["instance_id"])
    if instance is None or not services.can_review(db.session, current_user, instance):
        abort(404)


attempt_reviewer = rule("supervisor of the trainee's cohort, or admin", ("supervisor", "admin"), _reviewer)


@bp.route("/attempts")
@roles("supervisor", "admin")
def attempts():
    """Per trainee of the supervisor's cohorts (all trainees for admins): each ticket's attempt."""
    tickets = services.get_tickets()
    by_user = defaultdict(list)
    for row in services.visible_attempts(db.session, current_user):
        by_user[(row.user_id, row.user_name)].append((row.instance, tickets.get(row.instance.ticket_id), row.hints))
    return render_template("sandbox/attempts.html", by_user=dict(by_user), total=len(tickets.tickets))


@bp.route("/attempts.csv")
@roles("supervisor", "admin")
def attempts_csv():
    tickets = services.get_tickets()
    rows = []
    for row in services.visible_attempts(db.session, current_user):
        ticket, instance = tickets.get(row.instance.ticket_id), row.instance
        rows.append([row.user_name, row.user_email, ticket.number if ticket else "",
                     ticket.title if ticket else f"{instance.ticket_id} (withdrawn)",
                     instance.created_at.strftime("%Y-%m-%d %H:%M"), instance.submissions, row.hints, instance.resets,
                     instance.solved_at.strftime("%Y-%m-%d %H:%M") if instance.solved_at else ""])
    return csv_response("sandbox-attempts.csv", ["trainee", "email", "ticket number", "ticket", "started (UTC)",
                                                 "submissions", "hints opened", "resets", "solved (UTC)"], rows)


@bp.route("/attempts/<int:instance_id>")
@attempt_reviewer
def attempt_detail(instance_id: int):
    """One trainee's attempt: every submission's results, the hints opened, and their changes (read only)."""
    instance = db.session.get(SandboxInstance, instance_id)
    ticket = services.get_tickets().get(instance.ticket_id)
    trainee = db.session.get(User, instance.user_id)
    world = services.instance_world(db.session, instance, utcnow())
    changes = sorted((a for a in world.table("sb_audit").values() if a.user_id == instance.user_id),
                     key=lambda a: a.id, reverse=True)
    return render_template("sandbox/attempt.html", instance=instance, ticket=ticket, trainee=trainee,
                           submissions=services.submissions(db.session, instance)[::-1],
                           hints=services.revealed_hints(db.session, instance), changes=changes,
                           labels={name: spec.label for name, spec in BY_NAME.items()})
