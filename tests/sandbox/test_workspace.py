"""The trainee's loop through the web pages: start, change tables, bad input, submit, hints, reset, isolation."""

import dataclasses
import re

import pytest
from sqlalchemy import func, select

from lms.db import utcnow
from lms.extensions import db
from lms.sandbox.core import services
from lms.sandbox.core.models import (
    AuditEntry,
    ChangeRequest,
    Pocket,
    Product,
    SandboxHintReveal,
    SandboxInstance,
    SandboxSubmission,
)
from lms.sandbox.pharmacy.ndc import gtin14_from_ndc
from tests.conftest import create_cohort, create_user, fresh, login, post_form
from tests.sandbox.conftest import TICKET, start

SCAN = "0100399997041234" "17300630" "10LK4471" "\x1d" "21SN8850213"


def count(model, **where) -> int:
    db.session.expire_all()
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def test_starting_twice_gives_one_instance_with_the_fault_planted(client, trainee):
    first = start(client)
    second = start(client)
    assert first.id == second.id
    assert count(SandboxInstance) == 1
    world = services.instance_world(db.session, first, utcnow())
    assert world.by_key("sb_product", "99997-0412-3") is None, "ticket 1 removes the new supplier's product"
    assert len(world.table("sb_drug")) >= 45


def test_the_workspace_lists_screens_and_shows_the_report(client, trainee):
    instance = start(client)
    page = client.get(f"/sandbox/w/{instance.id}").get_data(as_text=True)
    assert "Unknown barcode" in page and "Drug master" in page and "Submit for grading" in page
    listing = client.get(f"/sandbox/w/{instance.id}/screens/products?q=ondansetron").get_data(as_text=True)
    assert "99998-113-10" in listing and "99997-0412-3" not in listing


def test_the_scan_tool_explains_why_the_reported_barcode_fails(client, trainee):
    instance = start(client)
    page = client.get(f"/sandbox/w/{instance.id}/tools", query_string={"data": SCAN}).get_data(as_text=True)
    assert "refused" in page and "Unknown barcode" in page
    assert "00399997041234" in page and "2030-06-30" in page and "LK4471" in page


REQUEST = {"title": "Set ED-1 par levels from usage", "reason": "Nursing reports stock-outs in ED-1 every night.",
           "risk": "Low: pocket settings only; restore the old par from the audit trail.",
           "test_plan": "Replay a restock and a removal for each pocket and check both are accepted."}


def raise_request(client, instance, **overrides) -> str:
    """Raise a change request through its screen; returns the approved reference."""
    response = post_form(client, f"/sandbox/w/{instance.id}/change-requests/new", {**REQUEST, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    return re.search(r"<h1>(CR-\d{4}-\d{5}):", page).group(1)


def stored(instance, table: str, key: str):
    """A row of the instance as the database holds it now."""
    db.session.expire_all()
    return services.instance_world(db.session, instance, utcnow()).by_key(table, key)


def form_of(row, editor_name: str, **overrides) -> dict:
    """What the edit page posts when Save is pressed without touching anything."""
    from lms.sandbox.core.editors import EDITORS

    data = {}
    for f in EDITORS[editor_name].fields:
        if f.on_create_only:
            continue
        value = row[f.column]
        if f.kind == "bool":
            if value:
                data[f.column] = "y"
        else:
            data[f.column] = "None" if value is None and f.kind in ("ref", "choice") else \
                ("" if value is None else str(value))
    data.update(overrides)
    return data


def _product_form(**overrides):
    world_drug = overrides.pop("drug")
    data = {"drug_id": world_drug, "ndc10": "99997-0412-3", "labeler": "Larkspur Pharmaceuticals",
            "description": "carton of 30", "package_quantity": "30", "package_unit": "EA", "parent_id": "None",
            "units_per_parent": "", "specific_gravity": "", "active": "y", "change_request": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides, message", [
    ({"ndc10": "99997-412-3"}, "NDC &#39;99997-412-3&#39;"),
    ({"ndc10": "9999704123"}, "hyphens"),
    ({"ndc10": "99998-113-10"}, "is already product 99998-113-10"),
    ({"package_quantity": "0"}, "The package quantity must be at least 1."),
    ({"package_quantity": "-4"}, "Enter a whole number from 0 to 100,000."),
    ({"parent_id": "FAMO-CARTON"}, "a different drug"),
    ({"change_request": "CR-0000-9999"}, "CR-0000-9999 is not an approved change request."),
])
def test_bad_product_input_names_the_problem_and_saves_nothing(client, trainee, overrides, message):
    instance = start(client)
    world = services.instance_world(db.session, instance, utcnow())
    onda = world.by_key("sb_drug", "ONDA4ODT").id
    if overrides.get("parent_id") == "FAMO-CARTON":
        overrides["parent_id"] = str(world.by_key("sb_product", "9999-2201-10").id)
    products, audits = count(Product, instance_id=instance.id), count(AuditEntry, instance_id=instance.id)
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/products/new",
                         _product_form(drug=str(onda), **overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(Product, instance_id=instance.id) == products
    assert count(AuditEntry, instance_id=instance.id) == audits


def test_a_good_change_is_saved_and_audited_with_before_and_after(client, trainee):
    instance = start(client)
    reference = raise_request(client, instance)
    world = services.instance_world(db.session, instance, utcnow())
    pocket = next(p for p in world.table("sb_pocket").values() if p.drug_id and not world.drug(p.drug_id).dea_schedule)
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/pockets/{pocket.id}",
                         {"drug_id": str(pocket.drug_id), "par": str(pocket.par + 2), "minimum": str(pocket.minimum),
                          "capacity": str(max(pocket.capacity, pocket.par + 2)), "active": "y",
                          "lidded": "y" if pocket.lidded else "", "blind_count": "y" if pocket.blind_count else "",
                          "change_request": reference})
    assert response.status_code == 302
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance.id,
                                                        AuditEntry.table_name == "sb_pocket")).one()
    assert (audit.user_id, audit.table_name, audit.row_id, audit.action) == (trainee.id, "sb_pocket", pocket.id,
                                                                             "update")
    assert audit.before["par"] == pocket.par and audit.after["par"] == pocket.par + 2
    assert audit.change_request == reference
    assert reference in client.get(f"/sandbox/w/{instance.id}/audit").get_data(as_text=True)


