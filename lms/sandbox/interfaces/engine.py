"""The interface engine: receive -> validate and map -> changes to make -> ACK. Pure functions of a World.

``process`` never writes anything. It returns an ``Outcome``: the ACK code and its issues, and the ``Change``s
the pharmacy system would make (insert or update rows). ``services`` applies them to an instance in the database;
the ticket checks call ``process`` on a World to replay a message without changing anything.

What it accepts (as a hospital pharmacy system's inbound interfaces do):
    RX-IN   RDE^O11 pharmacy encoded orders; ORC-1 NW new, XO / RP change, DC (and CA) discontinue
    ADT-IN  ADT A01 admit, A02 transfer, A03 discharge, A08 update patient information
Every coded field is translated through the channel's active code maps; a code with no map is AE 103 naming the
segment, field and value, because guessing a drug or a unit is how interface errors hurt patients.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces.issues import Issue
from lms.sandbox.interfaces.receive import Header, Received, Rejected, decode, first_line_control_id, receive

RECEIVER_APPLICATION, RECEIVER_FACILITY = "PHARMACY", "RCH"
ACK_VERSION = "2.5.1"

SUPPORTED = {"ADT": ("A01", "A02", "A03", "A08"), "RDE": ("O11",)}
CHANNEL_MESSAGES = {"ADT-IN": ("ADT",), "RX-IN": ("RDE",)}  # by the end of the channel's name
REQUIRED_SEGMENTS = {"ADT": ("PID", "PV1"), "RDE": ("PID", "ORC", "RXE", "RXR")}
ORDER_CONTROLS = {"NW": "new", "XO": "change", "RP": "change", "DC": "discontinue", "CA": "discontinue"}
DRUG_ALLERGY_TYPES = ("DA",)  # HL7 table 0127; many senders write DRUG, read as DA with a note
SEX = {"F": "F", "M": "M", "O": "X", "U": "X", "A": "X", "N": "X", "X": "X"}

# Internal codes the pharmacy system knows for the code types that have no table of their own in the sandbox.
INTERNAL_UNITS = ("mg", "g", "mcg", "mL", "L", "units", "mEq", "mmol", "tablet", "capsule", "puff", "drop", "patch")
INTERNAL_ROUTES = ("oral", "intravenous", "subcutaneous", "intramuscular", "rectal", "topical", "inhalation",
                   "sublingual", "transdermal", "ophthalmic", "otic", "nasal", "intrathecal", "enteral tube")
INTERNAL_FREQUENCIES = ("once", "q1h", "q2h", "q4h", "q6h", "q8h", "q12h", "q24h", "daily", "BID", "TID", "QID",
                        "nightly", "TID with meals", "weekly", "continuous")


@dataclass(frozen=True)
class Change:
    """One row the message inserts or updates. ``row_id`` None with action insert: a new row, whose id ``tag``
    names so later changes of the same message can point at it (``values`` may hold a ``NewRow``)."""

    table: str
    action: str  # insert | update
    values: dict
    row_id: int | None = None
    tag: str | None = None
    summary: str = ""


@dataclass(frozen=True)
class NewRow:
    tag: str


@dataclass
class Outcome:
    control_id: str
    header: Header | None
    ack_code: str  # AA | AE | AR
    issues: list[Issue] = field(default_factory=list)  # errors, warnings and notes, in message order
    changes: list[Change] = field(default_factory=list)
    patient_mrn: str | None = None
    duplicate_of: int | None = None  # the message id whose effects this one repeats
    text: str = ""  # the parsed text (segments joined by CR), or the raw text when rejected

    @property
    def message_type(self) -> str:
        return self.header.message_type if self.header else ""

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def summary(self) -> str:
        """One line for the message list: the first error, or what it did."""
        if self.errors:
            first = self.errors[0]
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"{first.code} {first.location}: {first.text}{more}"[:300]
        if self.duplicate_of is not None:
            return "Duplicate control id: acknowledged, not applied again."
        return "; ".join(c.summary for c in self.changes)[:300] or "Accepted; nothing to change."


class _Message:
    """Field access on a parsed message: segment occurrences, fields split by the message's own separators."""

    def __init__(self, received: Received):
        self.received = received
        header = received.header
        self.comp, self.rep, self.esc, self.sub = (header.encoding + "&")[:4]
        self.segments: dict[str, list[list[str]]] = {}
        for segment in received.message:
            fields = [str(f) for f in segment]  # element n is field n (for MSH too: python-hl7 keeps MSH-1)
            self.segments.setdefault(fields[0], []).append(fields)

    def all(self, segment: str) -> list[list[str]]:
        return self.segments.get(segment, [])

    def value(self, segment: str, number: int, component: int = 1, subcomponent: int = 1, sequence: int = 1,
              repetition: int = 1) -> str:
        occurrences = self.all(segment)
        if len(occurrences) < sequence or len(occurrences[sequence - 1]) <= number:
            return ""
        text = occurrences[sequence - 1][number]
        for separator, index in ((self.rep, repetition), (self.comp, component), (self.sub, subcomponent)):
            parts = text.split(separator)
            if len(parts) < index:
                return ""
            text = parts[index - 1]
        return self.received.message.unescape(text).strip() if self.esc in text else text.strip()

    def repetitions(self, segment: str, number: int, sequence: int = 1) -> int:
        occurrences = self.all(segment)
        if len(occurrences) < sequence or len(occurrences[sequence - 1]) <= number:
            return 0
        return len(occurrences[sequence - 1][number].split(self.rep))


