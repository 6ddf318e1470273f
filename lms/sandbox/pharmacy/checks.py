"""The pharmacy tables' checks (tickets 1-13, 24, 28): scans, cabinets, robots, the drug and product tables.

Pure functions of the instance's World, registered by name in the check registry (lms.sandbox.core.checks).
Check messages describe what the system still does wrong, never the fix.
"""

from lms.sandbox.core.checks import CheckError, GradeContext, Outcome, check, find, no, ok
from lms.sandbox.pharmacy.engine import (
    decide_removal,
    pockets_adjacent,
    resolve_scan,
    restock_quantity,
    robot_pick,
    robot_restock,
)
from lms.sandbox.pharmacy.ndc import NdcError, to_ndc11

# --- replays of the reported event ---------------------------------------------------------------------------------

@check
def scan_accepted(ctx: GradeContext, scan: str, drug: str) -> Outcome:
    """Replay a scan: it must be accepted and resolve to ``drug``."""
    expected = find(ctx.world, "sb_drug", drug)
    result = resolve_scan(ctx.world, scan)
    if not result.accepted:
        return no("Replaying the reported scan still fails: " + " ".join(result.problems))
    if result.drug.id != expected.id:
        return no(f"The reported scan now resolves to {ctx.world.drug_label(result.drug.id)}, not "
                   f"{ctx.world.drug_label(expected.id)}.")
    return ok(f"The reported scan resolves to {ctx.world.drug_label(expected.id)} (NDC {result.product.ndc10}).")


@check
def removal(ctx: GradeContext, cabinet: str, drug: str, patient: str, allowed: bool = True,
            via: list | None = None, after_restock: bool = False, blind_count: bool | None = None) -> Outcome:
    """Replay a cabinet removal: allowed (optionally only through ``via``: profile, override...) or refused.

    ``after_restock`` replays it after the next restock run, for pockets the trainee has just loaded;
    ``blind_count`` also requires the count after the removal to be blind (or not).
    """
    w = ctx.world
    decision = decide_removal(w, find(w, "sb_cabinet", cabinet), find(w, "sb_drug", drug),
                              find(w, "sb_patient", patient), restocked=after_restock)
    what = f"the removal of {w.drug_label(find(w, 'sb_drug', drug).id)} from {cabinet} for patient {patient}"
    if decision.allowed != allowed:
        return no(f"Replayed {what}: {'refused' if allowed else 'allowed'}. The cabinet says: {decision.reason}")
    if allowed and via and decision.via not in via:
        return no(f"Replayed {what}: allowed, but through the wrong path ({decision.via}): {decision.reason}")
    if blind_count is not None and decision.blind_count != blind_count:
        return no(f"Replayed {what}: the count afterwards {'shows' if blind_count else 'hides'} the expected "
                   "quantity.")
    return ok(f"Replayed {what}: {'allowed' if allowed else 'refused'} ({decision.reason})")


@check
def restock_then_remove(ctx: GradeContext, cabinet: str, drug: str, min_par: int = 1) -> Outcome:
    """Replay a restock run: the drug's pocket must be active, sensibly levelled and filled by a restock."""
    w = ctx.world
    cab, d = find(w, "sb_cabinet", cabinet), find(w, "sb_drug", drug)
    pockets = [p for p in w.where("sb_pocket", cabinet_id=cab.id, drug_id=d.id) if p.active]
    label = w.drug_label(d.id)
    if not pockets:
        return no(f"{cabinet} still has no active pocket for {label}.")
    for p in pockets:
        if not (0 <= p.minimum < p.par <= p.capacity):
            return no(f"{label} in {cabinet} {w.pocket_label(p)}: par and minimum would not keep it stocked "
                       f"(par {p.par}, minimum {p.minimum}, capacity {p.capacity}).")
        if p.par < min_par:
            return no(f"{label} in {cabinet}: par {p.par} is below what the unit uses between restocks.")
        if p.on_hand + restock_quantity(p) <= 0:
            return no(f"A restock run leaves {label} in {cabinet} empty.")
    return ok(f"{label} in {cabinet}: a restock run fills it and the unit's usage is covered.")