@pytest.mark.parametrize("values, message", [
    ({"par": "-1"}, "Enter a whole number from 0 to 5,000."),
    ({"par": "30", "capacity": "20"}, "Par 30 is more than the pocket holds (20)."),
    ({"par": "10", "minimum": "10"}, "must be below par"),
    ({"blind_count": ""}, "its pocket must count blind"),
])
def test_bad_pocket_input_names_the_problem_and_saves_nothing(client, trainee, values, message):
    instance = start(client)
    world = services.instance_world(db.session, instance, utcnow())
    pocket = next(p for p in world.table("sb_pocket").values()
                  if p.drug_id and world.drug(p.drug_id).dea_schedule == 2 and p.capacity >= 12)
    form = {"drug_id": str(pocket.drug_id), "par": str(pocket.par), "minimum": str(pocket.minimum),
            "capacity": str(pocket.capacity), "active": "y", "lidded": "y", "blind_count": "y", **values}
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/pockets/{pocket.id}", form)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Pocket, (instance.id, pocket.id))
    assert (saved.par, saved.minimum, saved.capacity, saved.blind_count) == (pocket.par, pocket.minimum,
                                                                             pocket.capacity, pocket.blind_count)
    assert count(AuditEntry, instance_id=instance.id) == 0


@pytest.mark.parametrize("value, message", [
    ("0100399997041235", "check digit"),
    ("01" + gtin14_from_ndc("99998-113-10") + "10AB", "encodes NDC digits 9999811310"),
    ("hello", ""),
])
def test_bad_barcode_data_is_refused(client, trainee, value, message):
    instance = start(client)
    world = services.instance_world(db.session, instance, utcnow())
    product = world.by_key("sb_product", "99997-2305-1")
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/barcodes/new",
                         {"product_id": str(product.id), "value": value, "change_request": ""})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert count(AuditEntry, instance_id=instance.id) == 0


def test_change_control_requires_an_approved_change_request(app, trainee, client):
    instance = start(client)
    ticket = dataclasses.replace(services.get_tickets().get(TICKET), change_control=True)
    world = services.instance_world(db.session, instance, utcnow())
    cabinet = world.by_key("sb_cabinet", "MS4-1")
    actor = services.Actor(trainee.id, trainee.name)
    with pytest.raises(services.ChangeRejected) as refused:
        services.apply_change(db.session, instance, ticket, actor, "cabinets", "update", cabinet.id,
                              {"downtime_mode": True}, None, utcnow())
    assert "under change control" in refused.value.errors["change_request"]
    with pytest.raises(services.ChangeRejected) as refused:
        services.apply_change(db.session, instance, ticket, actor, "cabinets", "update", cabinet.id,
                              {"downtime_mode": True}, "CR-2026-0150", utcnow())
    assert refused.value.errors["change_request"].startswith("CR-2026-0150 is closed")
    reference = services.raise_change_request(db.session, instance, actor, REQUEST, utcnow())
    services.apply_change(db.session, instance, ticket, actor, "cabinets", "update", cabinet.id,
                          {"downtime_mode": True}, reference, utcnow())
    assert services.instance_world(db.session, instance, utcnow()).get("sb_cabinet", cabinet.id).downtime_mode


