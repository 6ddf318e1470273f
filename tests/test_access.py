"""Every endpoint declares who may use it, and the declarations hold for every role."""

import pytest
from flask import url_for

from lms.access import declared, public
from lms.accounts.models import MembershipRequest
from lms.curricula.models import Assignment, Curriculum, CurriculumItem
from lms.db import utcnow
from lms.extensions import db
from lms.notifications.models import Notification
from lms.progress.models import Credit
from lms.quizzes.models import QuizAttempt
from lms.sandbox.core.services import get_tickets, start_ticket
from tests.conftest import create_cohort, create_user, fresh, login, make_app, post_form, reset_database


def undeclared_endpoints(app) -> list[str]:
    return sorted(rule.endpoint for rule in app.url_map.iter_rules()
                  if declared(app.view_functions[rule.endpoint]) is None)


def test_every_endpoint_declares_its_access(app):
    """The URL map has no endpoint without an access declaration."""
    assert undeclared_endpoints(app) == []


def test_a_route_without_a_declaration_is_caught_and_refused(tmp_path):
    """Adding an undeclared route makes the URL-map check fail, and the route answers 403."""
    app = make_app(tmp_path)
    reset_database(app)

    @app.route("/throwaway")
    def throwaway():
        return "secret"

    @app.route("/throwaway-public")
    @public
    def throwaway_public():
        return "fine"

    assert undeclared_endpoints(app) == ["throwaway"]
    client = app.test_client()
    assert client.get("/throwaway").status_code == 403
    assert client.get("/throwaway-public").status_code == 200


# --- the authorization matrix ----------------------------------------------------------

ANON, TRAINEE, OTHER_SUP, SUPERVISOR, ADMIN = "anonymous", "trainee", "other_supervisor", "supervisor", "admin"
EVERYONE = {ANON, TRAINEE, OTHER_SUP, SUPERVISOR, ADMIN}
SIGNED_IN = EVERYONE - {ANON}
STAFF = {OTHER_SUP, SUPERVISOR, ADMIN}