def parse_ts(value: str) -> datetime | None:
    """An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]) as UTC; None when empty or not a timestamp."""
    match = re.fullmatch(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d{1,4})?([+-]\d{4})?", value or "")
    if not match:
        return None
    parts = [int(p) if p else d for p, d in zip(match.groups()[:6], (0, 1, 1, 0, 0, 0), strict=True)]
    try:
        moment = datetime(*parts, tzinfo=UTC)
    except ValueError:
        return None
    if offset := match.group(7):
        sign = 1 if offset[0] == "+" else -1
        moment -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:]))
    return moment


def parse_date(value: str) -> date | None:
    moment = parse_ts(value)
    return moment.date() if moment else None


class _Context:
    """Issues and changes collected while one message is validated and mapped."""

    def __init__(self, world: World, channel: Rec, message: _Message):
        self.world, self.channel, self.msg = world, channel, message
        self.issues: list[Issue] = list(message.received.warnings)
        self.changes: list[Change] = []

    def error(self, code: int, segment: str, number: int | None, text: str, sequence: int = 1,
              component: int | None = None) -> None:
        self.issues.append(Issue(code, segment, sequence, number, component, text))

    def note(self, segment: str, number: int | None, text: str, sequence: int = 1) -> None:
        self.issues.append(Issue(0, segment, sequence, number, text=text, severity="I"))

    @property
    def failed(self) -> bool:
        return any(i.is_error for i in self.issues)

    def required(self, segment: str, number: int, name: str, component: int = 1, sequence: int = 1) -> str:
        value = self.msg.value(segment, number, component, sequence=sequence)
        if not value:
            self.error(101, segment, number, f"{segment}-{number} ({name}) is empty.", sequence)
        return value

    def mapped(self, code_type: str, segment: str, number: int, value: str, what: str, sequence: int = 1,
               component: int | None = None) -> str | None:
        """The internal code for ``value`` through the channel's active map; an AE 103 when there is none."""
        found = [m for m in self.world.where("sb_code_map", channel_id=self.channel.id, code_type=code_type,
                                             external_code=value) if m.active]
        if not found:
            self.error(103, segment, number, f"No {code_type} map on {self.channel.name} for {what} {value!r}.",
                       sequence, component)
            return None
        internal = found[0].internal_code
        if problem := internal_code_problem(self.world, code_type, internal):
            self.error(103, segment, number, f"The {code_type} map for {value!r} on {self.channel.name} points at "
                                             f"{internal!r}, but {problem}.", sequence, component)
            return None
        return internal


