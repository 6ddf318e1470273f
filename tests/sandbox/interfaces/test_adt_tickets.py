"""The ADT tickets (17, 18, 31, 32) beyond the rehearsal: other correct ways to fix them also solve them, and the
stale resend in ticket 32 is harmless only once duplicates are rejected."""

from pathlib import Path

from lms.content.loader import load_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services as core
from lms.sandbox.core.tickets import grade_world, load_tickets
from lms.sandbox.interfaces import services
from tests.conftest import create_user

ROOT = Path(__file__).resolve().parents[3]
TICKETS = load_tickets(ROOT / "sandbox", load_catalog(ROOT / "content"))


def _start(number):
    ticket = next(t for t in TICKETS.tickets if t.number == number)
    user = create_user("trainee")
    actor = core.Actor(user.id, user.name)
    instance, _ = core.start_ticket(db.session, user.id, ticket, utcnow())
    return ticket, user, actor, instance


def _world(instance):
    return core.instance_world(db.session, instance, utcnow())


def _messages(instance, mrn):
    return sorted((m for m in _world(instance).table("sb_interface_message").values() if m.patient_mrn == mrn),
                  key=lambda m: m.id)


def _failed(instance, ticket, user):
    return [(r.name, r.message) for r in grade_world(_world(instance), ticket, user.id) if not r.passed]


def test_31_replaying_both_messages_applies_the_transfer_and_answers_the_admission_as_a_duplicate(app):
    ticket, user, actor, instance = _start(31)
    # Her earlier stay's discharge (a seeded A03) is hers too; the ticket is about this stay's A01 and A02.
    picked = [m.id for m in _messages(instance, "M200402") if m.message_type != "ADT^A03"]
    results = services.replay(db.session, instance, list(reversed(picked)), actor, utcnow())  # any pick order
    kinds = [(o.message_type, o.ack_code, o.duplicate_of is not None) for _id, o in results]
    assert kinds == [("ADT^A02", "AA", False), ("ADT^A01", "AA", True)]  # oldest first, the A01 not re-applied
    assert _failed(instance, ticket, user) == []


def test_32_turning_duplicates_on_and_replaying_all_three_in_order_solves_it(app):
    ticket, user, actor, instance = _start(32)
    channel = next(c for c in _world(instance).table("sb_interface_channel").values() if c.name == "ADT-IN")
    cr = core.rehearsal_request(db.session, instance, ticket, actor, utcnow())
    core.apply_change(db.session, instance, ticket, actor, "interface_channels", "update", channel.id,
                      {"reject_duplicates": True}, cr, utcnow())
    results = services.replay(db.session, instance, [m.id for m in _messages(instance, "I400131")], actor, utcnow())
    assert [(o.ack_code, o.duplicate_of is not None) for _id, o in results] == [("AA", True), ("AA", False),
                                                                                ("AA", True)]
    assert _failed(instance, ticket, user) == []


def test_32_a_resend_arriving_again_moves_her_while_duplicates_are_applied_and_not_once_they_are_refused(app):
    ticket, user, actor, instance = _start(32)
    stale = _messages(instance, "I400131")[-1].raw
    newest = next(m for m in _messages(instance, "I400131") if m.control_id == "ADT20261204000358")
    services.replay(db.session, instance, [newest.id], actor, utcnow())
    _id, outcome = services.receive_message(db.session, instance, "ADT-IN", stale, actor, utcnow())
    encounter = next(e for e in _world(instance).table("sb_encounter").values() if e.visit_number == "V7010")
    location = _world(instance).get("sb_location", encounter.location_id).code
    assert (outcome.ack_code, outcome.duplicate_of, location) == ("AA", None, "PCU")  # the harm, again

    core.reset_instance(db.session, instance, ticket, utcnow())
    core.run_steps(db.session, instance, ticket, actor, ticket.solution, utcnow(),
                   core.rehearsal_request(db.session, instance, ticket, actor, utcnow()))
    _id, outcome = services.receive_message(db.session, instance, "ADT-IN", stale, actor, utcnow())
    assert outcome.ack_code == "AA" and outcome.duplicate_of is not None and not outcome.changes
    assert _failed(instance, ticket, user) == []