@check
def robot_restock_accepted(ctx: GradeContext, cell: str, scan: str) -> Outcome:
    """Replay the robot restock with the package that was refused; it must be accepted with the scan check on."""
    result = robot_restock(ctx.world, cell, scan)
    if not result.item or not result.item.scan_check:
        return no(f"Cell {cell}: restocking without a package scan proves nothing; the robot must check it.")
    if not result.accepted:
        return no(f"Replaying the restock of cell {cell} still fails: " + " ".join(result.problems))
    return ok(f"Replaying the restock of cell {cell}: accepted.")


@check
def robot_pick_accepted(ctx: GradeContext, cell: str) -> Outcome:
    result = robot_pick(ctx.world, cell)
    if not result.accepted:
        return no(f"Replaying a pick from cell {cell} still fails: " + " ".join(result.problems))
    return ok(f"Replaying a pick from cell {cell}: accepted.")


# --- state of the tables -------------------------------------------------------------------------------------------

@check
def scan_check_on(ctx: GradeContext, cell: str) -> Outcome:
    item = find(ctx.world, "sb_robot_item", cell)
    return (ok(f"Cell {cell} still verifies every package it is given.") if item.scan_check else
            no(f"Cell {cell} no longer scans packages."))


@check
def product_active(ctx: GradeContext, ndc: str) -> Outcome:
    product = find(ctx.world, "sb_product", ndc)
    if not product.active:
        return no(f"Product {product.ndc10} is inactive.")
    return ok(f"Product {product.ndc10} is active.")


@check
def product_under_drug(ctx: GradeContext, ndc: str, drug: str, parent: str | None = None) -> Outcome:
    """A product with this NDC exists under ``drug`` (and, if given, names ``parent`` as its carton)."""
    w = ctx.world
    product = w.by_key("sb_product", ndc)
    d = find(w, "sb_drug", drug)
    if product is None:
        return no(f"No product has NDC {ndc}.")
    if product.drug_id != d.id:
        return no(f"NDC {product.ndc10} is under {w.drug_label(product.drug_id)}, not {w.drug_label(d.id)}.")
    if parent is not None:
        carton = find(w, "sb_product", parent)
        if product.parent_id != carton.id:
            return no(f"NDC {product.ndc10} does not name its carton.")
        if not product.units_per_parent:
            return no(f"NDC {product.ndc10} names its carton but not how many units the carton holds.")
    return ok(f"NDC {product.ndc10} is a product of {w.drug_label(d.id)}.")


@check
def product_if_present(ctx: GradeContext, ndc: str, drug: str, parent: str | None = None) -> Outcome:
    """If a product with this NDC exists, it belongs to ``drug`` (and names ``parent`` as its carton)."""
    w = ctx.world
    if w.by_key("sb_product", ndc) is None:
        return ok(f"No product has NDC {ndc} yet.")
    return product_under_drug(ctx, ndc, drug, parent)


@check
def one_product_per_ndc(ctx: GradeContext, ndc: str) -> Outcome:
    """At most one product row carries this NDC (as printed or in its 11-digit form)."""
    rows = [p for p in ctx.world.table("sb_product").values() if p.ndc10 == ndc or p.ndc11 == to_ndc11(ndc)]
    if len(rows) > 1:
        return no(f"{len(rows)} product rows carry NDC {ndc}.")
    return ok(f"One product row carries NDC {ndc}.")


@check
def product_package_is(ctx: GradeContext, ndc: str, quantity: int, unit: str) -> Outcome:
    """The product's package is still what the manufacturer ships."""
    product = find(ctx.world, "sb_product", ndc)
    if (product.package_quantity, product.package_unit.upper()) != (quantity, unit.upper()):
        return no(f"Product {product.ndc10} no longer describes its package ({quantity} {unit}).")
    return ok(f"Product {product.ndc10} is {quantity} {unit}.")


