"""Every ticket, played through on a real instance: the fault reproduces, the fix passes, symptom fixes are rejected."""

from pathlib import Path

import pytest

from lms.content.loader import load_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.sandbox import services
from lms.sandbox.tickets import grade_world, load_tickets
from tests.conftest import create_user

ROOT = Path(__file__).resolve().parents[2]
TICKETS = load_tickets(ROOT / "sandbox", load_catalog(ROOT / "content"))
# The numbers issue 7 asks for first (DOMAIN.md): barcodes/NDCs, product status, robot, cabinets, overrides,
# blind counts, discrepancies, tall-man lettering and recall.
FIRST_TICKETS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 24, 28}
REPLAYS = {"scan_accepted", "scan_refused", "removal", "restock_then_remove", "robot_restock_accepted",
           "robot_pick_accepted"}
# Tickets whose fault is a state of the records rather than a failing event: open discrepancies (13) and
# look-alike names side by side (24; the removal works, it is the wrong drug that gets picked).
STATE_ONLY = {13, 24}


def test_the_first_fifteen_tickets_exist():
    assert {t.number for t in TICKETS.tickets} >= FIRST_TICKETS


def _grade(instance, ticket, user):
    return grade_world(services.instance_world(db.session, instance, utcnow()), ticket, user.id)


def _cr(instance, ticket):
    if ticket.change_control:
        services._add_change_request(db.session, instance.id, "CR-TEST", utcnow())
        return "CR-TEST"
    return None


@pytest.mark.parametrize("ticket", TICKETS.tickets, ids=lambda t: f"{t.number}-{t.id}")
def test_fault_reproduces_fix_passes_and_symptom_fixes_are_rejected(app, ticket):
    user = create_user("trainee")
    actor = services.Actor(user.id, user.name)
    instance, _ = services.start_ticket(db.session, user.id, ticket, utcnow())

    # (a) The planted fault shows: at least one check, several of them replays through the engine, fails.
    fresh = _grade(instance, ticket, user)
    assert any(not r.passed for r in fresh if r.kind == "check"), "the fault is not planted"
    if ticket.number not in STATE_ONLY:
        assert any(not r.passed for r in fresh if r.kind == "check" and r.name in REPLAYS), \
            "replaying the reported event through the engine does not show the fault"
    assert all(r.passed for r in fresh if r.kind == "reject"), "a reject rule is broken before anything was done"

    # (b) The worked solution, made through the maintenance screens' service, solves it.
    services.run_steps(db.session, instance, ticket, actor, ticket.solution, utcnow(), _cr(instance, ticket))
    solved = _grade(instance, ticket, user)
    assert [(r.name, r.message) for r in solved if not r.passed] == []
    submission = services.submit(db.session, instance, ticket, user.id, utcnow())
    assert submission.solved and instance.solved_at is not None

    # (c) Each symptom fix, from a fresh copy, is caught by its reject rule and does not solve the ticket.
    assert ticket.symptom_fixes, "every ticket names at least one symptom fix to reject"
    for fix in ticket.symptom_fixes:
        services.reset_instance(db.session, instance, ticket, utcnow())
        if fix.caught_by == "screen":  # the maintenance screen itself refuses this change
            with pytest.raises(services.ChangeRejected) as refused:
                services.run_steps(db.session, instance, ticket, actor, fix.steps, utcnow(), _cr(instance, ticket))
            assert fix.refusal.casefold() in str(refused.value).casefold(), (fix.name, str(refused.value))
            continue
        services.run_steps(db.session, instance, ticket, actor, fix.steps, utcnow(), _cr(instance, ticket))
        results = _grade(instance, ticket, user)
        caught = [r for r in results if r.kind == "reject" and r.name == fix.caught_by]
        assert caught and not caught[0].passed, f"symptom fix {fix.name!r} was not caught"
        reject = next(spec for spec in ticket.rejects if spec.name == fix.caught_by)
        assert caught[0].message == reject.message
        assert not all(r.passed for r in results)


def test_lms_sandbox_check_validates_and_rehearses_every_ticket(app, runner):
    app.config["CONTENT_DIR"] = str(ROOT / "content")
    result = runner.invoke(args=["sandbox", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"{len(TICKETS.tickets)} tickets: OK")


def test_lms_sandbox_check_fails_with_file_and_line(app, runner, tmp_path):
    (tmp_path / "seed").mkdir()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "seed" / "10.yaml").write_text("drugs:\n  - {code: A1}\n", encoding="utf-8")
    app.config["SANDBOX_DIR"] = str(tmp_path)
    result = runner.invoke(args=["sandbox", "check"])
    assert result.exit_code == 1
    assert f"{tmp_path}/seed/10.yaml:2: drugs: generic_name: is required" in result.output