def internal_code_problem(world: World, code_type: str, internal: str) -> str | None:
    """Why ``internal`` is not a code the pharmacy system knows for ``code_type`` (None when it is)."""
    if code_type == "drug":
        drug = next(iter(world.where("sb_drug", code=internal)), None)
        if drug is None:
            return "no drug in the drug master has that item code"
        if not drug.active:
            return "that drug is inactive"
        return None
    if code_type == "location":
        return None if world.where("sb_location", code=internal) else "no location has that code"
    if code_type == "allergen":
        return None if world.where("sb_allergen_class", name=internal) else "no allergen class has that name"
    known = {"unit": INTERNAL_UNITS, "route": INTERNAL_ROUTES, "frequency": INTERNAL_FREQUENCIES}.get(code_type)
    if known is None:
        return f"{code_type} is not a code type"
    return None if internal in known else f"the pharmacy system's {code_type}s are {', '.join(known)}"


# --- the two message families --------------------------------------------------------------------------------------

def _patient_id(ctx: _Context) -> str:
    """PID-3: the repetition whose identifier type (component 5) is MR, else the first."""
    msg = ctx.msg
    for rep in range(1, msg.repetitions("PID", 3) + 1):
        if msg.value("PID", 3, 5, repetition=rep).upper() == "MR":
            return msg.value("PID", 3, 1, repetition=rep)[:20]
    return msg.value("PID", 3, 1)[:20]


def _patient_name(ctx: _Context) -> str:
    family, given = ctx.msg.value("PID", 5, 1), ctx.msg.value("PID", 5, 2)
    return " ".join(p for p in (given, family) if p)[:80]


def _allergies(ctx: _Context, patient: Rec | NewRow | None) -> None:
    """AL1 drug allergies: AL1-3 through the channel's allergen maps, recorded on the patient when new to them."""
    for sequence in range(1, len(ctx.msg.all("AL1")) + 1):
        kind = ctx.msg.value("AL1", 2, sequence=sequence).upper()
        if kind == "DRUG":
            ctx.note("AL1", 2, "AL1-2 DRUG is not an HL7 table 0127 code; read as DA (drug allergy).", sequence)
        elif kind not in DRUG_ALLERGY_TYPES:
            continue
        code = ctx.msg.value("AL1", 3, 1, sequence=sequence)
        if not code:
            ctx.error(101, "AL1", 3, "AL1-3 (allergen code) is empty.", sequence)
            continue
        text = ctx.msg.value("AL1", 3, 2, sequence=sequence)
        allergen = ctx.mapped("allergen", "AL1", 3, code, f"allergen{' ' + text if text else ''}", sequence)
        if allergen is None:
            continue
        allergen_class = ctx.world.where("sb_allergen_class", name=allergen)[0]
        if isinstance(patient, Rec) and ctx.world.where("sb_allergy", patient_id=patient.id,
                                                       class_id=allergen_class.id):
            continue
        severity = {"SV": "severe", "MO": "moderate", "MI": "mild"}.get(
            ctx.msg.value("AL1", 4, sequence=sequence).upper(), "moderate")
        ctx.changes.append(Change("sb_allergy", "insert", {
            "patient_id": patient.id if isinstance(patient, Rec) else patient, "class_id": allergen_class.id,
            "reaction": ctx.msg.value("AL1", 5, sequence=sequence)[:80] or "not stated", "severity": severity},
            summary=f"allergy to {allergen} recorded"))


def _location(ctx: _Context, required: bool) -> tuple[Rec | None, str]:
    """PV1-3 point of care through the location maps, and the bed as room-bed."""
    point = ctx.msg.value("PV1", 3, 1)
    if not point:
        if required:
            ctx.error(101, "PV1", 3, "PV1-3 (assigned patient location) is empty.")
        return None, ""
    code = ctx.mapped("location", "PV1", 3, point, "location")
    room, bed = ctx.msg.value("PV1", 3, 2), ctx.msg.value("PV1", 3, 3)
    bed_text = "-".join(p for p in (room, bed) if p)[:12]
    return (ctx.world.where("sb_location", code=code)[0] if code else None), bed_text


