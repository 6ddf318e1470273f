"""Sandbox operations: build and reset instances, make changes through the maintenance screens (validated and
audited), grade submissions, reveal hints. Services flush; routes commit.
"""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from lms.content.services import get_catalog
from lms.datafiles import FolderCache
from lms.sandbox.core.editing import Editor
from lms.sandbox.core.editors import EDITORS
from lms.sandbox.core.models import AuditEntry, ChangeRequest, SandboxHintReveal, SandboxInstance, SandboxSubmission
from lms.sandbox.core.schema import BY_NAME, SPECS
from lms.sandbox.core.tickets import Step, Ticket, TicketSet, grade_world, load_tickets
from lms.sandbox.core.world import World


class SandboxError(ValueError):
    """An action that cannot be done (no such ticket, hint out of range...)."""


class ChangeRejected(ValueError):
    """A maintenance change that fails validation; ``errors`` maps field names to messages. Nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the platform user, and the name the mock system shows."""

    user_id: int
    name: str


def init_sandbox(app: Flask) -> None:
    root = Path(app.config["SANDBOX_DIR"])
    app.extensions["lms_sandbox"] = FolderCache(
        [root, Path(app.config["CONTENT_DIR"])], lambda: load_tickets(root, get_catalog()), watch=app.debug)


def get_tickets() -> TicketSet:
    return current_app.extensions["lms_sandbox"].get()


# --- instances -----------------------------------------------------------------------------------------------------

def _insert_dataset(session: Session, instance_id: int, ticket: Ticket, now: datetime) -> None:
    rows = ticket.dataset.materialize(now)
    for spec in SPECS:
        if rows[spec.name]:
            session.execute(insert(spec.table), [{"instance_id": instance_id, **r} for r in rows[spec.name]])


def _wipe(session: Session, instance_id: int) -> None:
    for spec in reversed(SPECS):
        session.execute(delete(spec.table).where(spec.table.c.instance_id == instance_id))


def find_instance(session: Session, user_id: int, ticket_id: str) -> SandboxInstance | None:
    return session.scalar(select(SandboxInstance).where(SandboxInstance.user_id == user_id,
                                                        SandboxInstance.ticket_id == ticket_id))


def start_ticket(session: Session, user_id: int, ticket: Ticket, now: datetime) -> tuple[SandboxInstance, bool]:
    """The trainee's instance for ``ticket``, built from the seed with the fault planted; (instance, created).

    Starting twice returns the same instance (the unique (user, ticket) constraint settles a double click).
    """
    existing = find_instance(session, user_id, ticket.id)
    if existing is not None:
        return existing, False
    instance = SandboxInstance(user_id=user_id, ticket_id=ticket.id, ticket_version=ticket.version, created_at=now,
                               next_row_id=ticket.dataset.first_free_id())
    session.add(instance)
    session.flush()
    _insert_dataset(session, instance.id, ticket, now)
    return instance, True


def reset_instance(session: Session, instance: SandboxInstance, ticket: Ticket, now: datetime) -> None:
    """Throw away the trainee's changes and rebuild the instance from the current seed and ticket.

    Submissions, revealed hints and a solved mark are kept: they record what happened, not the tables. The count
    goes up in the database (never read-modify-write in Python), and that UPDATE comes first: it locks the instance
    row, so parallel resets of one instance run one after another and each wipes what the previous one built.
    """
    instances = SandboxInstance.__table__
    session.execute(update(instances).where(instances.c.id == instance.id).values(
        resets=instances.c.resets + 1, reset_at=now, ticket_version=ticket.version,
        next_row_id=ticket.dataset.first_free_id()))
    session.expire(instance, ["resets", "reset_at", "ticket_version", "next_row_id"])
    _wipe(session, instance.id)
    _insert_dataset(session, instance.id, ticket, now)
    session.flush()


def instance_world(session: Session, instance: SandboxInstance, now: datetime) -> World:
    return World.from_db(session, instance.id, now)


# --- changes through the screens -----------------------------------------------------------------------------------

def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in values.items()}


def allocate_ids(session: Session, instance_id: int, count: int = 1) -> int:
    """Take ``count`` consecutive local ids for new rows of the instance; returns the first.

    One conditional UPDATE ... RETURNING: the database hands out each id once however many requests run at the same
    time (they queue on the instance row), where max(id) + 1 gave two parallel creates the same id.
    """
    instances = SandboxInstance.__table__
    last = session.execute(update(instances).where(instances.c.id == instance_id)
                           .values(next_row_id=instances.c.next_row_id + count)
                           .returning(instances.c.next_row_id)).scalar_one()
    return last - count


