"""The CLI surface (users, demo, serve) and the migrations matching the models."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import select

from lms.accounts.models import Cohort, CohortMember, CohortSupervisor, User
from lms.demo.services import DEMO_PASSWORD
from lms.extensions import db
from tests.conftest import login, make_app


def test_users_create_prints_a_one_time_link(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "First.Admin@Hospital.test", "--role", "admin",
                                 "--base-url", "https://academy.hospital.test"])
    assert result.exit_code == 0, result.output
    assert re.search(r"https://academy\.hospital\.test/set-password/\S+", result.output)
    user = db.session.scalar(select(User).where(User.email == "first.admin@hospital.test"))
    assert user.role == "admin" and user.password_hash is None


def test_users_create_refuses_a_duplicate(app, runner):
    runner.invoke(args=["users", "create", "--email", "a@hospital.test", "--role", "trainee"])
    result = runner.invoke(args=["users", "create", "--email", "a@hospital.test", "--role", "admin"])
    assert result.exit_code != 0 and "already exists" in result.output
    assert db.session.query(User).count() == 1


def test_users_create_refuses_an_unknown_role(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "a@hospital.test", "--role", "boss"])
    assert result.exit_code != 0
    assert db.session.query(User).count() == 0


def test_demo_seed_is_idempotent_and_demo_accounts_sign_in(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0 and "records created" in first.output
    counts = [db.session.query(model).count() for model in (User, Cohort, CohortMember, CohortSupervisor)]
    second = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in second.output
    assert [db.session.query(model).count() for model in (User, Cohort, CohortMember, CohortSupervisor)] == counts
    assert counts[0] >= 11 and counts[1] == 2 and counts[2] >= 8

    main = db.session.scalar(select(Cohort).where(Cohort.name == "Main Pharmacy"))
    assert [s.user.email for s in main.supervisors] == ["supervisor@demo.test"]
    satellite = db.session.scalar(select(Cohort).where(Cohort.name == "Satellite Pharmacy"))
    assert [s.user.email for s in satellite.supervisors] == ["supervisor2@demo.test"]
    for email in ("admin@demo.test", "supervisor@demo.test", "supervisor2@demo.test", "trainee@demo.test"):
        login(app.test_client(), email, DEMO_PASSWORD)


def test_serve_refuses_to_start_without_a_secret_key(app, runner, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    result = runner.invoke(args=["serve"])
    assert result.exit_code != 0 and "LMS_SECRET_KEY is not set" in result.output


def test_database_url_prefers_psycopg_for_postgres_urls():
    from lms.config import database_url

    assert database_url("postgres://u:p@h/db", "/x") == "postgresql+psycopg://u:p@h/db"
    assert database_url("postgresql://u:p@h/db", "/x") == "postgresql+psycopg://u:p@h/db"
    assert database_url(None, "/srv/instance") == "sqlite:////srv/instance/lms.sqlite3"


def test_migrations_build_exactly_the_models_schema(tmp_path, migration_url):
    """`lms db upgrade` on an empty database yields the schema the models describe."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=migration_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []


def test_the_input_bounds_migration_pulls_out_of_range_due_dates_into_range(tmp_path, migration_url):
    """Rows stored before 0013 with a 9999-12-31 due date are clamped, so adding the CHECK constraints succeeds."""
    from datetime import date

    from sqlalchemy import insert

    from lms.curricula.models import Assignment, Curriculum

    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=migration_url)
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as conn:
            conn.execute(insert(User).values(id=1, email="s@hospital.test", name="S", role="supervisor"))
            conn.execute(insert(Curriculum).values(id=1, name="C", owner_id=1))
            conn.execute(insert(Assignment).values(id=1, curriculum_id=1, cohort_id=None, user_id=1,
                                                   start_on=date(2026, 1, 1), due_on=date(9999, 12, 31),
                                                   curriculum_version=1, created_by_id=1))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(select(Assignment.__table__.c.due_on)).scalar_one() == date(2199, 12, 31)
        db.engine.dispose()