@check
def override_count_at_most(ctx: GradeContext, cabinet: str, count: int) -> Outcome:
    """The cabinet's override list has not grown beyond its approved size."""
    w = ctx.world
    cab = find(w, "sb_cabinet", cabinet)
    items = w.where("sb_override_item", cabinet_id=cab.id)
    if len(items) > count:
        return no(f"{cabinet}'s override list grew from {count} to {len(items)} drugs.")
    return ok(f"{cabinet}'s override list has {len(items)} drug(s).")


@check
def scan_refused(ctx: GradeContext, scan: str, reason: str) -> Outcome:
    """Replay a scan that must now be refused, for the stated reason (e.g. a recalled lot)."""
    result = resolve_scan(ctx.world, scan)
    if result.accepted or not any(reason.casefold() in p.casefold() for p in result.problems):
        return no("Scanning a package from the affected lot is still accepted: it can be given to a patient.")
    return ok("Scanning a package from the affected lot is refused: " + " ".join(result.problems))


@check
def ndc11_matches_ndc10(ctx: GradeContext, ndc: str) -> Outcome:
    """The stored 11-digit NDC is the padded form of the NDC as printed."""
    w = ctx.world
    product = next((p for p in w.table("sb_product").values() if p.ndc10 == ndc), None)
    if product is None:
        raise CheckError(f"no product is printed as {ndc}")
    try:
        expected = to_ndc11(product.ndc10)
    except NdcError as error:
        return no(str(error))
    if product.ndc11 != expected:
        return no(f"Product {product.ndc10}: the stored 11-digit NDC is not the billing form of the printed NDC.")
    return ok(f"Product {product.ndc10}: 11-digit NDC {product.ndc11}.")


@check
def no_duplicate_drugs(ctx: GradeContext) -> Outcome:
    """No two active drug records describe the same generic, strength and form."""
    seen: dict = {}
    for d in ctx.world.table("sb_drug").values():
        if not d.active:
            continue
        key = (d.generic_name.casefold().strip(), d.strength.casefold().replace(" ", ""), d.form.casefold().strip())
        if key in seen:
            return no(f"Drugs {seen[key]} and {d.code} are the same drug.")
        seen[key] = d.code
    return ok("Every drug is in the drug master once.")


@check
def drug_available(ctx: GradeContext, drug: str) -> Outcome:
    d = find(ctx.world, "sb_drug", drug)
    if not d.active or d.formulary_status == "non-formulary":
        return no(f"{ctx.world.drug_label(d.id)} is no longer available to order.")
    return ok(f"{ctx.world.drug_label(d.id)} is still on the formulary.")


@check
def cabinet_profiled(ctx: GradeContext, cabinet: str) -> Outcome:
    cab = find(ctx.world, "sb_cabinet", cabinet)
    if not cab.profiled:
        return no(f"{cabinet} is not profiled: it releases anything stocked without a verified order.")
    if cab.downtime_mode:
        return no(f"{cabinet} is in downtime (critical override) mode.")
    return ok(f"{cabinet} is profiled.")


def _in_cabinet(ctx: GradeContext, cabinet: str, drug: str) -> tuple[str, list, list]:
    """(drug label, its active pockets in the cabinet, its override entries there)."""
    w = ctx.world
    cab, d = find(w, "sb_cabinet", cabinet), find(w, "sb_drug", drug)
    pockets = [p for p in w.where("sb_pocket", cabinet_id=cab.id, drug_id=d.id) if p.active]
    return w.drug_label(d.id), pockets, w.where("sb_override_item", cabinet_id=cab.id, drug_id=d.id)


@check
def on_override_list(ctx: GradeContext, cabinet: str, drug: str) -> Outcome:
    label, _pockets, items = _in_cabinet(ctx, cabinet, drug)
    if not items:
        return no(f"{label} is not on {cabinet}'s override list.")
    if not (items[0].approval_reference or "").strip():
        return no(f"{label} is on {cabinet}'s override list without an approval reference.")
    return ok(f"{label} is on {cabinet}'s override list ({items[0].approval_reference}).")


@check
def not_on_override_list(ctx: GradeContext, cabinet: str, drug: str) -> Outcome:
    label, _pockets, items = _in_cabinet(ctx, cabinet, drug)
    if items:
        return no(f"{label} is still on {cabinet}'s override list.")
    return ok(f"{label} is not on {cabinet}'s override list.")


