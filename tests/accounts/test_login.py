"""Signing in and out: generic errors, throttling, CSRF, deactivation, safe redirects."""

from sqlalchemy import select

from lms.accounts.models import AuditEvent
from lms.extensions import db
from tests.conftest import PASSWORD, create_user, csrf_token, fresh, login, make_app, post_form, reset_database


def test_each_role_signs_in_and_sees_its_home(app, client):
    """Trainee, supervisor and admin each land on their own home page."""
    headings = {"trainee": "Continue learning", "supervisor": "Your cohorts", "admin": "Recent activity"}
    for role, heading in headings.items():
        user = create_user(role)
        login(client, user)
        page = client.get("/home")
        assert page.status_code == 200 and heading in page.text, role
        post_form(client, "/logout")


def test_post_without_csrf_token_is_rejected_and_signs_nobody_in(app, client):
    """A sign-in POST without a token gets 400 and no session."""
    user = create_user("trainee")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.text
    assert client.get("/home").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_message(app, client):
    """Neither answer reveals whether the email has an account."""
    user = create_user("trainee")
    wrong = post_form(client, "/login", {"email": user.email, "password": "not the password"})
    unknown = post_form(client, "/login", {"email": "nobody@hospital.test", "password": "not the password"})
    assert "Email or password is incorrect." in wrong.text
    assert "Email or password is incorrect." in unknown.text
    failures = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert len(failures) == 2


def test_email_is_matched_case_insensitively(app, client):
    user = create_user("trainee", email="Jordan.Lee@Hospital.test".lower())
    response = post_form(client, "/login", {"email": "  JORDAN.LEE@hospital.TEST ", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/home").status_code == 200
    assert user.email == "jordan.lee@hospital.test"


def test_deactivated_account_cannot_sign_in(app, client):
    user = create_user("trainee", active=False)
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert "deactivated" in response.text
    assert client.get("/home").status_code == 302


def test_deactivating_ends_an_existing_session(app, client):
    """An admin deactivating a signed-in user signs that user out on the next request."""
    trainee = create_user("trainee")
    login(client, trainee)
    assert client.get("/home").status_code == 200
    admin_client = app.test_client()
    login(admin_client, create_user("admin"))
    post_form(admin_client, f"/admin/users/{trainee.id}/active", {"active": "0"})
    assert client.get("/home").status_code == 302


def test_failed_sign_ins_are_throttled_per_account(app, client):
    """After five failures the account is locked for a while, even with the right password."""
    user = create_user("trainee")
    for _ in range(5):
        post_form(client, "/login", {"email": user.email, "password": "wrong password!"})
    blocked = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts for this account" in blocked.text
    other = create_user("trainee")
    assert post_form(app.test_client(), "/login", {"email": other.email, "password": PASSWORD}).status_code == 302


def test_successful_sign_ins_do_not_count_against_the_account(app, client):
    user = create_user("trainee")
    for _ in range(7):
        login(client, user)
        post_form(client, "/logout")
    assert post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302


def test_sign_in_is_throttled_per_address(tmp_path):
    """Many attempts from one address against different accounts are refused too."""
    app = make_app(tmp_path, LOGIN_LIMIT_PER_IP="3 per minute")
    reset_database(app)
    client = app.test_client()
    statuses = [post_form(client, "/login", {"email": f"u{i}@hospital.test", "password": "x" * 12}).status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_sign_out_requires_post(app, client):
    login(client, create_user("trainee"))
    assert client.get("/logout").status_code == 405
    assert client.get("/home").status_code == 200
    assert post_form(client, "/logout").status_code == 302
    assert client.get("/home").status_code == 302


def test_next_parameter_only_redirects_within_the_site(app, client):
    user = create_user("trainee")
    token = csrf_token(client)
    evil = client.post("/login?next=https://evil.example/x", data={"email": user.email, "password": PASSWORD,
                                                                    "csrf_token": token})
    assert evil.headers["Location"].endswith("/home")
    post_form(client, "/logout")
    good = client.post("/login?next=/profile", data={"email": user.email, "password": PASSWORD,
                                                      "csrf_token": csrf_token(client)})
    assert good.headers["Location"] == "/profile"


def test_sign_in_is_recorded_in_the_audit_log(app, client):
    user = create_user("supervisor")
    login(client, user)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.succeeded")).one()
    assert event.actor_id == user.id
    assert fresh(user).last_login_at is not None
