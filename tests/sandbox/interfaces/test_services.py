"""The engine against an instance in the database: receive, fix the map, replay, verify; effects happen once."""

from pathlib import Path

from sqlalchemy import func, select

from lms.content.loader import load_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services as core
from lms.sandbox.core.models import AuditEntry, InterfaceEvent, InterfaceMessage, Order
from lms.sandbox.core.tickets import load_tickets
from lms.sandbox.interfaces import services
from tests.conftest import create_user

ROOT = Path(__file__).resolve().parents[3]
TICKETS = load_tickets(ROOT / "sandbox", load_catalog(ROOT / "content"))

UNMAPPED = ("MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204080000||RDE^O11^RDE_O11|RX-T-1|P|2.5.1\r"
            "PID|1||M200417^^^RCH^MR||Ellison^Robert||19580322|M\r"
            "PV1|1|I|4W^412^A||||||||||||||||V7003\r"
            "ORC|NW|ORD-30001|||||||20261204080000\r"
            "RXE||EHR-99001^pantoprazole 40 mg tablet^EHR|40||MG|TAB\rTQ1|1||DAILY\rRXR|PO\r")


def instance_for(user):
    ticket = TICKETS.tickets[0]
    instance, _ = core.start_ticket(db.session, user.id, ticket, utcnow())
    return instance, ticket


def test_an_unmapped_drug_is_ae_until_mapped_then_a_replay_files_the_order_once(app):
    user = create_user("trainee")
    actor = core.Actor(user.id, user.name)
    instance, ticket = instance_for(user)
    now = utcnow()
    message_id, outcome = services.receive_message(db.session, instance, "RX-IN", UNMAPPED.encode(), actor, now)
    assert outcome.ack_code == "AE"
    stored = db.session.get(InterfaceMessage, (instance.id, message_id))
    assert (stored.status, stored.ack_code, stored.patient_mrn) == ("error", "AE", "M200417")
    assert "EHR-99001" in stored.error and "MSA|AE|RX-T-1" in stored.ack
    assert db.session.scalar(select(func.count()).select_from(Order).where(
        Order.instance_id == instance.id, Order.order_number == "ORD-30001")) == 0

    world = core.instance_world(db.session, instance, now)
    rx = next(c for c in world.table("sb_interface_channel").values() if c.name == "RX-IN")
    drug = next(d for d in world.table("sb_drug").values() if d.code == "FAMO20T")
    core.apply_change(db.session, instance, ticket, actor, "code_maps", "create", None,
                      {"channel_id": rx.id, "code_type": "drug", "external_code": "EHR-99001",
                       "internal_code": drug.code, "active": True}, None, now)
    [(replayed_id, again)] = services.replay(db.session, instance, [message_id], actor, now)
    assert replayed_id == message_id and again.ack_code == "AA", again.issues
    db.session.expire_all()
    stored = db.session.get(InterfaceMessage, (instance.id, message_id))
    assert (stored.status, stored.ack_code, stored.raw) == ("processed", "AA", UNMAPPED)
    order = db.session.scalar(select(Order).where(Order.instance_id == instance.id,
                                                  Order.order_number == "ORD-30001"))
    assert (order.status, order.dose, order.dose_unit, order.frequency) == ("pending", 40.0, "mg", "daily")
    history = db.session.scalars(select(InterfaceEvent).where(InterfaceEvent.instance_id == instance.id,
                                                              InterfaceEvent.message_id == message_id)
                                 .order_by(InterfaceEvent.id)).all()
    assert [(e.kind, e.ack_code) for e in history] == [("received", "AE"), ("replayed", "AA")]
    assert any("ORD-30001" in c for c in history[-1].changes)
    engine_audit = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance.id,
                                                               AuditEntry.table_name == "sb_order")).all()
    assert [a.user_id for a in engine_audit] == [None], "the engine wrote the order; the trainee wrote the map"

    # A resend with the same control id is acknowledged, not filed twice; so is a second replay.
    _resend_id, resend = services.receive_message(db.session, instance, "RX-IN", UNMAPPED, actor, utcnow())
    assert resend.ack_code == "AA" and resend.duplicate_of == message_id and not resend.changes
    [(_, second)] = services.replay(db.session, instance, [message_id], actor, utcnow())
    assert second.ack_code == "AA" and not second.changes, "its own earlier application is not re-applied"


def test_verifying_the_order_sends_it_to_the_cabinets_in_internal_codes(app):
    user = create_user("trainee")
    actor = core.Actor(user.id, user.name)
    instance, _ticket = instance_for(user)
    now = utcnow()
    raw = UNMAPPED.replace("EHR-99001^pantoprazole 40 mg tablet", "EHR-31007^famotidine 20 mg tablet") \
        .replace("|40||MG", "|20||MG")
    _id, outcome = services.receive_message(db.session, instance, "RX-IN", raw, actor, now)
    assert outcome.ack_code == "AA", outcome.issues
    order = db.session.scalar(select(Order).where(Order.instance_id == instance.id,
                                                  Order.order_number == "ORD-30001"))
    out_id = services.verify_order(db.session, instance, order.id, "rph.nguyen", actor, now)
    sent = db.session.get(InterfaceMessage, (instance.id, out_id))
    assert "RXE||FAMO20T^" in sent.raw and "RXR|oral" in sent.raw and "PV1|1|I|MS4^412^A" in sent.raw
    db.session.expire_all()
    assert db.session.get(Order, (instance.id, order.id)).status == "verified"
