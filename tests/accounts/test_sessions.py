"""Server-side session records: signing out ends a session for good, and the profile manages them."""

from datetime import timedelta

from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import UserSession
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import PASSWORD, create_user, login, post_form


def copy_cookie(source, target) -> None:
    """Give ``target`` the session cookie ``source`` holds right now (a stolen or copied cookie)."""
    cookie = source.get_cookie("session", domain="lms.test")
    target.set_cookie("session", cookie.value, domain="lms.test")


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_profile(app, client):
    """Issue 11 item 4: after POST /logout, the old cookie is redirected to sign-in like any stranger."""
    login(client, create_user("trainee"))
    thief = app.test_client()
    copy_cookie(client, thief)
    assert thief.get("/profile").status_code == 200, "the copy works while the session is live"
    post_form(client, "/logout")
    response = thief.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(UserSession.ended_at)) is not None


def test_the_profile_lists_sessions_and_marks_this_one(app, client):
    user = create_user("trainee")
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = "Laptop browser/1.0"
    login(laptop, user)
    client.environ_base["HTTP_USER_AGENT"] = "Phone browser/2.0"
    login(client, user)
    page = client.get("/profile").text
    section = page[page.index('id="sessions-h"'):]
    assert "Laptop browser/1.0" in section and "Phone browser/2.0" in section
    phone_row = next(row for row in section.split("<tr>") if "Phone browser/2.0" in row)
    assert "this device" in phone_row
    assert "this device" not in next(row for row in section.split("<tr>") if "Laptop browser/1.0" in row)
    assert "Sign out everywhere" in section


def test_sign_out_everywhere_ends_every_session(app, client):
    user = create_user("trainee")
    other_devices = [app.test_client(), app.test_client()]
    for device in other_devices:
        login(device, user)
    login(client, user)
    response = post_form(client, "/profile/sessions/end-all")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    for device in [client, *other_devices]:
        assert device.get("/profile").status_code == 302
    assert db.session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).all() == []
    assert login(client, user).status_code == 302, "signing in again starts a new session"


def test_signing_out_one_other_session_from_the_profile(app, client):
    user = create_user("trainee")
    lost_phone = app.test_client()
    login(lost_phone, user)
    phone_session = db.session.scalar(select(UserSession.id))
    login(client, user)
    assert post_form(client, f"/profile/sessions/{phone_session}/end").status_code == 302
    assert lost_phone.get("/profile").status_code == 302
    assert client.get("/profile").status_code == 200, "this session carries on"


def test_nobody_can_end_someone_elses_session(app, client):
    victim = create_user("trainee")
    victim_client = app.test_client()
    login(victim_client, victim)
    victim_session = db.session.scalar(select(UserSession.id))
    login(client, create_user("trainee"))
    response = post_form(client, f"/profile/sessions/{victim_session}/end", follow_redirects=True)
    assert "not one of yours" in response.text
    assert victim_client.get("/profile").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_renews_this_one(app, client):
    user = create_user("trainee")
    other_device = app.test_client()
    login(other_device, user)
    login(client, user)
    before = client.get_cookie("session", domain="lms.test").value
    stale = app.test_client()
    copy_cookie(client, stale)
    response = post_form(client, "/profile/password", {"pw-current_password": PASSWORD,
                                                       "pw-new_password": "brand new passphrase",
                                                       "pw-confirm": "brand new passphrase"})
    assert response.status_code == 302
    assert other_device.get("/profile").status_code == 302
    assert stale.get("/profile").status_code == 302, "the session from before the change is over too"
    assert client.get("/profile").status_code == 200
    assert client.get_cookie("session", domain="lms.test").value != before
    live = db.session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).all()
    assert len(live) == 1


def test_deactivation_ends_every_session(app, client):
    trainee = create_user("trainee")
    login(client, trainee)
    admin = app.test_client()
    login(admin, create_user("admin"))
    post_form(admin, f"/admin/users/{trainee.id}/active", {"active": "0"})
    assert client.get("/profile").status_code == 302
    ended = db.session.scalars(select(UserSession.ended_at).where(UserSession.user_id == trainee.id)).all()
    assert ended and all(ended)


def test_an_idle_session_ends_and_last_seen_is_written_at_most_once_a_minute(app):
    """The loader refuses a session idle past the limit and refreshes last_seen_at only when a minute old."""
    user = create_user("trainee")
    now = utcnow()
    signed_in = services.start_session(db.session, user, now, "browser", "192.0.2.1")
    db.session.commit()
    idle = timedelta(hours=8)
    loaded = services.load_session_user(db.session, signed_in.session_key, now + timedelta(seconds=30), idle)
    assert loaded.session_id == signed_in.session_id
    assert not services.touch_session(db.session, loaded, now + timedelta(seconds=30))
    later = now + timedelta(hours=7)
    assert services.touch_session(db.session, loaded, later)
    db.session.commit()
    assert services.load_session_user(db.session, signed_in.session_key, later + timedelta(hours=7), idle)
    assert services.load_session_user(db.session, signed_in.session_key, later + timedelta(hours=9), idle) is None
    assert services.load_session_user(db.session, "not-a-key", now, idle) is None
