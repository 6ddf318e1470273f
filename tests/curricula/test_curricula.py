"""Curricula, assignments, the trainee's view, the supervisor dashboard and its constant query count."""

import csv
import io
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from lms.accounts.models import CohortMember
from lms.curricula.models import Assignment, Curriculum
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import create_cohort, create_user, fresh, login, post_form
from tests.progress.test_completion import complete

TODAY = utcnow().date()


def build(client, name="Onboarding", items=(("module:alpha", ""), ("module:beta", ""), ("practice_exam:mini", "80"))):
    response = post_form(client, "/curricula", {"name": name})
    curriculum_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for ref, min_score in items:
        post_form(client, f"/curricula/{curriculum_id}/items",
                  {"item-ref": ref, "item-required": "y", "item-min_score": min_score,
                   "item-expected_minutes": "45"})
    return db.session.get(Curriculum, curriculum_id)


def assign(client, curriculum, target, start=TODAY, due=TODAY + timedelta(days=14)):
    return post_form(client, f"/curricula/{curriculum.id}/assign",
                     {"assign-target": target, "assign-start_on": start.isoformat(), "assign-due_on": due.isoformat()})


def test_supervisor_builds_assigns_and_the_trainee_sees_it(app, client):
    supervisor, trainee = create_user("supervisor"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, supervisor)
    curriculum = build(client)
    assert [(i.kind, i.ref_id, i.min_score) for i in fresh(curriculum).items] == [
        ("module", "alpha", None), ("module", "beta", None), ("practice_exam", "mini", 80)]
    response = assign(client, curriculum, f"cohort:{cohort.id}")
    assert response.status_code == 302
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    page = trainee_client.get("/my/assignments").text
    assert "Onboarding" in page and "0 of 3 required items done" in page and "Next step" in page
    complete(trainee_client)  # finishes the alpha module: credit issued
    page = trainee_client.get("/my/assignments").text
    assert "1 of 3 required items done" in page
    dashboard = client.get("/dashboard").text
    assert "Onboarding" in dashboard and "33%" in dashboard


def test_a_trainee_who_joins_later_receives_the_cohorts_assignments(app, client):
    supervisor = create_user("supervisor")
    cohort = create_cohort("Main", supervisors=[supervisor])
    login(client, supervisor)
    assign(client, build(client), f"cohort:{cohort.id}")
    late = create_user("trainee")
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=late.id))
    db.session.commit()
    late_client = app.test_client()
    login(late_client, late)
    assert "Onboarding" in late_client.get("/my/assignments").text


def test_due_before_start_is_refused_and_nothing_is_assigned(app, client):
    supervisor = create_user("supervisor")
    cohort = create_cohort("Main", supervisors=[supervisor])
    login(client, supervisor)
    curriculum = build(client)
    response = assign(client, curriculum, f"cohort:{cohort.id}", start=TODAY, due=TODAY - timedelta(days=1))
    assert response.status_code == 400 and "The due date is before the start date." in response.text
    assert db.session.query(Assignment).count() == 0


def test_assigning_to_a_cohort_the_supervisor_does_not_own_is_forbidden(app, client):
    supervisor, other = create_user("supervisor"), create_user("supervisor")
    create_cohort("Mine", supervisors=[supervisor])
    theirs = create_cohort("Theirs", supervisors=[other])
    login(client, supervisor)
    curriculum = build(client)
    response = assign(client, curriculum, f"cohort:{theirs.id}")
    assert response.status_code == 403
    assert db.session.query(Assignment).count() == 0


def test_supervisor2_sees_nothing_of_supervisors_cohort(app, client):
    supervisor, supervisor2 = create_user("supervisor"), create_user("supervisor")
    cohort = create_cohort("Main Pharmacy", supervisors=[supervisor], trainees=[create_user("trainee")])
    login(client, supervisor)
    curriculum = build(client)
    assign(client, curriculum, f"cohort:{cohort.id}")
    assignment = db.session.scalar(select(Assignment))
    other = app.test_client()
    login(other, supervisor2)
    assert "Main Pharmacy" not in other.get("/dashboard").text
    assert other.get(f"/assignments/{assignment.id}").status_code == 403
    assert other.get(f"/curricula/{curriculum.id}").status_code == 404
    assert "Main Pharmacy" not in other.get("/dashboard.csv").text


def test_a_removed_module_shows_as_retired_not_a_crash(app, client):
    supervisor, trainee = create_user("supervisor"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, supervisor)
    curriculum = build(client, items=(("module:alpha", ""),))
    assign(client, curriculum, f"cohort:{cohort.id}")
    item = fresh(curriculum).items[0]
    item.ref_id = "module-that-was-removed"
    db.session.commit()
    assert "retired" in client.get(f"/curricula/{curriculum.id}").text
    assignment = db.session.scalar(select(Assignment))
    assert "retired" in client.get(f"/assignments/{assignment.id}").text
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    assert "(retired)" in trainee_client.get("/my/assignments").text


def test_overdue_extension_and_unassign_keeps_history(app, client):
    supervisor, trainee = create_user("supervisor"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, supervisor)
    curriculum = build(client)
    assign(client, curriculum, f"cohort:{cohort.id}", start=TODAY - timedelta(days=20), due=TODAY - timedelta(days=1))
    assignment = db.session.scalar(select(Assignment))
    assert "Overdue" in client.get(f"/assignments/{assignment.id}?state=overdue").text
    post_form(client, f"/assignments/{assignment.id}/extend",
              {"extend-user_id": trainee.id, "extend-due_on": (TODAY + timedelta(days=7)).isoformat()})
    page = client.get(f"/assignments/{assignment.id}").text
    assert "extended" in page and "row-overdue" not in page
    post_form(client, f"/assignments/{assignment.id}/unassign")
    assert fresh(assignment).ended_at is not None and db.session.query(Assignment).count() == 1
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    assert "Nothing is assigned to you" in trainee_client.get("/my/assignments").text


