"""Adding another owner's trainee to a cohort takes that owner's (or an admin's) approval, and the
add-member form never tells which emails have accounts."""

import threading

from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import CohortMember, MembershipRequest
from lms.accounts.services import ADD_MEMBER_MESSAGE, Actor
from lms.db import utcnow
from lms.extensions import db
from tests.accounts.conftest import add_member, is_member
from tests.conftest import create_cohort, create_user, fresh, login, make_app, post_form, reset_database


def what_supervisor2_sees(client, p) -> dict:
    """Every place a supervisor could learn something about the trainee."""
    satellite = p["satellite"].id
    return {
        "cohort page": p["trainee"].email in client.get(f"/cohorts/{satellite}").text,
        "home": "Jordan Lee" in client.get("/home").text,
        "certificate": client.get(f"/credits/{p['credit_id']}/certificate.pdf").status_code == 200,
        "sandbox attempts": "Jordan Lee" in client.get("/sandbox/attempts").text,
        "sandbox attempt": client.get(f"/sandbox/attempts/{p['instance_id']}").status_code == 200,
        "api cohorts": "Jordan Lee" in client.get("/api/v1/cohorts").text,
        "api credits": "Jordan Lee" in client.get(f"/api/v1/cohorts/{satellite}/credits").text,
        "cpe csv": "7654321" in client.get(f"/cohorts/{satellite}/exports/cpe-monitor.csv").text,
        "assignment": client.get(f"/assignments/{p['assignment_id']}").status_code == 200,
    }


def test_supervisor2_cannot_grant_themselves_a_trainee_until_the_owner_accepts(app, client, pharmacy):
    """Issue 11 item 1: the request is pending, supervisor2 sees nothing; once the owner accepts, they do."""
    p = pharmacy
    login(client, p["supervisor2"])
    answer = add_member(client, p["satellite"], p["trainee"].email)
    assert answer.status_code == 302
    assert ADD_MEMBER_MESSAGE in client.get(answer.headers["Location"]).text
    assert not is_member(p["satellite"], p["trainee"])
    request = db.session.scalar(select(MembershipRequest))
    assert (request.status, request.requested_by_id, request.cohort_id) == (
        "pending", p["supervisor2"].id, p["satellite"].id)

    assert not any(what_supervisor2_sees(client, p).values()), what_supervisor2_sees(client, p)
    extend = post_form(client, f"/assignments/{p['assignment_id']}/extend",
                       {"extend-user_id": p["trainee"].id, "extend-due_on": "2030-01-01"})
    assert extend.status_code == 403
    assert post_form(client, f"/assignments/{p['assignment_id']}/unassign").status_code == 403
    # The requester cannot decide their own request, nor find it on the requests page.
    assert post_form(client, f"/cohorts/requests/{request.id}/accept").status_code == 404
    assert p["trainee"].email not in client.get("/cohorts/requests").text

    owner = app.test_client()
    login(owner, p["supervisor"])
    page = owner.get("/cohorts/requests").text
    assert p["trainee"].email in page and p["supervisor2"].email in page and "Satellite Pharmacy" in page
    assert "1 waiting" in owner.get("/cohorts").text
    assert post_form(owner, f"/cohorts/requests/{request.id}/accept").status_code == 302
    request = fresh(request)
    assert (request.status, request.decided_by_id) == ("accepted", p["supervisor"].id)
    assert request.decided_at is not None
    assert is_member(p["satellite"], p["trainee"])
    assert post_form(owner, f"/cohorts/requests/{request.id}/decline").status_code == 404, "decided once"

    seen = what_supervisor2_sees(client, p)
    assert all(seen[place] for place in ("cohort page", "certificate", "sandbox attempts", "sandbox attempt",
                                         "api cohorts", "api credits", "cpe csv")), seen


