"""The seed loader and the ticket loader: the real data passes, and each kind of mistake is named with file:line."""

import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from lms.content.loader import load_catalog
from lms.sandbox.core.seed import Relative, load_seed
from lms.sandbox.core.tickets import load_tickets
from lms.sandbox.core.world import World
from lms.sandbox.pharmacy.ndc import to_ndc11

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def real():
    return load_tickets(SANDBOX, load_catalog(ROOT / "content"), now=NOW)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- the real seed and tickets ---------------------------------------------------------------------------------------

def test_real_seed_and_tickets_load_without_problems(real):
    """Every seed row and every ticket is valid, and each ticket's fault shows on a fresh copy."""
    assert [str(p) for p in real.problems] == []
    assert len(real.tickets) >= 15


def test_seed_covers_what_the_tickets_and_issue_need(real):
    """About 45 drugs incl. high-alert, controlled, LASA, hazardous, pediatric; all three NDC formats; the units."""
    rows = real.seed.rows
    drugs = rows["sb_drug"]
    assert len(drugs) >= 45
    assert any(d["high_alert"] for d in drugs) and any(d["hazardous"] for d in drugs)
    assert {d["dea_schedule"] for d in drugs} >= {2, 3, 4}
    assert any(d["pediatric"] for d in drugs)
    assert sum(1 for d in drugs if d["tall_man_name"]) >= 6
    assert {p["ndc_format"] for p in rows["sb_product"]} == {"4-4-2", "5-3-2", "5-4-1"}
    assert any(p["parent_id"] for p in rows["sb_product"])
    assert {loc["code"] for loc in rows["sb_location"]} >= {"ED", "ICU", "MS4", "PEDS"}
    for table in ("sb_cabinet", "sb_pocket", "sb_patient", "sb_encounter", "sb_allergy", "sb_order",
                  "sb_order_set_version", "sb_order_sentence", "sb_cds_rule", "sb_cds_test_case", "sb_lot"):
        assert rows[table], f"the seed has no {table} rows"


def test_every_seed_ndc_is_fictional_and_consistent(real):
    """Invented NDCs use the fictional labelers, carry the flag, and their 11-digit form is the padded 10-digit one."""
    for product in real.seed.rows["sb_product"]:
        assert product["fictional"] is True
        assert product["ndc10"].split("-")[0] in {"9999", "99999", "99998", "99997"}
        assert product["ndc11"] == to_ndc11(product["ndc10"])
        assert product["gtin14"].startswith("003") and product["gtin14"][3:13] == product["ndc10"].replace("-", "")


def test_seed_is_healthy_where_tickets_plant_faults(real):
    """In the untouched seed the safety rules hold (the tickets break them, not the seed)."""
    world = World.from_rows(real.seed.materialize(NOW), NOW)
    for pocket in world.table("sb_pocket").values():
        assert 0 <= pocket.minimum <= pocket.par <= pocket.capacity, world.pocket_label(pocket)
        drug = world.drug(pocket.drug_id)
        if drug is not None and drug.dea_schedule:
            assert pocket.blind_count, f"{world.pocket_label(pocket)} holds a controlled drug without blind count"
    assert all(c.profiled for c in world.table("sb_cabinet").values())


def test_relative_times_are_resolved_when_an_instance_is_built(tmp_path):
    write(tmp_path / "seed", "10.yaml", """\
        drugs:
          - {code: A1, generic_name: alpha, strength: 1 mg, form: tablet, route: oral}
        products:
          - {ndc: 99999-123-45, drug: A1, labeler: Test, package_quantity: 100, package_unit: EA}
        lots:
          - {product: 99999-123-45, lot_number: L1, expires_on: +30d}
        """)
    data, problems = load_seed(tmp_path / "seed")
    assert problems == []
    lot = data.rows["sb_lot"][0]
    assert lot["expires_on"] == Relative(timedelta(days=30), as_date=True)
    assert data.materialize(NOW)["sb_lot"][0]["expires_on"] == date(2026, 12, 26)
    product = data.rows["sb_product"][0]
    # GS1 mod 10 by hand over 0039999912345, from the right with weights 3,1,3...: 123 -> check digit 7.
    assert (product["ndc11"], product["ndc_format"], product["gtin14"]) == ("99999012345", "5-3-2", "00399999123457")
    assert data.rows["sb_barcode"] == [{"id": 1, "product_id": 1, "value": "00399999123457", "kind": "gtin14"}]


@pytest.mark.parametrize("rows, line, message", [
    ("drugs:\n  - {code: A1, generic_name: a, strength: 1 mg, form: tablet, route: oral, colour: red}\n", 2,
     "drugs: colour: unknown field"),
    ("drugs:\n  - {code: A1, strength: 1 mg, form: tablet, route: oral}\n", 2, "drugs: generic_name: is required"),
    ("drugs:\n  - code: A1\n    generic_name: a\n    strength: 1 mg\n    form: tablet\n    route: oral\n"
     "    high_alert: maybe\n", 7, "drugs: high_alert: must be true or false"),
    ("products:\n  - {ndc: 1234-56, drug: A1, labeler: x, package_quantity: 1, package_unit: EA}\n", 2,
     "products: ndc: NDC '1234-56'"),
    ("products:\n  - {ndc: 99999-123-45, drug: NOPE, labeler: x, package_quantity: 1, package_unit: EA}\n", 2,
     "products: drug: no drugs row has the key 'NOPE'"),
    ("lots:\n  - {product: 99999-123-45, lot_number: L, expires_on: next year}\n", 2,
     "lots: product: no products row"),
    ("drugs:\n  - {code: A1, generic_name: a, strength: 1 mg, form: tablet, route: oral, formulary_status: maybe}\n",
     2, "drugs: formulary_status: 'maybe' is not one of"),
    ("cabinets: not a list\n", 1, "cabinets: must be a list of rows"),
    ("potions:\n  - {name: x}\n", 1, "unknown table 'potions'"),
    ("drugs: [\n", 2, "not valid YAML"),
])
def test_seed_mistakes_are_reported_with_file_and_line(tmp_path, rows, line, message):
    write(tmp_path / "seed", "20-bad.yaml", rows)
    _data, problems = load_seed(tmp_path / "seed")
    assert problems, "the mistake went unreported"
    assert problems[0].path == "20-bad.yaml" and problems[0].line == line
    assert message in problems[0].message