def test_submit_grade_hint_reset_loop(client, trainee):
    instance = start(client)
    post_form(client, f"/sandbox/w/{instance.id}/submit")
    first = db.session.scalars(select(SandboxSubmission)).one()
    assert not first.solved
    assert [r["passed"] for r in first.results if r["kind"] == "check"] == [False, False]
    page = client.get(f"/sandbox/w/{instance.id}").get_data(as_text=True)
    assert "Replaying the reported scan still fails" in page and "not fixed yet" in page
    assert "Debrief" not in page, "the debrief explains the fix: it waits until the ticket is solved"

    post_form(client, f"/sandbox/w/{instance.id}/hint")
    post_form(client, f"/sandbox/w/{instance.id}/hint")
    assert count(SandboxHintReveal, instance_id=instance.id) == 2
    assert "Hint 2 of 3" in client.get(f"/sandbox/w/{instance.id}").get_data(as_text=True)

    # The fix, made through the product and barcode screens.
    world = services.instance_world(db.session, instance, utcnow())
    onda = world.by_key("sb_drug", "ONDA4ODT").id
    assert post_form(client, f"/sandbox/w/{instance.id}/screens/products/new",
                     _product_form(drug=str(onda))).status_code == 302
    product = services.instance_world(db.session, instance, utcnow()).by_key("sb_product", "99997-0412-3")
    assert post_form(client, f"/sandbox/w/{instance.id}/screens/barcodes/new",
                     {"product_id": str(product.id), "value": SCAN.replace("\x1d", "<GS>")}).status_code == 302
    post_form(client, f"/sandbox/w/{instance.id}/submit")
    instance = fresh(instance)
    assert instance.solved_at is not None and instance.submissions == 2
    assert "solved" in client.get("/sandbox/").get_data(as_text=True)
    assert "Debrief" in client.get(f"/sandbox/w/{instance.id}").get_data(as_text=True)

    post_form(client, f"/sandbox/w/{instance.id}/reset")
    instance = fresh(instance)
    world = services.instance_world(db.session, instance, utcnow())
    assert world.by_key("sb_product", "99997-0412-3") is None, "reset rebuilds the instance with the fault"
    assert instance.solved_at is not None and instance.resets == 1, "a reset keeps what was earned"
    assert count(SandboxSubmission, instance_id=instance.id) == 2
    assert count(SandboxHintReveal, instance_id=instance.id) == 2


def test_no_more_hints_than_the_ticket_has(client, trainee):
    instance = start(client)
    for _ in range(5):
        post_form(client, f"/sandbox/w/{instance.id}/hint")
    assert count(SandboxHintReveal, instance_id=instance.id) == 3


