"""After a revocation nothing says the credit is earned; the trainee is told, can earn it again, and an admin
can reinstate it. Revocation and reinstatement are an append-only history."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.accounts.models import AuditEvent
from lms.accounts.services import Actor
from lms.certificates import services as certificates
from lms.content.services import get_catalog
from lms.db import utcnow
from lms.extensions import db
from lms.notifications.models import Notification
from lms.progress import services as progress
from lms.progress.models import ActivityEvaluation, Credit, CreditStatusEvent
from tests.conftest import (
    TEST_DATABASE_URL,
    create_cohort,
    create_user,
    fresh,
    login,
    post_form,
)
from tests.curricula.test_curricula import assign, build
from tests.progress.test_completion import EVALUATION, complete, pass_post_test

REASON = "Issued before the post-test was fixed."


@pytest.fixture
def earned(app, client):
    """A trainee in a supervised cohort, assigned a one-module curriculum, who has earned the module."""
    supervisor, admin = create_user("supervisor"), create_user("admin")
    trainee = create_user("trainee", name="Ana Real")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    boss = app.test_client()
    login(boss, supervisor)
    curriculum = build(boss, items=(("module:alpha", ""),))
    assert assign(boss, curriculum, f"cohort:{cohort.id}").status_code == 302
    login(client, trainee)
    complete(client)
    client.get("/learning")  # shows (and so clears) the "Module complete" flash
    credit = db.session.scalar(select(Credit))
    admin_client = app.test_client()
    login(admin_client, admin)
    return type("Earned", (), {"trainee": trainee, "supervisor": supervisor, "admin": admin, "cohort": cohort,
                               "boss": boss, "admin_client": admin_client, "credit": credit})


def revoke(world, credit=None, reason=REASON):
    credit = credit or world.credit
    return post_form(world.admin_client, f"/admin/credits/{credit.id}/revoke", {"reason": reason})


def test_before_revocation_every_view_says_earned(earned, client):
    """The baseline the next test turns around: the same views all count the credit."""
    assert "0.5 contact hours earned" in client.get("/modules/alpha").text
    assert "All topics</strong>: 0.5 of 20 hours" in client.get("/learning").text
    assert "1 of 1 required items done" in client.get("/my/assignments").text
    assert "100%" in earned.boss.get("/dashboard").text
    assert client.get("/api/v1/me/transcript").json["total_hours"] == 0.5


def test_after_revocation_no_view_says_earned_and_the_trainee_is_told(earned, client):
    assert revoke(earned).status_code == 302
    module_page = client.get("/modules/alpha").text
    assert "contact hours earned" not in module_page and "credit revoked" in module_page
    assert REASON in module_page
    assert client.get(f"/credits/{earned.credit.id}/certificate.pdf").status_code == 410
    assert client.get(f"/credits/{earned.credit.id}/badge.json").status_code == 410
    learning = client.get("/learning").text
    assert "All topics</strong>: 0 of 20 hours" in learning and "not earned" in learning
    assert "To earn the module again" in learning  # back under "In progress"
    transcript = client.get("/learning/transcript").text
    assert "not counted" in transcript
    assert client.get("/api/v1/me/transcript").json["total_hours"] == 0
    assert "0 of 1 required items done" in client.get("/my/assignments").text
    dashboard = earned.boss.get("/dashboard").text
    assert "100%" not in dashboard and "0%" in dashboard
    detail = earned.boss.get(f"/cohorts/{earned.cohort.id}/exports").text
    assert "1 revoked, not exported" in detail
    api = earned.boss.get("/api/v1/cohorts").json
    assert api["cohorts"][0]["trainees"][0]["credits"] == 0
    notice = db.session.scalar(select(Notification).where(Notification.user_id == earned.trainee.id,
                                                          Notification.kind == "credit_revoked"))
    assert notice is not None and REASON in notice.body and notice.credit_id == earned.credit.id
    assert notice.link == "/modules/alpha"
    assert REASON in client.get("/inbox").text
    assert fresh(earned.credit).revoked and db.session.query(Credit).count() == 1


def test_the_trainee_earns_the_module_again_with_a_new_pass_and_evaluation(earned, client):
    revoke(earned)
    db.session.expire_all()  # the revocation was committed by the admin's request
    # The pass and the evaluation behind the revoked credit do not count again.
    state = progress.completion(db.session, earned.trainee.id, get_catalog().module("alpha"))
    assert state.all_read and not state.passed and not state.evaluated and state.credit is None
    refused = post_form(client, "/modules/alpha/evaluation", EVALUATION, follow_redirects=True)
    assert "pass the post-test first" in refused.text
    assert db.session.query(Credit).count() == 1
    pass_post_test(client)
    response = post_form(client, "/modules/alpha/evaluation", EVALUATION, follow_redirects=True)
    assert "Module complete: 0.5 contact hours earned" in response.text
    old, new = db.session.scalars(select(Credit).order_by(Credit.id)).all()
    assert old.revoked and new.earned and new.verification_code != old.verification_code
    assert [e.cycle for e in db.session.scalars(select(ActivityEvaluation).order_by(ActivityEvaluation.id))] == [0, 1]
    public = earned.admin_client
    assert "revoked on" in public.get(f"/verify/{old.verification_code}").text
    assert "Valid certificate" in public.get(f"/verify/{new.verification_code}").text
    assert "0.5 contact hours earned" in client.get("/modules/alpha").text
    assert "1 of 1 required items done" in client.get("/my/assignments").text
    again = post_form(client, "/modules/alpha/evaluation", EVALUATION, follow_redirects=True)
    assert "already evaluated" in again.text and db.session.query(Credit).count() == 2


def test_an_admin_reinstates_a_revoked_credit_as_a_new_record(earned, client):
    revoke(earned)
    trainee_try = post_form(client, f"/admin/credits/{earned.credit.id}/reinstate", {"reason": "Please."})
    assert trainee_try.status_code == 403
    short = post_form(earned.admin_client, f"/admin/credits/{earned.credit.id}/reinstate", {"reason": "x"})
    assert short.status_code == 200 and fresh(earned.credit).revoked
    done = post_form(earned.admin_client, f"/admin/credits/{earned.credit.id}/reinstate",
                     {"reason": "The post-test was fine after all."})
    assert done.status_code == 302
    credit = fresh(earned.credit)
    assert credit.earned and [e.action for e in credit.events] == ["revoked", "reinstated"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.reinstated")).target_id == credit.id
    assert "0.5 contact hours earned" in client.get("/modules/alpha").text
    assert client.get(f"/credits/{credit.id}/certificate.pdf").status_code == 200
    assert "Valid certificate" in earned.admin_client.get(f"/verify/{credit.verification_code}").text
    assert "100%" in earned.boss.get("/dashboard").text
    kinds = db.session.scalars(select(Notification.kind).where(Notification.credit_id == credit.id)
                               .order_by(Notification.id)).all()
    assert kinds == ["credit_revoked", "credit_reinstated"]
    again = post_form(earned.admin_client, f"/admin/credits/{credit.id}/reinstate", {"reason": "Once more please."})
    assert again.status_code == 200 and "This credit is not revoked." in again.text
    assert [e.action for e in fresh(credit).events] == ["revoked", "reinstated"]


def test_reinstating_is_refused_while_a_credit_earned_since_stands(earned, client):
    revoke(earned)
    pass_post_test(client)
    post_form(client, "/modules/alpha/evaluation", EVALUATION)
    old, new = db.session.scalars(select(Credit).order_by(Credit.id)).all()
    page = earned.admin_client.get(f"/admin/credits/{old.id}/reinstate").text
    assert new.verification_code in page
    refused = post_form(earned.admin_client, f"/admin/credits/{old.id}/reinstate",
                        {"reason": "Revoked by mistake."}, follow_redirects=True)
    assert "earned this module again since" in refused.text
    assert fresh(old).revoked and fresh(new).earned and [e.action for e in fresh(old).events] == ["revoked"]
    # Revoke the new one, and the old one can come back: one earned credit per module version either way.
    revoke(earned, new, "Duplicate of the original credit.")
    assert post_form(earned.admin_client, f"/admin/credits/{old.id}/reinstate",
                     {"reason": "Revoked by mistake."}).status_code == 302
    assert fresh(old).earned and fresh(new).revoked


def test_revoking_twice_is_refused_and_adds_nothing(earned):
    revoke(earned)
    again = revoke(earned, reason="Second thoughts, still wrong.")
    assert again.status_code == 200 and "already revoked" in again.text
    assert db.session.query(CreditStatusEvent).count() == 1
    assert len(db.session.scalars(select(Notification).where(Notification.kind == "credit_revoked")).all()) == 1


def test_the_database_holds_at_most_one_earned_credit_per_module_version(earned):
    """The partial unique index, not Python, keeps a second earned credit out; a revoked one may sit beside."""
    columns = {c.name: getattr(earned.credit, c.name) for c in Credit.__table__.columns if c.name != "id"}
    db.session.add(Credit(**{**columns, "verification_code": "ZZZZ-ZZZZ-ZZZ1"}))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Credit(**{**columns, "verification_code": "ZZZZ-ZZZZ-ZZZ2", "revoked_at": utcnow()}))
    db.session.commit()
    assert db.session.query(Credit).count() == 2



def test_two_simultaneous_completions_after_a_revocation_issue_one_credit(race_app):
    """Re-earning races like the first issue did: two triggers at once, one new credit."""
    app = race_app
    client = app.test_client()
    trainee, admin = create_user("trainee"), create_user("admin")
    login(client, trainee)
    complete(client)
    credit = db.session.scalar(select(Credit))
    certificates.revoke(db.session, Actor(admin.id), credit, REASON, utcnow())
    db.session.commit()
    pass_post_test(client)
    module = get_catalog().module("alpha")
    now = utcnow() + timedelta(seconds=1)
    progress.submit_evaluation(db.session, trainee.id, module, {"o1": True, "o2": True, "o3": False}, 4, True, 30,
                               "", now)
    db.session.commit()
    barrier, results, errors, user_id = threading.Barrier(2), [], [], trainee.id

    def trigger():
        with app.app_context():
            session = Session(db.engine)
            try:
                barrier.wait(timeout=5)
                results.append(progress.issue_credit_if_complete(session, user_id, module, now)[1])
                session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                session.close()

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    db.session.expire_all()
    earned_now = db.session.scalars(select(Credit).where(Credit.earned)).all()
    # PostgreSQL: the loser meets the partial unique index and reads the winner's credit. SQLite lets one
    # writer at a time: the loser may instead be refused the write lock, and its transaction rolls back.
    if TEST_DATABASE_URL:
        assert not errors and sorted(results) == [False, True]
    else:
        assert all("database is locked" in str(e) for e in errors) and results.count(True) == 1
    assert len(earned_now) == 1 and db.session.query(Credit).count() == 2