def _active_encounter(ctx: _Context, patient: Rec | None, visit: str) -> Rec | None:
    if visit:
        return next((e for e in ctx.world.where("sb_encounter", visit_number=visit) if e.status == "active"), None)
    if patient is None:
        return None
    return next((e for e in ctx.world.where("sb_encounter", patient_id=patient.id, status="active")), None)


def _event_time(ctx: _Context, *candidates: str) -> datetime:
    for value in candidates:
        if moment := parse_ts(value):
            return moment
    return ctx.world.now


def _adt(ctx: _Context, trigger: str) -> None:
    msg = ctx.msg
    evn = msg.value("EVN", 1)
    if evn and evn != trigger:
        ctx.note("EVN", 1, f"EVN-1 says {evn} but MSH-9 says {trigger}; MSH-9 decides (EVN-1 is kept only for "
                           "backward compatibility).")
    mrn = ctx.required("PID", 3, "patient identifier list")
    visit = msg.value("PV1", 19, 1)[:20]
    patient = next(iter(ctx.world.where("sb_patient", mrn=mrn)), None) if mrn else None
    if trigger == "A01":
        _admit(ctx, patient, mrn, visit)
        return
    if mrn and patient is None:
        ctx.error(204, "PID", 3, f"No patient has MRN {mrn!r}; an {trigger} needs the patient's admission first.")
    encounter = _active_encounter(ctx, patient, visit) if patient else None
    if patient is not None and encounter is None and trigger in ("A02", "A03"):
        ctx.error(204, "PV1", 19, f"No active encounter {visit or 'for ' + mrn!r} to "
                                  f"{'transfer' if trigger == 'A02' else 'discharge'}: was its A01 received?")
    location, bed = _location(ctx, required=trigger == "A02")
    _allergies(ctx, patient)
    if ctx.failed or patient is None:
        return
    if trigger == "A02" and encounter is not None and location is not None:
        ctx.changes.append(Change("sb_encounter", "update", {"location_id": location.id, "bed": bed or encounter.bed},
                                  encounter.id, summary=f"encounter {encounter.visit_number} moved to "
                                                        f"{location.code} {bed}".strip()))
    elif trigger == "A03" and encounter is not None:
        ended = _event_time(ctx, msg.value("PV1", 45), msg.value("EVN", 2), ctx.msg.received.header.timestamp)
        ctx.changes.append(Change("sb_encounter", "update", {"status": "discharged", "discharged_at": ended},
                                  encounter.id, summary=f"encounter {encounter.visit_number} discharged"))
    elif trigger == "A08":
        _update_patient(ctx, patient)
        if encounter is not None and location is not None and location.id != encounter.location_id:
            ctx.changes.append(Change("sb_encounter", "update", {"location_id": location.id,
                                                                 "bed": bed or encounter.bed}, encounter.id,
                                      summary=f"encounter {encounter.visit_number} at {location.code}"))


def _demographics(ctx: _Context, new: bool) -> dict:
    values = {}
    if name := _patient_name(ctx):
        values["name"] = name
    elif new:
        ctx.error(101, "PID", 5, "PID-5 (patient name) is empty.")
    born = ctx.msg.value("PID", 7, 1)
    if born:
        if parsed := parse_date(born):
            values["birth_date"] = parsed
        else:
            ctx.error(102, "PID", 7, f"PID-7 (date of birth) {born!r} is not a date (YYYYMMDD).")
    elif new:
        ctx.error(101, "PID", 7, "PID-7 (date of birth) is empty.")
    sex = ctx.msg.value("PID", 8, 1).upper()
    if sex:
        values["sex"] = SEX.get(sex, "X")
    elif new:
        values["sex"] = "X"
    return values


