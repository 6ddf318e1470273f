"""The interface engine's screens in the trainee's workspace: the message browser (filter, read, replay), the
"send a test message" tool and the verification queue. They register on the sandbox blueprint (lms.app imports
this module before registering it) and reach an instance only through the owner rule every workspace page uses.
Code maps and channel settings are generic maintenance screens (interfaces/editors.py).
"""

from flask import abort, flash, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services as core
from lms.sandbox.core.forms import choices
from lms.sandbox.core.routes import PAGE_SIZE, _actor, _render_workspace, _workspace, bp, instance_owner
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces import display, services
from lms.sandbox.interfaces.forms import TERMINATORS, SendMessageForm, with_terminators
from lms.validation import DateRange, page_arg, parse_int, text_problem

STATUSES = ("queued", "processed", "error", "duplicate")
FILTERS = ("channel", "status", "type", "mrn", "control", "start", "end")
MAX_REPLAY = 200  # one click: four pages of the browser


def _channels(world: World) -> list[Rec]:
    return sorted(world.table("sb_interface_channel").values(), key=lambda c: c.name)


def _filters(args, world: World) -> tuple[dict, dict[str, str]]:
    """The browser's filters from the query string, and a message per filter that cannot be used."""
    values = {name: (args.get(name) or "").strip()[:80] for name in FILTERS}
    errors: dict[str, str] = {}
    for name in ("channel", "status", "type", "mrn", "control"):
        if problem := text_problem(values[name]):
            errors[name] = problem
    names = [c.name for c in _channels(world)]
    if values["channel"] and "channel" not in errors and values["channel"] not in names:
        errors["channel"] = f"There is no channel {values['channel']!r} ({', '.join(names)})."
    if values["status"] and values["status"] not in STATUSES:
        errors["status"] = f"The status must be one of {', '.join(STATUSES)}."
    dates = DateRange(args, "start", "end", ("The received-from date", "The received-to date"))
    errors.update(dates.errors)
    values["start_date"], values["end_date"] = dates.start, dates.end
    return values, errors


def _matches(world: World, message: Rec, f: dict) -> bool:
    channel = world.get("sb_interface_channel", message.channel_id)
    received = message.received_at.date()
    return ((not f["channel"] or (channel is not None and channel.name == f["channel"]))
            and (not f["status"] or message.status == f["status"])
            and (not f["type"] or message.message_type.casefold() == f["type"].casefold())
            and (not f["mrn"] or display.patient_mrn(message).casefold() == f["mrn"].casefold())
            and (not f["control"] or f["control"].casefold() in message.control_id.casefold())
            and (f["start_date"] is None or received >= f["start_date"])
            and (f["end_date"] is None or received <= f["end_date"]))


@bp.route("/w/<int:instance_id>/interfaces/messages")
@instance_owner
def messages(instance_id: int):
    """The message browser: newest first, filtered, paged; inbound rows can be selected for replay."""
    instance, ticket = _workspace(instance_id)
    world = core.instance_world(db.session, instance, utcnow())
    filters, errors = _filters(request.args, world)
    rows = [] if errors else sorted((m for m in world.table("sb_interface_message").values()
                                     if _matches(world, m, filters)),
                                    key=lambda m: (m.received_at, m.id), reverse=True)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page_arg(), pages)
    types = sorted({m.message_type for m in world.table("sb_interface_message").values()})
    active = {k: filters[k] for k in FILTERS if filters[k]}
    page_html = _render_workspace("sandbox/interfaces/messages.html", instance, ticket, world=world,
                                  rows=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(rows), page=page,
                                  pages=pages, filters=filters, errors=errors, active=active, statuses=STATUSES,
                                  types=types, channels=_channels(world), patient_mrn=display.patient_mrn)
    return page_html, 400 if errors else 200


def _replay_target(instance_id: int):
    """Where a replay returns: the message it came from, or the browser with the filters it was showing."""
    back = parse_int(request.form.get("back_to_message") or "")
    if back is not None:
        return url_for("sandbox.message", instance_id=instance_id, row_id=back)
    kept = {k: request.form[k].strip()[:80] for k in (*FILTERS, "page")
            if request.form.get(k) and not text_problem(request.form[k])}
    return url_for("sandbox.messages", instance_id=instance_id, **kept)


