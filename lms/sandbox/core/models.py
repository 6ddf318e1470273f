"""The mock pharmacy system's tables, one isolated copy per trainee and ticket, plus attempts and grading records.

Every sandbox table has the composite primary key (instance_id, id) and every reference between sandbox rows is a
composite foreign key that includes instance_id. So a row can only ever point at rows of its own instance: isolation
is enforced by the database, not only by the queries. Local ids are small and stable (drug 12 is the same drug in
every instance), which keeps seeds, tickets and URLs simple. Instance data is deleted with ON DELETE CASCADE.
"""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from lms.db import utcnow
from lms.extensions import db


class SandboxInstance(db.Model):
    """One trainee's copy of the mock system for one ticket; reset re-seeds it in place."""

    __tablename__ = "sb_instance"
    __table_args__ = (UniqueConstraint("user_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(String(80))
    ticket_version: Mapped[str] = mapped_column(String(16))  # hash of the ticket + seed it was built from
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reset_at: Mapped[datetime | None]
    resets: Mapped[int] = mapped_column(default=0)
    submissions: Mapped[int] = mapped_column(default=0)
    # The next local id for a row made in this instance (any table), above every seeded id. Taken with one
    # UPDATE ... SET next_row_id = next_row_id + n RETURNING, so parallel creates never compute the same id.
    next_row_id: Mapped[int] = mapped_column(default=1, server_default="1")
    # Set by the first passing submission and never cleared, not even by a reset: what was earned stays earned.
    solved_at: Mapped[datetime | None]


class SandboxSubmission(db.Model):
    """One grading run: which checks passed, which symptom fixes were caught. Kept forever."""

    __tablename__ = "sb_submission"
    __table_args__ = (UniqueConstraint("instance_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("sb_instance.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    number: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    solved: Mapped[bool]
    results: Mapped[list] = mapped_column(JSON)  # [{"name", "kind": check|reject, "passed", "message"}]


class SandboxHintReveal(db.Model):
    """A hint the trainee chose to see (recorded, so supervisors can tell hinted solutions apart)."""

    __tablename__ = "sb_hint_reveal"
    __table_args__ = (UniqueConstraint("instance_id", "hint_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("sb_instance.id"), index=True)
    hint_index: Mapped[int]
    revealed_at: Mapped[datetime] = mapped_column(default=utcnow)


def _ref(column: str, table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A reference to another sandbox row of the same instance."""
    return ForeignKeyConstraint(["instance_id", column], [f"{table}.instance_id", f"{table}.id"], ondelete=ondelete)


class InstanceRow:
    """Columns every sandbox table shares: the owning instance and a local id."""

    instance_id: Mapped[int] = mapped_column(ForeignKey("sb_instance.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)

    @declared_attr.directive
    def __table_args__(cls):
        return tuple(getattr(cls, "references", ())) + tuple(getattr(cls, "constraints", ()))


# --- formulary -----------------------------------------------------------------------------------------------------

class Drug(InstanceRow, db.Model):
    __tablename__ = "sb_drug"
    constraints = (UniqueConstraint("instance_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))  # the pharmacy system's item id
    generic_name: Mapped[str] = mapped_column(String(120))
    tall_man_name: Mapped[str | None] = mapped_column(String(120))
    brand_name: Mapped[str | None] = mapped_column(String(120))
    strength: Mapped[str] = mapped_column(String(60))
    form: Mapped[str] = mapped_column(String(40))
    route: Mapped[str] = mapped_column(String(40))
    rxcui: Mapped[str | None] = mapped_column(String(12))
    drug_class: Mapped[str] = mapped_column(String(60), default="")
    high_alert: Mapped[bool] = mapped_column(default=False)
    dea_schedule: Mapped[int | None]  # 2..5 for C-II..C-V
    hazardous: Mapped[bool] = mapped_column(default=False)
    pediatric: Mapped[bool] = mapped_column(default=False)
    formulary_status: Mapped[str] = mapped_column(String(20), default="formulary")
    active: Mapped[bool] = mapped_column(default=True)


class Product(InstanceRow, db.Model):
    """A manufacturer's package of a drug, identified by NDC; units may name the carton they come in."""

    __tablename__ = "sb_product"
    references = (_ref("drug_id", "sb_drug"), _ref("parent_id", "sb_product"))
    constraints = (UniqueConstraint("instance_id", "ndc11"),)

    drug_id: Mapped[int]
    # Sized for the 12-digit NDC the FDA adopts in 2033; always text, never an integer (leading zeros).
    ndc11: Mapped[str] = mapped_column(String(12))
    ndc10: Mapped[str] = mapped_column(String(14))  # as printed on the package, with hyphens
    ndc_format: Mapped[str] = mapped_column(String(8))  # 4-4-2 | 5-3-2 | 5-4-1
    labeler: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(120), default="")
    package_quantity: Mapped[int]
    package_unit: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None]
    units_per_parent: Mapped[int | None]
    gtin14: Mapped[str | None] = mapped_column(String(14))
    specific_gravity: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)
    fictional: Mapped[bool] = mapped_column(default=True)


class Barcode(InstanceRow, db.Model):
    """A barcode value the system accepts for a product (GTIN-14, UPC-A or an in-house label)."""

    __tablename__ = "sb_barcode"
    references = (_ref("product_id", "sb_product"),)
    constraints = (UniqueConstraint("instance_id", "value"),)

    product_id: Mapped[int]
    value: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))  # gtin14 | upc_a | internal


class Lot(InstanceRow, db.Model):
    __tablename__ = "sb_lot"
    references = (_ref("product_id", "sb_product"),)
    constraints = (UniqueConstraint("instance_id", "product_id", "lot_number"),)

    product_id: Mapped[int]
    lot_number: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="available")  # available | quarantined | recalled


# --- places and automation -----------------------------------------------------------------------------------------

class Location(InstanceRow, db.Model):
    __tablename__ = "sb_location"
    constraints = (UniqueConstraint("instance_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))  # also the code ADT messages use after mapping
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # unit | pharmacy | remote_site
    ventilated_patients: Mapped[bool] = mapped_column(default=False)  # OR, ICU, ED: where NMBs belong


class Cabinet(InstanceRow, db.Model):
    __tablename__ = "sb_cabinet"
    references = (_ref("location_id", "sb_location"),)
    constraints = (UniqueConstraint("instance_id", "name"),)

    location_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(40))
    profiled: Mapped[bool] = mapped_column(default=True)
    downtime_mode: Mapped[bool] = mapped_column(default=False)


class Pocket(InstanceRow, db.Model):
    __tablename__ = "sb_pocket"
    references = (_ref("cabinet_id", "sb_cabinet"), _ref("drug_id", "sb_drug"))
    constraints = (UniqueConstraint("instance_id", "cabinet_id", "drawer", "position"),)

    cabinet_id: Mapped[int]
    drawer: Mapped[int]
    position: Mapped[int]
    drug_id: Mapped[int | None]
    par: Mapped[int] = mapped_column(default=0)
    minimum: Mapped[int] = mapped_column(default=0)
    capacity: Mapped[int]
    on_hand: Mapped[int] = mapped_column(default=0)
    blind_count: Mapped[bool] = mapped_column(default=False)
    lidded: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class Stock(InstanceRow, db.Model):
    """Where a lot physically is: a cabinet pocket, a robot cell or a pharmacy shelf."""

    __tablename__ = "sb_stock"
    references = (_ref("lot_id", "sb_lot"), _ref("location_id", "sb_location"), _ref("pocket_id", "sb_pocket"))

    lot_id: Mapped[int]
    location_id: Mapped[int]
    pocket_id: Mapped[int | None]
    place: Mapped[str] = mapped_column(String(60))  # "pocket 2-3", "robot cell R-014", "shelf B4"
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="available")  # available | quarantined


class OverrideItem(InstanceRow, db.Model):
    """A drug that may be removed from this cabinet before pharmacist verification (P&T-approved list)."""

    __tablename__ = "sb_override_item"
    references = (_ref("cabinet_id", "sb_cabinet"), _ref("drug_id", "sb_drug"))
    constraints = (UniqueConstraint("instance_id", "cabinet_id", "drug_id"),)

    cabinet_id: Mapped[int]
    drug_id: Mapped[int]
    approval_reference: Mapped[str] = mapped_column(String(40))


class CabinetTransaction(InstanceRow, db.Model):
    __tablename__ = "sb_cabinet_txn"
    references = (_ref("cabinet_id", "sb_cabinet"), _ref("pocket_id", "sb_pocket"), _ref("drug_id", "sb_drug"),
                  _ref("patient_id", "sb_patient"))

    cabinet_id: Mapped[int]
    pocket_id: Mapped[int]
    drug_id: Mapped[int]
    patient_id: Mapped[int | None]
    user_name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))  # remove | return | waste | restock | count
    quantity: Mapped[int]
    override: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime]