def _instance_urls(app, instance_id: int) -> list[tuple[str, str]]:
    """Every sandbox URL that names an instance, with plausible values for its other parts."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "instance_id" not in rule.arguments:
            continue
        values = {"instance_id": instance_id, "name": "pockets", "row_id": 1}
        if rule.endpoint == "sandbox.delete_row":
            values["name"] = "override_items"
        if rule.endpoint == "sandbox.browse":
            values["name"] = "staff"
        with app.test_request_context():
            url = app.url_map.bind("lms.test").build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, url))
    return urls


def test_another_trainee_cannot_read_or_change_an_instance_by_any_url(app, client):
    owner = create_user("trainee", name="Owner")
    login(client, owner)
    instance = start(client)
    before = count(AuditEntry, instance_id=instance.id)
    for role in ("trainee", "supervisor", "admin"):
        intruder, intruder_client = create_user(role), app.test_client()
        login(intruder_client, intruder)
        urls = _instance_urls(app, instance.id)
        assert len(urls) >= 12
        for endpoint, method, url in urls:
            if role == "admin" and endpoint == "sandbox.attempt_detail":
                continue  # admins may review any attempt (read only); tested with the supervisors' view
            if method == "GET":
                response = intruder_client.get(url)
            else:
                response = post_form(intruder_client, url, {"par": "1", "minimum": "0", "capacity": "9"})
            assert response.status_code in (403, 404), (role, method, url, response.status_code)
    assert count(AuditEntry, instance_id=instance.id) == before
    assert fresh(instance).submissions == 0 and fresh(instance).resets == 0


def test_supervisors_see_attempts_of_their_own_cohorts_only(app, client):
    mine, theirs = create_user("trainee", name="Mine Trainee"), create_user("trainee", name="Other Trainee")
    supervisor = create_user("supervisor")
    create_cohort("Main", supervisors=[supervisor], trainees=[mine])
    create_cohort("Satellite", trainees=[theirs])
    for user in (mine, theirs):
        trainee_client = app.test_client()
        login(trainee_client, user)
        start(trainee_client)
    login(client, supervisor)
    page = client.get("/sandbox/attempts").get_data(as_text=True)
    assert "Mine Trainee" in page and "Other Trainee" not in page
    assert re.search(r"Ondansetron ODT will not scan", page)
    exported = client.get("/sandbox/attempts.csv")
    assert exported.mimetype == "text/csv"
    lines = exported.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("trainee,email,ticket number") and len(lines) == 2 and "Mine Trainee" in lines[1]
    mine_instance = db.session.scalar(select(SandboxInstance).where(SandboxInstance.user_id == mine.id))
    theirs_instance = db.session.scalar(select(SandboxInstance).where(SandboxInstance.user_id == theirs.id))
    assert client.get(f"/sandbox/attempts/{mine_instance.id}").status_code == 200
    assert client.get(f"/sandbox/attempts/{theirs_instance.id}").status_code == 404


def test_a_supervisor_reviews_each_submission_and_the_trainees_changes(app, client):
    trainee, supervisor = create_user("trainee", name="Tess Trainee"), create_user("supervisor")
    create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    instance = start(trainee_client)
    post_form(trainee_client, f"/sandbox/w/{instance.id}/hint")
    post_form(trainee_client, f"/sandbox/w/{instance.id}/submit")
    world = services.instance_world(db.session, instance, utcnow())
    post_form(trainee_client, f"/sandbox/w/{instance.id}/screens/products/new",
              _product_form(drug=str(world.by_key("sb_drug", "ONDA4ODT").id)))
    login(client, supervisor)
    page = client.get(f"/sandbox/attempts/{instance.id}").get_data(as_text=True)
    assert "Submission 1" in page and "Replaying the reported scan still fails" in page
    assert "1 hint opened of 3" in page and "99997-0412-3" in page and "Products and NDCs" in page
    # Reviewing is read only: the supervisor still cannot open the trainee's workspace.
    assert client.get(f"/sandbox/w/{instance.id}").status_code == 404



@pytest.mark.parametrize("data, message", [
    ("0100399997041235", "check digit"),
    ("01003999970412341730023110LK", "must be a real date written as 6 digits YYMMDD"),
    ("x" * 201, "Field cannot be longer than 200 characters."),
])
def test_the_scan_tool_explains_malformed_barcode_data(client, trainee, data, message):
    instance = start(client)
    page = client.get(f"/sandbox/w/{instance.id}/tools", query_string={"data": data})
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert count(AuditEntry, instance_id=instance.id) == 0


def test_every_seed_row_can_be_saved_unchanged_through_its_screen(app):
    """The seed obeys the screens' own rules: re-saving any row as it is raises no validation error."""
    from lms.sandbox.core.editors import EDITORS

    user = create_user("trainee")
    ticket = services.get_tickets().get(TICKET)
    instance, _ = services.start_ticket(db.session, user.id, ticket, utcnow())
    actor = services.Actor(user.id, user.name)
    refused = []
    for editor in EDITORS.values():
        if not editor.update:
            continue
        world = services.instance_world(db.session, instance, utcnow())
        for row in world.table(editor.table).values():
            if editor.can_edit_row(row):
                continue
            try:
                services.apply_change(db.session, instance, ticket, actor, editor.name, "update", row.id, {}, None,
                                      utcnow())
            except services.ChangeRejected as error:
                refused.append(f"{editor.name} {world.key_of(editor.table, row)}: {error}")
    assert refused == []


def test_sandbox_actions_without_a_csrf_token_are_refused(client, trainee):
    instance = start(client)
    for action in ("submit", "reset", "hint"):
        assert client.post(f"/sandbox/w/{instance.id}/{action}").status_code == 400
    assert client.post(f"/sandbox/w/{instance.id}/screens/override_items/1/delete").status_code == 400
    assert fresh(instance).submissions == 0 and fresh(instance).resets == 0
    assert count(SandboxHintReveal, instance_id=instance.id) == 0 and count(AuditEntry, instance_id=instance.id) == 0