@bp.route("/w/<int:instance_id>/interfaces/messages/replay", methods=["POST"])
@instance_owner
def replay_messages(instance_id: int):
    """Replay the selected inbound messages through the engine, oldest first whatever order they were picked in."""
    instance, _ticket = _workspace(instance_id)
    target = _replay_target(instance_id)
    picked = [parse_int(v) for v in request.form.getlist("message_id")]
    if not picked or None in picked:
        flash("Select one or more inbound messages to replay.", "warning")
        return redirect(target)
    if len(set(picked)) > MAX_REPLAY:
        flash(f"Replay at most {MAX_REPLAY} messages at a time.", "warning")
        return redirect(target)
    world = core.instance_world(db.session, instance, utcnow())
    before = {i: world.get("sb_interface_message", i) for i in picked}
    try:
        results = services.replay(db.session, instance, picked, _actor(), utcnow())
        db.session.commit()
    except core.SandboxError as error:
        db.session.rollback()
        flash(f"Nothing was replayed: {error}", "error")
        return redirect(target)
    except IntegrityError:  # a second click replayed the same messages a moment ago
        db.session.rollback()
        flash("Those messages were replayed a moment ago (a second click?). Their ACKs are below.", "info")
        return redirect(target)
    lines = [f"{before[i].control_id} {before[i].ack_code or '-'} → {outcome.ack_code}" for i, outcome in results]
    shown = "; ".join(lines[:10]) + (f"; and {len(lines) - 10} more" if len(lines) > 10 else "")
    all_accepted = all(outcome.ack_code == "AA" for _i, outcome in results)
    flash(f"Replayed {len(results)} message{'' if len(results) == 1 else 's'}, oldest first: {shown}.",
          "success" if all_accepted else "warning")
    return redirect(target)


@bp.route("/w/<int:instance_id>/interfaces/messages/<int:row_id>")
@instance_owner
def message(instance_id: int, row_id: int):
    """One message: raw text, parsed tree with field names, its last ACK and ERR entries, history, Replay."""
    instance, ticket = _workspace(instance_id)
    world = core.instance_world(db.session, instance, utcnow())
    stored = world.get("sb_interface_message", row_id)
    if stored is None:
        abort(404)
    channel = world.get("sb_interface_channel", stored.channel_id)
    ack_code, ack_control_id, entries = display.ack_entries(stored.ack)
    view = display.message_view(stored.raw, entries)
    fixes = []
    for entry in entries:
        if (found := display.missing_map(entry, view)) and found not in fixes:
            fixes.append(found)
    events = sorted(world.where("sb_interface_event", message_id=row_id), key=lambda e: e.id, reverse=True)
    return _render_workspace("sandbox/interfaces/message.html", instance, ticket, world=world, message=stored,
                             patient=display.patient_mrn(stored),
                             channel=channel, view=view, ack_lines=display.raw_lines(stored.ack or ""),
                             ack_code=ack_code, ack_control_id=ack_control_id, entries=entries, fixes=fixes,
                             events=events)


