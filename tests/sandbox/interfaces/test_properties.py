"""Property-based tests of the interface engine: random valid messages from the seed, and random corruptions of them.

Valid messages (RDE^O11 new, change and discontinue; ADT A01, A02, A03, A08) are built from the seed's patients,
visits and mapped codes, with random control ids, optional segments and any terminator style. Corruptions cut,
delete, repeat, swap, splice and re-separate them. The properties: receive raises nothing but Rejected, process
never raises, the ACK always parses and names the control id when the first line has one, a valid message is AA
on a normalising channel, and the same message applied twice is a duplicate that changes nothing.

Example counts stay small so CI (which runs the suite twice) stays fast; search harder locally with
LMS_HL7_EXAMPLES=2000 pytest tests/sandbox/interfaces/test_properties.py.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import hl7
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lms.sandbox.core.seed import load_seed
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces import receive
from lms.sandbox.interfaces.engine import build_ack, channel_by_name, control_id_of, process

SEED = Path(__file__).resolve().parents[3] / "sandbox" / "seed"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("LMS_HL7_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_data, _problems = load_seed(SEED)
assert not _problems
ROWS = _data.materialize(NOW)


def world() -> World:
    return World.from_rows({k: [dict(r) for r in v] for k, v in ROWS.items()}, NOW)


def _maps(channel: str, code_type: str) -> list[tuple[str, str]]:
    channel_id = next(c["id"] for c in ROWS["sb_interface_channel"] if c["name"] == channel)
    return sorted((m["external_code"], m["internal_code"]) for m in ROWS["sb_code_map"]
                  if m["channel_id"] == channel_id and m["code_type"] == code_type and m["active"])


PATIENTS = {p["id"]: p for p in ROWS["sb_patient"]}
LOCATIONS = {loc["id"]: loc["code"] for loc in ROWS["sb_location"]}
ACTIVE = [e for e in ROWS["sb_encounter"] if e["status"] == "active"]
DRUGS = [code for code, _ in _maps("RX-IN", "drug")]
UNITS = [code for code, _ in _maps("RX-IN", "unit")]
ROUTES = [code for code, _ in _maps("RX-IN", "route")]
FREQUENCIES = [code for code, _ in _maps("RX-IN", "frequency")]
ADT_POINTS = {internal: external for external, internal in _maps("ADT-IN", "location")}
RX_POINTS = {internal: external for external, internal in _maps("RX-IN", "location")}
ORDERS = [o for o in ROWS["sb_order"] if o["status"] != "discontinued"]
ENCOUNTERS = {e["id"]: e for e in ROWS["sb_encounter"]}

control_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=20)
names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'- ", min_size=1, max_size=12).map(str.strip) \
    .filter(bool)
timestamps = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)).map(lambda d: d.strftime("%Y%m%d%H%M%S"))
terminators = st.sampled_from(["\r", "\n", "\r\n"])


def _msh(kind: str, control_id: str, stamp: str, version: str) -> str:
    structure = {"RDE^O11": "RDE^O11^RDE_O11"}.get(kind, f"{kind}^ADT_A01" if kind != "ADT^A03" else "ADT^A03^ADT_A03")
    return f"MSH|^~\\&|EHR|RCH|PHARMACY|RCH|{stamp}||{structure}|{control_id}|P|{version}"


def _pid(patient: dict, name: str | None = None) -> str:
    given, _, family = (name or patient["name"]).rpartition(" ")
    return f"PID|1||{patient['mrn']}^^^RCH^MR||{family}^{given}||{patient['birth_date']:%Y%m%d}|{patient['sex']}"


def _pv1(encounter: dict, point: str, bed: str = "") -> str:
    room, _, spot = bed.partition("-")
    return f"PV1|1|I|{point}^{room}^{spot}||||||||||||||||{encounter['visit_number']}"


@st.composite
def orders(draw) -> list[str]:
    """An RDE^O11: a new order on an active encounter, or a change or discontinue of a seed order."""
    control = draw(st.sampled_from(["NW", "NW", "XO", "RP", "DC"]))
    if control == "NW":
        encounter = draw(st.sampled_from(ACTIVE))
        number = f"ORD-{draw(st.integers(20000, 99999))}"
    else:
        order = draw(st.sampled_from([o for o in ORDERS if ENCOUNTERS[o["encounter_id"]]["status"] == "active"]))
        encounter, number = ENCOUNTERS[order["encounter_id"]], order["order_number"]
    patient = PATIENTS[encounter["patient_id"]]
    segments = [_msh("RDE^O11", draw(control_ids), draw(timestamps), draw(st.sampled_from(["2.5.1", "2.5", "2.3"]))),
                _pid(patient), _pv1(encounter, RX_POINTS[LOCATIONS[encounter["location_id"]]]),
                f"ORC|{control}|{number}|||||||{draw(timestamps)}"]
    if control != "DC":
        dose = draw(st.sampled_from(["1", "2.5", "20", "0.5", "1000", "40"]))
        frequency = draw(st.sampled_from(FREQUENCIES))
        in_tq1 = draw(st.booleans())
        timing = "" if in_tq1 else f"^{frequency}"
        prn = draw(st.booleans())
        segments.append(f"RXE|{timing}|{draw(st.sampled_from(DRUGS))}^drug^EHR|{dose}||{draw(st.sampled_from(UNITS))}"
                        f"|TAB" + ("|||||||||||||||||||||^nausea" if prn else ""))
        if in_tq1:
            segments.append(f"TQ1|1||{frequency}" + ("||||||PRN" if prn else ""))
        if draw(st.booleans()):
            segments.append("NTE|1||Give with food.")
        segments.append(f"RXR|{draw(st.sampled_from(ROUTES))}")
    else:
        segments.append(f"RXE||{draw(st.sampled_from(DRUGS))}^drug^EHR|1||MG")
        segments.append("RXR|PO")
    return segments


@st.composite
def adts(draw) -> list[str]:
    """An ADT A01 (a new patient, or the active visit again), A02 to another mapped unit, A03, or A08."""
    trigger = draw(st.sampled_from(["A01", "A02", "A03", "A08"]))
    encounter = draw(st.sampled_from(ACTIVE))
    patient = PATIENTS[encounter["patient_id"]]
    point = ADT_POINTS[LOCATIONS[encounter["location_id"]]]
    bed = draw(st.sampled_from(["", "412-A", "07-B"]))
    name = None
    if trigger == "A01" and draw(st.booleans()):
        mrn = f"T{draw(st.integers(100000, 999999))}"
        patient = {"mrn": mrn, "name": f"{draw(names)} {draw(names)}",
                   "birth_date": draw(st.dates(datetime(1920, 1, 1).date(), datetime(2025, 1, 1).date())),
                   "sex": draw(st.sampled_from("FMOU"))}
        encounter = {"visit_number": f"W{draw(st.integers(10000, 99999))}"}
        point = draw(st.sampled_from(sorted(ADT_POINTS.values())))
    elif trigger == "A02":
        point = draw(st.sampled_from(sorted(ADT_POINTS.values())))
    elif trigger == "A08" and draw(st.booleans()):
        name = f"{draw(names)} {draw(names)}"
    segments = [_msh(f"ADT^{trigger}", draw(control_ids), draw(timestamps), draw(st.sampled_from(["2.5.1", "2.6"])))]
    if draw(st.booleans()):
        segments.append(f"EVN|{trigger}|{draw(timestamps)}")
    segments.append(_pid(patient, name))
    if draw(st.booleans()):
        segments.append("NK1|1|Kennedy^Joe|FTH")
    segments.append(_pv1(encounter, point, bed))
    if draw(st.booleans()):
        segments.append("AL1|1|FA|PEANUT^peanut|MO|hives")  # a food allergy: not one the pharmacy maps
    return segments


def join(segments: list[str], terminator: str, final: bool) -> bytes:
    return (terminator.join(segments) + (terminator if final else "")).encode()


valid = st.builds(join, st.one_of(orders(), adts()), terminators, st.booleans())


@st.composite
def corrupted(draw) -> bytes:
    """A valid message, then one to three corruptions of its bytes or its segments."""
    data = draw(valid)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "delete", "duplicate", "swap", "insert", "separator", "msh2",
                                     "terminators", "empty", "huge", "latin1", "field", "frame"]))
        segments = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r")
        if kind == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
        elif kind in ("delete", "duplicate", "swap", "empty", "huge", "field") and segments:
            i = draw(st.integers(0, len(segments) - 1))
            if kind == "delete":
                del segments[i]
            elif kind == "duplicate":
                segments.insert(i, segments[i])
            elif kind == "swap":
                j = draw(st.integers(0, len(segments) - 1))
                segments[i], segments[j] = segments[j], segments[i]
            else:
                fields = segments[i].split(b"|")
                k = draw(st.integers(0, len(fields) - 1))
                fields[k] = {"empty": b"", "huge": b"A" * draw(st.sampled_from([5_000, 100_000])),
                             "field": draw(st.binary(max_size=12)
                                           | st.text("|^~\\&\r\n #x0", max_size=8).map(str.encode))}[kind]
                segments[i] = b"|".join(fields)
            data = b"\r".join(segments)
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif kind == "separator":
            data = data.replace(b"|", draw(st.sampled_from([b"!", b"^", b"A", b" ", b"\r", b"\t", b"#", b"\xff"])))
        elif kind == "msh2":
            end = data.find(b"|", 4)
            if data.startswith(b"MSH") and end > 0:
                data = data[:4] + draw(st.text("^~\\&#|!%x1 ", max_size=7)).encode() + data[end:]
        elif kind == "terminators":
            data = data.replace(b"\r", draw(st.sampled_from([b"\n", b"\r\n", b"\n\r", b"\r\r", b""])))
        elif kind == "latin1":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.sampled_from([b"\xe9", b"\xff\xfe", b"\xc3", b"\x80\x81", b"\xed\xa0\x80"])) \
                + data[at:]
        elif kind == "frame":
            data = draw(st.sampled_from([b"\x0b", b"", b"\xef\xbb\xbf"])) + data + \
                draw(st.sampled_from([b"\x1c\r", b"\x1c", b""]))
    return data


def channel(w: World, data: bytes, normalize: bool) -> Rec:
    name = "ADT-IN" if b"ADT^" in data[:200] else "RX-IN"
    return Rec({**channel_by_name(w, name), "normalize_line_endings": normalize})


def check_ack(data: bytes, outcome) -> None:
    """The ACK parses with python-hl7, and MSA-2 names the control id the first line gives (when it gives one)."""
    ack = hl7.parse(build_ack(outcome, NOW, "ACK1"))
    assert str(ack.segment("MSH")[10]) == "ACK1"
    msa = ack.segment("MSA")
    assert str(msa[1]) == outcome.ack_code in ("AA", "AE", "AR")
    if first_line := control_id_of(data):
        assert ack.unescape(str(msa[2])) == first_line, (first_line, outcome.control_id)
    for err in ack.segments("ERR") if outcome.issues else []:
        assert str(err[3][0][0]).isdigit() and str(err[4]) in ("E", "W", "I")


@SETTINGS
@given(data=st.one_of(corrupted(), valid), normalize=st.booleans())
def test_receive_raises_nothing_but_rejected(data, normalize):
    try:
        received = receive.receive(data, normalize)
    except receive.Rejected as rejected:
        assert rejected.issues and all(i.code in (100, 101, 102, 203, 207) for i in rejected.issues)
    else:
        assert received.text.endswith("\r") and received.header.control_id


@SETTINGS
@given(data=st.one_of(corrupted(), valid), normalize=st.booleans())
@example(data=b"MSH|^~\\&|A|B|C|D|2026||RDE^O11|CTL\nPID|x|P|2.5.1\r", normalize=False)
@example(data=b"MSH|^~\\&|A|B|C|D|2026||RDE^O11|\xc3\xa9t\xc3\xa9|P|2.5.1\rPID|1\r", normalize=True)
def test_process_never_raises_and_its_ack_parses_and_names_the_control_id(data, normalize):
    w = world()
    outcome = process(w, channel(w, data, normalize), data)
    assert outcome.ack_code in ("AA", "AE", "AR")
    if outcome.ack_code != "AA":
        assert outcome.errors and not outcome.changes
    check_ack(data, outcome)


@SETTINGS
@given(data=valid)
def test_a_valid_message_is_aa_on_a_normalising_channel_and_files_its_changes_once(data):
    w = world()
    rx = channel(w, data, normalize=True)
    outcome = process(w, rx, data)
    assert outcome.ack_code == "AA", [(i.code, i.location, i.text) for i in outcome.errors]
    assert not outcome.errors
    check_ack(data, outcome)
    if outcome.changes:  # applied once under its control id (as services records it), a resend is a duplicate
        w.store("sb_interface_message", {"id": 99999, "channel_id": rx.id, "applied_control_id": outcome.control_id})
        again = process(w, rx, data)
        assert (again.ack_code, again.duplicate_of, again.changes) == ("AA", 99999, [])
        assert [i.code for i in again.issues if i.code == 205] == [205]


@SETTINGS
@given(segments=st.one_of(orders(), adts()), final=st.booleans())
def test_a_valid_message_with_cr_terminators_is_aa_on_a_strict_channel_too(segments, final):
    data = join(segments, "\r", final)
    w = world()
    assert process(w, channel(w, data, normalize=False), data).ack_code == "AA"
