"""Taking quizzes over HTTP: draws, saving as you go, the key kept back, submitting once, time limits, review."""

import re
from datetime import timedelta

from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes.grading import correct_response
from lms.quizzes.models import AttemptAnswer, QuizAttempt, ReviewCard
from lms.quizzes.services import get_library
from tests.conftest import create_cohort, create_user, fresh, login, post_form


def start(client, module="alpha", mode="exam"):
    response = post_form(client, f"/quizzes/post-test/{module}", {"mode": mode})
    assert response.status_code == 302, response.text[:300]
    attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
    return db.session.get(QuizAttempt, attempt_id)


def form_for(item, layout, response):
    """The form fields a browser would send for ``response``."""
    if item.type == "matching":
        return {f"match-{i}": str(layout["rights"].index(response[left])) for i, (left, _r) in enumerate(item.pairs)}
    if item.type == "ordering":
        return {f"position-{i}": str(response.index(step) + 1) for i, step in enumerate(layout["steps"])}
    if item.type == "true_false":
        return {"answer": "true" if response else "false"}
    return {"answer": response}


def answer(client, attempt, position, response=None, right=True):
    item_id = attempt.item_ids[position - 1]
    item = get_library().items[item_id]
    if response is None:
        response = correct_response(item) if right else wrong_response(item)
    data = {"item_id": item_id, **form_for(item, attempt.layout[item_id], response)}
    return post_form(client, f"/attempts/{attempt.id}/answer/{position}", data)


def wrong_response(item):
    return {"single": lambda: next(o.id for o in item.options if o.id not in item.key),
            "multiple": lambda: [next(o.id for o in item.options if o.id not in item.key)],
            "true_false": lambda: not item.truth, "numeric": lambda: "99999", "short": lambda: "nonsense",
            "matching": lambda: {left: item.pairs[(i + 1) % len(item.pairs)][1] for i, (left, _r) in
                                 enumerate(item.pairs)},
            "ordering": lambda: list(reversed(item.sequence))}[item.type]()


def test_post_test_draws_every_objective_and_resumes(app, client, login_as):
    login_as("trainee")
    attempt = start(client)
    items = [get_library().items[i] for i in attempt.item_ids]
    assert len(items) == 4
    assert {o for i in items for o in i.objectives} >= {"alpha:o1", "alpha:o2", "alpha:o3"}
    assert start(client).id == attempt.id, "starting again resumes the open attempt"


def test_the_key_and_feedback_never_reach_the_page_before_an_answer(app, client, login_as):
    login_as("trainee")
    attempt = start(client)
    library = get_library()
    for position in range(1, len(attempt.item_ids) + 1):
        page = client.get(f"/attempts/{attempt.id}?n={position}").text
        item = library.items[attempt.item_ids[position - 1]]
        for secret in [item.explanation_html, item.feedback_correct, item.feedback_true, item.feedback_false,
                       *(o.feedback for o in item.options)]:
            if secret:
                assert secret not in page, (item.id, secret)
    assert client.get(f"/attempts/{attempt.id}/result").status_code == 302, "no results before submitting"


def test_exam_mode_saves_changes_and_scores_once(app, client, login_as):
    user = login_as("trainee")
    attempt = start(client)
    assert answer(client, attempt, 1, right=False).status_code == 303
    assert answer(client, attempt, 1, right=True).status_code == 303  # changed before submitting
    for position in range(2, len(attempt.item_ids) + 1):
        answer(client, attempt, position, right=position != 2)
    rows = db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).all()
    assert len(rows) == 4
    post_form(client, f"/attempts/{attempt.id}/submit")
    done = fresh(attempt)
    assert done.status == "submitted" and done.score_percent == 75.0 and done.passed is True  # pass mark 75
    again = post_form(client, f"/attempts/{attempt.id}/submit", follow_redirects=True)
    assert "already submitted" in again.text
    assert fresh(attempt).submitted_at == done.submitted_at
    late = answer(client, attempt, 1, right=False)
    assert late.status_code == 303
    assert db.session.scalar(select(AttemptAnswer.correct).where(AttemptAnswer.attempt_id == attempt.id,
                                                                 AttemptAnswer.item_id == attempt.item_ids[0]))
    result = client.get(f"/attempts/{attempt.id}/result").text
    assert "75%" in result and "Passed" in result and "By objective" in result
    missed = db.session.scalars(select(ReviewCard.item_id).where(ReviewCard.user_id == user.id)).all()
    assert missed == [attempt.item_ids[1]]


def test_an_answer_to_an_item_not_served_is_refused(app, client, login_as):
    login_as("trainee")
    attempt = start(client)
    not_served = next(i for i in get_library().items if i not in attempt.item_ids)
    response = post_form(client, f"/attempts/{attempt.id}/answer/1", {"item_id": not_served, "answer": "a"},
                         follow_redirects=True)
    assert "not part of this attempt" in response.text
    post_form(client, f"/attempts/{attempt.id}/answer/99", {"item_id": attempt.item_ids[0], "answer": "a"})
    assert db.session.query(AttemptAnswer).count() == 0


