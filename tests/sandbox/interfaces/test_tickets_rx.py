"""The interface tickets' planted messages fail exactly as their reports and debriefs say, and their stored ACKs are
the ones the engine answers (the rehearsal only checks that the fault shows and the fix solves it)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lms.content.loader import load_catalog
from lms.db import utcnow
from lms.sandbox.core.tickets import load_tickets
from lms.sandbox.core.world import World
from lms.sandbox.interfaces.engine import build_ack, channel_by_name, process

ROOT = Path(__file__).resolve().parents[3]
TICKETS = load_tickets(ROOT / "sandbox", load_catalog(ROOT / "content"))

# ticket id -> (control id, MSA-1, ERR-3 code, ERR-2 location) for every message its setup plants
PLANTED = {
    "hl7-unmapped-drug-code": [("RX20261125000388", "AE", 103, "RXE^1^2")],
    "hl7-unmapped-unit-u": [("RX20261125000412", "AE", 103, "RXE^1^5"), ("RX20261125000413", "AE", 103, "RXE^1^5")],
    "hl7-new-sender-lf-terminators": [("MH2026112500071", "AR", 100, "MSH^1"), ("MH2026112500074", "AR", 100, "MSH^1"),
                                      ("MH2026112500079", "AR", 100, "MSH^1")],
    "hl7-unmapped-route-ng": [("RX20261125000431", "AE", 103, "RXR^1^1")],
}


def _fresh(ticket_id):
    now = utcnow()
    ticket = TICKETS.get(ticket_id)
    assert ticket is not None, ticket_id
    return World.from_rows(ticket.dataset.materialize(now), now)


@pytest.mark.parametrize("ticket_id", sorted(PLANTED))
def test_each_planted_message_gets_the_ack_it_is_stored_with(ticket_id):
    world = _fresh(ticket_id)
    for control_id, code, condition, location in PLANTED[ticket_id]:
        stored = next(m for m in world.table("sb_interface_message").values() if m.control_id == control_id)
        channel = world.get("sb_interface_channel", stored.channel_id)
        outcome = process(world, channel, stored.raw)
        assert outcome.ack_code == code == stored.ack_code
        assert [(i.code, i.location) for i in outcome.errors] == [(condition, location)], outcome.issues
        assert outcome.control_id == control_id
        assert stored.status == "error" and stored.error == outcome.summary
        # The stored ACK is the engine's, written one second after the message's own MSH-7.
        sent = datetime.strptime(stored.raw.split("|")[6], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        ack = build_ack(outcome, sent + timedelta(seconds=1), stored.ack.split("|")[9])
        assert ack == stored.ack
        assert f"MSA|{code}|{control_id}\r" in stored.ack


@pytest.mark.parametrize("ticket_id", sorted(PLANTED))
def test_only_the_planted_fault_fails(ticket_id):
    """With the fault repaired in memory (the missing map, or the channel setting), every planted message is AA."""
    world = _fresh(ticket_id)
    repairs = {
        "hl7-unmapped-drug-code": ("drug", "EHR-20402", "MORPH2INJ"),
        "hl7-unmapped-unit-u": ("unit", "U", "units"),
        "hl7-unmapped-route-ng": ("route", "NG", "enteral tube"),
    }
    rx = channel_by_name(world, "RX-IN")
    if ticket_id in repairs:
        code_type, external, internal = repairs[ticket_id]
        world.store("sb_code_map", {"id": 10**9, "channel_id": rx.id, "code_type": code_type,
                                    "external_code": external, "internal_code": internal, "active": True})
    mh = channel_by_name(world, "MH-ADT-IN")
    world.store("sb_interface_channel", {"id": mh.id, "normalize_line_endings": True})
    for control_id, *_ in PLANTED[ticket_id][:1]:  # the first: later ones may depend on what it files
        stored = next(m for m in world.table("sb_interface_message").values() if m.control_id == control_id)
        outcome = process(world, world.get("sb_interface_channel", stored.channel_id), stored.raw)
        assert outcome.ack_code == "AA", outcome.issues
        assert outcome.changes


def test_the_new_sender_sends_lf_and_the_seeded_channel_does_not_normalise():
    world = _fresh("hl7-new-sender-lf-terminators")
    assert not channel_by_name(world, "MH-ADT-IN").normalize_line_endings
    for control_id, *_ in PLANTED["hl7-new-sender-lf-terminators"]:
        raw = next(m.raw for m in world.table("sb_interface_message").values() if m.control_id == control_id)
        assert "\r" not in raw and raw.count("\n") >= 4