def _field_values(editor: Editor, values: dict, row) -> dict:
    """The editor's columns: given values over the row's current ones (a partial update keeps the rest)."""
    out = {}
    for f in editor.fields:
        if f.on_create_only and row is not None:
            continue
        if f.column in values:
            out[f.column] = values[f.column]
        elif f.name in values:
            out[f.column] = values[f.name]
        elif row is not None:
            out[f.column] = row[f.column]
        elif f.kind == "bool":
            default = BY_NAME[editor.table].table.c[f.column].default
            out[f.column] = bool(default.arg) if default is not None else False
        else:
            out[f.column] = None
    columns = BY_NAME[editor.table].table.c
    for f in editor.fields:
        if f.kind == "text" and isinstance(out.get(f.column), str):
            out[f.column] = out[f.column].strip() or None
        column = columns[f.column]
        if out.get(f.column) is None and not column.nullable and column.default is not None \
                and not callable(column.default.arg):
            out[f.column] = column.default.arg  # a blank optional field takes the column's default ("")
    return out


def apply_change(session: Session, instance: SandboxInstance, ticket: Ticket, actor: Actor, editor_name: str,
                 action: str, row_id: int | None, values: dict, change_request: str | None,
                 now: datetime) -> int:
    """Create, update or delete one row through a maintenance screen; validate, write, and audit it.

    Raises ChangeRejected (nothing written) when a rule fails. Returns the row id.
    """
    editor = EDITORS[editor_name]
    table = BY_NAME[editor.table].table
    world = instance_world(session, instance, now)
    row = world.get(editor.table, row_id) if row_id is not None else None
    if action != "create" and row is None:
        raise ChangeRejected({"": f"No such {editor.label.lower()} row in your instance."})
    if action not in ("create", "update", "delete") or not getattr(editor, action):
        raise ChangeRejected({"": f"The {editor.label} screen does not allow {action}."})
    if row is not None and (locked := editor.can_edit_row(row)):
        raise ChangeRejected({"": locked})
    errors: dict[str, str] = {}
    change_request = (change_request or "").strip() or None
    if problem := change_request_problem(world, ticket, change_request):
        errors["change_request"] = problem
    if action == "delete":
        if errors:
            raise ChangeRejected(errors)
        before = dict(row)
        audit_id = allocate_ids(session, instance.id)
        session.execute(delete(table).where(table.c.instance_id == instance.id, table.c.id == row.id))
        _audit(session, instance.id, audit_id, actor, editor.table, row.id, "delete", before, None, change_request,
               now)
        session.flush()
        return row.id
    proposed = _field_values(editor, values, row)
    if editor.validate:
        errors.update({k: v for k, v in editor.validate(world, proposed, row).items() if v})
    if errors:
        raise ChangeRejected(errors)
    if editor.derive:
        proposed = editor.derive(world, proposed, row)
    for f in editor.fields:
        length = getattr(table.c[f.column].type, "length", None)
        if length and isinstance(proposed.get(f.column), str) and len(proposed[f.column]) > length:
            errors[f.name] = f"{f.label} can be at most {length} characters."
    if errors:
        raise ChangeRejected(errors)
    if editor.name == "discrepancies":
        proposed.update(resolved_by=actor.name[:40], resolved_at=now)
    if action == "create":
        new_id = allocate_ids(session, instance.id, 2)  # the row and its audit entry
        session.execute(insert(table).values(instance_id=instance.id, id=new_id, **proposed))
        _audit(session, instance.id, new_id + 1, actor, editor.table, new_id, "insert", None, proposed,
               change_request, now)
        session.flush()
        return new_id
    changed = {k: v for k, v in proposed.items() if row.get(k) != v}
    if changed:
        audit_id = allocate_ids(session, instance.id)  # first: the instance row is locked before any row is
        session.execute(update(table).where(table.c.instance_id == instance.id, table.c.id == row.id)
                        .values(**changed))
        _audit(session, instance.id, audit_id, actor, editor.table, row.id, "update", {k: row[k] for k in changed},
               changed, change_request, now)
    session.flush()
    return row.id


def _audit(session: Session, instance_id: int, audit_id: int, actor: Actor, table: str, row_id: int, action: str,
           before: dict | None, after: dict | None, change_request: str | None, now: datetime) -> None:
    session.execute(insert(AuditEntry.__table__).values(
        instance_id=instance_id, id=audit_id, at=now, user_id=actor.user_id,
        actor=actor.name[:80], table_name=table, row_id=row_id, action=action,
        before=_jsonable(before) if before else None, after=_jsonable(after) if after else None,
        change_request=change_request))


