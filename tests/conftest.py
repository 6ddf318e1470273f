"""Shared fixtures: an app per test on in-memory SQLite (or PostgreSQL when configured), builders."""

import contextvars
import functools
import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from lms import create_app
from lms.accounts import services
from lms.accounts.models import Cohort, CohortMember, CohortSupervisor, User
from lms.extensions import db

TEST_DATABASE_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
DATA = Path(__file__).resolve().parent / "data"
PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL.split('@')[-1] if TEST_DATABASE_URL else 'SQLite'}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a skipped browser or PostgreSQL test is a failure there."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context.

    Flask reuses an app context that is already pushed, which would share ``g`` (the
    signed-in user, the CSRF token) and the database session between the test and every
    request. Running each request in an empty context makes it behave like a real one.
    """

    def open(self, *args, **kwargs):
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        if response.is_streamed:  # a streamed body is produced later: produce it in the request's context too
            response.response = _InContext(context, response.response)
        return response


class _InContext:
    """Iterate (and close) a streamed response body inside the context its request ran in."""

    def __init__(self, context: contextvars.Context, body):
        self.context, self.iterator, self.body = context, None, body

    def __iter__(self):
        self.iterator = self.context.run(iter, self.body)
        return self

    def __next__(self):
        return self.context.run(next, self.iterator or iter(self))

    def close(self):
        if hasattr(self.body, "close"):
            self.context.run(self.body.close)


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or "sqlite://",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "lms.test",
        "CONTENT_DIR": str(DATA / "content"),
        "QUIZZES_DIR": str(DATA / "quizzes"),
        "CONTENT_MIN_WORDS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    _created_apps.append(app)
    return app


_created_apps = []


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close every pooled connection a test's apps opened (PostgreSQL would warn about leaks)."""
    yield
    while _created_apps:
        app = _created_apps.pop()
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def reset_database(app):
    """Create the schema, or empty every table on a shared PostgreSQL database."""
    with app.app_context():
        db.create_all()
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            db.session.commit()


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    reset_database(app)
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    ctx.pop()


def shared_database_url(tmp_path) -> str:
    """A database that separate connections (threads, processes) share: a SQLite file, or the test PostgreSQL.
    The default in-memory SQLite is private to one connection, so races cannot happen on it."""
    return TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'shared.sqlite3'}"


@pytest.fixture
def race_app(tmp_path):
    """An app on a shared database, with its context pushed, for tests that race real threads."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=shared_database_url(tmp_path))
    reset_database(app)
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    ctx.pop()


@pytest.fixture
def migration_url(tmp_path):
    """A database with nothing in it, for running the migrations: a SQLite file, or a fresh schema on the test
    PostgreSQL (dropped afterwards)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_check"))
    yield TEST_DATABASE_URL + ("&" if "?" in TEST_DATABASE_URL else "?") + "options=-csearch_path%3Dmigration_check"
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA migration_check CASCADE"))
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def fresh(obj):
    """Reload ``obj`` from the database, after requests made their own changes."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


# --- builders --------------------------------------------------------------------------

@functools.cache
def password_hash(password: str) -> str:
    return services.hash_password(password)  # scrypt is slow on purpose: hash each test password once


def create_user(role="trainee", email=None, name=None, password=PASSWORD, active=True, **fields) -> User:
    count = db.session.query(User).count() + 1
    email = email or f"{role}{count}@hospital.test"
    user = User(email=email, name=name or f"{role.capitalize()} {count}", role=role,
                password_hash=password_hash(password) if password else None, active=active, **fields)
    db.session.add(user)
    db.session.commit()
    return user


def create_cohort(name="Cohort", supervisors=(), trainees=()) -> Cohort:
    cohort = Cohort(name=name)
    db.session.add(cohort)
    db.session.flush()
    for supervisor in supervisors:
        db.session.add(CohortSupervisor(cohort_id=cohort.id, user_id=supervisor.id))
    for trainee in trainees:
        db.session.add(CohortMember(cohort_id=cohort.id, user_id=trainee.id))
    db.session.commit()
    return cohort


@pytest.fixture
def builders():
    class Builders:
        user = staticmethod(create_user)
        cohort = staticmethod(create_cohort)

    return Builders


# --- signing in and posting forms ------------------------------------------------------

def csrf_token(client) -> str:
    """Read a CSRF token the way a browser would: from a rendered form."""
    page = client.get("/login", follow_redirects=True)
    match = CSRF_INPUT.search(page.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client, url, data=None, **kwargs):
    """POST a form with a valid CSRF token, as the site's own pages do."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


def login(client, user_or_email, password=PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.text[:500]
    return response


@pytest.fixture
def login_as(app, client):
    """Sign the test client in as a new user with the given role and return that user."""

    def _login_as(role="trainee", **fields):
        user = create_user(role, **fields)
        login(client, user)
        return user

    return _login_as
