"""The JSON API: personal tokens, scopes, and an OpenAPI document that matches the URL map."""

import re

from sqlalchemy import select

from lms.api.models import ApiToken
from lms.extensions import db
from lms.progress.models import Credit
from tests.conftest import create_cohort, create_user, login, post_form
from tests.progress.test_completion import complete

TOKEN = re.compile(r'id="new-token" type="text" readonly value="(lms_[^"]+)"')


def new_token(client, name="script") -> str:
    page = post_form(client, "/profile/api-tokens", {"token-name": name}).text
    return TOKEN.search(page).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_is_shown_once_stored_hashed_and_revocable(app, client, login_as):
    user = login_as("trainee")
    complete(client)
    token = new_token(client)
    stored = db.session.scalar(select(ApiToken))
    assert token not in (stored.token_hash, stored.prefix) and stored.prefix == token[:10]
    assert token not in client.get("/profile").text, "shown once, never again"
    api = app.test_client()
    response = api.get("/api/v1/me/credits", headers=bearer(token))
    assert response.status_code == 200
    assert [c["activity_title"] for c in response.json["credits"]] == ["Alpha module"]
    assert response.json["credits"][0]["status"] == "valid"
    post_form(client, f"/profile/api-tokens/{stored.id}/revoke")
    assert api.get("/api/v1/me/credits", headers=bearer(token)).status_code == 401
    assert user.id == stored.user_id


def test_api_refuses_missing_or_wrong_tokens_with_json(app, client):
    for headers in ({}, bearer("lms_forged"), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/me/transcript", headers=headers)
        assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_a_token_does_not_work_outside_the_api(app, client, login_as):
    login_as("trainee")
    token = new_token(client)
    assert app.test_client().get("/learning", headers=bearer(token)).status_code == 302


def test_transcript_and_verify(app, client, login_as):
    login_as("trainee")
    complete(client)
    token = new_token(client)
    api = app.test_client()
    transcript = api.get("/api/v1/me/transcript", headers=bearer(token)).json
    assert transcript["total_hours"] == 0.5 and transcript["totals_by_year"][0]["hours"] == 0.5
    assert api.get("/api/v1/me/transcript?start=nope", headers=bearer(token)).status_code == 400
    code = db.session.scalar(select(Credit.verification_code))
    assert api.get(f"/api/v1/verify/{code}").json["status"] == "valid"
    assert api.get("/api/v1/verify/0000-0000-0000").status_code == 404


def test_supervisor_sees_only_own_cohorts(app, client):
    supervisor, other = create_user("supervisor"), create_user("supervisor")
    trainee = create_user("trainee")
    mine = create_cohort("Mine", supervisors=[supervisor], trainees=[trainee])
    theirs = create_cohort("Theirs", supervisors=[other])
    trainee_client = app.test_client()
    login(trainee_client, trainee)
    complete(trainee_client)
    login(client, supervisor)
    token = new_token(client)
    api = app.test_client()
    cohorts = api.get("/api/v1/cohorts", headers=bearer(token)).json["cohorts"]
    assert [c["name"] for c in cohorts] == ["Mine"]
    assert cohorts[0]["trainees"][0]["credits"] == 1
    assert len(api.get(f"/api/v1/cohorts/{mine.id}/credits", headers=bearer(token)).json["credits"]) == 1
    assert api.get(f"/api/v1/cohorts/{theirs.id}/credits", headers=bearer(token)).status_code == 403
    trainee_token = new_token(trainee_client)
    assert api.get("/api/v1/cohorts", headers=bearer(trainee_token)).status_code == 403


def test_openapi_documents_every_api_route_and_nothing_else(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = set(document["paths"])
    routed = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")}
    assert documented == routed
    for path, operations in document["paths"].items():
        for method in operations:
            rule = next(r for r in app.url_map.iter_rules()
                        if re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) == path)
            assert method.upper() in rule.methods, (path, method)
