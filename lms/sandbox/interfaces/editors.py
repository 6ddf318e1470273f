"""The interface screens that change tables: code maps, channel settings, and the message row that refuses edits.

A code map translates one external (sender's) code into the pharmacy system's internal code; the validator
checks the internal code exists for its type, so a map can never point at nothing. A raw message is evidence:
its text and its status change only by the engine (receive or replay), never by hand.
"""

from lms.sandbox.core.editing import Editor, Field
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces.engine import internal_code_problem

CODE_TYPES = (("drug", "drug (RXE-2 give code)"), ("unit", "unit (RXE-5 give units)"),
              ("route", "route (RXR-1)"), ("frequency", "frequency (TQ1-3 or RXE-1)"),
              ("location", "location (PV1-3 point of care)"), ("allergen", "allergen (AL1-3)"))


def _channel(w: World, r: Rec) -> str:
    channel = w.get("sb_interface_channel", r.channel_id)
    return channel.name if channel else "(none)"


def _validate_code_map(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    channel = w.get("sb_interface_channel", v.get("channel_id"))
    if channel is not None and channel.direction != "inbound":
        errors["channel"] = f"{channel.name} is outbound: it sends the pharmacy system's own codes, so it has no maps."
    external = (v.get("external_code") or "").strip()
    internal = (v.get("internal_code") or "").strip()
    if external != (v.get("external_code") or "") or internal != (v.get("internal_code") or ""):
        errors["external_code" if external != (v.get("external_code") or "") else "internal_code"] = \
            "Codes are matched exactly: remove the spaces at the start or end."
    if v.get("code_type") and internal and v.get("active", True) and \
            (problem := internal_code_problem(w, v["code_type"], internal)):
        errors["internal_code"] = f"{internal!r} is not a code the pharmacy system knows: {problem}."
    if channel is not None and external and v.get("code_type"):
        clash = next((m for m in w.where("sb_code_map", channel_id=channel.id, code_type=v["code_type"],
                                         external_code=external) if row is None or m.id != row.id), None)
        if clash is not None:
            state = "an active" if clash.active else "a retired"
            errors["external_code"] = (f"{channel.name} already has {state} {v['code_type']} map for {external!r} "
                                       f"(to {clash.internal_code}); change that one instead.")
    return errors


def _validate_channel(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    if row is not None and row.direction == "outbound" and v.get("normalize_line_endings"):
        return {"normalize_line_endings": "Outbound channels send CR terminators; there is nothing to normalise."}
    return {}


def _validate_message(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    if row is not None and (v.get("raw") or "").strip() != row.raw.strip():
        errors["raw"] = ("Raw messages are immutable: they are the record of what the sender sent. Fix the code map "
                         "or the channel setting, then replay the message.")
    if row is not None and v.get("status") != row.status:
        errors["status"] = ("A message is not marked processed by hand: that files nothing in the pharmacy system. "
                            "Fix the cause and replay it; the engine sets the status from the ACK.")
    return errors


# The workspace's "Interfaces" group: the engine's own pages (label, endpoints, the link's first), then the editors.
GROUP = "Interfaces"
PAGES = (("Message browser", ("sandbox.messages", "sandbox.message")),
         ("Send a test message", ("sandbox.test_message",)),
         ("Verification queue", ("sandbox.verification_queue",)))

EDITORS: dict[str, Editor] = {e.name: e for e in [
    Editor("code_maps", "sb_code_map", "Code maps",
           "How each inbound channel translates the sender's codes into the pharmacy system's. Codes match exactly "
           "(G and g are different codes). Retire a map instead of deleting it, so old messages still explain "
           "themselves.",
           (Field("channel", "Channel", "ref", True, ref="sb_interface_channel"),
            Field("code_type", "Code type", "choice", True, choices=CODE_TYPES),
            Field("external_code", "External code (as the sender sends it)", "text", True),
            Field("internal_code", "Internal code", "text", True,
                  help="A drug item code, a location code, an allergen class name, or one of the system's units, "
                       "routes or frequencies."),
            Field("active", "Active", "bool")),
           (("Channel", _channel), ("Type", lambda w, r: r.code_type), ("External", lambda w, r: r.external_code),
            ("Internal", lambda w, r: r.internal_code), ("Active", lambda w, r: "yes" if r.active else "retired")),
           create=True, validate=_validate_code_map,
           search=lambda w, r: f"{_channel(w, r)} {r.code_type} {r.external_code} {r.internal_code}",
           sort=lambda w, r: (_channel(w, r), r.code_type, r.external_code.casefold())),
    Editor("interface_channels", "sb_interface_channel", "Interface channels",
           "Each connection to another system and how it treats what arrives.",
           (Field("normalize_line_endings", "Normalise line endings (accept CR LF and LF as segment ends)", "bool"),
            Field("reject_duplicates", "Apply each control id once (answer a resend as a duplicate)", "bool"),
            Field("active", "Running", "bool")),
           (("Channel", lambda w, r: r.name), ("Direction", lambda w, r: r.direction),
            ("Normalise", lambda w, r: "yes" if r.normalize_line_endings else "no"),
            ("Duplicates", lambda w, r: "refused" if r.reject_duplicates else "applied again"),
            ("Running", lambda w, r: "yes" if r.active else "stopped")),
           validate=_validate_channel),
    Editor("interface_messages", "sb_interface_message", "Interface messages",
           "Messages as they arrived. Open one in the message browser to read it, replay it, or see its ACK.",
           (Field("raw", "Raw message", "text", True), Field("status", "Status", "choice", True,
                                                              choices=(("queued", "queued"),
                                                                       ("processed", "processed"),
                                                                       ("error", "error"),
                                                                       ("duplicate", "duplicate")))),
           (("Control id", lambda w, r: r.control_id), ("Type", lambda w, r: r.message_type),
            ("Channel", _channel), ("Status", lambda w, r: f"{r.status} ({r.ack_code or '-'})")),
           validate=_validate_message, search=lambda w, r: f"{r.control_id} {r.message_type} {r.patient_mrn or ''}",
           page="sandbox.messages", row_page="sandbox.message"),
]}
