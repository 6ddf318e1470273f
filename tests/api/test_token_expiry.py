"""API tokens expire (a term chosen at creation), and password changes and deactivation can revoke them."""

from datetime import timedelta

from sqlalchemy import select, update

from lms.api.models import ApiToken
from lms.db import utcnow
from lms.extensions import db
from tests.api.test_api import bearer, new_token
from tests.conftest import PASSWORD, create_user, login, post_form


def token_row() -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))


def test_a_token_lasts_90_days_unless_another_term_is_chosen(app, client, login_as):
    login_as("trainee")
    new_token(client)
    assert abs(token_row().expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    page = post_form(client, "/profile/api-tokens", {"token-name": "weekly", "token-days": "7"}).text
    assert "lms_" in page
    assert abs(token_row().expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=5)
    assert token_row().expires_at.strftime("%Y-%m-%d") in client.get("/profile").text


def test_a_term_outside_the_choices_is_refused(app, client, login_as):
    login_as("trainee")
    response = post_form(client, "/profile/api-tokens", {"token-name": "forever", "token-days": "36500"})
    assert "choose how long it lasts" in response.text
    assert token_row() is None


def test_an_expired_token_is_refused(app, client, login_as):
    login_as("trainee")
    token = new_token(client)
    api = app.test_client()
    assert api.get("/api/v1/me/credits", headers=bearer(token)).status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = api.get("/api/v1/me/credits", headers=bearer(token))
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert "expired" in client.get("/profile").text


def test_deactivation_revokes_the_users_tokens(app, client):
    trainee = create_user("trainee")
    login(client, trainee)
    token = new_token(client)
    admin = app.test_client()
    login(admin, create_user("admin"))
    post_form(admin, f"/admin/users/{trainee.id}/active", {"active": "0"})
    assert token_row().revoked_at is not None
    post_form(admin, f"/admin/users/{trainee.id}/active", {"active": "1"})
    assert app.test_client().get("/api/v1/me/credits", headers=bearer(token)).status_code == 401, \
        "reactivating the account does not bring its tokens back"


def test_a_password_change_revokes_tokens_when_asked(app, client, login_as):
    login_as("trainee")
    kept = new_token(client, "kept")
    change = {"pw-current_password": PASSWORD, "pw-new_password": "brand new passphrase",
              "pw-confirm": "brand new passphrase"}
    assert post_form(client, "/profile/password", change).status_code == 302
    api = app.test_client()
    assert api.get("/api/v1/me/credits", headers=bearer(kept)).status_code == 200, "unticked: tokens stay"
    page = client.get("/profile").text
    assert "Also revoke all my API tokens" in page
    again = {"pw-current_password": "brand new passphrase", "pw-new_password": "another fine passphrase",
             "pw-confirm": "another fine passphrase", "pw-revoke_tokens": "y"}
    assert post_form(client, "/profile/password", again).status_code == 302
    assert api.get("/api/v1/me/credits", headers=bearer(kept)).status_code == 401
