"""Schemathesis against /api/v1/openapi.json on a served test app: the API does what its document says.

Each operation gets the examples, coverage (missing, empty and malformed parameters, undeclared methods) and
fuzzing phases in positive and negative mode, bounded to 25 generated examples. positive_data_acceptance is left
out on purpose: a request the schema allows may still be refused for a rule a schema cannot state (an end date
before the start date), and 400 is documented for that.
"""

import threading

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from werkzeug.serving import make_server

from lms.accounts.services import Actor
from lms.api.openapi import openapi_document
from lms.api.services import create_token
from lms.certificates.services import revoke
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import Credit
from tests.conftest import TEST_DATABASE_URL, create_cohort, create_user, login, make_app, reset_database
from tests.progress.test_completion import complete


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    """A served app where a supervisor (with a token) has a cohort, credits of their own and of trainees."""
    tmp = tmp_path_factory.mktemp("api")
    app = make_app(tmp, SQLALCHEMY_DATABASE_URI=TEST_DATABASE_URL or f"sqlite:///{tmp / 'api.sqlite3'}",
                   SERVER_NAME=None, TESTING=False)
    reset_database(app)
    with app.app_context():
        supervisor, admin = create_user("supervisor"), create_user("admin")
        trainees = [create_user("trainee"), create_user("trainee")]
        create_cohort("Main", supervisors=[supervisor], trainees=trainees)
        create_cohort("Someone else's", supervisors=[create_user("supervisor")], trainees=[create_user("trainee")])
        for user in (supervisor, *trainees):
            client = app.test_client()
            login(client, user)
            complete(client)
        credit = db.session.query(Credit).filter_by(user_id=trainees[1].id).one()
        revoke(db.session, Actor(admin.id), credit, "Issued in error during testing", utcnow())
        _token, secret = create_token(db.session, Actor(supervisor.id), supervisor.id, "schemathesis", utcnow())
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    assert requests.get(f"{url}/api/v1/openapi.json", timeout=10).json() == openapi_document(url)
    with app.app_context():
        codes = {c.verification_code for c in db.session.query(Credit)}
    yield url, secret, codes
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# The document the API serves (the fixture checks that it is this one), loaded eagerly so that pytest
# reports each operation; the requests go to the served app through base_url.
schema = schemathesis.openapi.from_dict(openapi_document("http://127.0.0.1"))
# The token is sent with every request below; do not also generate (or negate) the Authorization header.
schema.config.generation.update(with_security_parameters=False)


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
          response_headers_conformance, negative_data_rejection, unsupported_method, allow_header_conformance]


def test_verifying_real_codes_keeps_to_the_document(api_server):
    """Generated codes almost never exist: check the valid and revoked answers with the seeded ones.

    Runs before the generated requests, which may well use up verify's 30 requests a minute (a 429, documented).
    """
    url, _secret, codes = api_server
    operation = schema["/api/v1/verify/{code}"]["GET"]
    statuses = set()
    for code in codes:
        response = operation.Case(path_parameters={"code": code}).call_and_validate(base_url=url, checks=CHECKS)
        statuses.add(response.json()["status"])
    assert statuses == {"valid", "revoked"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_openapi_document(case, api_server):
    url, secret, _codes = api_server
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)



def test_a_throttled_verification_keeps_to_the_document(api_server):
    """Runs last: verify allows 30 requests a minute from one address, then answers 429 as documented."""
    url, _secret, _codes = api_server
    case = schema["/api/v1/verify/{code}"]["GET"].Case(path_parameters={"code": "0000-0000-0000"})
    statuses = [case.call_and_validate(base_url=url, checks=CHECKS).status_code for _ in range(31)]
    assert statuses[-1] == 429 and set(statuses) <= {404, 429}