def _update_patient(ctx: _Context, patient: Rec) -> None:
    values = {k: v for k, v in _demographics(ctx, new=False).items() if patient.get(k) != v}
    if values and not ctx.failed:
        ctx.changes.append(Change("sb_patient", "update", values, patient.id,
                                  summary=f"patient {patient.mrn}: {', '.join(sorted(values))} updated"))


def _admit(ctx: _Context, patient: Rec | None, mrn: str, visit: str) -> None:
    if not visit:
        ctx.error(101, "PV1", 19, "PV1-19 (visit number) is empty; an admission needs its encounter number.")
    location, bed = _location(ctx, required=True)
    demographics = _demographics(ctx, new=patient is None)
    existing = next(iter(ctx.world.where("sb_encounter", visit_number=visit)), None) if visit else None
    if existing is not None and patient is not None and existing.patient_id != patient.id:
        ctx.error(205, "PV1", 19, f"Visit {visit} belongs to another patient.")
    patient_ref: Rec | NewRow | None = patient
    if patient is None and mrn:
        patient_ref = NewRow("patient")
    _allergies(ctx, patient_ref)
    if ctx.failed or not mrn:
        return
    if patient is None:
        ctx.changes.insert(0, Change("sb_patient", "insert", {"mrn": mrn, "weight_kg": None, **demographics},
                                     tag="patient", summary=f"patient {mrn} registered"))
    else:
        _update_patient(ctx, patient)
    admitted = _event_time(ctx, ctx.msg.value("PV1", 44), ctx.msg.value("EVN", 2), ctx.msg.received.header.timestamp)
    if existing is not None and existing.status == "active":
        ctx.changes.append(Change("sb_encounter", "update", {"location_id": location.id, "bed": bed or existing.bed},
                                  existing.id, summary=f"encounter {visit} already admitted: location confirmed"))
        return
    if existing is not None:
        ctx.error(205, "PV1", 19, f"Visit {visit} was discharged; a readmission needs a new visit number.")
        ctx.changes.clear()
        return
    ctx.changes.append(Change("sb_encounter", "insert", {
        "patient_id": patient.id if patient else NewRow("patient"), "visit_number": visit,
        "location_id": location.id, "bed": bed or "", "status": "active", "admitted_at": admitted,
        "discharged_at": None}, tag="encounter",
        summary=f"encounter {visit} admitted to {location.code} {bed}".strip()))


def _number(ctx: _Context, segment: str, number: int, name: str) -> float | None:
    text = ctx.required(segment, number, name)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        ctx.error(102, segment, number, f"{segment}-{number} ({name}) {text!r} is not a number.")
        return None
    if not 0 < value < 1_000_000:
        ctx.error(102, segment, number, f"{segment}-{number} ({name}) {text!r} is not a positive amount.")
        return None
    return value


def _frequency(ctx: _Context) -> str | None:
    """TQ1-3 repeat pattern (v2.5 and later), else the interval in RXE-1 (the older quantity/timing field)."""
    if ctx.msg.all("TQ1") and (value := ctx.msg.value("TQ1", 3, 1)):
        return ctx.mapped("frequency", "TQ1", 3, value, "repeat pattern")
    if value := ctx.msg.value("RXE", 1, 2):
        return ctx.mapped("frequency", "RXE", 1, value, "timing interval", component=2)
    ctx.error(101, "TQ1", 3, "No frequency: TQ1-3 (repeat pattern) and the interval in RXE-1 are both empty.")
    return None


def verification_site(world: World, encounter: Rec) -> Rec:
    """Which queue verifies an order: a telepharmacy site's own queue for its patients, else the central pharmacy's."""
    place = world.get("sb_location", encounter.location_id)
    if place is not None and place.kind == "remote_site":
        return place
    return next(iter(world.where("sb_location", kind="pharmacy")), place)