def test_duplicate_keys_are_reported(tmp_path):
    write(tmp_path / "seed", "10.yaml", """\
        drugs:
          - {code: A1, generic_name: a, strength: 1 mg, form: tablet, route: oral}
          - {code: A1, generic_name: b, strength: 2 mg, form: tablet, route: oral}
        """)
    _data, problems = load_seed(tmp_path / "seed")
    assert [(p.line, p.message) for p in problems] == [(3, "drugs: a second row has the key 'a1'")]


# --- ticket files ----------------------------------------------------------------------------------------------------

SEED = """\
drugs:
  - {code: A1, generic_name: alpha, strength: 1 mg, form: tablet, route: oral}
products:
  - {ndc: 99999-123-45, drug: A1, labeler: Test, package_quantity: 100, package_unit: EA}
locations:
  - {code: MS4, name: 4 West, kind: unit}
cabinets:
  - {name: MS4-1, location: MS4}
"""

TICKET = """\
id: tiny
number: 1
title: A tiny ticket
category: Testing
difficulty: 1
report: The cabinet misbehaves.
setup:
  - update: cabinets
    key: MS4-1
    set: {profiled: false}
checks:
  - check: cabinet_profiled
    cabinet: MS4-1
rejects:
  - name: drug-kept
    check: drug_available
    drug: A1
    message: Do not take the drug off the formulary.
solution:
  - update: cabinets
    key: MS4-1
    values: {profiled: true}
symptom_fixes:
  - name: remove the drug
    caught_by: drug-kept
    steps:
      - update: drugs
        key: A1
        values: {active: false}
"""


def _tickets(tmp_path, ticket_text: str, name: str = "tiny.yaml"):
    write(tmp_path, "seed/10.yaml", SEED)
    write(tmp_path / "scenarios", name, ticket_text)
    return load_tickets(tmp_path, None, now=NOW)


def test_a_valid_ticket_loads_with_its_fault_planted(tmp_path):
    tickets = _tickets(tmp_path, TICKET)
    assert tickets.problems == ()
    ticket = tickets.get("tiny")
    assert ticket.dataset.rows["sb_cabinet"][0]["profiled"] is False
    assert tickets.seed.rows["sb_cabinet"][0]["profiled"] is True, "planting the fault must not change the seed"


@pytest.mark.parametrize("change, message", [
    (("check: cabinet_profiled\n    cabinet: MS4-1", "check: cabinet_profiles\n    cabinet: MS4-1"),
     "checks: unknown check 'cabinet_profiles'"),
    (("check: cabinet_profiled\n    cabinet: MS4-1", "check: cabinet_profiled\n    cabnet: MS4-1"),
     "checks: cabinet_profiled: missing cabinet; unknown cabnet"),
    (("    message: Do not take the drug off the formulary.\n", ""), "a reject rule needs the message"),
    (("key: MS4-1\n    set:", "key: MS9-9\n    set:"), "setup: cabinets has no row with the key 'MS9-9'"),
    (("set: {profiled: false}", "set: {profiled: nope}"), "setup: update cabinets: profiled: must be true or false"),
    (("  - update: cabinets\n    key: MS4-1\n    values", "  - update: drawers\n    key: MS4-1\n    values"),
     "solution: each step is"),
    (("caught_by: drug-kept", "caught_by: nothing"), "symptom_fixes: each needs a name"),
    (("set: {profiled: false}", "set: {profiled: true}"), "every check already passes"),
    (("difficulty: 1", "difficulty: 7"), "difficulty: must be 1"),
    (("difficulty: 1", "difficulty: 2"), "intermediate and advanced tickets require change control"),
    (("difficulty: 1", "difficulty: 3\nchange_control: not_required"), "say why in the debrief"),
    (("difficulty: 1", "difficulty: 1\nchange_control: sometimes"), "must be required or not_required"),
])
def test_ticket_mistakes_are_reported_with_file_and_line(tmp_path, change, message):
    old, new = change
    assert old in TICKET
    tickets = _tickets(tmp_path, TICKET.replace(old, new))
    assert any(message in p.message and p.path == "scenarios/tiny.yaml" and p.line > 0 for p in tickets.problems), \
        [str(p) for p in tickets.problems]


@pytest.mark.parametrize("change", [
    ("difficulty: 1", "difficulty: 2\nchange_control: required"),
    ("difficulty: 1", "difficulty: 2\nchange_control: not_required\n"
                      "debrief: Runs without change control because it is a daily workflow, not a build."),
])
def test_an_intermediate_ticket_declares_change_control_or_says_why_not(tmp_path, change):
    tickets = _tickets(tmp_path, TICKET.replace(*change))
    assert tickets.problems == ()
    assert tickets.get("tiny").change_control is ("not_required" not in change[1])


def test_ticket_id_must_match_its_file_name(tmp_path):
    tickets = _tickets(tmp_path, TICKET, name="other-name.yaml")
    assert any("match the file name 'other-name'" in p.message for p in tickets.problems)
