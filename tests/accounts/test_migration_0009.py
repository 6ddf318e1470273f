"""Migration 0009 upgrades a database that already holds accounts and API tokens."""

from flask_migrate import upgrade
from sqlalchemy import text

from lms.extensions import db
from tests.conftest import make_app


def test_upgrade_keeps_accounts_and_gives_old_tokens_an_expiry(tmp_path, migration_url):
    """On SQLite, copying user_account to drop a column would trip the foreign keys of rows that point at it."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=migration_url)
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