def _order(ctx: _Context) -> None:
    msg = ctx.msg
    mrn = ctx.required("PID", 3, "patient identifier list")
    patient = next(iter(ctx.world.where("sb_patient", mrn=mrn)), None) if mrn else None
    if mrn and patient is None:
        ctx.error(204, "PID", 3, f"No patient has MRN {mrn!r}; the order cannot be filed.")
    visit = msg.value("PV1", 19, 1)[:20]
    encounter = _active_encounter(ctx, patient, visit) if patient else None
    if patient is not None and encounter is None:
        ctx.error(204, "PV1", 19, f"No active encounter {visit or 'for ' + mrn!r}: orders file against an admission.")
    control = ctx.required("ORC", 1, "order control")
    action = ORDER_CONTROLS.get(control.upper()) if control else None
    if control and action is None:
        ctx.error(103, "ORC", 1, f"Order control {control!r} is not one this system accepts on RDE^O11 "
                                 f"({', '.join(ORDER_CONTROLS)}).")
    number = ctx.required("ORC", 2, "placer order number")[:20]
    existing = next(iter(ctx.world.where("sb_order", order_number=number)), None) if number else None
    if action == "new" and existing is not None:
        ctx.error(205, "ORC", 2, f"Order {number} already exists; a change is sent as XO.")
    if action in ("change", "discontinue") and number and existing is None:
        ctx.error(204, "ORC", 2, f"No order {number} to {action}.")
    if action == "discontinue":
        if ctx.failed or existing is None:
            return
        ctx.changes.append(Change("sb_order", "update", {"status": "discontinued"}, existing.id,
                                  summary=f"order {number} discontinued"))
        for entry in ctx.world.where("sb_verification_queue", order_id=existing.id, status="waiting"):
            ctx.changes.append(Change("sb_verification_queue", "update", {"status": "discontinued"}, entry.id,
                                      summary=f"order {number} left the verification queue"))
        return
    give = ctx.required("RXE", 2, "give code")
    drug_code = ctx.mapped("drug", "RXE", 2, give, "give code") if give else None
    dose = _number(ctx, "RXE", 3, "give amount")
    unit_code = ctx.required("RXE", 5, "give units")
    unit = ctx.mapped("unit", "RXE", 5, unit_code, "give unit") if unit_code else None
    route_code = ctx.required("RXR", 1, "route")
    route = ctx.mapped("route", "RXR", 1, route_code, "route") if route_code else None
    frequency = _frequency(ctx)
    _allergies(ctx, patient)
    if ctx.failed or None in (drug_code, dose, unit, route, frequency, encounter):
        return
    drug = ctx.world.where("sb_drug", code=drug_code)[0]
    prn = msg.value("RXE", 27, 2) or msg.value("RXE", 27, 1)
    as_needed = "PRN" in (msg.value("TQ1", 9, 1).upper(), msg.value("RXE", 1, 6).upper())
    values = {"encounter_id": encounter.id, "drug_id": drug.id, "dose": dose, "dose_unit": unit, "route": route,
              "frequency": frequency, "prn_reason": (prn or ("as needed" if as_needed else None)),
              "status": "pending", "verified_by": None}
    label = f"{ctx.world.drug_label(drug.id)} {dose:g} {unit} {route} {frequency}"
    if action == "new":
        values.update(order_number=number, ordered_at=_event_time(ctx, msg.value("ORC", 9),
                                                                   msg.received.header.timestamp))
        ctx.changes.append(Change("sb_order", "insert", values, tag="order",
                                  summary=f"order {number} ({label}) waiting for pharmacist verification"))
        order_ref: int | NewRow = NewRow("order")
    else:
        ctx.changes.append(Change("sb_order", "update", values, existing.id,
                                  summary=f"order {number} changed ({label}); back to pharmacist verification"))
        order_ref = existing.id
    waiting = ctx.world.where("sb_verification_queue", order_id=existing.id, status="waiting") if existing else []
    if not waiting:
        site = verification_site(ctx.world, encounter)
        ctx.changes.append(Change("sb_verification_queue", "insert", {
            "order_id": order_ref, "site_id": site.id, "assignee": None, "status": "waiting"},
            summary=f"order {number} queued for verification ({site.code})"))


