"""The mock pharmacy system's behaviour: how it resolves a scan, decides a cabinet removal, and checks a robot
restock. Pure functions of a World; every "no" carries the reason the system would show.
"""

from dataclasses import dataclass, field
from datetime import date

from lms.sandbox.core.world import Rec, World
from lms.sandbox.pharmacy.ndc import resolve_ndc10_digits
from lms.sandbox.pharmacy.scan import ScanResult, interpret

# --- scanning ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResolution:
    """What the system made of a scan: the product and lot it found, and why it refuses if it does."""

    scan: ScanResult
    product: Rec | None = None
    drug: Rec | None = None
    lot: Rec | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # diagnostics for the scan tool (what the data says), not shown at the bedside

    @property
    def accepted(self) -> bool:
        return self.product is not None and not self.problems


def resolve_scan(world: World, raw: str, today: date | None = None) -> ScanResolution:
    """Resolve barcode data the way the system does: barcode table, then the NDC it encodes, then lot and expiry.

    A scan is accepted only when the barcode is linked to an active product of an active drug, the product's stored
    11-digit NDC is one the barcode's ten NDC digits can stand for, and the lot (if encoded) is neither expired nor
    recalled or quarantined.
    """
    today = today or world.now.date()
    scan = interpret(raw)
    problems: list[str] = list(scan.errors)
    notes: list[str] = list(scan.warnings)
    if scan.errors:
        return ScanResolution(scan, problems=tuple(problems), notes=tuple(notes))
    value = scan.gtin14 or ""
    link = next((b for b in world.table("sb_barcode").values() if b.value in {value, value[-12:]} and value), None)
    by_ndc = []
    if scan.ndc10_digits:
        by_ndc = resolve_ndc10_digits(scan.ndc10_digits,
                                      lambda ndc11: next(iter(world.where("sb_product", ndc11=ndc11)), None))
    if link is None:
        problems.append(f"Unknown barcode: {value or raw!r} is not linked to any product.")
        for product in by_ndc:
            notes.append(f"Its NDC digits match product {product.ndc10} ({world.drug_label(product.drug_id)}), "
                         "but that product has no barcode link.")
        if scan.ndc10_digits and not by_ndc:
            notes.append(f"No product's NDC matches the digits {scan.ndc10_digits} in any of the three 10-digit "
                         "formats.")
        return ScanResolution(scan, problems=tuple(problems), notes=tuple(notes))
    product = world.get("sb_product", link.product_id)
    drug = world.drug(product.drug_id)
    if scan.ndc10_digits and product.id not in {p.id for p in by_ndc}:
        problems.append(f"Product data error: the barcode encodes NDC digits {scan.ndc10_digits}, but the linked "
                        f"product's 11-digit NDC {product.ndc11} is not a form of them.")
    if not product.active:
        problems.append(f"Product {product.ndc10} is inactive.")
    if drug is None or not drug.active:
        problems.append(f"Drug {drug.code if drug else '?'} is inactive.")
    lot = None
    if scan.lot:
        lot = next(iter(world.where("sb_lot", product_id=product.id, lot_number=scan.lot)), None)
        if lot is not None and lot.status in ("recalled", "quarantined"):
            problems.append(f"Lot {lot.lot_number} is {lot.status}: do not use.")
    expiry = scan.expiry or (lot.expires_on if lot else None)
    if expiry is not None and expiry < today:
        problems.append(f"Expired product: expiry {expiry.isoformat()} is before {today.isoformat()}.")
    return ScanResolution(scan, product, drug, lot, tuple(problems), tuple(notes))


# --- cabinets ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemovalDecision:
    allowed: bool
    reason: str
    via: str | None = None  # profile | override | non_profiled | downtime
    pocket: Rec | None = None
    blind_count: bool = False


def cabinet_patients(world: World, cabinet: Rec) -> list[Rec]:
    """The cabinet's patient list: every active encounter on the cabinet's unit."""
    return [e for e in world.where("sb_encounter", location_id=cabinet.location_id) if e.status == "active"]


