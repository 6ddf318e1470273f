"""What the seed loader, the ticket setup and the maintenance screens need to know about each sandbox table.

One registry instead of three: the YAML name of a table, how its rows are named in data files (the key), which
columns hold a closed set of values, and how references are written (the column without ``_id``).
"""

from dataclasses import dataclass

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, Text

from lms.db import UTCDateTime
from lms.sandbox.core import models as m


@dataclass(frozen=True)
class Reference:
    column: str  # e.g. "drug_id"
    field: str  # how data files and forms name it: "drug"
    table: str  # the referenced table, e.g. "sb_drug"


@dataclass(frozen=True)
class TableSpec:
    name: str  # sb_drug
    yaml_name: str  # drugs
    label: str  # Drug master
    model: type
    key: tuple[str, ...]  # fields that name a row in data files; "" when rows are never referred to

    @property
    def table(self):
        return self.model.__table__

    @property
    def columns(self) -> list:
        return [c for c in self.table.columns if c.name not in ("instance_id", "id")]

    @property
    def references(self) -> dict[str, Reference]:
        """Column name -> reference, from the composite foreign keys (instance_id, x_id)."""
        refs = {}
        for fk in self.table.foreign_key_constraints:
            names = [c.name for c in fk.columns]
            if len(names) == 2 and names[0] == "instance_id":
                refs[names[1]] = Reference(names[1], names[1].removesuffix("_id"), fk.referred_table.name)
        return refs

    def kind_of(self, column) -> str:
        """The value kind of a column: bool, int, float, date, datetime, json or text."""
        t = column.type
        for kind, types in (("bool", Boolean), ("int", Integer), ("float", Float), ("date", Date),
                            ("datetime", UTCDateTime), ("json", JSON), ("text", (String, Text))):
            if isinstance(t, types):
                return kind
        raise TypeError(f"{self.name}.{column.name}: unsupported type {t!r}")


CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("sb_drug", "formulary_status"): ("formulary", "non-formulary", "restricted"),
    ("sb_product", "ndc_format"): ("4-4-2", "5-3-2", "5-4-1"),
    ("sb_barcode", "kind"): ("gtin14", "upc_a", "internal"),
    ("sb_lot", "status"): ("available", "quarantined", "recalled"),
    ("sb_location", "kind"): ("unit", "pharmacy", "remote_site"),
    ("sb_stock", "status"): ("available", "quarantined"),
    ("sb_cabinet_txn", "kind"): ("remove", "return", "waste", "restock", "count"),
    ("sb_staff", "role"): ("nurse", "pharmacist", "technician", "prescriber"),
    ("sb_patient", "sex"): ("F", "M", "X"),
    ("sb_allergy", "severity"): ("mild", "moderate", "severe"),
    ("sb_encounter", "status"): ("active", "discharged"),
    ("sb_order", "status"): ("pending", "verified", "discontinued"),
    ("sb_order_set_version", "status"): ("draft", "active", "retired"),
    ("sb_cds_rule", "kind"): ("allergy", "interaction", "dose_range", "duplicate"),
    ("sb_cds_rule", "severity"): ("info", "warning", "interruptive"),
    ("sb_interface_channel", "direction"): ("inbound", "outbound"),
    ("sb_interface_message", "status"): ("queued", "processed", "error", "duplicate"),
    ("sb_interface_event", "kind"): ("received", "replayed"),
    ("sb_interface_message", "ack_code"): ("AA", "AE", "AR"),
    ("sb_code_map", "code_type"): ("drug", "unit", "route", "frequency", "location", "allergen"),
    ("sb_verification_queue", "status"): ("waiting", "verified", "rejected", "discontinued"),
    ("sb_change_request", "status"): ("draft", "approved", "closed"),
}

SPECS: list[TableSpec] = [
    TableSpec("sb_drug", "drugs", "Drug master", m.Drug, ("code",)),
    TableSpec("sb_product", "products", "Products and NDCs", m.Product, ("ndc11",)),
    TableSpec("sb_barcode", "barcodes", "Barcodes", m.Barcode, ("value",)),
    TableSpec("sb_lot", "lots", "Lots", m.Lot, ("lot_number",)),
    TableSpec("sb_location", "locations", "Locations", m.Location, ("code",)),
    TableSpec("sb_cabinet", "cabinets", "Cabinets", m.Cabinet, ("name",)),
    TableSpec("sb_pocket", "pockets", "Cabinet pockets", m.Pocket, ("cabinet", "drawer", "position")),
    TableSpec("sb_patient", "patients", "Patients", m.Patient, ("mrn",)),
    TableSpec("sb_stock", "stock", "Stock locations", m.Stock, ()),
    TableSpec("sb_override_item", "override_items", "Override lists", m.OverrideItem, ("cabinet", "drug")),
    TableSpec("sb_cabinet_txn", "cabinet_transactions", "Cabinet transactions", m.CabinetTransaction, ()),
    TableSpec("sb_discrepancy", "discrepancies", "Discrepancies", m.Discrepancy, ()),
    TableSpec("sb_robot_item", "robot_items", "Robot item master", m.RobotItem, ("cell",)),
    TableSpec("sb_staff", "staff", "Staff", m.Staff, ("username",)),
    TableSpec("sb_allergen_class", "allergen_classes", "Allergen classes", m.AllergenClass, ("name",)),
    TableSpec("sb_allergen_member", "allergen_members", "Allergen class members", m.AllergenMember, ()),
    TableSpec("sb_allergy", "allergies", "Allergies", m.Allergy, ()),
    TableSpec("sb_encounter", "encounters", "Encounters", m.Encounter, ("visit_number",)),
    TableSpec("sb_order", "orders", "Orders", m.Order, ("order_number",)),
    TableSpec("sb_order_set", "order_sets", "Order sets", m.OrderSet, ("name",)),
    TableSpec("sb_order_set_version", "order_set_versions", "Order set versions", m.OrderSetVersion,
              ("order_set", "version")),
    TableSpec("sb_order_sentence", "order_sentences", "Order sentences", m.OrderSentence, ()),
    TableSpec("sb_cds_rule", "cds_rules", "Decision-support rules", m.CdsRule, ("code",)),
    TableSpec("sb_cds_test_case", "cds_test_cases", "Rule test cases", m.CdsTestCase, ()),
    TableSpec("sb_interface_channel", "interface_channels", "Interface channels", m.InterfaceChannel, ("name",)),
    TableSpec("sb_interface_message", "interface_messages", "Interface messages", m.InterfaceMessage,
              ("control_id",)),
    TableSpec("sb_interface_event", "interface_events", "Message history", m.InterfaceEvent, ()),
    TableSpec("sb_code_map", "code_maps", "Code maps", m.CodeMap, ("channel", "code_type", "external_code")),
    TableSpec("sb_iv_preparation", "iv_preparations", "IV preparations", m.IvPreparation, ()),
    TableSpec("sb_verification_queue", "verification_queue", "Verification queue", m.VerificationQueueEntry, ()),
    TableSpec("sb_change_request", "change_requests", "Change requests", m.ChangeRequest, ("reference",)),
    TableSpec("sb_audit", "audit", "Audit log", m.AuditEntry, ()),
]

BY_NAME = {s.name: s for s in SPECS}
BY_YAML = {s.yaml_name: s for s in SPECS}

assert [s.model for s in SPECS] == m.INSTANCE_TABLES, "keep SPECS in the insert order of INSTANCE_TABLES"
