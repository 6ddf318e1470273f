"""The interface engine against an instance in the database: receive, replay, and what verification sends out.

``engine.process`` decides; this module writes what it decided, once. Services flush; routes commit.
"""

from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.sandbox.core.models import InterfaceMessage, SandboxInstance
from lms.sandbox.core.schema import BY_NAME, SPECS
from lms.sandbox.core.services import Actor, SandboxError, _jsonable, allocate_ids, instance_world
from lms.sandbox.core.world import Rec, World
from lms.sandbox.interfaces.engine import Change, NewRow, Outcome, build_ack, channel_by_name, outbound_order, process
from lms.sandbox.interfaces.issues import Issue
from lms.sandbox.interfaces.receive import decode

MESSAGES = InterfaceMessage.__table__
MAX_MESSAGE_BYTES = 1_000_000


def engine_actor(channel: Rec, actor: Actor) -> Actor:
    """The engine writes the rows a message changes; the audit trail names it and who ran the message."""
    return Actor(user_id=None, name=f"Interface engine {channel.name} (run by {actor.name})"[:80])


def _status(outcome: Outcome, message_id: int) -> str:
    if outcome.ack_code != "AA":
        return "error"
    return "duplicate" if outcome.duplicate_of not in (None, message_id) else "processed"


def _claim(session: Session, instance_id: int, message_id: int, control_id: str) -> bool:
    """Mark the message as the one application of its control id on the channel; False when another holds it.

    The unique constraint (instance, channel, applied_control_id) decides, so two requests delivering the same
    control id at once apply it once.
    """
    try:
        with session.begin_nested():
            session.execute(update(MESSAGES).where(MESSAGES.c.instance_id == instance_id, MESSAGES.c.id == message_id)
                            .values(applied_control_id=control_id[:80]))
        return True
    except IntegrityError:
        return False


class _Writes:
    """The rows a batch of messages writes, executed together at the end (many rows per statement).

    Inserts go first, in the tables' insert order (parents before children), then updates in the order they were
    made, consecutive updates of the same columns of one table sharing a statement: a later update of a row always
    runs after an earlier one. Only the duplicate claim is written at once, because its answer decides the rest.
    """

    def __init__(self, session: Session, instance_id: int, id_block: int = 1):
        self.session, self.instance_id, self.id_block = session, instance_id, id_block
        self._next_id = self._end_id = 0
        self.inserts: dict[str, list[dict]] = {}
        self.updates: list[tuple[tuple[str, tuple[str, ...]], list[dict]]] = []

    def take_ids(self, count: int) -> int:
        """``count`` consecutive new row ids; reserved from the instance's counter in blocks (unused ids of the last
        block are simply never used), so a replay of a thousand messages asks the counter a few times, not 1,000."""
        if self._next_id + count > self._end_id:
            block = max(count, self.id_block)
            self._next_id = allocate_ids(self.session, self.instance_id, block)
            self._end_id = self._next_id + block
        first = self._next_id
        self._next_id += count
        return first

    def insert(self, table: str, row: dict) -> None:
        self.inserts.setdefault(table, []).append({"instance_id": self.instance_id, **row})

    def update(self, table: str, row_id: int, values: dict) -> None:
        key = (table, tuple(sorted(values)))
        params = {"row_id_": row_id, **values}
        if self.updates and self.updates[-1][0] == key:
            self.updates[-1][1].append(params)
        else:
            self.updates.append((key, [params]))

    def flush(self, session: Session) -> None:
        for spec in SPECS:
            rows = self.inserts.pop(spec.name, [])
            shapes: dict[tuple, list[dict]] = {}  # one executemany per set of columns
            for row in rows:
                shapes.setdefault(tuple(sorted(row)), []).append(row)
            for same in shapes.values():
                session.execute(insert(spec.table), same)
        for (table_name, columns), params in self.updates:
            table = BY_NAME[table_name].table
            session.execute(update(table).where(table.c.instance_id == self.instance_id,
                                                table.c.id == bindparam("row_id_"))
                            .values({c: bindparam(c) for c in columns}), params)
        self.updates = []
        session.flush()