# --- the whole message ---------------------------------------------------------------------------------------------

def channel_by_name(world: World, name: str) -> Rec | None:
    return next(iter(world.where("sb_interface_channel", name=name)), None)


def applied_duplicate(world: World, channel: Rec, control_id: str, exclude_message_id: int | None) -> Rec | None:
    """An earlier message on the channel whose effects were applied under this control id."""
    return next((m for m in world.where("sb_interface_message", channel_id=channel.id, applied_control_id=control_id)
                 if m.id != exclude_message_id), None)


def process(world: World, channel: Rec, data: bytes | str, exclude_message_id: int | None = None) -> Outcome:
    """Run one message through the engine against ``world``. Writes nothing; never raises for any input.

    ``exclude_message_id`` is the stored message being replayed: its own earlier application (if any) does not
    make it a duplicate of itself.
    """
    try:
        received = receive(data, bool(channel.normalize_line_endings))
    except Rejected as rejected:
        return Outcome(rejected.control_id, None, "AR", rejected.warnings + rejected.issues,
                       text=decode(data)[0])
    header = received.header
    outcome = Outcome(header.control_id, header, "AA", list(received.warnings), text=received.text)
    if not channel.active:
        outcome.ack_code = "AR"
        outcome.issues.append(Issue(207, "MSH", 1, text=f"Channel {channel.name} is stopped."))
        return outcome
    # A channel takes the family its name says (MH-ADT-IN is an ADT feed); any other inbound channel takes both.
    allowed = next((kinds for suffix, kinds in CHANNEL_MESSAGES.items() if channel.name.endswith(suffix)),
                   tuple(SUPPORTED))
    if header.message_code not in SUPPORTED or header.message_code not in allowed:
        outcome.ack_code = "AR"
        outcome.issues.append(Issue(200, "MSH", 1, 9, text=f"{header.message_code} messages are not accepted on "
                                                          f"{channel.name} ({', '.join(allowed)} only)."))
        return outcome
    if header.trigger not in SUPPORTED[header.message_code]:
        outcome.ack_code = "AR"
        outcome.issues.append(Issue(201, "MSH", 1, 9, text=f"Event {header.trigger or '(none)'} is not supported "
                                                          f"for {header.message_code} "
                                                          f"({', '.join(SUPPORTED[header.message_code])})."))
        return outcome
    message = _Message(received)
    ctx = _Context(world, channel, message)
    outcome.patient_mrn = _patient_id(ctx) or None
    missing = [s for s in REQUIRED_SEGMENTS[header.message_code] if not message.all(s)]
    for segment in missing:
        ctx.error(100, segment, None, f"The {segment} segment is missing; {header.message_type} needs it.")
    if not missing:
        if channel.reject_duplicates and (earlier := applied_duplicate(world, channel, header.control_id,
                                                                       exclude_message_id)):
            outcome.duplicate_of = earlier.id
            ctx.issues.append(Issue(205, "MSH", 1, 10, severity="I",
                                    text=f"Control id {header.control_id} was applied already (message "
                                         f"{earlier.id}); acknowledged, not applied again."))
        elif header.message_code == "ADT":
            _adt(ctx, header.trigger)
        else:
            _order(ctx)
    outcome.issues = ctx.issues
    if ctx.failed:
        outcome.ack_code = "AE"
    else:
        outcome.changes = ctx.changes
    return outcome


# --- the acknowledgement -------------------------------------------------------------------------------------------

def _escape(text: str, separators: str) -> str:
    """Escape HL7 delimiters in text written into an ACK field (the escape character first)."""
    field_sep, comp, rep, esc, sub = separators[0], *(separators[1:] + "&")[:4]
    out = text.replace(esc, f"{esc}E{esc}")
    for char, code in ((field_sep, "F"), (comp, "S"), (sub, "T"), (rep, "R")):
        out = out.replace(char, f"{esc}{code}{esc}")
    return out.replace("\r", " ").replace("\n", " ")