def test_csv_exports_open_cleanly_and_an_empty_cohort_gives_headers_only(app, client):
    supervisor = create_user("supervisor")
    cohort = create_cohort("Empty", supervisors=[supervisor])
    login(client, supervisor)
    curriculum = build(client)
    assign(client, curriculum, f"cohort:{cohort.id}")
    assignment = db.session.scalar(select(Assignment))
    text = client.get(f"/assignments/{assignment.id}.csv").text
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["trainee", "email", "due_on", "status"] and len(rows) == 1
    matrix = list(csv.reader(io.StringIO(client.get("/dashboard.csv").text.lstrip("\ufeff"))))
    assert matrix[1][:2] == ["Empty", "Onboarding"] and matrix[1][4] == "0"


def test_calendar_lists_due_dates(app, client):
    supervisor, trainee = create_user("supervisor"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, supervisor)
    assign(client, build(client, name="A very long curriculum name, with commas; and semicolons" * 2),
           f"cohort:{cohort.id}", due=TODAY + timedelta(days=3))
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    ics = trainee_client.get("/my/assignments.ics")
    assert ics.mimetype == "text/calendar"
    body = ics.data.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert f"DTSTART;VALUE=DATE:{TODAY + timedelta(days=3):%Y%m%d}" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n")), "lines are folded at 75 octets"
    assert "\\," in body and "\\;" in body


@contextmanager
def count_queries():
    engine = db.engine
    counter = {"n": 0}

    def before(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_dashboard_query_count_does_not_grow_with_the_population(app, client):
    """The same number of queries for 3 trainees as for 30: no N+1 on the dashboard."""
    supervisor = create_user("supervisor")
    cohort = create_cohort("Main", supervisors=[supervisor])
    login(client, supervisor)
    curriculum = build(client)
    assign(client, curriculum, f"cohort:{cohort.id}")

    def add_trainees(n):
        for _ in range(n):
            trainee = create_user("trainee")
            db.session.add(CohortMember(cohort_id=cohort.id, user_id=trainee.id))
        db.session.commit()

    add_trainees(3)
    client.get("/dashboard")  # warm caches
    with count_queries() as small:
        assert client.get("/dashboard").status_code == 200
    add_trainees(27)
    with count_queries() as large:
        page = client.get("/dashboard").text
    assert "<td>30</td>" in page
    assert small["n"] == large["n"] and small["n"] < 15


def test_assignment_page_shows_where_trainees_are_stuck_and_a_trainee_drill_down(app, client):
    supervisor = create_user("supervisor")
    done, fresh_trainee = create_user("trainee"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[done, fresh_trainee])
    login(client, supervisor)
    assign(client, build(client), f"cohort:{cohort.id}")
    trainee_client = app.test_client()
    login(trainee_client, done)
    complete(trainee_client)  # alpha done: beta is next for this trainee, alpha for the other
    assignment = db.session.scalar(select(Assignment))
    page = client.get(f"/assignments/{assignment.id}").text
    assert "1. Alpha module</td>\n      <td>1 of 2</td><td>1 trainee</td>" in page
    assert "2. Beta module</td>\n      <td>0 of 2</td><td>1 trainee</td>" in page
    assert "<svg" in page and "Scores on completed items (1)" in page
    detail = client.get(f"/assignments/{assignment.id}/trainees/{done.id}").text
    assert "Completed" in detail and "100%" in detail and "35 min" in detail  # reported in the evaluation
    stranger = create_user("trainee")
    assert client.get(f"/assignments/{assignment.id}/trainees/{stranger.id}").status_code == 404


def test_a_solved_sandbox_ticket_counts_toward_the_curriculum(app, client):
    """A curriculum can hold a sandbox ticket; starting it is 'in progress', solving it is 'completed'."""
    from lms.sandbox.core import services as sandbox

    supervisor, trainee = create_user("supervisor"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, supervisor)
    options = client.get(f"/curricula/{build(client, 'Probe', items=()).id}").text
    assert "sandbox_ticket:new-supplier-ndc-not-linked" in options and "Sandbox ticket" in options
    curriculum = build(client, items=(("module:alpha", ""), ("sandbox_ticket:new-supplier-ndc-not-linked", "")))
    assign(client, curriculum, f"cohort:{cohort.id}")
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    assert "0 of 2 required items done" in trainee_client.get("/my/assignments").text

    ticket = sandbox.get_tickets().get("new-supplier-ndc-not-linked")
    instance, _ = sandbox.start_ticket(db.session, trainee.id, ticket, utcnow())
    db.session.commit()
    assert "In progress" in trainee_client.get("/my/assignments").text
    sandbox.run_steps(db.session, instance, ticket, sandbox.Actor(trainee.id, trainee.name), ticket.solution,
                      utcnow())
    assert sandbox.submit(db.session, instance, ticket, trainee.id, utcnow()).solved
    db.session.commit()
    assert "1 of 2 required items done" in trainee_client.get("/my/assignments").text
    assignment = db.session.scalars(select(Assignment)).one()
    detail = client.get(f"/assignments/{assignment.id}/trainees/{trainee.id}").text
    assert "Sandbox ticket 1: Ondansetron ODT will not scan" in detail and "Completed" in detail