def test_a_malformed_answer_is_refused_with_a_message(app, client, login_as):
    login_as("trainee")
    attempt = start(client)
    page = post_form(client, f"/attempts/{attempt.id}/answer/1", {"item_id": attempt.item_ids[0]},
                     follow_redirects=True)
    assert "Not saved:" in page.text
    assert db.session.query(AttemptAnswer).count() == 0


def test_practice_mode_shows_the_rationale_and_locks_the_answer(app, client, login_as):
    login_as("trainee")
    attempt = start(client, mode="practice")
    item = get_library().items[attempt.item_ids[0]]
    answer(client, attempt, 1, right=False)
    page = client.get(f"/attempts/{attempt.id}?n=1").text
    assert 'id="feedback"' in page and "Not correct" in page
    second = answer(client, attempt, 1, right=True)
    assert second.status_code == 303
    assert db.session.scalar(select(AttemptAnswer.correct).where(AttemptAnswer.item_id == item.id)) is False


def test_the_server_ends_a_timed_attempt(app, client, login_as):
    login_as("trainee")
    response = post_form(client, "/quizzes/practice/mini")
    attempt = db.session.get(QuizAttempt, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert attempt.deadline_at is not None and len(attempt.item_ids) == 3
    domains = sorted(get_library().items[i].domain for i in attempt.item_ids)
    assert domains == ["informatics-automation", "informatics-automation", "informatics-data"]
    answer(client, attempt, 1, right=True)
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    late = answer(client, attempt, 2, right=True)
    assert late.status_code == 302 and "/result" in late.headers["Location"]
    done = fresh(attempt)
    assert done.status == "submitted" and done.timed_out
    assert done.score_percent == round(100 / 3, 1)
    assert db.session.query(AttemptAnswer).count() == 1


def test_attempt_limit_is_enforced(app, client, login_as):
    login_as("trainee")
    bank = get_library().bank("alpha")
    object.__setattr__(bank, "attempt_limit", 1)
    try:
        attempt = start(client)
        post_form(client, f"/attempts/{attempt.id}/submit")
        refused = post_form(client, "/quizzes/post-test/alpha", follow_redirects=True)
        assert "used all 1 attempts" in refused.text
        assert db.session.query(QuizAttempt).count() == 1
    finally:
        object.__setattr__(bank, "attempt_limit", None)


def test_missed_items_come_back_in_review_and_move_up_boxes(app, client, login_as):
    user = login_as("trainee")
    attempt = start(client)
    post_form(client, f"/attempts/{attempt.id}/submit")  # nothing answered: everything missed
    assert db.session.query(ReviewCard).filter_by(user_id=user.id, box=1).count() == 4
    response = post_form(client, "/quizzes/review")
    review = db.session.get(QuizAttempt, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert review.kind == "review" and sorted(review.item_ids) == sorted(attempt.item_ids)
    for position in range(1, 5):
        answer(client, review, position, right=True)
    post_form(client, f"/attempts/{review.id}/submit")
    boxes = db.session.scalars(select(ReviewCard.box).where(ReviewCard.user_id == user.id)).all()
    assert boxes == [2, 2, 2, 2]
    nothing = post_form(client, "/quizzes/review", follow_redirects=True)
    assert "Nothing is due" in nothing.text


def test_quizzes_page_shows_best_score_and_chart(app, client, login_as):
    login_as("trainee")
    response = post_form(client, "/quizzes/practice/mini")
    attempt = db.session.get(QuizAttempt, int(response.headers["Location"].rsplit("/", 1)[1]))
    for position in range(1, 4):
        answer(client, attempt, position, right=True)
    post_form(client, f"/attempts/{attempt.id}/submit")
    page = client.get("/quizzes").text
    assert "<svg" in page and "1 practice exam: latest 100%" in page


def test_item_statistics_are_limited_to_the_supervisors_cohorts(app, client):
    supervisor, other = create_user("supervisor"), create_user("supervisor")
    mine, theirs = create_user("trainee"), create_user("trainee")
    create_cohort("Mine", supervisors=[supervisor], trainees=[mine])
    create_cohort("Theirs", supervisors=[other], trainees=[theirs])
    for trainee, right in ((mine, True), (theirs, False)):
        trainee_client = app.test_client()
        login(trainee_client, trainee)
        attempt = start(trainee_client)
        for position in range(1, 5):
            answer(trainee_client, attempt, position, right=right)
        post_form(trainee_client, f"/attempts/{attempt.id}/submit")
    login(client, supervisor)
    page = client.get("/quizzes/stats/alpha").text
    assert "1 submitted attempt by trainees in your cohorts" in page
    assert "<td>100%</td>" in page and "<td>0%</td>" not in page, "the other cohort's zero scores are excluded"
    admin_client = app.test_client()
    login(admin_client, create_user("admin"))
    assert "2 submitted attempts" in admin_client.get("/quizzes/stats/alpha").text