@check
def not_stocked(ctx: GradeContext, cabinet: str, drug: str) -> Outcome:
    label, pockets, _items = _in_cabinet(ctx, cabinet, drug)
    if pockets:
        return no(f"{label} is still loaded in {cabinet} ({ctx.world.pocket_label(pockets[0])}).")
    return ok(f"{label} is not stocked in {cabinet}.")


@check
def stocked(ctx: GradeContext, cabinet: str, drug: str) -> Outcome:
    label, pockets, _items = _in_cabinet(ctx, cabinet, drug)
    if not pockets:
        return no(f"{label} is no longer stocked in {cabinet}, where it is needed.")
    return ok(f"{label} is still stocked in {cabinet}.")


@check
def controlled_pockets_blind(ctx: GradeContext) -> Outcome:
    """Every active pocket holding a C-II..C-V drug counts blind."""
    w = ctx.world
    open_counts = [p for p in w.table("sb_pocket").values()
                   if p.active and p.drug_id and (w.drug(p.drug_id).dea_schedule or 0) in (2, 3, 4, 5)
                   and not p.blind_count]
    if open_counts:
        return no(f"{len(open_counts)} controlled-substance pocket(s) still show the expected count.")
    return ok("Every controlled-substance pocket counts blind.")


@check
def discrepancies_resolved(ctx: GradeContext) -> Outcome:
    """No open discrepancy; each resolution has a code, a note and a witness who is neither the resolver nor the
    person whose count was off."""
    w = ctx.world
    staff = {s.username for s in w.table("sb_staff").values()}
    for d in w.table("sb_discrepancy").values():
        where = w.pocket_label(w.get("sb_pocket", d.pocket_id))
        if d.resolved_at is None:
            return no(f"The discrepancy in {where} is still open.")
        if not d.resolution_code or not (d.resolution_note or "").strip():
            return no(f"The discrepancy in {where} was closed without a resolution code and note.")
        if not d.witness or d.witness not in staff or d.witness in (d.resolved_by, d.opened_by):
            return no(f"The discrepancy in {where} was closed without an independent witness.")
    return ok("Every discrepancy is resolved, documented and witnessed.")


@check
def tall_man(ctx: GradeContext, drug: str, name: str) -> Outcome:
    d = find(ctx.world, "sb_drug", drug)
    if (d.tall_man_name or "") != name:
        return no(f"{d.generic_name} does not display with tall-man lettering on screens and labels.")
    return ok(f"{d.generic_name} displays as {name}.")


@check
def not_adjacent(ctx: GradeContext, drug_a: str, drug_b: str) -> Outcome:
    """No cabinet holds the two drugs side by side."""
    w = ctx.world
    a, b = find(w, "sb_drug", drug_a), find(w, "sb_drug", drug_b)
    pockets_a = [p for p in w.where("sb_pocket", drug_id=a.id) if p.active]
    pockets_b = [p for p in w.where("sb_pocket", drug_id=b.id) if p.active]
    for pa in pockets_a:
        for pb in pockets_b:
            if pockets_adjacent(pa, pb):
                return no(f"{w.drug_label(a.id)} and {w.drug_label(b.id)} are still side by side in "
                           f"{w.get('sb_cabinet', pa.cabinet_id).name}.")
    return ok(f"{w.drug_label(a.id)} and {w.drug_label(b.id)} are not side by side in any cabinet.")


@check
def lot_recalled(ctx: GradeContext, lot: str) -> Outcome:
    """The lot is flagged recalled and every place that holds it is quarantined."""
    w = ctx.world
    row = find(w, "sb_lot", lot)
    if row.status != "recalled":
        return no(f"Lot {row.lot_number} is not flagged as recalled: it can still be scanned and dispensed.")
    loose = [s for s in w.where("sb_stock", lot_id=row.id) if s.status != "quarantined"]
    if loose:
        return no(f"Lot {row.lot_number} is still available in {len(loose)} place(s).")
    return ok(f"Lot {row.lot_number} is recalled and quarantined everywhere it is held.")