class Discrepancy(InstanceRow, db.Model):
    __tablename__ = "sb_discrepancy"
    references = (_ref("pocket_id", "sb_pocket"), _ref("transaction_id", "sb_cabinet_txn"))

    pocket_id: Mapped[int]
    transaction_id: Mapped[int | None]
    expected: Mapped[int]
    counted: Mapped[int]
    opened_by: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime]
    resolution_code: Mapped[str | None] = mapped_column(String(30))
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[str | None] = mapped_column(String(40))
    witness: Mapped[str | None] = mapped_column(String(40))
    resolved_at: Mapped[datetime | None]


class RobotItem(InstanceRow, db.Model):
    """The central robot's item master: what it expects to find in each storage cell."""

    __tablename__ = "sb_robot_item"
    references = (_ref("product_id", "sb_product"),)
    constraints = (UniqueConstraint("instance_id", "cell"),)

    product_id: Mapped[int]
    cell: Mapped[str] = mapped_column(String(12))
    package_size: Mapped[int]
    unit: Mapped[str] = mapped_column(String(12))
    expected_barcode: Mapped[str] = mapped_column(String(40))
    scan_check: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)


# --- people, patients and orders -----------------------------------------------------------------------------------

class Staff(InstanceRow, db.Model):
    """People inside the mock hospital (nurses, pharmacists, technicians): cabinet users and verifiers."""

    __tablename__ = "sb_staff"
    constraints = (UniqueConstraint("instance_id", "username"),)

    username: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))  # nurse | pharmacist | technician | prescriber
    sites: Mapped[str] = mapped_column(String(200), default="")  # comma-separated location codes
    can_verify: Mapped[bool] = mapped_column(default=False)