# endpoint -> (method, who is allowed). Any endpoint missing here fails the matrix test, so a
# new route cannot ship without someone deciding who may call it.
MATRIX = {
    "static": ("GET", EVERYONE),
    "core.healthz": ("GET", EVERYONE),
    "core.index": ("GET", EVERYONE),
    "core.home": ("GET", SIGNED_IN),
    "accounts.login": ("GET", EVERYONE),
    "accounts.logout": ("POST", SIGNED_IN),
    "accounts.set_password": ("GET", EVERYONE),
    "accounts.profile": ("GET", SIGNED_IN),
    "accounts.change_password": ("POST", SIGNED_IN),
    "accounts.user_list": ("GET", {ADMIN}),
    "accounts.user_new": ("GET", {ADMIN}),
    "accounts.user_edit": ("GET", {ADMIN}),
    "accounts.user_password_link": ("POST", {ADMIN}),
    "accounts.user_set_active": ("POST", {ADMIN}),
    "accounts.audit_log": ("GET", {ADMIN}),
    "accounts.cohort_list": ("GET", STAFF),
    "accounts.cohort_new": ("GET", {ADMIN}),
    "accounts.cohort_detail": ("GET", {SUPERVISOR, ADMIN}),
    "accounts.cohort_remove_member": ("POST", {SUPERVISOR, ADMIN}),
    "accounts.cohort_add_supervisor": ("POST", {ADMIN}),
    "accounts.cohort_remove_supervisor": ("POST", {ADMIN}),
    "content.catalog": ("GET", SIGNED_IN),
    "content.module_overview": ("GET", SIGNED_IN),
    "content.lesson": ("GET", SIGNED_IN),
    "content.mark_read": ("POST", SIGNED_IN),
    "content.asset": ("GET", SIGNED_IN),
    "content.glossary": ("GET", SIGNED_IN),
    "content.status": ("GET", {ADMIN}),
    "quizzes.index": ("GET", SIGNED_IN),
    "quizzes.start_post_test": ("POST", SIGNED_IN),
    "quizzes.start_practice_exam": ("POST", SIGNED_IN),
    "quizzes.start_review": ("POST", SIGNED_IN),
    # Attempt pages belong to the trainee's own attempt (the fixture's attempt is the trainee's).
    "quizzes.take": ("GET", {TRAINEE}),
    "quizzes.answer": ("POST", {TRAINEE}),
    "quizzes.review_page": ("GET", {TRAINEE}),
    "quizzes.submit": ("POST", {TRAINEE}),
    "quizzes.result": ("GET", {TRAINEE}),
    "quizzes.stats_index": ("GET", STAFF),
    "quizzes.stats_bank": ("GET", STAFF),
    "progress.my_learning": ("GET", SIGNED_IN),
    "progress.evaluation": ("GET", SIGNED_IN),
    "progress.transcript": ("GET", SIGNED_IN),
    "progress.transcript_csv": ("GET", SIGNED_IN),
    "progress.transcript_pdf": ("GET", SIGNED_IN),
    # A credit is visible to its trainee, the supervisor of the trainee's cohort, and admins.
    "certificates.certificate_pdf": ("GET", {TRAINEE, SUPERVISOR, ADMIN}),
    "certificates.badge": ("GET", {TRAINEE, SUPERVISOR, ADMIN}),
    "certificates.xapi_export": ("GET", SIGNED_IN),
    "certificates.verify": ("GET", EVERYONE),
    "certificates.verify_code": ("GET", EVERYONE),
    "certificates.credit_list": ("GET", {ADMIN}),
    "certificates.revoke": ("GET", {ADMIN}),
    "certificates.reinstate": ("GET", {ADMIN}),
    "certificates.correct_name": ("GET", {ADMIN}),
    "certificates.exports": ("GET", {SUPERVISOR, ADMIN}),
    "certificates.cpe_csv": ("GET", {SUPERVISOR, ADMIN}),
    "certificates.certificates_zip": ("GET", {SUPERVISOR, ADMIN}),
    "accounts.create_api_token": ("POST", SIGNED_IN),
    "accounts.revoke_api_token": ("POST", SIGNED_IN),
    # Ending a session that is not the caller's changes nothing and says so (302 back to the profile).
    "accounts.end_session": ("POST", SIGNED_IN),
    "accounts.end_all_sessions": ("POST", SIGNED_IN),
    "accounts.membership_requests": ("GET", STAFF),
    # The fixture's request is the other supervisor's, for the supervisor's trainee: the owner or an admin decides.
    "accounts.decide_request": ("POST", {SUPERVISOR, ADMIN}),
    "api.my_credits": ("GET", SIGNED_IN),
    "api.my_transcript": ("GET", SIGNED_IN),
    "api.verify": ("GET", EVERYONE),
    "api.cohorts": ("GET", STAFF),
    "api.cohort_credits": ("GET", {SUPERVISOR, ADMIN}),
    "api.openapi": ("GET", EVERYONE),
    "curricula.curriculum_list": ("GET", STAFF),
    # The fixture's curriculum belongs to the supervisor; the other supervisor cannot see it.
    "curricula.curriculum_edit": ("GET", {SUPERVISOR, ADMIN}),
    "curricula.add_item": ("POST", {SUPERVISOR, ADMIN}),
    "curricula.change_item": ("POST", {SUPERVISOR, ADMIN}),
    "curricula.copy": ("POST", {SUPERVISOR, ADMIN}),
    "curricula.assign": ("POST", {SUPERVISOR, ADMIN}),
    "curricula.assignment_detail": ("GET", {SUPERVISOR, ADMIN}),
    "curricula.assignment_csv": ("GET", {SUPERVISOR, ADMIN}),
    "curricula.trainee_detail": ("GET", {SUPERVISOR, ADMIN}),
    "curricula.extend": ("POST", {SUPERVISOR, ADMIN}),
    "curricula.unassign": ("POST", {SUPERVISOR, ADMIN}),
    "curricula.dashboard": ("GET", STAFF),
    "curricula.dashboard_csv": ("GET", STAFF),
    "curricula.my_assignments": ("GET", SIGNED_IN),
    "curricula.my_assignments_ics": ("GET", SIGNED_IN),
    "notifications.inbox": ("GET", SIGNED_IN),
    "notifications.mark_all_read": ("POST", SIGNED_IN),
    # The fixture's notification is the trainee's; anyone else gets 404, as if it did not exist.
    "notifications.mark_read": ("POST", {TRAINEE}),
    "sandbox.home": ("GET", SIGNED_IN),
    "sandbox.ticket": ("GET", SIGNED_IN),
    "sandbox.start": ("POST", SIGNED_IN),
    # A sandbox instance is its owner's alone: supervisors and admins get 404 like anyone else.
    "sandbox.workspace": ("GET", {TRAINEE}),
    "sandbox.submit": ("POST", {TRAINEE}),
    "sandbox.reset": ("POST", {TRAINEE}),
    "sandbox.hint": ("POST", {TRAINEE}),
    "sandbox.screen": ("GET", {TRAINEE}),
    "sandbox.create_row": ("GET", {TRAINEE}),
    "sandbox.edit_row": ("GET", {TRAINEE}),
    "sandbox.delete_row": ("POST", {TRAINEE}),
    "sandbox.browse": ("GET", {TRAINEE}),
    "sandbox.tools": ("GET", {TRAINEE}),
    "sandbox.audit": ("GET", {TRAINEE}),
    "sandbox.change_requests": ("GET", {TRAINEE}),
    "sandbox.raise_change_request": ("GET", {TRAINEE}),
    "sandbox.change_request": ("GET", {TRAINEE}),
    "sandbox.messages": ("GET", {TRAINEE}),
    "sandbox.message": ("GET", {TRAINEE}),
    "sandbox.replay_messages": ("POST", {TRAINEE}),
    "sandbox.test_message": ("GET", {TRAINEE}),
    "sandbox.verification_queue": ("GET", {TRAINEE}),
    "sandbox.verify_order": ("POST", {TRAINEE}),
    "sandbox.attempts": ("GET", STAFF),
    "sandbox.attempts_csv": ("GET", STAFF),
    # The instance belongs to the trainee of the supervisor's cohort: the other cohort's supervisor gets 404.
    "sandbox.attempt_detail": ("GET", {SUPERVISOR, ADMIN}),
}


