"""A curriculum's module item is done only while an earned credit exists: a revocation undoes it everywhere
the assignment is counted (trainee view, per-item view, drill-down, dashboard roll-up), and re-earning redoes it."""

from sqlalchemy import select

from lms.accounts.services import Actor
from lms.certificates.services import reinstate, revoke
from lms.content.services import get_catalog
from lms.curricula import services
from lms.curricula.models import Assignment
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import Credit
from lms.quizzes.services import get_library
from tests.conftest import create_cohort, create_user, login
from tests.curricula.test_curricula import TODAY, assign, build
from tests.progress.test_completion import complete


def counts(assignment, user_ids):
    """What each roll-up says about the module item, straight from the services the pages use."""
    catalog, library = get_catalog(), get_library()
    statuses = services.item_statuses(db.session, user_ids, list(assignment.curriculum.items))
    states = services.assignment_states(db.session, assignment, user_ids, catalog, library, TODAY)
    cell = services.cohort_matrix(db.session, [assignment_cohort(assignment)], catalog, library, TODAY)[0]
    insight = services.assignment_insight(db.session, assignment, len(user_ids), catalog, library)
    item = assignment.curriculum.items[0]
    return ([statuses.get((u, item.id)).state if (u, item.id) in statuses else "not_started" for u in user_ids],
            [states[u] for u in user_ids], cell.completed, insight.items[0].completed)


def assignment_cohort(assignment):
    from lms.accounts.models import Cohort

    return db.session.get(Cohort, assignment.cohort_id)


def test_a_revoked_module_credit_no_longer_completes_the_assignment(app, client):
    supervisor, admin, trainee = create_user("supervisor"), create_user("admin"), create_user("trainee")
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[trainee])
    login(client, supervisor)
    assign(client, build(client, items=(("module:alpha", ""),)), f"cohort:{cohort.id}")
    assignment = db.session.scalar(select(Assignment))
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    complete(trainee_client)
    assert counts(assignment, [trainee.id]) == (["completed"], ["completed"], 1, 1)
    credit = db.session.scalar(select(Credit))
    revoke(db.session, Actor(admin.id), credit, "Issued in error.", utcnow())
    db.session.commit()
    # Lessons read and post-tests taken: the item is back in progress, not done.
    assert counts(assignment, [trainee.id]) == (["in_progress"], ["behind"], 0, 0)
    page = client.get(f"/assignments/{assignment.id}").text
    assert "1. Alpha module</td>\n      <td>0 of 1</td>" in page
    assert "0 of 1 required items done" in trainee_client.get("/my/assignments").text
    reinstate(db.session, Actor(admin.id), credit, "Issued correctly after all.", utcnow())
    db.session.commit()
    assert counts(assignment, [trainee.id]) == (["completed"], ["completed"], 1, 1)