def test_a_declined_request_adds_nothing(app, client, pharmacy):
    p = pharmacy
    login(client, p["supervisor2"])
    add_member(client, p["satellite"], p["trainee"].email)
    add_member(client, p["satellite"], p["trainee"].email)  # asking twice keeps one pending request
    assert db.session.query(MembershipRequest).count() == 1
    request = db.session.scalar(select(MembershipRequest))
    admin = app.test_client()
    login(admin, create_user("admin"))
    assert p["trainee"].email in admin.get("/cohorts/requests").text, "admins decide any request"
    assert post_form(admin, f"/cohorts/requests/{request.id}/decline").status_code == 302
    assert fresh(request).status == "declined"
    assert not is_member(p["satellite"], p["trainee"])
    assert not what_supervisor2_sees(client, p)["certificate"]


def test_a_supervisor_of_neither_cohort_cannot_decide(app, client, pharmacy):
    p = pharmacy
    login(client, p["supervisor2"])
    add_member(client, p["satellite"], p["trainee"].email)
    request = db.session.scalar(select(MembershipRequest))
    bystander = app.test_client()
    login(bystander, create_user("supervisor"))
    assert p["trainee"].email not in bystander.get("/cohorts/requests").text
    assert post_form(bystander, f"/cohorts/requests/{request.id}/accept").status_code == 404
    assert fresh(request).status == "pending"


def test_the_add_member_answer_is_the_same_for_every_kind_of_email(app, client, pharmacy):
    """Unknown, admin, supervisor and another owner's trainee: identical status, redirect and message."""
    p = pharmacy
    admin = create_user("admin")
    login(client, p["supervisor2"])
    answers = []
    for email in ("nobody@hospital.test", admin.email, p["supervisor"].email, p["trainee"].email):
        response = add_member(client, p["satellite"], email)
        page = client.get(response.headers["Location"]).text
        flash = page[page.index('class="flash'):][:400]
        answers.append((response.status_code, response.headers["Location"], flash))
    assert len(set(answers)) == 1, answers
    assert ADD_MEMBER_MESSAGE in answers[0][2]
    assert db.session.query(CohortMember).filter_by(cohort_id=p["satellite"].id).count() == 0


def test_a_trainee_in_no_cohort_or_only_in_the_requesters_cohorts_is_added_directly(app, client):
    supervisor = create_user("supervisor")
    newcomer, own_trainee = create_user("trainee"), create_user("trainee")
    mine = create_cohort("Mine", supervisors=[supervisor], trainees=[own_trainee])
    second = create_cohort("Second", supervisors=[supervisor])
    login(client, supervisor)
    add_member(client, second, newcomer.email)
    add_member(client, second, own_trainee.email)
    assert is_member(second, newcomer) and is_member(second, own_trainee)
    assert db.session.query(MembershipRequest).count() == 0
    page = client.get(f"/cohorts/{second.id}").text
    assert newcomer.email in page and own_trainee.email in page
    assert is_member(mine, own_trainee)


def test_admins_add_another_owners_trainee_directly(app, client, pharmacy):
    p = pharmacy
    login(client, create_user("admin"))
    add_member(client, p["satellite"], p["trainee"].email)
    assert is_member(p["satellite"], p["trainee"])
    assert db.session.query(MembershipRequest).count() == 0


def test_one_pending_request_per_cohort_and_trainee_even_when_submitted_at_once(tmp_path, app):
    """Simultaneous requests (separate connections) leave one pending row: the partial unique index decides."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url == "sqlite://":
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    shared = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    reset_database(shared)
    with shared.app_context():
        owner, requester = create_user("supervisor"), create_user("supervisor")
        trainee = create_user("trainee")
        create_cohort("Main", supervisors=[owner], trainees=[trainee])
        cohort_id = create_cohort("Satellite", supervisors=[requester]).id
        ids = (requester.id, trainee.email)
        db.session.remove()
    barrier, errors = threading.Barrier(4), []

    def submit():
        with shared.app_context():
            try:
                from lms.accounts.models import Cohort, User
                cohort, adder = db.session.get(Cohort, cohort_id), db.session.get(User, ids[0])
                barrier.wait()
                services.add_member(db.session, Actor(adder.id), adder, cohort, ids[1], utcnow())
                db.session.commit()
            except Exception as error:  # collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with shared.app_context():
        assert db.session.query(MembershipRequest).filter_by(status="pending").count() == 1
        db.session.remove()
    assert errors == [], "the losers get the existing request, not an error"
