"""The JSON API: personal tokens, scopes, and an OpenAPI document that matches the URL map."""

import re

import jsonschema
from schemathesis.specs.openapi.definitions import OPENAPI_30
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


def test_openapi_document_is_valid_openapi_3(client):
    document = client.get("/api/v1/openapi.json").json
    errors = [error.message for error in jsonschema.Draft4Validator(OPENAPI_30).iter_errors(document)]
    assert errors == []
    for operations in document["paths"].values():
        for operation in operations.values():
            assert "400" in operation["responses"], operation["operationId"]
            if operation.get("security") != []:
                assert "401" in operation["responses"], operation["operationId"]
            for parameter in operation.get("parameters", []):
                if parameter["name"] in ("start", "end"):
                    assert parameter["schema"]["format"] == "date" and parameter["schema"]["pattern"]


def test_a_405_names_the_methods_that_are_allowed(app, client):
    response = client.post("/api/v1/me/credits")
    assert response.status_code == 405 and response.json["error"] == "Method not allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    page = client.delete("/login")
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert {"GET", "POST"} <= set(page.headers["Allow"].replace(" ", "").split(","))


def test_date_parameters_must_be_dates_in_range_when_given(app, client):
    supervisor = create_user("supervisor")
    cohort = create_cohort("Mine", supervisors=[supervisor])
    login(client, supervisor)
    token = new_token(client)
    api = app.test_client()
    for url in ("/api/v1/me/transcript", f"/api/v1/cohorts/{cohort.id}/credits"):
        for query in ("start=", "end=", "start=%20", "start=2026-02-30", "start=2026-1-05", "start=2026-W01-1",
                      "start=20260105", "end=9999-12-31", "start=1899-12-31", "end=%202026-01-05"):
            response = api.get(f"{url}?{query}", headers=bearer(token))
            assert response.status_code == 400, (url, query)
            assert query.split("=")[0] in response.json["message"], (url, query)
        assert api.get(f"{url}?start=1900-01-01&end=2199-12-31", headers=bearer(token)).status_code == 200
        assert api.get(url, headers=bearer(token)).status_code == 200
    assert api.get(f"/api/v1/cohorts/{2**31}/credits", headers=bearer(token)).status_code == 404
