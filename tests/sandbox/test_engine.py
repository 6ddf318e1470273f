"""The mock system's behaviour on a small hand-built hospital: scans, cabinet removals, restocks, robot checks."""

from datetime import UTC, date, datetime

import pytest

from lms.sandbox.core.world import World
from lms.sandbox.pharmacy.engine import decide_removal, resolve_scan, restock_quantity, robot_pick, robot_restock
from lms.sandbox.pharmacy.ndc import gtin14_from_ndc

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
GTIN_A = gtin14_from_ndc("99999-123-45")  # the active product
GTIN_B = gtin14_from_ndc("9999-0001-10")  # an inactive product
GS = "\x1d"


def hospital(**changes) -> World:
    """A unit with one profiled cabinet, two drugs, a patient with one verified order, and a robot cell."""
    rows = {
        "sb_drug": [dict(id=1, code="METO25T", generic_name="metoprolol tartrate", tall_man_name=None, strength="25 mg",
                         form="tablet", active=True, dea_schedule=None),
                    dict(id=2, code="OXYC5T", generic_name="oxycodone", tall_man_name="oxyCODONE", strength="5 mg",
                         form="tablet", active=True, dea_schedule=2),
                    dict(id=3, code="NALOX04", generic_name="naloxone", tall_man_name=None, strength="0.4 mg/mL",
                         form="vial", active=True, dea_schedule=None)],
        "sb_product": [dict(id=1, drug_id=1, ndc11="99999012345", ndc10="99999-123-45", package_quantity=100,
                            package_unit="EA", active=True),
                       dict(id=2, drug_id=1, ndc11="09999000110", ndc10="9999-0001-10", package_quantity=100,
                            package_unit="EA", active=False)],
        "sb_barcode": [dict(id=1, product_id=1, value=GTIN_A, kind="gtin14"),
                       dict(id=2, product_id=2, value=GTIN_B, kind="gtin14")],
        "sb_lot": [dict(id=1, product_id=1, lot_number="GOOD1", expires_on=date(2027, 6, 30), status="available"),
                   dict(id=2, product_id=1, lot_number="RECALL9", expires_on=date(2027, 6, 30), status="recalled")],
        "sb_location": [dict(id=1, code="MS4", name="4 West"), dict(id=2, code="ED", name="Emergency")],
        "sb_cabinet": [dict(id=1, location_id=1, name="MS4-1", profiled=True, downtime_mode=False)],
        "sb_pocket": [dict(id=1, cabinet_id=1, drawer=1, position=1, drug_id=1, par=10, minimum=3, capacity=20,
                           on_hand=6, blind_count=False, active=True),
                      dict(id=2, cabinet_id=1, drawer=2, position=1, drug_id=2, par=6, minimum=2, capacity=10,
                           on_hand=4, blind_count=True, active=True),
                      dict(id=3, cabinet_id=1, drawer=3, position=1, drug_id=3, par=4, minimum=1, capacity=8,
                           on_hand=2, blind_count=False, active=True)],
        "sb_override_item": [dict(id=1, cabinet_id=1, drug_id=3, approval_reference="P&T-2025-031")],
        "sb_patient": [dict(id=1, mrn="M1", name="Pat One"), dict(id=2, mrn="E2", name="Pat Two")],
        "sb_encounter": [dict(id=1, patient_id=1, location_id=1, status="active"),
                         dict(id=2, patient_id=2, location_id=2, status="active")],
        "sb_order": [dict(id=1, encounter_id=1, drug_id=1, status="verified"),
                     dict(id=2, encounter_id=1, drug_id=2, status="pending")],
        "sb_robot_item": [dict(id=1, product_id=1, cell="R-014", package_size=100, unit="EA", expected_barcode=GTIN_A,
                               scan_check=True, active=True)],
    }
    for table, updates in changes.items():
        for row_id, values in updates.items():
            next(r for r in rows[table] if r["id"] == row_id).update(values)
    return World.from_rows(rows, NOW)


def removal(world, drug_id, patient_id=1):
    return decide_removal(world, world.get("sb_cabinet", 1), world.drug(drug_id), world.get("sb_patient", patient_id))


# --- cabinet -------------------------------------------------------------------------------------------------------

def test_a_verified_order_releases_the_drug_from_a_profiled_cabinet():
    decision = removal(hospital(), 1)
    assert (decision.allowed, decision.via, decision.pocket["id"]) == (True, "profile", 1)


def test_an_unverified_order_does_not_release_it():
    decision = removal(hospital(), 2)
    assert not decision.allowed and "No verified order" in decision.reason
    assert decision.blind_count, "a controlled-substance pocket counts blind"


def test_the_override_list_releases_without_an_order():
    decision = removal(hospital(), 3)
    assert (decision.allowed, decision.via) == (True, "override")