def _audit_row(audit_id: int, actor: Actor, table: str, row_id: int, action: str, before: dict | None, after: dict,
               now: datetime) -> dict:
    return {"id": audit_id, "at": now, "user_id": actor.user_id, "actor": actor.name[:80], "table_name": table,
            "row_id": row_id, "action": action, "before": _jsonable(before) if before else None,
            "after": _jsonable(after), "change_request": None}


def _write_changes(writes: _Writes, next_id: int, world: World, changes: list[Change], actor: Actor,
                   now: datetime) -> int:
    """Queue a message's changes and their audit rows, using ids from ``next_id``; returns the next free id."""
    tags: dict[str, int] = {}
    for change in changes:
        values = {k: (tags[v.tag] if isinstance(v, NewRow) else v) for k, v in change.values.items()}
        if change.action == "insert":
            row_id, next_id = next_id, next_id + 1
            writes.insert(change.table, {"id": row_id, **values})
            if change.tag:
                tags[change.tag] = row_id
            before = None
        else:
            row_id = change.row_id
            current = world.get(change.table, row_id) or {}
            before = {k: current.get(k) for k in values}
            writes.update(change.table, row_id, values)
        writes.insert("sb_audit", _audit_row(next_id, actor, change.table, row_id, change.action, before, values, now))
        next_id += 1
        world.store(change.table, {"id": row_id, **values})
    return next_id


def _record(session: Session, writes: _Writes, world: World, channel: Rec, message_id: int,
            outcome: Outcome, kind: str, actor: Actor, now: datetime) -> Outcome:
    """Apply an outcome's changes once, then queue the message's new state, its ACK and a history entry."""
    if outcome.changes and channel.reject_duplicates and not _claim(session, writes.instance_id, message_id,
                                                                    outcome.control_id):
        outcome.changes = []
        outcome.duplicate_of = -1
        outcome.issues.append(Issue(205, "MSH", 1, 10, severity="I", text=f"Control id {outcome.control_id} was "
                                                                          "applied already; not applied again."))
    elif outcome.changes and channel.reject_duplicates:
        world.store("sb_interface_message", {"id": message_id, "applied_control_id": outcome.control_id[:80]})
    inserts = sum(1 for c in outcome.changes if c.action == "insert")
    next_id = writes.take_ids(1 + inserts + len(outcome.changes))
    event_id, next_id = next_id, next_id + 1
    if outcome.changes:
        _write_changes(writes, next_id, world, outcome.changes, engine_actor(channel, actor), now)
    ack = build_ack(outcome, now, f"ACK{event_id}")
    values = {"status": _status(outcome, message_id), "ack_code": outcome.ack_code, "error": outcome.summary if
              outcome.ack_code != "AA" else None, "ack": ack, "patient_mrn": (outcome.patient_mrn or None)}
    writes.update("sb_interface_message", message_id, values)
    world.store("sb_interface_message", {"id": message_id, **values})
    writes.insert("sb_interface_event", {"id": event_id, "message_id": message_id, "at": now, "kind": kind,
                                         "actor": actor.name[:80], "ack_code": outcome.ack_code, "ack": ack,
                                         "changes": [c.summary for c in outcome.changes]})
    return outcome


def receive_message(session: Session, instance: SandboxInstance, channel_name: str, data: bytes | str, actor: Actor,
                    now: datetime, world: World | None = None) -> tuple[int, Outcome]:
    """A message arrives on an inbound channel: store it as received, process it, answer it. (message id, outcome)

    Raises SandboxError (nothing stored) for a channel that does not exist or is outbound, or an empty message.
    """
    world = world or instance_world(session, instance, now)
    channel = channel_by_name(world, channel_name)
    if channel is None:
        raise SandboxError(f"No channel named {channel_name!r} in this instance.")
    if channel.direction != "inbound":
        raise SandboxError(f"{channel.name} is an outbound channel: the pharmacy system sends on it.")
    if not data or not (data.strip() if isinstance(data, str) else data.strip()):
        raise SandboxError("The message is empty.")
    if len(data) > MAX_MESSAGE_BYTES:
        raise SandboxError(f"The message is larger than {MAX_MESSAGE_BYTES:,} bytes.")
    outcome = process(world, channel, data)
    raw, _warnings = decode(data)
    message_id = allocate_ids(session, instance.id)
    row = {"channel_id": channel.id, "control_id": (outcome.control_id or "(none)")[:80],
           "message_type": (outcome.message_type or "?")[:12], "raw": raw.replace("\x00", ""), "status": "queued",
           "received_at": now}
    session.execute(insert(MESSAGES).values(instance_id=instance.id, id=message_id, **row))
    world.store("sb_interface_message", {"id": message_id, "applied_control_id": None, "ack_code": None, **row})
    writes = _Writes(session, instance.id)
    _record(session, writes, world, channel, message_id, outcome, "received", actor, now)
    writes.flush(session)
    return message_id, outcome