# --- change control ------------------------------------------------------------------------------------------------

APPROVER = "Change Advisory Board (simulated)"
# (field, label, fewest characters, most characters): what the board needs before it approves a request.
REQUEST_FIELDS = (("title", "Title", 10, 200), ("reason", "Reason for the change", 20, 1000),
                  ("risk", "Risk and back-out plan", 15, 500), ("test_plan", "Test plan", 30, 1000))
MIN_TEST_PLAN_WORDS = 6


def change_request_problem(world: World, ticket: Ticket, reference: str | None) -> str | None:
    """Why a change may not quote ``reference`` (None when it may). Blank is refused where the ticket requires it."""
    if not reference:
        if ticket.change_control:
            return ("This system is under change control: quote an approved change request. Raise one under "
                    "Change requests; it is approved once it is complete.")
        return None
    found = world.where("sb_change_request", reference=reference)
    if not found:
        return f"{reference} is not an approved change request."
    status = found[0].status
    if status == "closed":
        return f"{reference} is closed: its work is finished. Raise a change request for this change."
    if status != "approved":
        return f"{reference} is not an approved change request (it is {status})."
    return None


def review_change_request(values: dict) -> dict[str, str]:
    """The simulated board's review: what is missing or too thin to approve (empty when it approves)."""
    errors = {}
    for name, label, fewest, most in REQUEST_FIELDS:
        text = (values.get(name) or "").strip()
        if not text:
            errors[name] = f"{label} is required."
        elif len(text) < fewest:
            errors[name] = f"{label}: write at least {fewest} characters."
        elif len(text) > most:
            errors[name] = f"{label} can be at most {most} characters."
    plan = (values.get("test_plan") or "").split()
    if "test_plan" not in errors and len(plan) < MIN_TEST_PLAN_WORDS:
        errors["test_plan"] = ("Say how you will show the change works and broke nothing else (for example, which "
                               "scan or replay you will run and what you expect to see).")
    return errors


def raise_change_request(session: Session, instance: SandboxInstance, actor: Actor, values: dict,
                         now: datetime) -> str:
    """Submit a change request; the simulated board approves it at once when it is complete. Returns its reference.

    Raises ChangeRejected (nothing saved) naming each field the board would send back.
    """
    errors = review_change_request(values)
    if errors:
        raise ChangeRejected(errors)
    row_id = allocate_ids(session, instance.id, 2)  # the request and its audit entry
    reference = f"CR-{now:%Y}-{row_id:05d}"  # five digits: never one of the seed's four-digit references
    row = {name: values[name].strip() for name, *_rest in REQUEST_FIELDS}
    row.update(reference=reference, status="approved", raised_by=actor.name[:80], raised_at=now,
               approved_by=APPROVER, approved_at=now)
    session.execute(insert(ChangeRequest.__table__).values(instance_id=instance.id, id=row_id, **row))
    _audit(session, instance.id, row_id + 1, actor, "sb_change_request", row_id, "insert", None, row, reference, now)
    session.flush()
    return reference


def resolve_step(world: World, step: Step) -> tuple[int | None, dict]:
    """Turn a ticket step's keys (``drug: ONDA4ODT``, ``key: ED-1/2-3``) into the ids a screen would submit."""
    editor = EDITORS[step.editor]
    row_id = None
    if step.key is not None:
        row = world.by_key(editor.table, step.key)
        if row is None:
            raise ChangeRejected({"": f"{editor.label}: no row has the key {step.key!r}"})
        row_id = row.id
    values = {}
    for f in editor.fields:
        if f.name not in step.values:
            continue
        value = step.values[f.name]
        if f.kind == "ref" and value is not None:
            target = world.by_key(f.ref, str(value))
            if target is None:
                raise ChangeRejected({f.name: f"no {BY_NAME[f.ref].label.lower()} row has the key {value!r}"})
            value = target.id
        elif f.kind == "date" and isinstance(value, str):
            value = date.fromisoformat(value)
        values[f.column] = value
    return row_id, values


