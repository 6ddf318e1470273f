"""Sign-in throttling counts failures only, per (email, address) and per address, in the database."""

import multiprocessing
import os
import sys
import threading

from sqlalchemy import select

from lms.accounts.models import LoginFailure
from lms.extensions import db
from tests.conftest import PASSWORD, create_user, csrf_token, make_app, reset_database, shared_database_url

WRONG = "not the right password"


def client_at(app, address):
    """A browser whose requests come from ``address`` (REMOTE_ADDR, as ProxyFix would set it)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_five_failures_lock_that_account_from_that_address_only(app):
    """Issue 11 item 3: the owner, signing in from elsewhere, is not locked out by someone's guesses."""
    victim, bystander = create_user("trainee"), create_user("trainee")
    attacker = client_at(app, "203.0.113.9")
    assert [sign_in(attacker, victim.email, WRONG).status_code for _ in range(5)] == [200] * 5
    locked = sign_in(attacker, victim.email, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts for this account from your address" in locked.text
    assert "Wait 15 minutes" in locked.text and int(locked.headers["Retry-After"]) > 14 * 60
    assert sign_in(client_at(app, "198.51.100.20"), victim.email, PASSWORD).status_code == 302
    assert sign_in(client_at(app, "203.0.113.9"), bystander.email, PASSWORD).status_code == 302
    # Refused attempts check no password and do not count: the lock does not grow while it is hit.
    assert db.session.query(LoginFailure).filter_by(account=victim.email).count() == 5


def test_an_unknown_email_is_throttled_exactly_like_a_real_one(app):
    """The throttle keys on the email as typed, so it cannot be used to find out which accounts exist."""
    real = create_user("trainee")
    answers = []
    for email, address in ((real.email, "203.0.113.1"), ("nobody@hospital.test", "203.0.113.2")):
        client = client_at(app, address)
        statuses = [sign_in(client, email, WRONG).status_code for _ in range(6)]
        last = sign_in(client, email, WRONG)
        message = last.text[last.text.index('class="flash'):][:300]
        answers.append((statuses, last.status_code, message))
    assert answers[0] == answers[1]
    assert answers[0][0] == [200] * 5 + [429]


def test_many_successful_sign_ins_from_one_address_are_never_throttled(app):
    """Twenty-five people behind one hospital NAT address sign in within minutes: nobody is refused."""
    users = [create_user("trainee") for _ in range(25)]
    # One browser per workstation, all behind the same address.
    statuses = [sign_in(client_at(app, "192.0.2.50"), user.email, PASSWORD).status_code for user in users]
    assert statuses == [302] * 25
    assert db.session.scalar(select(LoginFailure.id)) is None, "successes leave no rows"


def test_failures_from_one_address_across_accounts_are_capped(tmp_path):
    """The per-address limit stops one address guessing across many accounts."""
    app = make_app(tmp_path, LOGIN_LIMIT_PER_IP="3 per minute")
    reset_database(app)
    client = client_at(app, "203.0.113.77")
    statuses = [sign_in(client, f"u{i}@hospital.test", WRONG).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    blocked = sign_in(client, "u9@hospital.test", WRONG)
    assert "from your network" in blocked.text and "Wait 1 minute " in blocked.text
    assert sign_in(client_at(app, "203.0.113.78"), "u0@hospital.test", WRONG).status_code == 200


def _worker(tmp_path, url, email, password, expected_status, attempts):
    """Run in a forked process, as a gunicorn worker is: its own app, limiter memory and connections."""
    worker = make_app(tmp_path / f"worker-{os.getpid()}", SQLALCHEMY_DATABASE_URI=url)
    client = client_at(worker, "203.0.113.5")
    statuses = [sign_in(client, email, password).status_code for _ in range(attempts)]
    sys.exit(0 if statuses == [expected_status] * attempts else 1)


def test_two_workers_share_one_count(tmp_path):
    """Failures counted by one worker process hold in another: gunicorn forks workers that share nothing
    but the database (with Flask-Limiter's memory storage, each one counted on its own)."""
    url = shared_database_url(tmp_path)
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    reset_database(app)
    with app.app_context():
        email = create_user("trainee").email
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()  # the forked workers must not share this process's connections
    fork = multiprocessing.get_context("fork")

    def run_worker(password, expected_status, attempts):
        process = fork.Process(target=_worker, args=(tmp_path, url, email, password, expected_status, attempts))
        process.start()
        process.join(timeout=60)
        return process.exitcode

    assert run_worker(WRONG, 200, 3) == 0, "the first worker checks three wrong passwords"
    parent = client_at(app, "203.0.113.5")
    assert [sign_in(parent, email, WRONG).status_code for _ in range(2)] == [200, 200]
    assert sign_in(parent, email, PASSWORD).status_code == 429, "five failures in all, across two workers"
    assert run_worker(PASSWORD, 429, 1) == 0, "a third worker sees the lock too"


def test_simultaneous_guesses_get_no_more_tries_than_the_limit(tmp_path):
    """Ten guesses at once (real threads, separate connections) check at most five passwords."""
    url = shared_database_url(tmp_path)
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    reset_database(app)
    with app.app_context():
        email = create_user("trainee").email
        db.session.remove()
    clients = [client_at(app, "203.0.113.6") for _ in range(10)]
    tokens = [csrf_token(c) for c in clients]
    barrier, statuses = threading.Barrier(10), []

    def guess(client, token):
        barrier.wait()
        response = client.post("/login", data={"email": email, "password": WRONG, "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 429}
    # Each guess commits its row before counting, so a burst may refuse all ten (every guess sees the
    # others' rows) but can never check more than the limit.
    checked = statuses.count(200)
    assert checked <= 5, statuses
    with app.app_context():
        assert db.session.query(LoginFailure).count() == checked
        db.session.remove()
    # Refused guesses leave no trace, so the lock is no longer than the checked failures make it.
    follow_up = sign_in(client_at(app, "203.0.113.6"), email, WRONG).status_code
    assert follow_up == (200 if checked < 5 else 429), (checked, follow_up)