@pytest.fixture
def world(app):
    """Two cohorts with different supervisors, a trainee in the first, and an admin."""
    people = {
        TRAINEE: create_user("trainee"),
        SUPERVISOR: create_user("supervisor"),
        OTHER_SUP: create_user("supervisor"),
        ADMIN: create_user("admin"),
    }
    # Endpoints that act on "a user" (deactivate, remove from cohort) act on a bystander, so the
    # trainee keeps the cohort membership that lets their supervisor see their credit.
    people["bystander"] = create_user("trainee")
    cohort = create_cohort("Main", supervisors=[people[SUPERVISOR]], trainees=[people[TRAINEE], people["bystander"]])
    other = create_cohort("Other", supervisors=[people[OTHER_SUP]])
    attempt = QuizAttempt(user_id=people[TRAINEE].id, kind="post_test", source_id="alpha", mode="exam",
                          content_version="test", item_ids=["alpha-001"],
                          layout={"alpha-001": {"options": ["a", "b", "c"]}}, pass_mark=70)
    credit = Credit(user_id=people[TRAINEE].id, module_id="alpha", content_version="v1", module_version="1.0",
                    activity_title="Alpha module", activity_number="0000-0000-26-001-H04-T", activity_type="knowledge",
                    topic_code="04", topics=[], contact_hours=0.5, ceus=0.05, score_percent=100.0,
                    completed_at=utcnow(), verification_code="7K3M-9QXR-2PWD")
    curriculum = Curriculum(name="Onboarding", owner_id=people[SUPERVISOR].id)
    curriculum.items.append(CurriculumItem(position=1, kind="module", ref_id="alpha"))
    db.session.add_all([attempt, credit, curriculum])
    db.session.flush()
    assignment = Assignment(curriculum_id=curriculum.id, cohort_id=cohort.id, start_on=utcnow().date(),
                            due_on=utcnow().date(), curriculum_version=1, created_by_id=people[SUPERVISOR].id)
    db.session.add(assignment)
    db.session.commit()
    people["attempt_id"], people["credit_id"] = attempt.id, credit.id
    people["curriculum_id"], people["assignment_id"] = curriculum.id, assignment.id
    people["item_id"] = curriculum.items[0].id
    notification = Notification(user_id=people[TRAINEE].id, kind="assigned", assignment_id=assignment.id,
                                dedupe_key="assigned:fixture", title="New assignment: Onboarding",
                                link="/my/assignments")
    db.session.add(notification)
    db.session.commit()
    people["notification_id"] = notification.id
    ticket = get_tickets().get("new-supplier-ndc-not-linked")
    instance, _created = start_ticket(db.session, people[TRAINEE].id, ticket, utcnow())
    db.session.commit()
    people["instance_id"] = instance.id
    membership_request = MembershipRequest(cohort_id=other.id, user_id=people[TRAINEE].id,
                                           requested_by_id=people[OTHER_SUP].id)
    db.session.add(membership_request)
    db.session.commit()
    people["request_id"] = membership_request.id
    return people, cohort