def run_steps(session: Session, instance: SandboxInstance, ticket: Ticket, actor: Actor, steps, now: datetime,
              change_request: str | None = None) -> None:
    """Make a ticket's worked solution (or a symptom fix) through the same service the screens use."""
    for step in steps:
        if step.action == "replay":
            from lms.sandbox.interfaces.services import replay, replay_target

            try:
                replay(session, instance, [replay_target(instance_world(session, instance, now), step.key)], actor,
                       now)
            except SandboxError as error:
                raise ChangeRejected({"": str(error)}) from None
            continue
        row_id, values = resolve_step(instance_world(session, instance, now), step)
        apply_change(session, instance, ticket, actor, step.editor, step.action, row_id, values,
                     change_request, now)


# --- grading and hints ---------------------------------------------------------------------------------------------

def submit(session: Session, instance: SandboxInstance, ticket: Ticket, user_id: int,
           now: datetime) -> SandboxSubmission:
    """Grade the instance as it is now and record the attempt; the first pass marks the ticket solved."""
    results = grade_world(instance_world(session, instance, now), ticket, user_id)
    solved = all(r.passed for r in results)
    instance.submissions += 1
    submission = SandboxSubmission(instance_id=instance.id, user_id=user_id, number=instance.submissions,
                                   submitted_at=now, solved=solved,
                                   results=[{"name": r.name, "kind": r.kind, "passed": r.passed,
                                             "message": r.message} for r in results])
    session.add(submission)
    if solved and instance.solved_at is None:
        instance.solved_at = now
    session.flush()
    return submission


def latest_results(session: Session, instance: SandboxInstance) -> SandboxSubmission | None:
    return session.scalar(select(SandboxSubmission).where(SandboxSubmission.instance_id == instance.id)
                          .order_by(SandboxSubmission.number.desc()).limit(1))


def revealed_hints(session: Session, instance: SandboxInstance) -> int:
    """How many hints are showing (they are revealed in order)."""
    return session.scalar(select(func.count()).select_from(SandboxHintReveal)
                          .where(SandboxHintReveal.instance_id == instance.id)) or 0


def reveal_next_hint(session: Session, instance: SandboxInstance, ticket: Ticket, now: datetime) -> int:
    """Reveal the next hint; returns how many are showing. Revealing past the last one changes nothing."""
    shown = revealed_hints(session, instance)
    if shown >= len(ticket.hints_html):
        raise SandboxError("There are no more hints for this ticket.")
    session.add(SandboxHintReveal(instance_id=instance.id, hint_index=shown, revealed_at=now))
    session.flush()
    return shown + 1



# --- supervisors ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttemptRow:
    instance: SandboxInstance
    user_id: int
    user_name: str
    user_email: str
    hints: int


def visible_attempts(session: Session, viewer) -> list[AttemptRow]:
    """Every instance of the trainees in the viewer's cohorts (all of them for admins), with hints opened.

    Two queries however many trainees there are.
    """
    from lms.accounts.models import CohortMember, CohortSupervisor, User

    query = (select(SandboxInstance, User.id, User.name, User.email).join(User, User.id == SandboxInstance.user_id)
             .order_by(User.name, User.id, SandboxInstance.ticket_id))
    if viewer.role != "admin":
        supervised = select(CohortSupervisor.cohort_id).where(CohortSupervisor.user_id == viewer.id)
        query = query.where(SandboxInstance.user_id.in_(
            select(CohortMember.user_id).where(CohortMember.cohort_id.in_(supervised))))
    rows = session.execute(query).all()
    hints = dict(session.execute(select(SandboxHintReveal.instance_id, func.count())
                                 .where(SandboxHintReveal.instance_id.in_([r[0].id for r in rows]))
                                 .group_by(SandboxHintReveal.instance_id)).all())
    return [AttemptRow(instance, user_id, name, email, hints.get(instance.id, 0))
            for instance, user_id, name, email in rows]


def can_review(session: Session, viewer, instance: SandboxInstance) -> bool:
    """Admins, and supervisors of a cohort the instance's trainee belongs to, may review an attempt."""
    from lms.accounts.services import can_manage_trainee

    return can_manage_trainee(session, viewer, instance.user_id)


def submissions(session: Session, instance: SandboxInstance) -> list[SandboxSubmission]:
    return list(session.scalars(select(SandboxSubmission).where(SandboxSubmission.instance_id == instance.id)
                                .order_by(SandboxSubmission.number)))


# --- rehearsal: prove a ticket works end to end --------------------------------------------------------------------

REHEARSAL_REQUEST = {
    "title": "Rehearsal: the ticket's worked solution",
    "reason": "Play the worked solution through the maintenance screens before a trainee meets the ticket.",
    "risk": "Low: a scratch copy of the mock system; a reset restores it.",
    "test_plan": "Grade the copy after the change: every check passes and no reject rule is broken.",
}


