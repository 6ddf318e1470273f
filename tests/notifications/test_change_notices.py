"""Notices about a change (assigned, extended, unassigned) are written in the change's own transaction, so a
trainee hears at once without `lms notify run`; a later run adds no duplicate."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import CohortMember, User
from lms.accounts.services import Actor
from lms.content.services import get_catalog
from lms.curricula import services as curricula
from lms.curricula.models import Assignment
from lms.db import utcnow
from lms.extensions import db
from lms.notifications import services
from lms.notifications.cli import notify_cli
from lms.notifications.models import Notification
from lms.quizzes.services import get_library
from tests.conftest import create_cohort, create_user, login, post_form
from tests.curricula.test_curricula import assign, build

TODAY = utcnow().date()


def notices(kind=None) -> list[tuple[int, str, str]]:
    query = select(Notification.user_id, Notification.kind, Notification.title).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return [tuple(row) for row in db.session.execute(query)]


def notify_run() -> int:
    created = services.generate(db.session, TODAY, utcnow(), get_catalog(), get_library())
    db.session.commit()
    return created


@pytest.fixture
def cohort_world(app, client):
    supervisor = create_user("supervisor")
    ann, ben = create_user("trainee", name="Ann"), create_user("trainee", name="Ben")
    gone = create_user("trainee", name="Gone", active=False)
    cohort = create_cohort("Main", supervisors=[supervisor], trainees=[ann, ben, gone])
    login(client, supervisor)
    curriculum = build(client, items=(("module:alpha", ""),))
    return type("World", (), {"supervisor": supervisor, "ann": ann, "ben": ben, "gone": gone, "cohort": cohort,
                              "curriculum": curriculum})


def test_assigning_tells_each_active_trainee_in_the_same_commit(cohort_world, client, runner):
    w = cohort_world
    assert assign(client, w.curriculum, f"cohort:{w.cohort.id}", due=TODAY + timedelta(days=30)).status_code == 302
    assigned = notices("assigned")
    assert sorted(user_id for user_id, *_ in assigned) == sorted([w.ann.id, w.ben.id]), "no notice for Gone"
    assert all(title == "New assignment: Onboarding" for *_, title in assigned)
    result = runner.invoke(notify_cli, ["run"])
    assert result.exit_code == 0 and "Notifications created: 0" in result.output, "nothing left to say"
    assert len(notices("assigned")) == 2


def test_a_late_cohort_joiner_is_told_by_notify_run(cohort_world, client):
    w = cohort_world
    assign(client, w.curriculum, f"cohort:{w.cohort.id}", due=TODAY + timedelta(days=30))
    late = create_user("trainee", name="Late")
    db.session.add(CohortMember(cohort_id=w.cohort.id, user_id=late.id))
    db.session.commit()
    assert notify_run() == 1
    assert [user_id for user_id, *_ in notices("assigned")][-1] == late.id
    assert notify_run() == 0


def test_a_failed_assignment_leaves_no_notice(cohort_world):
    """The notice is part of the change: rolled back with it."""
    w = cohort_world
    curricula.assign(db.session, Actor(w.supervisor.id), w.supervisor, w.curriculum, w.cohort.id, None, TODAY,
                     TODAY + timedelta(days=30), utcnow())
    assert len(notices("assigned")) == 2, "written in the service call, before any commit"
    db.session.rollback()
    assert db.session.query(Assignment).count() == 0 and notices() == []


def test_an_extension_tells_the_trainee_at_once_and_notify_run_does_not_repeat_it(cohort_world, client):
    w = cohort_world
    assign(client, w.curriculum, f"cohort:{w.cohort.id}", due=TODAY + timedelta(days=3))
    assignment = db.session.scalar(select(Assignment))
    new_due = TODAY + timedelta(days=40)
    response = post_form(client, f"/assignments/{assignment.id}/extend",
                         {"extend-user_id": str(w.ann.id), "extend-due_on": new_due.isoformat()})
    assert response.status_code == 302
    extended = notices("extended")
    assert [(user_id, title) for user_id, _kind, title in extended] == [(w.ann.id, "Due date extended: Onboarding")]
    body = db.session.scalar(select(Notification.body).where(Notification.kind == "extended"))
    assert f"{new_due:%B} {new_due.day}, {new_due.year}" in body
    before = notices()
    assert notify_run() == 1  # Ben's "due in 3 days" reminder; nothing for Ann, whose date moved 40 days out
    assert notices()[:len(before)] == before and len(notices("extended")) == 1
    assert [user_id for user_id, kind, _t in notices() if kind == "due_7"] == [w.ben.id]
    # The same date again is no news; a different date is.
    post_form(client, f"/assignments/{assignment.id}/extend",
              {"extend-user_id": str(w.ann.id), "extend-due_on": new_due.isoformat()})
    assert len(notices("extended")) == 1
    post_form(client, f"/assignments/{assignment.id}/extend",
              {"extend-user_id": str(w.ann.id), "extend-due_on": (new_due + timedelta(days=7)).isoformat()})
    assert len(notices("extended")) == 2


def test_unassigning_tells_the_trainees_in_the_same_commit(cohort_world, client):
    w = cohort_world
    assign(client, w.curriculum, f"cohort:{w.cohort.id}", due=TODAY + timedelta(days=3))
    assignment = db.session.scalar(select(Assignment))
    assert post_form(client, f"/assignments/{assignment.id}/unassign").status_code == 302
    ended = notices("unassigned")
    assert sorted(user_id for user_id, *_ in ended) == sorted([w.ann.id, w.ben.id])
    assert all(title == "Assignment ended: Onboarding" for *_, title in ended)
    post_form(client, f"/assignments/{assignment.id}/unassign")
    assert len(notices("unassigned")) == 2
    assert notify_run() == 0, "no reminders for an ended assignment"


def test_a_direct_assignment_tells_only_that_trainee(cohort_world, client):
    w = cohort_world
    assign(client, w.curriculum, f"user:{w.ann.id}", due=TODAY + timedelta(days=30))
    assert [user_id for user_id, *_ in notices("assigned")] == [w.ann.id]
    assert db.session.get(User, w.ben.id) is not None and notify_run() == 0