class Patient(InstanceRow, db.Model):
    __tablename__ = "sb_patient"
    constraints = (UniqueConstraint("instance_id", "mrn"),)

    mrn: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    weight_kg: Mapped[float | None]


class AllergenClass(InstanceRow, db.Model):
    __tablename__ = "sb_allergen_class"
    constraints = (UniqueConstraint("instance_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    cross_sensitivity_note: Mapped[str] = mapped_column(String(300), default="")


class AllergenMember(InstanceRow, db.Model):
    __tablename__ = "sb_allergen_member"
    references = (_ref("class_id", "sb_allergen_class"), _ref("drug_id", "sb_drug"))
    constraints = (UniqueConstraint("instance_id", "class_id", "drug_id"),)

    class_id: Mapped[int]
    drug_id: Mapped[int]


class Allergy(InstanceRow, db.Model):
    __tablename__ = "sb_allergy"
    references = (_ref("patient_id", "sb_patient"), _ref("class_id", "sb_allergen_class"))

    patient_id: Mapped[int]
    class_id: Mapped[int]
    reaction: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(20))  # mild | moderate | severe


class Encounter(InstanceRow, db.Model):
    """A hospital stay; the cabinet patient list is every active encounter on the cabinet's unit."""

    __tablename__ = "sb_encounter"
    references = (_ref("patient_id", "sb_patient"), _ref("location_id", "sb_location"))
    constraints = (UniqueConstraint("instance_id", "visit_number"),)

    patient_id: Mapped[int]
    visit_number: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int]
    bed: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | discharged
    admitted_at: Mapped[datetime]
    discharged_at: Mapped[datetime | None]


