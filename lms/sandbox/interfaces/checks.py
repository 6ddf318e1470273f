"""The interface tickets' checks: replay a stored message through the engine, and what its effects must be.

Pure functions of the instance's World, registered by name in the check registry (lms.sandbox.core.checks).
``message_replays`` runs the engine on the message exactly as it arrived, against the maps and channel settings
as they are now, and changes nothing; the others read what the trainee's own replay filed.
"""

from lms.sandbox.core.checks import CheckError, GradeContext, Outcome, check, find, no, ok
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces.engine import internal_code_problem, process


def stored_message(world: World, control_id: str) -> Rec:
    """The message a ticket names by control id: the one in error when a resend shares it, else the latest."""
    found = [m for m in world.table("sb_interface_message").values() if m.control_id == control_id]
    if not found:
        raise CheckError(f"interface_messages {control_id!r} is not in the instance")
    return next((m for m in found if m.status == "error"), found[-1])


@check
def message_replays(ctx: GradeContext, message: str, expect: str = "accepted") -> Outcome:
    """Replay the stored message: ``accepted`` (AA and applied), ``duplicate`` (AA, recognised as a resend and not
    applied), or an ACK code (AE, AR) it must still get."""
    stored = stored_message(ctx.world, message)
    channel = ctx.world.get("sb_interface_channel", stored.channel_id)
    if expect == "accepted" and stored.status == "processed" and stored.ack_code == "AA":
        # The trainee's replay filed it already (only the engine sets processed); replaying it fresh now would
        # meet its own order or encounter.
        return ok(f"{message} was replayed on {channel.name} and accepted (AA).")
    outcome = process(ctx.world, channel, stored.raw, exclude_message_id=stored.id)
    got = ("duplicate" if outcome.duplicate_of is not None else "accepted") if outcome.ack_code == "AA" \
        else outcome.ack_code
    if got == expect:
        return ok(f"Replaying {message} on {channel.name} gets {outcome.ack_code}: {outcome.summary}")
    return no(f"Replaying {message} on {channel.name} gets {outcome.ack_code}: {outcome.summary}")


@check
def message_processed(ctx: GradeContext, message: str) -> Outcome:
    """The stored message was processed by the engine (its last ACK is AA), not left in error."""
    stored = stored_message(ctx.world, message)
    events = [e for e in ctx.world.table("sb_interface_event").values() if e.message_id == stored.id]
    if stored.status == "processed" and stored.ack_code == "AA" and events and events[-1].ack_code == "AA":
        return ok(f"Message {message} is processed (AA).")
    return no(f"Message {message} is {stored.status} ({stored.ack_code or 'no ACK'}): nothing it carries is filed "
              "in the pharmacy system yet.")


@check
def order_waiting(ctx: GradeContext, order: str, drug: str, dose: float | None = None, unit: str | None = None,
                  route: str | None = None, frequency: str | None = None) -> Outcome:
    """The order is filed for ``drug`` (and the given dose, unit, route, frequency) and waits for verification."""
    row = ctx.world.by_key("sb_order", order)
    if row is None:
        return no(f"The pharmacy system has no order {order}.")
    expected = find(ctx.world, "sb_drug", drug)
    if row.drug_id != expected.id:
        return no(f"Order {order} is filed as {ctx.world.drug_label(row.drug_id)}, not "
                  f"{ctx.world.drug_label(expected.id)}.")
    wanted = {"dose": dose, "dose_unit": unit, "route": route, "frequency": frequency}
    wrong = [f"{k.replace('_', ' ')} {row[k]!r} (expected {v!r})" for k, v in wanted.items()
             if v is not None and row[k] != v]
    if wrong:
        return no(f"Order {order} is filed with {', '.join(wrong)}.")
    if row.status != "pending" or not ctx.world.where("sb_verification_queue", order_id=row.id, status="waiting"):
        return no(f"Order {order} is {row.status} and not waiting in the verification queue.")
    return ok(f"Order {order} ({ctx.world.drug_label(row.drug_id)}) waits for pharmacist verification.")


@check
def encounter_at(ctx: GradeContext, visit: str, location: str, bed: str | None = None) -> Outcome:
    """The encounter is active on ``location`` (and in ``bed``)."""
    encounter = find(ctx.world, "sb_encounter", visit)
    place = ctx.world.get("sb_location", encounter.location_id)
    if encounter.status != "active":
        return no(f"Encounter {visit} is {encounter.status}.")
    if place.code != location or (bed is not None and encounter.bed != bed):
        return no(f"Encounter {visit} is on {place.code} bed {encounter.bed}, so the cabinets there list the "
                  "patient and the cabinets where the patient is do not.")
    return ok(f"Encounter {visit} is on {place.code} bed {encounter.bed}.")


@check
def encounter_discharged(ctx: GradeContext, visit: str) -> Outcome:
    encounter = find(ctx.world, "sb_encounter", visit)
    if encounter.status == "discharged" and encounter.discharged_at is not None:
        return ok(f"Encounter {visit} is discharged; the patient has left the cabinet lists.")
    return no(f"Encounter {visit} is still active: the patient is still on the unit's cabinet list.")


