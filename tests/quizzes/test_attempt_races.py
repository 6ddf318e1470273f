"""Starting, saving and submitting attempts when requests race: real threads, one connection each."""

import re
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import column, select, table, text
from sqlalchemy.exc import IntegrityError

from lms.db import utcnow
from lms.extensions import db
from lms.quizzes import forms
from lms.quizzes.grading import correct_response, grade
from lms.quizzes.models import AttemptAnswer, QuizAttempt
from lms.quizzes.services import get_library
from tests.conftest import create_user, csrf_token, fresh, login, make_app, post_form
from tests.quizzes.test_attempts import answer, form_for, start, wrong_response

ALREADY_SUBMITTED = "This attempt was already submitted; your answer was not saved."



def signed_in_clients(app, user, count):
    """``count`` test clients signed in as ``user`` (one sign-in, its session cookie copied), and a CSRF token."""
    first = app.test_client()
    login(first, user)
    token = csrf_token(first)
    cookie = first.get_cookie("session", domain="lms.test")
    clients = [first]
    for _ in range(count - 1):
        client = app.test_client()
        client.set_cookie("session", cookie.value, domain="lms.test")
        clients.append(client)
    return clients, token


def race(calls):
    """Run every call in its own thread, all released at once by a barrier; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    if errors:
        raise errors[0]
    return results


def attempt_id_of(response) -> int:
    assert response.status_code == 302, response.text[:300]
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def lands_on_result(response, attempt) -> bool:
    location = urlsplit(response.headers.get("Location", "")).path
    return response.status_code == 303 and location == f"/attempts/{attempt.id}/result"


def regraded_percent(attempt) -> float:
    """The score the stored answers are worth, graded again from their responses (not their stored marks)."""
    library = get_library()
    stored = {a.item_id: a for a in db.session.scalars(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt.id))}
    graded = [i for i in attempt.item_ids if library.items[i].graded]
    total = sum(grade(library.items[i], stored[i].response["value"]).score for i in graded if i in stored)
    return round(100 * total / len(graded), 1)


@pytest.mark.parametrize("url", ["/quizzes/post-test/alpha", "/quizzes/practice/mini"])
def test_parallel_starts_share_one_open_attempt(race_app, url):
    """Ten starts at once make exactly one open attempt, and every response leads to it."""
    user = create_user("trainee")
    clients, token = signed_in_clients(race_app, user, 10)
    responses = race([lambda c=c: c.post(url, data={"mode": "exam", "csrf_token": token}) for c in clients])
    ids = {attempt_id_of(r) for r in responses}
    db.session.expire_all()
    open_ids = db.session.scalars(select(QuizAttempt.id).where(QuizAttempt.user_id == user.id,
                                                               QuizAttempt.status == "in_progress")).all()
    assert len(open_ids) == 1, f"{len(open_ids)} open attempts"
    assert ids == set(open_ids), "every start points at the one open attempt"
    assert db.session.query(QuizAttempt).count() == 1


def test_the_database_refuses_a_second_open_attempt(app):
    """The partial unique index allows one open attempt per trainee and quiz, and any number of closed ones."""
    user = create_user("trainee")

    def attempt(**fields):
        return QuizAttempt(user_id=user.id, kind="post_test", source_id="alpha", mode="exam", content_version="v",
                           item_ids=[], layout={}, pass_mark=75, **fields)

    db.session.add_all([attempt(), attempt(status="submitted", submitted_at=utcnow()),
                        attempt(status="submitted", submitted_at=utcnow())])
    db.session.add(QuizAttempt(user_id=user.id, kind="practice_exam", source_id="alpha", mode="exam",
                               content_version="v", item_ids=[], layout={}, pass_mark=75))
    db.session.commit()
    db.session.add(attempt())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_expired_exam_does_not_block_a_new_one(app, client, login_as):
    """Starting again after the time ran out closes the expired attempt (timed out) and starts a new one."""
    login_as("trainee")
    first = db.session.get(QuizAttempt, attempt_id_of(post_form(client, "/quizzes/practice/mini")))
    answer(client, first, 1, right=True)
    first.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    second = attempt_id_of(post_form(client, "/quizzes/practice/mini"))
    assert second != first.id
    closed = fresh(first)
    assert closed.status == "submitted" and closed.timed_out and closed.score_percent == round(100 / 3, 1)
    assert db.session.get(QuizAttempt, second).status == "in_progress"


def test_saves_racing_a_submit_never_change_the_scored_answers(race_app):
    """One submit and eleven saves at once: the stored answers are worth the recorded score; late saves say so."""
    user = create_user("trainee")
    clients, token = signed_in_clients(race_app, user, 12)
    attempt = db.session.get(QuizAttempt, attempt_id_of(clients[0].post(
        "/quizzes/post-test/alpha", data={"mode": "exam", "csrf_token": token})))
    library = get_library()
    for position in range(1, len(attempt.item_ids) + 1):  # everything wrong to begin with
        assert answer(clients[0], attempt, position, right=False).status_code == 303

    def save(client, index):
        position = index % len(attempt.item_ids) + 1
        item = library.items[attempt.item_ids[position - 1]]
        response = correct_response(item) if (index // len(attempt.item_ids)) % 2 == 0 else wrong_response(item)
        data = {"item_id": item.id, "csrf_token": token, **form_for(item, attempt.layout[item.id], response)}
        return client.post(f"/attempts/{attempt.id}/answer/{position}", data=data)

    calls = [lambda: clients[0].post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token})]
    calls += [lambda c=c, i=i: save(c, i) for i, c in enumerate(clients[1:])]
    submitted, *saves = race(calls)
    assert lands_on_result(submitted, attempt)
    done = fresh(attempt)
    assert done.status == "submitted"
    assert regraded_percent(done) == done.score_percent, "the stored answers are the ones that were scored"
    for client, response in zip(clients[1:], saves, strict=True):
        assert response.status_code == 303
        if lands_on_result(response, attempt):  # refused: it arrived after the submit
            assert ALREADY_SUBMITTED in client.get(response.headers["Location"]).text
        else:
            assert f"/attempts/{attempt.id}" in response.headers["Location"]


def test_a_save_after_submitting_is_refused_and_changes_nothing(app, client, login_as):
    """A save that arrives after the submit gets a clear message, lands on the result and changes nothing."""
    login_as("trainee")
    attempt = start(client)
    answer(client, attempt, 1, right=True)
    post_form(client, f"/attempts/{attempt.id}/submit")
    before = [(a.item_id, a.response, a.answered_at) for a in fresh(attempt).answers]
    late = answer(client, attempt, 1, right=False)
    assert lands_on_result(late, attempt)
    page = client.get(late.headers["Location"])
    assert ALREADY_SUBMITTED in page.text
    assert [(a.item_id, a.response, a.answered_at) for a in fresh(attempt).answers] == before
    assert answer(client, attempt, 2, right=True).status_code == 303
    assert len(fresh(attempt).answers) == 1, "a new answer after submitting is refused too"


def test_a_submit_landing_while_a_save_is_in_flight_wins(app, client, login_as, monkeypatch):
    """The save checks the attempt is still open when it writes, not when it started: it saves nothing."""
    user = login_as("trainee")
    attempt = start(client)
    other = app.test_client()
    login(other, user)
    parse = forms.parse_form

    def submit_meanwhile(*args):
        monkeypatch.setattr(forms, "parse_form", parse)
        assert post_form(other, f"/attempts/{attempt.id}/submit").status_code == 303
        return parse(*args)

    monkeypatch.setattr(forms, "parse_form", submit_meanwhile)
    late = answer(client, attempt, 1, right=True)
    assert lands_on_result(late, attempt)
    assert ALREADY_SUBMITTED in client.get(late.headers["Location"]).text
    done = fresh(attempt)
    assert done.status == "submitted" and done.score_percent == 0.0
    assert done.answers == []


def test_the_migration_keeps_one_open_attempt_of_duplicates(tmp_path, migration_url):
    """Upgrading a database where parallel starts left duplicates keeps the most answered one open."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=migration_url)
    now = utcnow()
    with app.app_context():
        upgrade(revision="0008")  # before any of the trust migrations: the tables as they were
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO user_account (id, email, name, role, active, session_token, created_at) "
                              "VALUES (1, 't@hospital.test', 'T', 'trainee', :t, 'x', :now)"),
                         {"t": True, "now": now})
            attempts = table("quiz_attempt", *(column(c) for c in (
                "id", "user_id", "kind", "source_id", "mode", "content_version", "item_ids", "layout", "pass_mark",
                "started_at", "status", "timed_out")))
            conn.execute(attempts.insert(), [
                {"id": i, "user_id": 1, "kind": "post_test", "source_id": source, "mode": "exam",
                 "content_version": "v", "item_ids": '["a", "b"]', "layout": "{}", "pass_mark": 50,
                 "started_at": now, "status": "in_progress", "timed_out": False}
                for i, source in ((1, "alpha"), (2, "alpha"), (3, "alpha"), (4, "beta"))])
            conn.execute(text("INSERT INTO attempt_answer (attempt_id, item_id, response, score, correct, "
                              "answered_at) VALUES (2, 'a', '{}', 1.0, :t, :now)"), {"t": True, "now": now})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, score_percent, passed FROM quiz_attempt ORDER BY id")).all()
        db.engine.dispose()
    assert [(r.id, r.status) for r in rows] == [(1, "submitted"), (2, "in_progress"), (3, "submitted"),
                                                (4, "in_progress")]
    assert [(r.score_percent, r.passed) for r in rows if r.status == "submitted"] == [(0.0, False), (0.0, False)]
