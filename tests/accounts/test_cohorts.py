"""Cohorts: supervisors manage only their own; admins manage all."""

from lms.accounts.models import CohortMember
from lms.extensions import db
from tests.conftest import create_cohort, create_user, post_form


def test_supervisor_sees_only_own_cohorts(app, client, login_as):
    supervisor = login_as("supervisor")
    create_cohort("Mine", supervisors=[supervisor])
    theirs = create_cohort("Theirs", supervisors=[create_user("supervisor")])
    listing = client.get("/cohorts").text
    assert "Mine" in listing and "Theirs" not in listing
    assert client.get(f"/cohorts/{theirs.id}").status_code == 403
    home = client.get("/home").text
    assert "Mine" in home and "Theirs" not in home


def test_supervisor_adds_and_removes_a_trainee(app, client, login_as):
    supervisor = login_as("supervisor")
    cohort = create_cohort("Mine", supervisors=[supervisor])
    trainee = create_user("trainee")
    response = post_form(client, f"/cohorts/{cohort.id}", {"member-email": trainee.email, "member-submit": "1"})
    assert response.status_code == 302
    assert db.session.query(CohortMember).filter_by(cohort_id=cohort.id, user_id=trainee.id).count() == 1
    again = post_form(client, f"/cohorts/{cohort.id}", {"member-email": trainee.email, "member-submit": "1"})
    assert again.status_code == 400 and "already a member" in again.text
    post_form(client, f"/cohorts/{cohort.id}/members/{trainee.id}/remove")
    assert db.session.query(CohortMember).filter_by(cohort_id=cohort.id).count() == 0


def test_only_trainees_join_as_members(app, client, login_as):
    """A staff email adds nobody (and the answer does not say it is staff: see test_membership_requests)."""
    supervisor = login_as("supervisor")
    cohort = create_cohort("Mine", supervisors=[supervisor])
    response = post_form(client, f"/cohorts/{cohort.id}", {"member-email": supervisor.email, "member-submit": "1"},
                         follow_redirects=True)
    assert "If a trainee account has that email" in response.text
    assert db.session.query(CohortMember).filter_by(cohort_id=cohort.id).count() == 0


def test_supervisor_cannot_change_another_supervisors_cohort(app, client, login_as):
    login_as("supervisor")
    trainee = create_user("trainee")
    theirs = create_cohort("Theirs", supervisors=[create_user("supervisor")], trainees=[trainee])
    assert post_form(client, f"/cohorts/{theirs.id}/members/{trainee.id}/remove").status_code == 403
    add = post_form(client, f"/cohorts/{theirs.id}", {"member-email": "x@y.test", "member-submit": "1"})
    assert add.status_code == 403
    assert db.session.query(CohortMember).filter_by(cohort_id=theirs.id).count() == 1


def test_admin_creates_a_cohort_with_an_owner(app, client, login_as):
    login_as("admin")
    owner = create_user("supervisor")
    response = post_form(client, "/cohorts/new", {"name": "Night shift", "description": "", "supervisor_id": owner.id})
    assert response.status_code == 302
    duplicate = post_form(client, "/cohorts/new", {"name": "night SHIFT", "supervisor_id": owner.id})
    assert "already exists" in duplicate.text


def test_unknown_cohort_is_404(app, client, login_as):
    login_as("admin")
    assert client.get("/cohorts/999").status_code == 404