class Order(InstanceRow, db.Model):
    __tablename__ = "sb_order"
    references = (_ref("encounter_id", "sb_encounter"), _ref("drug_id", "sb_drug"))
    constraints = (UniqueConstraint("instance_id", "order_number"),)

    order_number: Mapped[str] = mapped_column(String(20))
    encounter_id: Mapped[int]
    drug_id: Mapped[int]
    dose: Mapped[float]
    dose_unit: Mapped[str] = mapped_column(String(12))
    route: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(20))
    prn_reason: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | verified | discontinued
    verified_by: Mapped[str | None] = mapped_column(String(40))
    ordered_at: Mapped[datetime]


class OrderSet(InstanceRow, db.Model):
    __tablename__ = "sb_order_set"
    constraints = (UniqueConstraint("instance_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    owner: Mapped[str] = mapped_column(String(80), default="P&T Committee")


class OrderSetVersion(InstanceRow, db.Model):
    __tablename__ = "sb_order_set_version"
    references = (_ref("order_set_id", "sb_order_set"),)
    constraints = (UniqueConstraint("instance_id", "order_set_id", "version"),)

    order_set_id: Mapped[int]
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))  # draft | active | retired
    change_request: Mapped[str | None] = mapped_column(String(40))


class OrderSentence(InstanceRow, db.Model):
    __tablename__ = "sb_order_sentence"
    references = (_ref("version_id", "sb_order_set_version"), _ref("drug_id", "sb_drug"))

    version_id: Mapped[int]
    drug_id: Mapped[int]
    dose: Mapped[float]
    dose_unit: Mapped[str] = mapped_column(String(12))
    route: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(20))
    prn_reason: Mapped[str | None] = mapped_column(String(80))
    default_selected: Mapped[bool] = mapped_column(default=False)
    exclusive_group: Mapped[str | None] = mapped_column(String(40))


class CdsRule(InstanceRow, db.Model):
    """A decision-support rule; ``params`` holds the kind-specific limits (dose range, interacting drug...)."""

    __tablename__ = "sb_cds_rule"
    references = (_ref("drug_id", "sb_drug"),)
    constraints = (UniqueConstraint("instance_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # allergy | interaction | dose_range | duplicate
    drug_id: Mapped[int | None]
    severity: Mapped[str] = mapped_column(String(20))  # info | warning | interruptive
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class CdsTestCase(InstanceRow, db.Model):
    __tablename__ = "sb_cds_test_case"
    references = (_ref("rule_id", "sb_cds_rule"),)

    rule_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    scenario: Mapped[dict] = mapped_column(JSON)
    expect_alert: Mapped[bool]


# --- interfaces ----------------------------------------------------------------------------------------------------

class InterfaceChannel(InstanceRow, db.Model):
    __tablename__ = "sb_interface_channel"
    constraints = (UniqueConstraint("instance_id", "name"),)

    name: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    normalize_line_endings: Mapped[bool] = mapped_column(default=False)  # accept CRLF and bare LF terminators
    reject_duplicates: Mapped[bool] = mapped_column(default=True)  # a control id already applied is not re-applied
    active: Mapped[bool] = mapped_column(default=True)


class InterfaceMessage(InstanceRow, db.Model):
    """One message as it arrived on a channel. ``raw`` is never edited: fixes go in the maps, then it is replayed.

    ``applied_control_id`` is set (to MSH-10) when the message's effects were applied on a channel that rejects
    duplicates; the unique constraint makes the database, not a read-then-write, refuse a second application.
    """

    __tablename__ = "sb_interface_message"
    references = (_ref("channel_id", "sb_interface_channel"),)
    constraints = (UniqueConstraint("instance_id", "channel_id", "applied_control_id"),
                   Index("ix_sb_interface_message_status", "instance_id", "status"))

    channel_id: Mapped[int]
    control_id: Mapped[str] = mapped_column(String(80))  # MSH-10 (v2.7 allows 199; senders use far fewer)
    message_type: Mapped[str] = mapped_column(String(12))  # RDE^O11, ADT^A02...
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # queued | processed | error | duplicate
    ack_code: Mapped[str | None] = mapped_column(String(2))  # AA | AE | AR
    error: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime]
    patient_mrn: Mapped[str | None] = mapped_column(String(20))
    ack: Mapped[str | None] = mapped_column(Text)  # the last ACK sent, segments separated by CR
    applied_control_id: Mapped[str | None] = mapped_column(String(80))


class InterfaceEvent(InstanceRow, db.Model):
    """A message's processing history: each receive or replay, who ran it, the ACK and what it changed."""

    __tablename__ = "sb_interface_event"
    references = (_ref("message_id", "sb_interface_message", ondelete="CASCADE"),)

    message_id: Mapped[int]
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(12))  # received | replayed
    actor: Mapped[str] = mapped_column(String(80))
    ack_code: Mapped[str] = mapped_column(String(2))
    ack: Mapped[str] = mapped_column(Text)
    changes: Mapped[list] = mapped_column(JSON, default=list)  # one sentence per row the message changed