def test_raising_a_change_request_gets_it_approved_and_a_change_quotes_it(client, trainee):
    """Ticket 6 runs under change control: raise a request, see the simulated board approve it, quote it."""
    instance = start(client, "robot-old-ndc")
    world = services.instance_world(db.session, instance, utcnow())
    cell = world.by_key("sb_robot_item", "R-021")
    new_product = world.by_key("sb_product", "9999-3150-30")
    relink = form_of(cell, "robot_items", product_id=str(new_product.id), expected_barcode="00399993150305")
    url = f"/sandbox/w/{instance.id}/screens/robot_items/{cell.id}"

    refused = post_form(client, url, {**relink, "change_request": ""})
    assert refused.status_code == 200 and "under change control" in refused.get_data(as_text=True)

    incomplete = post_form(client, f"/sandbox/w/{instance.id}/change-requests/new", {**REQUEST, "test_plan": "ok"})
    assert incomplete.status_code == 200 and "Test plan: write at least 30 characters" in incomplete.get_data(
        as_text=True)
    assert count(ChangeRequest, instance_id=instance.id, status="approved") == 0

    reference = raise_request(client, instance)
    request_row = services.instance_world(db.session, instance, utcnow()).by_key("sb_change_request", reference)
    assert (request_row.status, request_row.approved_by) == ("approved", services.APPROVER)
    assert request_row.raised_by == trainee.name and request_row.approved_at is not None
    assert request_row.test_plan == REQUEST["test_plan"]
    listing = client.get(f"/sandbox/w/{instance.id}/change-requests").get_data(as_text=True)
    assert reference in listing and "CR-2026-0155" in listing

    assert post_form(client, url, {**relink, "change_request": reference}).status_code == 302
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance.id,
                                                        AuditEntry.table_name == "sb_robot_item")).one()
    assert audit.change_request == reference
    detail = client.get(f"/sandbox/w/{instance.id}/change-requests/{request_row.id}").get_data(as_text=True)
    assert "Robot item master #" in detail and services.APPROVER in detail
    post_form(client, f"/sandbox/w/{instance.id}/submit")
    assert fresh(instance).solved_at is not None


def test_a_blank_change_request_is_refused_where_the_ticket_requires_change_control(client, trainee):
    """Ticket 3 requires change control: a correct fix without a change request is refused and saves nothing."""
    instance = start(client, "ndc11-appended-zero")
    product = services.instance_world(db.session, instance, utcnow()).by_key("sb_product", "99997-3410-1")
    response = post_form(client, f"/sandbox/w/{instance.id}/screens/products/{product.id}",
                         form_of(product, "products", ndc11="99997341001", change_request=""))
    assert response.status_code == 200
    assert "This system is under change control: quote an approved change request" in response.get_data(as_text=True)
    assert stored(instance, "sb_product", "99997-3410-1").ndc11 == "99997341010"
    assert count(AuditEntry, instance_id=instance.id) == 0


def test_saving_the_ticket_3_product_unchanged_shows_the_fault_and_does_not_solve_it(client, trainee):
    """A no-op save must not quietly re-derive the stored 11-digit NDC: the screen shows the mismatch instead."""
    instance = start(client, "ndc11-appended-zero")
    reference = raise_request(client, instance)
    product = services.instance_world(db.session, instance, utcnow()).by_key("sb_product", "99997-3410-1")
    url = f"/sandbox/w/{instance.id}/screens/products/{product.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="99997341010"' in page, "the edit screen shows the stored 11-digit NDC"
    response = post_form(client, url, form_of(product, "products", change_request=reference))
    assert response.status_code == 200
    assert "does not match the NDC as printed (99997-3410-1)" in response.get_data(as_text=True)
    assert stored(instance, "sb_product", "99997-3410-1").ndc11 == "99997341010"
    post_form(client, f"/sandbox/w/{instance.id}/submit")
    assert fresh(instance).solved_at is None

    fixed = post_form(client, url, form_of(product, "products", ndc11="99997-3410-01", change_request=reference))
    assert fixed.status_code == 302
    assert stored(instance, "sb_product", "99997-3410-1").ndc11 == "99997341001"
    post_form(client, f"/sandbox/w/{instance.id}/submit")
    assert fresh(instance).solved_at is not None
