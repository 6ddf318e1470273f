"""Admin user management and one-time set-password links."""

import re
from datetime import timedelta

from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import AuditEvent, PasswordLink, User
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import create_user, fresh, login, post_form

LINK = re.compile(r'value="(http://lms\.test/set-password/[^"]+)"')


def create_via_admin(client, email="new.tech@hospital.test", role="trainee"):
    return post_form(client, "/admin/users/new", {"name": "New Tech", "email": email, "role": role})


def test_admin_creates_a_user_and_gets_a_one_time_link(app, client, login_as):
    login_as("admin")
    response = create_via_admin(client)
    assert response.status_code == 200
    link = LINK.search(response.text).group(1)
    user = db.session.scalar(select(User).where(User.email == "new.tech@hospital.test"))
    assert user.password_hash is None, "admins never choose a password"

    stranger = app.test_client()
    page = stranger.get(link)
    assert "new.tech@hospital.test" in page.text
    set_ok = post_form(stranger, link, {"password": "a long pass phrase", "confirm": "a long pass phrase"})
    assert set_ok.status_code == 302
    assert login(stranger, "new.tech@hospital.test", "a long pass phrase").status_code == 302

    reused = app.test_client().get(link)
    assert reused.status_code == 410 and "already been used" in reused.text


def test_duplicate_email_is_refused_and_creates_nothing(app, client, login_as):
    login_as("admin")
    existing = create_user("trainee", email="taken@hospital.test")
    response = create_via_admin(client, email="TAKEN@hospital.test")
    assert "already exists" in response.text
    assert db.session.scalar(select(User).where(User.email == "taken@hospital.test")).id == existing.id
    assert db.session.query(User).count() == 2


def test_malformed_email_is_refused(app, client, login_as):
    login_as("admin")
    response = create_via_admin(client, email="not-an-email")
    assert "Enter an email address" in response.text
    assert db.session.query(User).count() == 1


def test_expired_link_is_refused_and_sets_nothing(app, client):
    user = create_user("trainee", password=None)
    token = services.issue_password_link(db.session, services.Actor(None), user, utcnow() - timedelta(hours=100), 72)
    db.session.commit()
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 410 and "expired" in page.text
    phrase = "a long pass phrase"
    post = post_form(client, f"/set-password/{token}", {"password": phrase, "confirm": phrase})
    assert post.status_code == 410
    assert fresh(user).password_hash is None


def test_a_new_link_cancels_the_previous_one(app, client, login_as):
    login_as("admin")
    user = create_user("trainee", password=None)
    first = LINK.search(post_form(client, f"/admin/users/{user.id}/password-link").text).group(1)
    second = LINK.search(post_form(client, f"/admin/users/{user.id}/password-link").text).group(1)
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200
    assert db.session.query(PasswordLink).filter(PasswordLink.used_at.is_(None)).count() == 1


def test_weak_password_on_a_link_is_refused_and_the_link_still_works(app, client):
    user = create_user("trainee", password=None)
    token = services.issue_password_link(db.session, services.Actor(None), user, utcnow(), 72)
    db.session.commit()
    for weak, reason in (("short", "at least 12"), ("password1234", "too common")):
        response = post_form(client, f"/set-password/{token}", {"password": weak, "confirm": weak})
        assert reason in response.text
    assert fresh(user).password_hash is None
    assert client.get(f"/set-password/{token}").status_code == 200


def test_role_change_is_audited_and_admin_cannot_demote_self(app, client, login_as):
    admin = login_as("admin")
    user = create_user("trainee")
    post_form(client, f"/admin/users/{user.id}", {"name": user.name, "email": user.email, "role": "supervisor"})
    assert fresh(user).role == "supervisor"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
    assert event.actor_id == admin.id and event.details["changes"]["role"] == ["trainee", "supervisor"]

    response = post_form(client, f"/admin/users/{admin.id}", {"name": admin.name, "email": admin.email,
                                                             "role": "trainee"})
    assert "cannot change your own role" in response.text
    assert fresh(admin).role == "admin"


def test_deactivate_and_reactivate(app, client, login_as):
    login_as("admin")
    user = create_user("trainee")
    post_form(client, f"/admin/users/{user.id}/active", {"active": "0"})
    assert fresh(user).active is False
    post_form(client, f"/admin/users/{user.id}/active", {"active": "1"})
    assert fresh(user).active is True
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == user.id)).all()
    assert "user.deactivated" in actions and "user.reactivated" in actions


def test_user_list_filters_by_role_and_text(app, client, login_as):
    login_as("admin")
    create_user("trainee", name="Alpha Tech")
    create_user("supervisor", name="Beta Boss")
    page = client.get("/admin/users?role=supervisor").text
    assert "Beta Boss" in page and "Alpha Tech" not in page
    page = client.get("/admin/users?q=alpha").text
    assert "Alpha Tech" in page and "Beta Boss" not in page


def test_audit_log_page_lists_events(app, client, login_as):
    login_as("admin")
    page = client.get("/admin/audit?action=login")
    assert "login.succeeded" in page.text