def url_for_endpoint(app, endpoint, people, cohort) -> str:
    values = {"cohort_id": cohort.id, "user_id": people["bystander"].id, "token": "not-a-real-token",
              "filename": "images/pocket.png" if endpoint == "content.asset" else "css/site.css",
              "module_id": "alpha", "lesson_id": "first", "attempt_id": people["attempt_id"], "position": 1,
              "blueprint_id": "mini", "bank_id": "alpha", "credit_id": people["credit_id"], "code": "7K3M-9QXR-2PWD",
              "token_id": 1, "curriculum_id": people["curriculum_id"], "assignment_id": people["assignment_id"],
              "item_id": people["item_id"], "action": "down", "notification_id": people["notification_id"],
              "instance_id": people["instance_id"], "request_id": people["request_id"], "decision": "decline",
              "session_id": 10**6, "ticket_id": "new-supplier-ndc-not-linked", "row_id": 1,
              "name": {"sandbox.browse": "staff", "sandbox.create_row": "override_items",
                       "sandbox.delete_row": "override_items"}.get(endpoint, "pockets")}
    if endpoint == "curricula.trainee_detail":
        values["user_id"] = people[TRAINEE].id
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def allowed(response) -> bool:
    if response.status_code in (401, 403, 404):  # another trainee's attempt answers 404, as if it did not exist
        return False
    # Flask-Login sends anonymous users to the sign-in page with ?next=...
    if response.status_code == 302 and "/login?next=" in response.headers["Location"]:
        return False
    return True


def test_matrix_covers_every_endpoint(app):
    """Each endpoint in the URL map has an expected-access row in the matrix."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - MATRIX.keys() == set(), "add the new endpoints to MATRIX"
    assert MATRIX.keys() - endpoints == set(), "MATRIX names endpoints that no longer exist"


@pytest.mark.parametrize("who", sorted(EVERYONE))
def test_authorization_matrix(app, world, who):
    """Each role can reach exactly the endpoints the matrix allows it."""
    people, cohort = world
    client = app.test_client()
    if who != ANON:
        login(client, people[who])
    mismatches = []
    for endpoint, (method, allowed_roles) in MATRIX.items():
        url = url_for_endpoint(app, endpoint, people, cohort)
        if method == "GET":
            response = client.get(url)
        else:
            response = post_form(client, url)
        response.close()
        if who != ANON and endpoint in ("accounts.logout", "accounts.end_all_sessions") and allowed(response):
            login(client, people[who])  # signing out ended the session; sign back in
        if allowed(response) != (who in allowed_roles):
            mismatches.append(f"{method} {endpoint}: {response.status_code}")
    assert mismatches == []
    if who != ADMIN:  # only an admin may deactivate; nobody else's requests may have done it
        assert fresh(people["bystander"]).active, "a refused request changed data"