def rehearsal_request(session: Session, instance: SandboxInstance, ticket: Ticket, actor: Actor,
                      now: datetime) -> str | None:
    """Raise (and so have approved) the change request a change-controlled ticket's changes quote; None otherwise."""
    if not ticket.change_control:
        return None
    return raise_change_request(session, instance, actor, REHEARSAL_REQUEST, now)


def save_fault_rows_unchanged(session: Session, instance: SandboxInstance, ticket: Ticket, actor: Actor,
                              now: datetime, change_request: str | None) -> list[str]:
    """The symptom fix every ticket must survive: open each row the planted fault touches and press Save unchanged.

    Goes through apply_change with the row's own values, as the screen's form posts them. Returns the refusals
    (a screen that refuses to save an inconsistent row shows the problem, which is fine).
    """
    refusals = []
    for table, row_id in ticket.fault_rows:
        editor = next((e for e in EDITORS.values() if e.table == table and e.update), None)
        row = instance_world(session, instance, now).get(table, row_id) if editor else None
        if row is None or editor.can_edit_row(row):
            continue
        values = {f.column: row[f.column] for f in editor.fields if not f.on_create_only}
        try:
            apply_change(session, instance, ticket, actor, editor.name, "update", row_id, values, change_request, now)
        except ChangeRejected as error:
            refusals.append(str(error))
    return refusals


def rehearse(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> list[str]:
    """Play a ticket through: the fault shows, the worked solution solves it, each symptom fix is caught.

    Also, on every ticket: saving the rows the fault touches unchanged does not solve it, and under change control
    a change quoting no request, or one that is not approved, is refused. Uses a real instance and the same change
    service as the screens. Returns problems (empty when all is well).
    """
    problems = []
    instance, _created = start_ticket(session, actor.user_id, ticket, now)
    reset_instance(session, instance, ticket, now)
    if all(r.passed for r in grade_world(instance_world(session, instance, now), ticket, actor.user_id)):
        problems.append("the fresh instance already passes every check")
    if ticket.change_control and ticket.solution:
        world = instance_world(session, instance, now)
        unapproved = [None, "CR-0000-0000"] + [c.reference for c in world.table("sb_change_request").values()
                                               if c.status != "approved"][:1]
        for quoted in unapproved:
            try:
                run_steps(session, instance, ticket, actor, ticket.solution[:1], now, quoted)
            except ChangeRejected as error:
                if "change_request" not in error.errors:
                    problems.append(f"change control: quoting {quoted or 'no change request'} was refused, but "
                                    f"not for the change request: {error}")
            else:
                problems.append(f"change control: a change quoting {quoted or 'no change request'} was accepted")
                reset_instance(session, instance, ticket, now)
    try:
        cr = rehearsal_request(session, instance, ticket, actor, now)
        run_steps(session, instance, ticket, actor, ticket.solution, now, cr)
    except ChangeRejected as error:
        problems.append(f"solution: a step was refused: {error}")
    else:
        failed = [r for r in grade_world(instance_world(session, instance, now), ticket, actor.user_id)
                  if not r.passed]
        problems += [f"solution: {r.kind} {r.name} fails: {r.message}" for r in failed]
    for fix in ticket.symptom_fixes:
        reset_instance(session, instance, ticket, now)
        try:
            cr = rehearsal_request(session, instance, ticket, actor, now)
            run_steps(session, instance, ticket, actor, fix.steps, now, cr)
        except ChangeRejected as error:
            if fix.caught_by != "screen" or fix.refusal.casefold() not in str(error).casefold():
                problems.append(f"symptom fix {fix.name!r}: a step was refused: {error}")
            continue
        if fix.caught_by == "screen":
            problems.append(f"symptom fix {fix.name!r}: the screens accepted it, but the ticket says they refuse it")
            continue
        results = grade_world(instance_world(session, instance, now), ticket, actor.user_id)
        caught = [r for r in results if r.kind == "reject" and r.name == fix.caught_by and not r.passed]
        if not caught:
            problems.append(f"symptom fix {fix.name!r} is not caught by reject rule {fix.caught_by!r}")
    reset_instance(session, instance, ticket, now)
    save_fault_rows_unchanged(session, instance, ticket, actor, now,
                              rehearsal_request(session, instance, ticket, actor, now))
    if all(r.passed for r in grade_world(instance_world(session, instance, now), ticket, actor.user_id)):
        problems.append("symptom fix 'open and save, unchanged, every row the fault touches' solves the ticket: "
                        "plant the fault where the trainee has to find and change it")
    return problems