def replay_target(world: World, control_id: str) -> int:
    """The stored inbound message a ticket step names by control id: the one in error when a resend shares it."""
    found = [m for m in world.table("sb_interface_message").values() if m.control_id == control_id]
    if not found:
        raise SandboxError(f"No message has control id {control_id!r}.")
    return next((m.id for m in found if m.status == "error"), found[0].id)


def replay(session: Session, instance: SandboxInstance, message_ids: list[int], actor: Actor,
           now: datetime) -> list[tuple[int, Outcome]]:
    """Run stored inbound messages through the engine again, oldest first whatever order they were picked in (so
    one patient's events apply in the order they happened). The raw text is what arrived, never edited."""
    world = instance_world(session, instance, now)
    picked = []
    for message_id in dict.fromkeys(message_ids):
        message = world.get("sb_interface_message", message_id)
        if message is None:
            raise SandboxError(f"No message {message_id} in this instance.")
        channel = world.get("sb_interface_channel", message.channel_id)
        if channel.direction != "inbound":
            raise SandboxError(f"Message {message_id} went out on {channel.name}; only inbound messages replay.")
        picked.append(message)
    results = []
    writes = _Writes(session, instance.id, id_block=256)
    for message in sorted(picked, key=lambda m: (m.received_at, m.id)):
        channel = world.get("sb_interface_channel", message.channel_id)
        # A message already applied answers as its own duplicate: a replay never files its effects twice.
        outcome = process(world, channel, message.raw,
                          exclude_message_id=None if message.applied_control_id else message.id)
        results.append((message.id, _record(session, writes, world, channel, message.id, outcome, "replayed",
                                            actor, now)))
    writes.flush(session)
    return results


def verify_order(session: Session, instance: SandboxInstance, order_id: int, pharmacist: str, actor: Actor,
                 now: datetime) -> int:
    """A pharmacist verifies a pending order: the order and its queue entry are verified, and the order goes out to
    the cabinets on CAB-OUT in the pharmacy system's own codes. Returns the outbound message id."""
    world = instance_world(session, instance, now)
    order = world.get("sb_order", order_id)
    if order is None or order.status != "pending":
        raise SandboxError("Only a pending order can be verified.")
    channel = channel_by_name(world, "CAB-OUT")
    if channel is None or not channel.active:
        raise SandboxError("The CAB-OUT channel is missing or stopped, so the cabinets would not hear of the order.")
    changes = [Change("sb_order", "update", {"status": "verified", "verified_by": pharmacist[:40]}, order.id,
                      summary=f"order {order.order_number} verified by {pharmacist}")]
    changes += [Change("sb_verification_queue", "update", {"status": "verified", "assignee": pharmacist[:40]},
                       entry.id) for entry in world.where("sb_verification_queue", order_id=order.id,
                                                          status="waiting")]
    writes = _Writes(session, instance.id)
    _write_changes(writes, writes.take_ids(2 * len(changes)), world, changes, actor, now)
    writes.flush(session)
    message_id = allocate_ids(session, instance.id)
    control_id = f"CAB{now:%Y%m%d}{message_id:06d}"
    raw = outbound_order(world, world.get("sb_order", order.id), now, control_id)
    session.execute(insert(MESSAGES).values(
        instance_id=instance.id, id=message_id, channel_id=channel.id, control_id=control_id,
        message_type="RDE^O11", raw=raw, status="processed", ack_code="AA", received_at=now,
        patient_mrn=world.get("sb_patient", world.get("sb_encounter", order.encounter_id).patient_id).mrn))
    session.flush()
    return message_id