def decide_removal(world: World, cabinet: Rec, drug: Rec, patient: Rec, restocked: bool = False) -> RemovalDecision:
    """May a nurse remove ``drug`` for ``patient`` from ``cabinet``? Profile, override list, pocket, blind count.

    ``restocked`` decides as if the next restock run had just filled the pockets (a newly loaded pocket is empty).
    """
    pockets = [p for p in world.where("sb_pocket", cabinet_id=cabinet.id, drug_id=drug.id) if p.active]
    label = world.drug_label(drug.id)
    if not pockets:
        return RemovalDecision(False, f"{label} is not stocked in {cabinet.name}.")
    stocked = [p for p in pockets if p.on_hand + (restock_quantity(p) if restocked else 0) > 0]
    if not stocked:
        return RemovalDecision(False, f"{label} is stocked out in {cabinet.name}.", pocket=pockets[0])
    pocket = stocked[0]
    blind = pocket.blind_count
    encounters = [e for e in cabinet_patients(world, cabinet) if e.patient_id == patient.id]
    if not encounters:
        return RemovalDecision(False, f"{patient.name} is not on {cabinet.name}'s patient list.", pocket=pocket,
                               blind_count=blind)
    if cabinet.downtime_mode:
        return RemovalDecision(True, "Downtime (critical override) mode: removal allowed, reconcile afterwards.",
                               "downtime", pocket, blind)
    if not cabinet.profiled:
        return RemovalDecision(True, f"{cabinet.name} is not profiled: anything stocked can be removed.",
                               "non_profiled", pocket, blind)
    encounter_ids = {e.id for e in encounters}
    if any(o.encounter_id in encounter_ids and o.drug_id == drug.id and o.status == "verified"
           for o in world.table("sb_order").values()):
        return RemovalDecision(True, "A pharmacist-verified order is on the patient's profile.", "profile", pocket,
                               blind)
    if world.where("sb_override_item", cabinet_id=cabinet.id, drug_id=drug.id):
        return RemovalDecision(True, f"On {cabinet.name}'s override list: a reason is required and the removal is "
                               "reviewed.", "override", pocket, blind)
    return RemovalDecision(False, f"No verified order for {label}, and it is not on {cabinet.name}'s override list.",
                           pocket=pocket, blind_count=blind)


def restock_quantity(pocket: Rec) -> int:
    """How many units a restock run brings: up to par once the count is at or below the minimum."""
    if pocket.drug_id is None or not pocket.active or pocket.on_hand > pocket.minimum:
        return 0
    return max(0, min(pocket.par, pocket.capacity) - pocket.on_hand)


def pockets_adjacent(a: Rec, b: Rec) -> bool:
    """Side by side: same cabinet and drawer, neighbouring positions."""
    return a.cabinet_id == b.cabinet_id and a.drawer == b.drawer and abs(a.position - b.position) <= 1


# --- central robot -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobotResult:
    accepted: bool
    problems: tuple[str, ...] = ()
    item: Rec | None = None
    product: Rec | None = None
    checks: tuple[str, ...] = field(default=())


def robot_restock(world: World, cell: str, raw_scan: str, today: date | None = None) -> RobotResult:
    """Restock a robot cell from a scanned package, checking it against the item master."""
    item = next(iter(world.where("sb_robot_item", cell=cell)), None)
    if item is None or not item.active:
        return RobotResult(False, (f"Cell {cell} is not in the robot's item master.",))
    expected = world.get("sb_product", item.product_id)
    if not item.scan_check:
        # The robot takes whatever is put in the cell: the package is never compared with the item master.
        return RobotResult(True, (), item, expected, ("scan check is off: package not verified",))
    resolution = resolve_scan(world, raw_scan, today)
    problems = list(resolution.problems)
    product = resolution.product
    if product is not None:
        scanned = resolution.scan.gtin14
        if scanned != item.expected_barcode:
            problems.append(f"Barcode mismatch: cell {cell} expects {item.expected_barcode}, scanned {scanned}.")
        if product.id != item.product_id:
            problems.append(f"Item mismatch: cell {cell} holds NDC {expected.ndc10 if expected else '?'}, "
                            f"the package is NDC {product.ndc10}.")
        problems += package_problems(item, product)
    return RobotResult(not problems, tuple(problems), item, product)


def package_problems(item: Rec, product: Rec) -> list[str]:
    if (item.package_size, item.unit.upper()) != (product.package_quantity, product.package_unit.upper()):
        return [f"Package mismatch: the item master says {item.package_size} {item.unit}, the product is "
                f"{product.package_quantity} {product.package_unit}."]
    return []


def robot_pick(world: World, cell: str) -> RobotResult:
    """Pick from a cell: the item must be active and its master data must agree with the product."""
    item = next(iter(world.where("sb_robot_item", cell=cell)), None)
    if item is None or not item.active:
        return RobotResult(False, (f"Cell {cell} is not in the robot's item master.",))
    product = world.get("sb_product", item.product_id)
    problems = package_problems(item, product)
    if not product.active:
        problems.append(f"Product {product.ndc10} is inactive.")
    return RobotResult(not problems, tuple(problems), item, product)
