"""The interface engine on messages nobody here wrote (../shared/fixtures/hl7) and on the seed's own traffic."""

from datetime import UTC, datetime
from pathlib import Path

import hl7
import pytest

from lms.sandbox.core.seed import load_seed
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces.engine import build_ack, channel_by_name, process

SEED = Path(__file__).resolve().parents[3] / "sandbox" / "seed"
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "hl7"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rows():
    data, problems = load_seed(SEED)
    assert not problems
    return data.materialize(NOW)


def world_of(rows) -> World:
    return World.from_rows({k: [dict(r) for r in v] for k, v in rows.items()}, NOW)


def channel(world: World, name: str, **settings) -> Rec:
    return Rec({**channel_by_name(world, name), **settings})


def errors(outcome) -> set[tuple[int, str]]:
    return {(i.code, i.location) for i in outcome.issues if i.severity == "E"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ack_segments(outcome) -> list[list[str]]:
    return [s.split("|") for s in build_ack(outcome, NOW, "ACK1").split("\r") if s]


@pytest.mark.parametrize("name", ["adt-a01-lf.hl7", "adt-a01-crlf.hl7", "adt-a02-evn-mismatch-lf.hl7"])
def test_a_strict_channel_rejects_lf_terminators_naming_the_control_id(rows, name):
    world = world_of(rows)
    outcome = process(world, channel(world, "ADT-IN"), fixture(name))
    assert outcome.ack_code == "AR"
    assert errors(outcome) == {(100, "MSH^1")}
    msa = ack_segments(outcome)[1]
    assert msa[:3] == ["MSA", "AR", "102" if "a01" in name else "controlID"]


@pytest.mark.parametrize("name", ["adt-a01-lf.hl7", "adt-a01-crlf.hl7"])
def test_a_normalising_channel_reads_the_admission_and_reports_the_unmapped_location(rows, name):
    world = world_of(rows)
    outcome = process(world, channel(world, "ADT-IN", normalize_line_endings=True), fixture(name))
    assert outcome.ack_code == "AE"
    assert (103, "PV1^1^3") in errors(outcome)
    assert {(103, "AL1^1^3"), (103, "AL1^2^3")} <= errors(outcome), "the two drug allergies have no allergen map"
    warnings = [i for i in outcome.issues if i.severity == "W"]
    assert [(w.code, w.location) for w in warnings] == [(102, "MSH^1^2")], "the doubled escape in MSH-2"
    assert outcome.header.encoding == "^~\\&" and outcome.header.version == "2.6"
    assert outcome.header.accept_ack == "AL" and outcome.header.application_ack == "NE"
    assert outcome.patient_mrn == "PID1234"
    assert not outcome.changes


def test_the_literal_backslash_r_inside_field_text_is_not_a_segment_end(rows):
    world = world_of(rows)
    outcome = process(world, channel(world, "ADT-IN", normalize_line_endings=True), fixture("adt-a01-lf.hl7"))
    assert [s[:3] for s in outcome.text.split("\r") if s] == ["MSH", "EVN", "PID", "PV1", "OBX", "AL1", "AL1", "PRB"]


def test_a02_whose_evn_says_a01_goes_by_msh9_and_needs_its_new_location(rows):
    world = world_of(rows)
    outcome = process(world, channel(world, "ADT-IN", normalize_line_endings=True),
                      fixture("adt-a02-evn-mismatch-lf.hl7"))
    assert outcome.ack_code == "AE"
    assert outcome.header.trigger == "A02"
    notes = [(i.code, i.location) for i in outcome.issues if i.severity == "I"]
    assert (0, "EVN^1^1") in notes
    assert (101, "PV1^1^3") in errors(outcome)
    assert (204, "PID^1^3") in errors(outcome), "patient 1234 is not in the hospital"


def test_the_ceftriaxone_order_reports_each_unmapped_code_and_the_unknown_patient(rows):
    world = world_of(rows)
    outcome = process(world, channel(world, "RX-IN"), fixture("rde-o11-ceftriaxone.hl7"))
    assert outcome.ack_code == "AE"
    assert {(103, "RXE^1^2"), (103, "RXE^1^5"), (204, "PID^1^3")} <= errors(outcome)
    give_code = next(i for i in outcome.issues if i.location == "RXE^1^2")
    assert "DEFAULTMED" in give_code.text
    unit = next(i for i in outcome.issues if i.location == "RXE^1^5")
    assert "'g'" in unit.text, "the map has G, the sender sends g: codes match exactly"
    segments = ack_segments(outcome)
    assert segments[1] == ["MSA", "AE", "MSGID_bae9ce6a-e35d-4ff5-8d50-c5dde19cc1aa"]
    err = next(s for s in segments if s[0] == "ERR" and s[2] == "RXE^1^2")
    assert err[3] == "103^Table value not found^HL70357" and err[4] == "E"


def test_the_ack_parses_with_python_hl7_and_escapes_delimiters_in_its_text(rows):
    world = world_of(rows)
    raw = ("MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204||RDE^O11^RDE_O11|X-1|P|2.5.1\r"
           "PID|1||M200417^^^RCH^MR\rPV1|1|I|4W^412^A||||||||||||||||V7003\r"
           "ORC|NW|ORD-9|||||||20261204\rRXE||EHR\\F\\BAD^odd|1||MG\rTQ1|1||BID\rRXR|PO\r")
    outcome = process(world, channel(world, "RX-IN"), raw)
    assert errors(outcome) == {(103, "RXE^1^2")}
    ack = hl7.parse(build_ack(outcome, NOW, "ACK7"))
    assert str(ack.segment("MSA")[2]) == "X-1"
    assert "EHR|BAD" in ack.unescape(str(ack.segment("ERR")[8]))


def test_a_seed_order_replays_cleanly_once_and_a_resend_is_a_duplicate(rows):
    world = world_of(rows)
    rx = channel(world, "RX-IN")
    new = ("MSH|^~\\&|EHR|RCH|PHARMACY|RCH|20261204080000||RDE^O11^RDE_O11|RX-NEW-1|P|2.5.1\r"
           "PID|1||M200417^^^RCH^MR||Ellison^Robert||19580322|M\r"
           "PV1|1|I|4W^412^A||||||||||||||||V7003\r"
           "ORC|NW|ORD-20001|||||||20261204080000\r"
           "RXE||EHR-31007^famotidine 20 mg tablet^EHR|20||MG|TAB\rTQ1|1||BID\rRXR|PO\r")
    outcome = process(world, rx, new)
    assert outcome.ack_code == "AA", outcome.issues
    tables = [c.table for c in outcome.changes]
    assert tables == ["sb_order", "sb_verification_queue"]
    order = outcome.changes[0].values
    assert (order["dose"], order["dose_unit"], order["route"], order["frequency"]) == (20.0, "mg", "oral", "BID")
    # Once applied under that control id, the same control id again is acknowledged and not applied.
    world.store("sb_interface_message", {"id": 9999, "channel_id": rx.id, "applied_control_id": "RX-NEW-1"})
    again = process(world, rx, new)
    assert again.ack_code == "AA" and again.duplicate_of == 9999 and not again.changes
    assert process(world, rx, new, exclude_message_id=9999).changes, "a replay of the message itself is not a dup"


def test_a_channel_takes_the_message_family_its_name_says(rows):
    world = world_of(rows)
    order = fixture("rde-o11-ceftriaxone.hl7")
    for name in ("ADT-IN", "MH-ADT-IN"):
        outcome = process(world, Rec({**channel(world, "ADT-IN"), "name": name}), order)
        assert errors(outcome) == {(200, "MSH^1^9")}, name
    assert process(world, Rec({**channel(world, "RX-IN"), "name": "LAB-IN"}), order).ack_code == "AE"