def build_ack(outcome: Outcome, now: datetime, ack_control_id: str) -> str:
    """The ACK for an outcome, in the message's own separators: MSH, MSA, then one ERR per issue (segments by CR).

    Original acknowledgement mode always: the sandbox answers every message with its application result, even
    where MSH-15/16 ask for enhanced mode, so the trainee sees what the pharmacy system made of it.
    """
    header = outcome.header
    separators = (header.field_separator + header.encoding[:4]) if header else "|^~\\&"
    if len(set(separators)) != len(separators):
        separators = "|^~\\&"
    fs, comp = separators[0], separators[1]
    encoding = separators[1:]

    def f(value: str) -> str:
        return _escape(value, separators)

    trigger = header.trigger if header else ""
    version = header.version if header and header.version else ACK_VERSION
    processing = header.processing_id if header and header.processing_id in ("P", "T", "D") else "P"
    msh = fs.join(["MSH", encoding, RECEIVER_APPLICATION, RECEIVER_FACILITY,
                   f(header.sending_application) if header else "", f(header.sending_facility) if header else "",
                   now.strftime("%Y%m%d%H%M%S"), "", comp.join(["ACK", f(trigger), "ACK"]) if trigger else "ACK",
                   f(ack_control_id), processing, f(version)])
    lines = [msh, fs.join(["MSA", outcome.ack_code, f(outcome.control_id or "")])]
    for issue in outcome.issues:
        location = comp.join(f(p) for p in issue.location.split("^")) if issue.location else ""
        code = comp.join([str(issue.code), f(issue.label), "HL70357"])
        lines.append(fs.join(["ERR", "", location, code, issue.severity, "", "", "", f(issue.text)]))
    return "\r".join(lines) + "\r"


def control_id_of(data: bytes | str) -> str:
    """MSH-10 from the first line, for listing a message that could not be parsed."""
    return first_line_control_id(decode(data)[0])  # decoded as receive decodes it, so it agrees with MSA-2


def outbound_order(world: World, order: Rec, now: datetime, control_id: str) -> str:
    """The RDE^O11 the pharmacy system sends the cabinets for a verified order, in its own (internal) codes."""
    encounter = world.get("sb_encounter", order.encounter_id)
    patient = world.get("sb_patient", encounter.patient_id)
    location = world.get("sb_location", encounter.location_id)
    drug = world.drug(order.drug_id)
    family, _, given = patient.name.rpartition(" ")
    room, _, bed = (encounter.bed or "").partition("-")
    separators = "|^~\\&"

    def f(value) -> str:
        return _escape("" if value is None else str(value), separators)

    stamp = now.strftime("%Y%m%d%H%M%S")
    segments = [
        f"MSH|^~\\&|{RECEIVER_APPLICATION}|{RECEIVER_FACILITY}|ADC|{RECEIVER_FACILITY}|{stamp}||RDE^O11^RDE_O11|"
        f"{f(control_id)}|P|{ACK_VERSION}",
        f"PID|1||{f(patient.mrn)}^^^{RECEIVER_FACILITY}^MR||{f(family or given)}^{f(given if family else '')}||"
        f"{patient.birth_date:%Y%m%d}|{f(patient.sex)}",
        f"PV1|1|I|{f(location.code)}^{f(room)}^{f(bed)}||||||||||||||||||{f(encounter.visit_number)}",
        f"ORC|NW|{f(order.order_number)}|||||||{stamp}",
        f"RXE||{f(drug.code)}^{f(world.drug_label(drug.id))}^PHARM|{order.dose:g}||{f(order.dose_unit)}|"
        f"{f(drug.form)}" + (f"|||||||||||||||||||||^{f(order.prn_reason)}" if order.prn_reason else ""),
        f"TQ1|1||{f(order.frequency)}" + ("||||||PRN" if order.prn_reason else ""),
        f"RXR|{f(order.route)}",
    ]
    return "\r".join(segments) + "\r"
