"""The maintenance screens as data: which fields of which table a trainee may change, and the rules a change must
pass before anything is saved. Validators are pure functions of the World and the proposed values.
"""

import re

from lms.sandbox.core.editing import Editor, Field
from lms.sandbox.core.world import Rec, World
from lms.sandbox.pharmacy.ndc import NdcError, gtin14_from_ndc, parse_ndc, to_ndc11
from lms.sandbox.pharmacy.scan import interpret


def _yes(value) -> str:
    return "yes" if value else "no"


def _drug(w: World, r: Rec) -> str:
    return w.drug_label(r.drug_id) if r.get("drug_id") else "(empty)"


def _product(w: World, r: Rec) -> str:
    p = w.get("sb_product", r.product_id)
    return f"{p.ndc10} {w.drug_label(p.drug_id)}" if p else "?"


def _cabinet(w: World, r: Rec) -> str:
    return w.get("sb_cabinet", r.cabinet_id).name


# --- validators ----------------------------------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.-]{1,19}$")


def _validate_drug(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    if row is None:  # the item code is set once, when the drug is created
        code = v.get("code") or ""
        if not _CODE.match(code):
            errors["code"] = "Use 2-20 capital letters, digits, dots or hyphens (e.g. ONDA4ODT)."
        elif any(d.code == code for d in w.table("sb_drug").values()):
            errors["code"] = f"Another drug already has the code {code}."
    generic = v.get("generic_name") or ""
    tall = v.get("tall_man_name") or ""
    # The tall-man form may drop the salt ("hydrALAZINE" for hydralazine hydrochloride) but not change a letter.
    if tall and not (generic.casefold() + " ").startswith(tall.casefold() + " "):
        errors["tall_man_name"] = (f"Tall-man lettering changes only the case of letters: {tall!r} does not spell "
                                   f"{generic!r}.")
    elif tall and (tall == tall.lower() or tall == tall.upper()):
        errors["tall_man_name"] = "Capitalise only the distinguishing letters (e.g. hydrALAZINE), not none or all."
    return errors


def _ndc11_follows(v: dict, printed: str, row: Rec | None) -> bool:
    """Whether the 11-digit NDC is to be computed: left blank, or not touched while the printed NDC changed."""
    given = v.get("ndc11")
    return not given or (row is not None and given == row.ndc11 and printed != row.ndc10)


def _derive_product(w: World, v: dict, row: Rec | None) -> dict:
    """The forms computed from the printed NDC, recomputed only when it changes or the 11-digit field is cleared.

    Saving a product unchanged writes nothing: a screen must not quietly repair a stored value on a no-op save (the
    validator refuses an 11-digit NDC that does not match the printed one, which shows the problem instead).
    """
    ndc = parse_ndc(v["ndc10"])
    out = {**v, "ndc10": ndc.display, "ndc11": to_ndc11(ndc)}  # the validator has checked a given one equals it
    if row is None or ndc.display != row.ndc10:
        out.update(ndc_format=ndc.format, gtin14=gtin14_from_ndc(ndc))
    return out


def _validate_product(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    try:
        ndc = parse_ndc(v.get("ndc10") or "")
        if ndc.format not in ("4-4-2", "5-3-2", "5-4-1"):
            errors["ndc10"] = (f"Enter the NDC as printed on the package (4-4-2, 5-3-2 or 5-4-1 with hyphens); "
                               f"{v.get('ndc10')!r} is the 11-digit billing form.")
        else:
            ndc11 = to_ndc11(ndc)
            given = re.sub(r"[\s-]", "", v.get("ndc11") or "")
            follows = _ndc11_follows(v, ndc.display, row)
            if not follows and not re.fullmatch(r"\d{11}", given):
                errors["ndc11"] = "The 11-digit NDC is 11 digits in the 5-4-2 form (e.g. 00574-4072-05)."
            elif not follows and given != ndc11:
                errors["ndc11"] = (f"The 11-digit NDC {given} does not match the NDC as printed ({ndc.display}): "
                                   f"the 11-digit form pads the printed NDC's short segment with a leading zero. "
                                   f"Correct it, or clear the field to compute it.")
            clash = next((p for p in w.table("sb_product").values()
                          if (p.ndc11 == ndc11 or p.ndc10 == ndc.display) and (row is None or p.id != row.id)), None)
            if clash:
                errors["ndc10"] = (f"NDC {ndc.display} (11-digit {ndc11}) is already product {clash.ndc10} of "
                                   f"{w.drug_label(clash.drug_id)}.")
    except NdcError as error:
        errors["ndc10"] = str(error)
    if (v.get("package_quantity") or 0) < 1:
        errors["package_quantity"] = "The package quantity must be at least 1."
    parent_id = v.get("parent_id")
    if parent_id is not None:
        parent = w.get("sb_product", parent_id)
        if parent is None or (row is not None and parent.id == row.id):
            errors["parent"] = "A product cannot be its own carton."
        elif parent.drug_id != v.get("drug_id"):
            errors["parent"] = f"The carton {parent.ndc10} holds {w.drug_label(parent.drug_id)}, a different drug."
        elif not v.get("units_per_parent") or v["units_per_parent"] < 1:
            errors["units_per_parent"] = "Say how many of this unit the carton holds."
    elif v.get("units_per_parent"):
        errors["units_per_parent"] = "Units per carton only applies when a carton is chosen."
    gravity = v.get("specific_gravity")
    if gravity is not None and not 0.5 <= gravity <= 3:
        errors["specific_gravity"] = "Specific gravity is a ratio to water, usually 0.9-1.5; check the value."
    drug = w.drug(v.get("drug_id"))
    if drug is None:
        errors["drug"] = "Choose the drug this product is a package of."
    return errors


def _derive_barcode(w: World, v: dict, row: Rec | None) -> dict:
    scan = interpret(v["value"])
    return {**v, "value": scan.gtin14, "kind": "gtin14" if scan.kind in ("gs1", "gtin") else scan.kind}


def _validate_barcode(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    scan = interpret(v.get("value") or "")
    if scan.errors:
        return {"value": " ".join(scan.errors)}
    if not scan.gtin14:
        return {"value": "No GTIN found in that barcode data."}
    product = w.get("sb_product", v.get("product_id"))
    if product is None:
        return {"product": "Choose the product this barcode is printed on."}
    if scan.ndc10_digits != product.ndc10.replace("-", ""):
        return {"value": f"This barcode encodes NDC digits {scan.ndc10_digits}; product {product.ndc10} is "
                         f"{product.ndc10.replace('-', '')}. Link it to the product it is printed on."}
    clash = next((b for b in w.table("sb_barcode").values() if b.value == scan.gtin14), None)
    if clash:
        return {"value": f"Barcode {scan.gtin14} is already linked to {_product(w, clash)}."}
    return {}


def _validate_lot(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    lot_number = (v.get("lot_number") or "").strip()
    if not lot_number:
        return {"lot_number": "Enter the lot number printed on the package."}
    if any(lt.lot_number == lot_number and lt.product_id == v.get("product_id") and (row is None or lt.id != row.id)
           for lt in w.table("sb_lot").values()):
        return {"lot_number": f"Lot {lot_number} of this product is already recorded."}
    return {}


def _validate_pocket(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    par, minimum, capacity = v.get("par"), v.get("minimum"), v.get("capacity")
    for name, value in (("par", par), ("minimum", minimum), ("capacity", capacity)):
        if value is None or value < 0:
            errors[name] = f"The {name} must be a whole number of 0 or more."
    if errors:
        return errors
    if capacity < 1:
        errors["capacity"] = "A pocket holds at least 1."
    elif par > capacity:
        errors["par"] = f"Par {par} is more than the pocket holds ({capacity})."
    elif minimum > par or (par > 0 and minimum == par):
        errors["minimum"] = f"The minimum ({minimum}) must be below par ({par}), or a restock never triggers."
    elif par == 0 and v.get("drug_id") is not None and v.get("active"):
        errors["par"] = "A loaded pocket needs a par above 0, or it is never restocked."
    if row is not None and row.on_hand > capacity:
        errors["capacity"] = f"The pocket holds {row.on_hand} now; unload it before shrinking it to {capacity}."
    drug = w.drug(v.get("drug_id"))
    if drug is not None and v.get("active") and (drug.dea_schedule or 0) in (2, 3, 4, 5) and not v.get("blind_count"):
        errors["blind_count"] = (f"{w.drug_label(drug.id)} is a C-{_roman(drug.dea_schedule)} controlled substance: "
                                 "its pocket must count blind.")
    return errors


def _derive_pocket(w: World, v: dict, row: Rec | None) -> dict:
    """Assigning another drug unloads the pocket: what it held goes back to the pharmacy, never to another pocket."""
    if row is not None and v.get("drug_id") != row.drug_id:
        return {**v, "on_hand": 0}
    return v


def _roman(schedule: int) -> str:
    return {2: "II", 3: "III", 4: "IV", 5: "V"}.get(schedule, str(schedule))


def _validate_override(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    reference = (v.get("approval_reference") or "").strip()
    if len(reference) < 3:
        errors["approval_reference"] = "Enter the P&T approval that allows this drug on override (e.g. P&T-2025-031)."
    cabinet, drug = w.get("sb_cabinet", v.get("cabinet_id")), w.drug(v.get("drug_id"))
    if cabinet is None or drug is None:
        return {**errors, "drug": "Choose a cabinet and a drug."}
    if w.where("sb_override_item", cabinet_id=cabinet.id, drug_id=drug.id):
        errors["drug"] = f"{w.drug_label(drug.id)} is already on {cabinet.name}'s override list."
    elif not [p for p in w.where("sb_pocket", cabinet_id=cabinet.id, drug_id=drug.id) if p.active]:
        errors["drug"] = f"{w.drug_label(drug.id)} is not stocked in {cabinet.name}: load a pocket first."
    return errors


def _validate_robot_item(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    if not re.match(r"^R-\d{3}$", v.get("cell") or ""):
        errors["cell"] = "Robot cells are named R- and three digits (R-014)."
    elif any(r.cell == v["cell"] and (row is None or r.id != row.id) for r in w.table("sb_robot_item").values()):
        errors["cell"] = f"Cell {v['cell']} already holds another item."
    if (v.get("package_size") or 0) < 1:
        errors["package_size"] = "The package size must be at least 1."
    product = w.get("sb_product", v.get("product_id"))
    if product is None:
        errors["product"] = "Choose the product stored in this cell."
        return errors
    scan = interpret(v.get("expected_barcode") or "")
    if scan.errors or not scan.gtin14:
        errors["expected_barcode"] = " ".join(scan.errors) or "Enter the GTIN printed on the package."
    elif scan.ndc10_digits != product.ndc10.replace("-", ""):
        errors["expected_barcode"] = (f"That barcode encodes NDC digits {scan.ndc10_digits}, not the cell's product "
                                      f"{product.ndc10}.")
    return errors


def _derive_robot_item(w: World, v: dict, row: Rec | None) -> dict:
    return {**v, "expected_barcode": interpret(v["expected_barcode"]).gtin14}


RESOLUTION_CODES = ("MISCOUNT", "UNDOCUMENTED_WASTE", "UNDOCUMENTED_RETURN", "LOAD_ERROR", "SUSPECTED_DIVERSION")


def _validate_discrepancy(w: World, v: dict, row: Rec | None) -> dict[str, str]:
    errors = {}
    if len((v.get("resolution_note") or "").strip()) < 10:
        errors["resolution_note"] = "Write what was found (at least 10 characters)."
    witness = v.get("witness")
    staff = {s.username: s for s in w.table("sb_staff").values()}
    if witness not in staff:
        errors["witness"] = "Choose the witness from the staff list."
    elif row is not None and witness == row.opened_by:
        errors["witness"] = f"{staff[witness].name} opened this discrepancy and cannot witness its resolution."
    return errors


def _locked_if_resolved(row: Rec) -> str | None:
    return "This discrepancy is resolved; resolutions are permanent." if row.resolved_at else None


STAFF_CHOICES = "@staff"  # filled in from the instance's staff list when the form is built


EDITORS: dict[str, Editor] = {e.name: e for e in [
    Editor("drugs", "sb_drug", "Drug master", "Every orderable drug: names, strength, form, safety flags.",
           (Field("code", "Item code", "text", True, on_create_only=True),
            Field("generic_name", "Generic name", "text", True),
            Field("tall_man_name", "Tall-man name", "text", help="Same letters as the generic name; capitals mark "
                                                                  "the part that differs from a look-alike."),
            Field("brand_name", "Brand name", "text"),
            Field("strength", "Strength", "text", True), Field("form", "Dosage form", "text", True),
            Field("route", "Route", "text", True), Field("drug_class", "Class", "text"),
            Field("high_alert", "High-alert medication", "bool"),
            Field("dea_schedule", "DEA schedule", "choice", choices=((None, "not controlled"), (2, "C-II"),
                                                                     (3, "C-III"), (4, "C-IV"), (5, "C-V"))),
            Field("hazardous", "Hazardous (NIOSH)", "bool"), Field("pediatric", "Pediatric formulation", "bool"),
            Field("formulary_status", "Formulary status", "choice",
                  choices=(("formulary", "formulary"), ("restricted", "restricted"),
                           ("non-formulary", "non-formulary"))),
            Field("active", "Active", "bool")),
           (("Code", lambda w, r: r.code), ("Drug", lambda w, r: w.drug_label(r.id)),
            ("Flags", lambda w, r: ", ".join(f for f, on in (("high-alert", r.high_alert), (
                f"C-{_roman(r.dea_schedule)}" if r.dea_schedule else "", r.dea_schedule),
                ("hazardous", r.hazardous), ("pediatric", r.pediatric)) if on)),
            ("Status", lambda w, r: r.formulary_status + ("" if r.active else ", inactive"))),
           create=True, validate=_validate_drug,
           search=lambda w, r: f"{r.code} {r.generic_name} {r.tall_man_name or ''} {r.brand_name or ''}",
           sort=lambda w, r: (r.generic_name.casefold(), r.strength)),
    Editor("products", "sb_product", "Products and NDCs",
           "Manufacturers' packages of each drug. The GTIN-14 is computed from the NDC as printed, and so is the "
           "11-digit NDC when you leave it blank.",
           (Field("drug", "Drug", "ref", True, ref="sb_drug"),
            Field("ndc10", "NDC as printed", "text", True, help="With hyphens: 4-4-2, 5-3-2 or 5-4-1."),
            Field("ndc11", "11-digit NDC (billing)", "text",
                  help="The 5-4-2 form claims and drug databases use. Leave it blank to compute it from the NDC as "
                       "printed."),
            Field("labeler", "Labeler", "text", True), Field("description", "Description", "text"),
            Field("package_quantity", "Package quantity", "int", True, high=100_000),
            Field("package_unit", "Package unit", "text", True, help="EA, mL, VIAL, BOTTLE, CARTON..."),
            Field("parent", "Carton (parent product)", "ref", ref="sb_product"),
            Field("units_per_parent", "Units per carton", "int", high=10_000),
            Field("specific_gravity", "Specific gravity", "float"),
            Field("active", "Active", "bool")),
           (("NDC", lambda w, r: r.ndc10), ("11-digit", lambda w, r: r.ndc11), ("Drug", _drug),
            ("Package", lambda w, r: f"{r.package_quantity} {r.package_unit}"),
            ("Active", lambda w, r: _yes(r.active))),
           create=True, validate=_validate_product, derive=_derive_product,
           search=lambda w, r: f"{r.ndc10} {r.ndc11} {r.labeler} {w.drug_label(r.drug_id)}",
           sort=lambda w, r: (w.drug(r.drug_id).generic_name.casefold(), r.ndc11)),
    Editor("barcodes", "sb_barcode", "Barcode links",
           "Barcodes the system accepts, each linked to the product it is printed on. Scan or paste the barcode "
           "data; GS1 DataMatrix contents are read for the GTIN.",
           (Field("product", "Product", "ref", True, ref="sb_product"),
            Field("value", "Barcode data", "text", True, help="A GTIN-14, a UPC-A or GS1 element string.")),
           (("Barcode", lambda w, r: r.value), ("Kind", lambda w, r: r.kind), ("Product", _product)),
           create=True, delete=True, update=False, validate=_validate_barcode, derive=_derive_barcode,
           search=lambda w, r: f"{r.value} {_product(w, r)}"),
    Editor("lots", "sb_lot", "Lots", "Lots received, with expiry and status (recalled or quarantined lots are "
                                     "refused at every scan).",
           (Field("product", "Product", "ref", True, ref="sb_product"),
            Field("lot_number", "Lot number", "text", True), Field("expires_on", "Expires on", "date", True),
            Field("status", "Status", "choice", True, choices=(("available", "available"), ("quarantined",
                                                                                           "quarantined"),
                                                               ("recalled", "recalled")))),
           (("Lot", lambda w, r: r.lot_number), ("Product", _product),
            ("Expires", lambda w, r: r.expires_on.isoformat()), ("Status", lambda w, r: r.status)),
           create=True, validate=_validate_lot, search=lambda w, r: f"{r.lot_number} {_product(w, r)}"),
    Editor("stock", "sb_stock", "Stock locations", "Where each lot is held. Quarantine a place to take its stock out "
                                                   "of use.",
           (Field("status", "Status", "choice", True, choices=(("available", "available"),
                                                               ("quarantined", "quarantined"))),),
           (("Lot", lambda w, r: w.get("sb_lot", r.lot_id).lot_number),
            ("Where", lambda w, r: f"{w.get('sb_location', r.location_id).code}: {r.place}"),
            ("Quantity", lambda w, r: str(r.quantity)), ("Status", lambda w, r: r.status)),
           search=lambda w, r: f"{w.get('sb_lot', r.lot_id).lot_number} {r.place}"),
    Editor("cabinets", "sb_cabinet", "Cabinets", "Automated dispensing cabinets and their mode.",
           (Field("profiled", "Profiled (removal needs a verified order)", "bool"),
            Field("downtime_mode", "Downtime (critical override) mode", "bool")),
           (("Cabinet", lambda w, r: r.name), ("Unit", lambda w, r: w.get("sb_location", r.location_id).name),
            ("Profiled", lambda w, r: _yes(r.profiled)), ("Downtime", lambda w, r: _yes(r.downtime_mode)))),
    Editor("pockets", "sb_pocket", "Cabinet pockets", "What each pocket holds, its par and minimum, and how it is "
                                                      "counted.",
           (Field("drug", "Drug", "ref", ref="sb_drug"), Field("par", "Par", "int", True, high=5_000),
            Field("minimum", "Minimum", "int", True, high=5_000), Field("capacity", "Capacity", "int", True,
                                                                        high=5_000),
            Field("blind_count", "Blind count", "bool"), Field("lidded", "Lidded / locked", "bool"),
            Field("active", "Active", "bool")),
           (("Pocket", lambda w, r: w.pocket_label(r)), ("Drug", _drug),
            ("Par / min / cap", lambda w, r: f"{r.par} / {r.minimum} / {r.capacity}"),
            ("On hand", lambda w, r: str(r.on_hand)),
            ("Blind", lambda w, r: _yes(r.blind_count)), ("Active", lambda w, r: _yes(r.active))),
           validate=_validate_pocket, derive=_derive_pocket, search=lambda w, r: f"{w.pocket_label(r)} {_drug(w, r)}",
           sort=lambda w, r: (w.get("sb_cabinet", r.cabinet_id).name, r.drawer, r.position)),
    Editor("override_items", "sb_override_item", "Override lists",
           "Drugs a nurse may remove before pharmacist verification, per cabinet, each with its P&T approval.",
           (Field("cabinet", "Cabinet", "ref", True, ref="sb_cabinet"), Field("drug", "Drug", "ref", True,
                                                                                ref="sb_drug"),
            Field("approval_reference", "Approval reference", "text", True)),
           (("Cabinet", _cabinet), ("Drug", _drug), ("Approval", lambda w, r: r.approval_reference)),
           create=True, delete=True, update=False, validate=_validate_override,
           search=lambda w, r: f"{_cabinet(w, r)} {_drug(w, r)}"),
    Editor("robot_items", "sb_robot_item", "Robot item master",
           "What the central robot expects in each storage cell: product, package and barcode.",
           (Field("product", "Product", "ref", True, ref="sb_product"), Field("cell", "Cell", "text", True),
            Field("package_size", "Package size", "int", True, high=100_000), Field("unit", "Unit", "text", True),
            Field("expected_barcode", "Expected barcode (GTIN)", "text", True),
            Field("scan_check", "Verify every package by scan", "bool"), Field("active", "Active", "bool")),
           (("Cell", lambda w, r: r.cell), ("Product", _product),
            ("Package", lambda w, r: f"{r.package_size} {r.unit}"), ("Scan check", lambda w, r: _yes(r.scan_check))),
           create=True, validate=_validate_robot_item, derive=_derive_robot_item,
           search=lambda w, r: f"{r.cell} {_product(w, r)}"),
    Editor("discrepancies", "sb_discrepancy", "Discrepancies",
           "Count discrepancies. Resolve each with a code, what was found, and a witness.",
           (Field("resolution_code", "Resolution", "choice", True, choices=tuple((c, c.replace("_", " ").lower())
                                                                                 for c in RESOLUTION_CODES)),
            Field("resolution_note", "What was found", "text", True),
            Field("witness", "Witness", "choice", True, choices=STAFF_CHOICES)),
           (("Pocket", lambda w, r: w.pocket_label(w.get("sb_pocket", r.pocket_id))),
            ("Drug", lambda w, r: _drug(w, w.get("sb_pocket", r.pocket_id))),
            ("Expected / counted", lambda w, r: f"{r.expected} / {r.counted}"),
            ("Opened", lambda w, r: f"{r.opened_at:%Y-%m-%d %H:%M} by {r.opened_by}"),
            ("Status", lambda w, r: f"resolved ({r.resolution_code})" if r.resolved_at else "OPEN")),
           validate=_validate_discrepancy, can_edit_row=_locked_if_resolved,
           search=lambda w, r: w.pocket_label(w.get("sb_pocket", r.pocket_id))),
]}

# Tables a trainee can read but not change in this release (later screens: patients, orders, interfaces, CDS).
# Change requests have their own screens (raise, list, open).
BROWSE = ("staff", "patients", "encounters", "orders", "cabinet_transactions")