def test_without_the_override_entry_the_removal_is_refused():
    world = hospital()
    world.table("sb_override_item").clear()
    assert not removal(world, 3).allowed


def test_a_non_profiled_cabinet_releases_anything_stocked():
    decision = removal(hospital(sb_cabinet={1: {"profiled": False}}), 2)
    assert (decision.allowed, decision.via) == (True, "non_profiled")


def test_downtime_mode_releases_with_reconciliation():
    assert removal(hospital(sb_cabinet={1: {"downtime_mode": True}}), 2).via == "downtime"


def test_a_patient_on_another_unit_is_not_on_the_cabinet_list():
    decision = removal(hospital(), 1, patient_id=2)
    assert not decision.allowed and "not on MS4-1's patient list" in decision.reason


@pytest.mark.parametrize("pocket_change, reason", [
    ({"drug_id": None}, "is not stocked in MS4-1"),
    ({"active": False}, "is not stocked in MS4-1"),
    ({"on_hand": 0}, "is stocked out in MS4-1"),
])
def test_not_stocked_or_empty_pockets_refuse(pocket_change, reason):
    decision = removal(hospital(sb_pocket={1: pocket_change}), 1)
    assert not decision.allowed and reason in decision.reason


@pytest.mark.parametrize("par, minimum, on_hand, expected", [
    (10, 3, 3, 7),  # at the minimum: fill to par
    (10, 3, 4, 0),  # above the minimum: no restock yet
    (0, 0, 0, 0),  # par zero: the pocket is never filled
])
def test_restock_fills_to_par_once_at_or_below_the_minimum(par, minimum, on_hand, expected):
    world = hospital(sb_pocket={1: {"par": par, "minimum": minimum, "on_hand": on_hand}})
    assert restock_quantity(world.get("sb_pocket", 1)) == expected


# --- scanning ------------------------------------------------------------------------------------------------------

def test_a_linked_active_product_scans():
    result = resolve_scan(hospital(), f"01{GTIN_A}17270630" "10GOOD1")
    assert result.accepted and result.drug.code == "METO25T" and result.lot.lot_number == "GOOD1"


def test_an_unlinked_barcode_is_unknown_and_the_tool_explains_what_the_data_says():
    world = hospital()
    world.table("sb_barcode").pop(1)
    result = resolve_scan(world, GTIN_A)
    assert not result.accepted and result.problems[0].startswith("Unknown barcode")
    assert any("99999-123-45" in note and "no barcode link" in note for note in result.notes)


def test_an_inactive_product_is_refused():
    result = resolve_scan(hospital(), GTIN_B)
    assert not result.accepted and "Product 9999-0001-10 is inactive." in result.problems


def test_a_stored_ndc11_that_does_not_match_the_barcode_is_a_data_error():
    result = resolve_scan(hospital(sb_product={1: {"ndc11": "99999123450"}}), GTIN_A)
    assert not result.accepted and "Product data error" in result.problems[0]


def test_a_recalled_lot_and_an_expired_package_are_refused():
    recalled = resolve_scan(hospital(), f"01{GTIN_A}17270630" "10RECALL9")
    assert "Lot RECALL9 is recalled: do not use." in recalled.problems
    expired = resolve_scan(hospital(), f"01{GTIN_A}17261000" "10GOOD1")  # day 00: 31 October 2026
    assert any(p.startswith("Expired product: expiry 2026-10-31") for p in expired.problems)


def test_bad_barcode_data_is_refused_with_the_reader_error():
    result = resolve_scan(hospital(), "01003999991234")
    assert not result.accepted and result.problems


# --- robot ---------------------------------------------------------------------------------------------------------

def test_robot_accepts_the_package_its_item_master_expects():
    assert robot_restock(hospital(), "R-014", GTIN_A).accepted
    assert robot_pick(hospital(), "R-014").accepted


def test_robot_refuses_a_package_size_mismatch():
    world = hospital(sb_robot_item={1: {"package_size": 1000, "unit": "BOTTLE"}})
    result = robot_restock(world, "R-014", GTIN_A)
    assert not result.accepted and "Package mismatch: the item master says 1000 BOTTLE" in result.problems[0]
    assert not robot_pick(world, "R-014").accepted


def test_robot_refuses_a_package_other_than_the_cell_expects():
    world = hospital(sb_robot_item={1: {"product_id": 2, "expected_barcode": GTIN_B}})
    result = robot_restock(world, "R-014", GTIN_A)
    assert any("Barcode mismatch" in p for p in result.problems)
    assert any("Item mismatch" in p for p in result.problems)


def test_robot_with_the_scan_check_off_takes_anything():
    result = robot_restock(hospital(sb_robot_item={1: {"scan_check": False}}), "R-014", "nonsense")
    assert result.accepted and result.checks == ("scan check is off: package not verified",)


def test_robot_refuses_an_unknown_cell():
    assert not robot_restock(hospital(), "R-999", GTIN_A).accepted
