"""Who manages an assignment or a trainee: one rule (can_manage_trainee / can_manage_assignment) for
extending, unassigning and reviewing sandbox attempts."""

from sqlalchemy import select

from lms.accounts.models import MembershipRequest
from lms.curricula.models import Assignment, DueDateExtension
from lms.db import utcnow
from lms.extensions import db
from tests.accounts.conftest import add_member
from tests.conftest import create_user, fresh, login, post_form


def extend(client, assignment_id, trainee, day="2030-01-01"):
    return post_form(client, f"/assignments/{assignment_id}/extend",
                     {"extend-user_id": trainee.id, "extend-due_on": day})


def cohort_assignment(p) -> int:
    today = utcnow().date()
    assignment = Assignment(curriculum_id=db.session.get(Assignment, p["assignment_id"]).curriculum_id,
                            cohort_id=p["main"].id, start_on=today, due_on=today, curriculum_version=1,
                            created_by_id=p["supervisor"].id)
    db.session.add(assignment)
    db.session.commit()
    return assignment.id


def test_a_supervisor_who_only_asked_for_the_trainee_cannot_extend_unassign_or_review(app, client, pharmacy):
    p = pharmacy
    through_cohort = cohort_assignment(p)
    login(client, p["supervisor2"])
    add_member(client, p["satellite"], p["trainee"].email)  # a pending request, not a membership
    for assignment_id in (p["assignment_id"], through_cohort):
        assert extend(client, assignment_id, p["trainee"]).status_code == 403
        assert post_form(client, f"/assignments/{assignment_id}/unassign").status_code == 403
        assert client.get(f"/assignments/{assignment_id}/trainees/{p['trainee'].id}").status_code == 403
    # A sandbox attempt answers 404 to anyone who may not review it, as if it did not exist.
    assert client.get(f"/sandbox/attempts/{p['instance_id']}").status_code == 404
    assert db.session.scalars(select(DueDateExtension)).all() == []
    assert db.session.scalars(select(Assignment).where(Assignment.ended_at.is_not(None))).all() == []


def test_the_owner_and_admins_extend_unassign_and_review(app, client, pharmacy):
    p = pharmacy
    through_cohort = cohort_assignment(p)
    login(client, p["supervisor"])
    assert extend(client, p["assignment_id"], p["trainee"]).status_code == 302
    assert extend(client, through_cohort, p["trainee"]).status_code == 302
    assert len(db.session.scalars(select(DueDateExtension)).all()) == 2
    assert client.get(f"/sandbox/attempts/{p['instance_id']}").status_code == 200
    admin = app.test_client()
    login(admin, create_user("admin"))
    assert admin.get(f"/sandbox/attempts/{p['instance_id']}").status_code == 200
    for assignment_id in (p["assignment_id"], through_cohort):
        assert post_form(admin, f"/assignments/{assignment_id}/unassign").status_code == 302
        assert fresh(db.session.get(Assignment, assignment_id)).ended_at is not None


def test_sharing_a_trainee_does_not_share_the_other_cohorts_assignments(app, client, pharmacy):
    """After the owner accepts, supervisor2 manages the trainee, but not an assignment made through Main."""
    p = pharmacy
    through_cohort = cohort_assignment(p)
    login(client, p["supervisor2"])
    add_member(client, p["satellite"], p["trainee"].email)
    owner = app.test_client()
    login(owner, p["supervisor"])
    request_id = db.session.scalar(select(MembershipRequest.id))
    post_form(owner, f"/cohorts/requests/{request_id}/accept")
    assert extend(client, through_cohort, p["trainee"]).status_code == 403
    assert client.get(f"/sandbox/attempts/{p['instance_id']}").status_code == 200
