"""Profile fields (NABP e-Profile ID, birth MMDD) and changing a password."""

import pytest

from tests.conftest import PASSWORD, create_user, fresh, login, post_form


def save_profile(client, user, **changes):
    data = {"name": user.name, "email": user.email, "nabp_eprofile_id": "", "birth_mmdd": "", "submit": "1"}
    data.update(changes)
    return post_form(client, "/profile", data)


def test_profile_saves_valid_values(app, client, login_as):
    user = login_as("trainee")
    response = save_profile(client, user, name="Jordan Lee", nabp_eprofile_id="1234567", birth_mmdd="0415")
    assert response.status_code == 302
    saved = fresh(user)
    assert (saved.name, saved.nabp_eprofile_id, saved.birth_mmdd) == ("Jordan Lee", "1234567", "0415")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("nabp_eprofile_id", "12345", "6 to 10 digits"),
    ("nabp_eprofile_id", "12345678901", "10 characters"),
    ("nabp_eprofile_id", "12a4567", "6 to 10 digits"),
    ("birth_mmdd", "1332", "MMDD"),
    ("birth_mmdd", "0231", "MMDD"),
    ("birth_mmdd", "april", "MMDD"),
])
def test_profile_rejects_malformed_values_and_changes_nothing(app, client, login_as, field, value, message):
    user = login_as("trainee")
    response = save_profile(client, user, name="Changed Name", **{field: value})
    assert message in response.text
    assert fresh(user).name != "Changed Name"


def test_profile_email_must_be_unique(app, client, login_as):
    other = create_user("trainee")
    user = login_as("trainee")
    response = save_profile(client, user, email=other.email)
    assert "already exists" in response.text
    assert fresh(user).email != other.email


def test_change_password_needs_the_current_one(app, client, login_as):
    user = login_as("trainee")
    wrong = post_form(client, "/profile/password", {"pw-current_password": "nope nope nope",
                                                     "pw-new_password": "brand new passphrase",
                                                     "pw-confirm": "brand new passphrase"})
    assert "current password is not correct" in wrong.text
    ok = post_form(client, "/profile/password", {"pw-current_password": PASSWORD,
                                                  "pw-new_password": "brand new passphrase",
                                                  "pw-confirm": "brand new passphrase"})
    assert ok.status_code == 302
    assert client.get("/home").status_code == 200, "the session that changed the password stays signed in"
    assert login(app.test_client(), user, "brand new passphrase").status_code == 302


def test_changing_password_signs_out_other_sessions(app, client):
    user = create_user("trainee")
    other_device = app.test_client()
    login(other_device, user)
    login(client, user)
    post_form(client, "/profile/password", {"pw-current_password": PASSWORD, "pw-new_password": "brand new passphrase",
                                             "pw-confirm": "brand new passphrase"})
    assert other_device.get("/home").status_code == 302


def test_weak_new_password_is_refused(app, client, login_as):
    user = login_as("trainee")
    response = post_form(client, "/profile/password", {"pw-current_password": PASSWORD,
                                                        "pw-new_password": "qwerty123456",
                                                        "pw-confirm": "qwerty123456"})
    assert "too common" in response.text
    assert login(app.test_client(), user, PASSWORD).status_code == 302