@bp.route("/w/<int:instance_id>/interfaces/test-message", methods=["GET", "POST"])
@instance_owner
def test_message(instance_id: int):
    """Paste a message into an inbound channel and see the ACK and what it changed, as analysts test a map."""
    instance, ticket = _workspace(instance_id)
    world = core.instance_world(db.session, instance, utcnow())
    inbound = [c for c in _channels(world) if c.direction == "inbound"]
    form = SendMessageForm()
    form.channel.choices = choices((c.name, c.name) for c in inbound)
    if form.validate_on_submit():
        text = with_terminators(form.message.data, TERMINATORS[form.terminators.data])
        try:
            message_id, _outcome = services.receive_message(db.session, instance, form.channel.data, text,
                                                            _actor(), utcnow(), world)
            db.session.commit()
        except core.SandboxError as error:
            db.session.rollback()
            form.message.errors = [*form.message.errors, str(error)]
        except IntegrityError:
            db.session.rollback()
            form.message.errors = [*form.message.errors, "That clashed with a message received a moment ago (a "
                                                         "second click?). Look for it in the message browser."]
        else:
            return redirect(url_for("sandbox.test_message", instance_id=instance_id, sent=message_id))
    sent = world.get("sb_interface_message", parse_int(request.args.get("sent") or ""))
    result = None
    if sent is not None and request.method == "GET":
        ack_code, _control_id, entries = display.ack_entries(sent.ack)
        received = [e for e in world.where("sb_interface_event", message_id=sent.id) if e.kind == "received"]
        result = {"message": sent, "ack_code": ack_code, "entries": entries,
                  "ack_lines": display.raw_lines(sent.ack or ""),
                  "changes": received[0].changes if received else [],
                  "channel": world.get("sb_interface_channel", sent.channel_id)}
    return _render_workspace("sandbox/interfaces/test_message.html", instance, ticket, form=form, result=result)


def _pharmacists(world: World) -> list[Rec]:
    return sorted((s for s in world.table("sb_staff").values() if s.role == "pharmacist" and s.can_verify),
                  key=lambda s: s.name)


@bp.route("/w/<int:instance_id>/interfaces/verification-queue")
@instance_owner
def verification_queue(instance_id: int):
    """The pharmacist verification queue, waiting orders first: where an order filed by a message arrives."""
    instance, ticket = _workspace(instance_id)
    world = core.instance_world(db.session, instance, utcnow())
    rows = []
    for entry in world.table("sb_verification_queue").values():
        order = world.get("sb_order", entry.order_id)
        if order is None:
            continue
        encounter = world.get("sb_encounter", order.encounter_id)
        patient = world.get("sb_patient", encounter.patient_id) if encounter else None
        site = world.get("sb_location", entry.site_id)
        rows.append({"entry": entry, "order": order, "patient": patient, "site": site,
                     "drug": world.drug_label(order.drug_id),
                     "dose": f"{order.dose:g} {order.dose_unit} {order.route} {order.frequency}"
                             + (f" PRN {order.prn_reason}" if order.prn_reason else "")})
    rows.sort(key=lambda r: (r["entry"].status != "waiting", -r["entry"].id))
    return _render_workspace("sandbox/interfaces/queue.html", instance, ticket, rows=rows,
                             pharmacists=_pharmacists(world))


@bp.route("/w/<int:instance_id>/interfaces/verification-queue/verify", methods=["POST"])
@instance_owner
def verify_order(instance_id: int):
    """A simulated pharmacist verifies a waiting order; the order goes out to the cabinets on CAB-OUT."""
    instance, _ticket = _workspace(instance_id)
    target = url_for("sandbox.verification_queue", instance_id=instance_id)
    world = core.instance_world(db.session, instance, utcnow())
    order = world.get("sb_order", parse_int(request.form.get("order_id") or ""))
    pharmacist = next((p for p in _pharmacists(world) if p.username == request.form.get("pharmacist")), None)
    if order is None:
        flash("Choose an order from the queue to verify.", "warning")
        return redirect(target)
    if pharmacist is None:
        flash("Choose a pharmacist who may verify orders.", "warning")
        return redirect(target)
    try:
        message_id = services.verify_order(db.session, instance, order.id, pharmacist.username, _actor(), utcnow())
        db.session.commit()
    except core.SandboxError as error:
        db.session.rollback()
        flash(f"{order.order_number} was not verified: {error}", "error")
        return redirect(target)
    except IntegrityError:
        db.session.rollback()
        flash(f"{order.order_number} was verified a moment ago (a second click?).", "info")
        return redirect(target)
    sent = core.instance_world(db.session, instance, utcnow()).get("sb_interface_message", message_id)
    flash(f"{order.order_number} verified by {pharmacist.name} (simulated) and sent to the cabinets on CAB-OUT as "
          f"{sent.control_id}.", "success")
    return redirect(target)