@check
def on_cabinet_list(ctx: GradeContext, cabinet: str, patient: str, listed: bool = True) -> Outcome:
    """The patient is (or is not) on the cabinet's patient list: an active encounter on the cabinet's unit."""
    cab = find(ctx.world, "sb_cabinet", cabinet)
    person = find(ctx.world, "sb_patient", patient)
    there = any(e.location_id == cab.location_id for e in ctx.world.where("sb_encounter", patient_id=person.id,
                                                                          status="active"))
    if there == listed:
        return ok(f"{person.name} is {'on' if there else 'not on'} {cabinet}'s patient list.")
    return no(f"{person.name} is {'on' if there else 'not on'} {cabinet}'s patient list.")


def _code_map(ctx: GradeContext, channel: str, code_type: str, external_code: str, internal_code: str,
              missing: Outcome) -> Outcome:
    """The channel's active map for the external code against ``internal_code``; ``missing`` when there is none."""
    chan = find(ctx.world, "sb_interface_channel", channel)
    maps = [m for m in ctx.world.where("sb_code_map", channel_id=chan.id, code_type=code_type,
                                       external_code=external_code) if m.active]
    if not maps:
        return missing
    if maps[0].internal_code != internal_code:
        return no(f"{channel} maps {code_type} {external_code!r} to {maps[0].internal_code!r}, which is not what the "
                  "sender means.")
    return ok(f"{channel} maps {code_type} {external_code!r} to {internal_code!r}.")


@check
def code_map_is(ctx: GradeContext, channel: str, code_type: str, external_code: str, internal_code: str) -> Outcome:
    """The channel's active map for the external code points at ``internal_code``."""
    return _code_map(ctx, channel, code_type, external_code, internal_code,
                     no(f"{channel} has no active {code_type} map for {external_code!r}."))


@check
def maps_point_at_known_codes(ctx: GradeContext) -> Outcome:
    """Every active code map's internal code is one the pharmacy system has (no map into nothing)."""
    for m in ctx.world.table("sb_code_map").values():
        if m.active and (problem := internal_code_problem(ctx.world, m.code_type, m.internal_code)):
            chan = ctx.world.get("sb_interface_channel", m.channel_id)
            return no(f"{chan.name} maps {m.code_type} {m.external_code!r} to {m.internal_code!r}, but {problem}.")
    return ok("Every active code map points at a code the pharmacy system has.")


@check
def channel_setting(ctx: GradeContext, channel: str, setting: str, value: bool) -> Outcome:
    chan = find(ctx.world, "sb_interface_channel", channel)
    if setting not in ("normalize_line_endings", "reject_duplicates", "active"):
        raise CheckError(f"channel_setting: {setting!r} is not a channel setting")
    if bool(chan[setting]) == bool(value):
        return ok(f"{channel}: {setting.replace('_', ' ')} is {'on' if value else 'off'}.")
    return no(f"{channel}: {setting.replace('_', ' ')} is {'on' if chan[setting] else 'off'}.")


@check
def code_map_if_present(ctx: GradeContext, channel: str, code_type: str, external_code: str,
                        internal_code: str) -> Outcome:
    """As ``code_map_is``, but also passes while the channel has no active map for the external code (for rejects:
    a map the trainee adds must point at ``internal_code``; before it is added nothing is wrong yet)."""
    return _code_map(ctx, channel, code_type, external_code, internal_code,
                     ok(f"{channel} has no active {code_type} map for {external_code!r} yet."))


@check
def allergy_on_file(ctx: GradeContext, patient: str, allergen_class: str) -> Outcome:
    """The patient's allergy list (what verification's drug-allergy checking reads) holds the allergen class, as an
    AL1 segment records it."""
    person = find(ctx.world, "sb_patient", patient)
    wanted = find(ctx.world, "sb_allergen_class", allergen_class)
    if ctx.world.where("sb_allergy", patient_id=person.id, class_id=wanted.id):
        return ok(f"{person.name}'s allergy list includes {wanted.name}.")
    return no(f"{person.name}'s allergy list in the pharmacy system has no {wanted.name} allergy, so drug-allergy "
              "checking at verification cannot warn about it.")


@check
def resend_changes_nothing(ctx: GradeContext, control_id: str) -> Outcome:
    """The same message arriving again now (a sender's resend with the same MSH-10) would change no row: it is
    answered as a duplicate, refused, or repeats exactly what is already filed. A stale resend cannot move a
    patient or change an order a second time. (``control_id``, not ``message``: a reject's ``message`` is the text
    the trainee reads.)"""
    stored = stored_message(ctx.world, control_id)
    channel = ctx.world.get("sb_interface_channel", stored.channel_id)
    outcome = process(ctx.world, channel, stored.raw)  # a new arrival: no stored message is excluded
    for change in outcome.changes:
        current = ctx.world.get(change.table, change.row_id) if change.action == "update" else None
        if current is None or any(current.get(k) != v for k, v in change.values.items()):
            return no(f"If the sender resent {control_id} now, {channel.name} would apply it again "
                      f"({change.summary or change.table}).")
    return ok(f"A resend of {control_id} would change nothing ({outcome.ack_code}: {outcome.summary}).")
