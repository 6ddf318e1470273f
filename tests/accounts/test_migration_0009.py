"""Migration 0009 upgrades a database that already holds accounts and API tokens."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from lms.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_app


@pytest.fixture
def database_url(tmp_path):
    """An empty SQLite file, or an empty schema on the test PostgreSQL."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS upgrade_0009 CASCADE"))
        conn.execute(text("CREATE SCHEMA upgrade_0009"))
    yield TEST_DATABASE_URL + ("&" if "?" in TEST_DATABASE_URL else "?") + "options=-csearch_path%3Dupgrade_0009"
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA upgrade_0009 CASCADE"))
    engine.dispose()


def test_upgrade_keeps_accounts_and_gives_old_tokens_an_expiry(tmp_path, database_url):
    """On SQLite, copying user_account to drop a column would trip the foreign keys of rows that point at it."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade(revision="0008")
        db.session.execute(text(
            "INSERT INTO user_account (id, email, name, role, active, session_token, created_at) "
            "VALUES (1, 'a@hospital.test', 'A', 'trainee', true, 'old-token', '2026-01-01 00:00:00+00:00')"))
        db.session.execute(text(
            "INSERT INTO api_token (user_id, name, token_hash, prefix, created_at) "
            "VALUES (1, 'script', 'hash', 'lms_abc', '2026-01-01 00:00:00+00:00')"))
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT email FROM user_account")).scalar_one() == "a@hospital.test"
        assert db.session.execute(text("SELECT expires_at FROM api_token")).scalar_one() is not None
        db.session.remove()
        db.engine.dispose()