class CodeMap(InstanceRow, db.Model):
    __tablename__ = "sb_code_map"
    references = (_ref("channel_id", "sb_interface_channel"),)
    constraints = (UniqueConstraint("instance_id", "channel_id", "code_type", "external_code"),)

    channel_id: Mapped[int]
    code_type: Mapped[str] = mapped_column(String(12))  # drug | unit | route | frequency | location | allergen
    external_code: Mapped[str] = mapped_column(String(40))
    internal_code: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)  # retired maps stay for the history, and map nothing


# --- compounding, verification, change control, audit --------------------------------------------------------------

class IvPreparation(InstanceRow, db.Model):
    __tablename__ = "sb_iv_preparation"
    references = (_ref("order_id", "sb_order"), _ref("product_id", "sb_product"), _ref("lot_id", "sb_lot"))

    order_id: Mapped[int | None]
    product_id: Mapped[int]
    lot_id: Mapped[int | None]
    volume_ml: Mapped[float]
    measured_mass_g: Mapped[float | None]
    tolerance_percent: Mapped[float] = mapped_column(default=5.0)
    status: Mapped[str] = mapped_column(String(20), default="pending")


class VerificationQueueEntry(InstanceRow, db.Model):
    __tablename__ = "sb_verification_queue"
    references = (_ref("order_id", "sb_order"), _ref("site_id", "sb_location"))

    order_id: Mapped[int]
    site_id: Mapped[int]
    assignee: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting | verified | rejected


class ChangeRequest(InstanceRow, db.Model):
    """A request for change: what and why, the risk, how it will be tested, and who approved it when.

    Only an approved request may be quoted by a change; closed ones are finished work, drafts wait for the board.
    """

    __tablename__ = "sb_change_request"
    constraints = (UniqueConstraint("instance_id", "reference"),)

    reference: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | approved | closed
    reason: Mapped[str] = mapped_column(String(1000), default="")
    risk: Mapped[str] = mapped_column(String(500), default="")
    test_plan: Mapped[str] = mapped_column(String(1000), default="")
    raised_by: Mapped[str | None] = mapped_column(String(80))
    raised_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None]


class AuditEntry(InstanceRow, db.Model):
    """Who changed what in the instance, with the row before and after (JSON) and the change request."""

    __tablename__ = "sb_audit"
    constraints = (Index("ix_sb_audit_table_row", "instance_id", "table_name", "row_id"),)

    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(80))
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(12))  # insert | update | delete
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    change_request: Mapped[str | None] = mapped_column(String(40))


INSTANCE_TABLES = [Drug, Product, Barcode, Lot, Location, Cabinet, Pocket, Patient, Stock, OverrideItem,
                   CabinetTransaction, Discrepancy, RobotItem, Staff, AllergenClass, AllergenMember, Allergy, Encounter,
                   Order, OrderSet, OrderSetVersion, OrderSentence, CdsRule, CdsTestCase, InterfaceChannel,
                   InterfaceMessage, InterfaceEvent, CodeMap, IvPreparation, VerificationQueueEntry, ChangeRequest,
                   AuditEntry]
"""Every per-instance table, parents before children (the order rows are inserted in)."""
