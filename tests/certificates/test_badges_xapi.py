"""Open Badges 3.0 credentials (built, schema-validated, signed as VC-JWT) and xAPI 1.0.3 statements."""

import copy
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jsonschema import Draft201909Validator
from jsonschema.validators import validator_for

from lms.certificates.badges import (
    RevokedCredentialError,
    achievement_credential,
    identity_hash,
    sign_credential,
)
from lms.certificates.xapi import xapi_statements

OB3_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "ob3" / "ob_v3p0_achievementcredential_schema.json"

EMAIL = "Trainee.7731@Hospital.Example"
SALT = "b5c1e0d2a9f34c7e"
VALID_FROM = datetime(2025, 3, 2, 10, 25, 7, tzinfo=UTC)


def build(**overrides):
    values = {
        "credential_id": "https://lms.example/verify/ABCD-EFGH-JKMN",
        "issuer_id": "https://lms.example/",
        "issuer_name": "Example Pharmacy Informatics Academy",
        "issuer_url": "https://lms.example/",
        "achievement_id": "https://lms.example/modules/pharmacy-informatics-101",
        "achievement_name": "Pharmacy Informatics 101",
        "achievement_description": "Completed the Pharmacy Informatics 101 module (PIA-2025-001).",
        "criteria": "Read every lesson, passed the post-test at 70% and submitted the evaluation.",
        "contact_hours": 1.5,
        "activity_number": "PIA-2025-001",
        "recipient_email": EMAIL,
        "recipient_name": "Ana Reyes",
        "salt": SALT,
        "valid_from": VALID_FROM,
    }
    values.update(overrides)
    return achievement_credential(**values)


def lookup(document, dotted):
    for part in dotted.split("."):
        document = document[part]
    return document


# --- Open Badges 3.0: the credential -------------------------------------------------------------

# Required properties (multiplicity [1], [1..*] or [2..*]) from Open Badges Specification v3.0, Appendix B.1
# "Credential Data Models" (https://www.imsglobal.org/spec/ob/v3p0/#data-models), with the JSON type that
# Appendix A.1 "JSON" maps them to (unordered sets, [1..*], MUST be JSON arrays; complex types JSON objects).
REQUIRED_FIELDS = [
    # B.1.2 AchievementCredential
    ("@context", list),  # Context [2..*]: 'https://www.w3.org/ns/credentials/v2', then the OB 3.0.3 context
    ("id", str),  # URI [1]
    ("type", list),  # IRI [1..*]: 'VerifiableCredential' and 'AchievementCredential' or 'OpenBadgeCredential'
    ("issuer", dict),  # ProfileRef [1] (a URI or a Profile; we send the Profile)
    ("validFrom", str),  # DateTimeZ [1]
    ("credentialSubject", dict),  # AchievementSubject [1]
    # B.1.14 Profile (the issuer)
    ("issuer.id", str),  # URI [1]
    ("issuer.type", list),  # IRI [1..*], includes 'Profile'
    # B.1.3 AchievementSubject: "Either id or at least one identifier MUST be supplied" -- we supply identifier
    ("credentialSubject.type", list),  # IRI [1..*], includes 'AchievementSubject'
    ("credentialSubject.achievement", dict),  # Achievement [1]
    ("credentialSubject.identifier", list),  # IdentityObject [0..*], here required by the either/or rule
    # B.1.1 Achievement
    ("credentialSubject.achievement.id", str),  # URI [1]
    ("credentialSubject.achievement.type", list),  # IRI [1..*], includes 'Achievement'
    ("credentialSubject.achievement.criteria", dict),  # Criteria [1]
    ("credentialSubject.achievement.description", str),  # String [1]
    ("credentialSubject.achievement.name", str),  # String [1]
]
# B.1.12 IdentityObject: every property but salt is required.
IDENTITY_OBJECT_REQUIRED = [("type", str), ("hashed", bool), ("identityHash", str), ("identityType", str)]


@pytest.mark.parametrize(("path", "json_type"), REQUIRED_FIELDS, ids=[path for path, _ in REQUIRED_FIELDS])
def test_every_required_property_is_present_with_its_json_type(path, json_type):
    value = lookup(build(), path)
    assert isinstance(value, json_type), f"{path} is {type(value).__name__}, not {json_type.__name__}"
    assert value or value is False, f"{path} is empty"


def test_identity_objects_have_every_required_property():
    identifiers = build()["credentialSubject"]["identifier"]
    assert identifiers
    for identity in identifiers:
        for name, json_type in IDENTITY_OBJECT_REQUIRED:
            assert isinstance(identity[name], json_type), (name, identity)
        assert identity["type"] == "IdentityObject"


def test_context_and_type_arrays_are_the_ones_the_spec_requires():
    credential = build()
    assert credential["@context"][:2] == ["https://www.w3.org/ns/credentials/v2",
                                          "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert "Profile" in credential["issuer"]["type"]
    assert "AchievementSubject" in credential["credentialSubject"]["type"]
    assert "Achievement" in credential["credentialSubject"]["achievement"]["type"]


def test_optional_fields_carry_the_credit():
    credential = build(contact_hours=2)
    achievement = credential["credentialSubject"]["achievement"]
    assert credential["name"] == "Pharmacy Informatics 101"
    assert credential["issuer"]["name"] == "Example Pharmacy Informatics Academy"
    assert credential["issuer"]["url"] == "https://lms.example/"
    assert achievement["criteria"] == {
        "narrative": "Read every lesson, passed the post-test at 70% and submitted the evaluation."}
    assert achievement["creditsAvailable"] == 2.0 and isinstance(achievement["creditsAvailable"], float)
    assert credential["credentialSubject"]["creditsEarned"] == 2.0
    assert achievement["humanCode"] == "PIA-2025-001"
    assert achievement["achievementType"] == "CertificateOfCompletion"


def test_valid_from_is_iso_8601_with_a_time_zone():
    eastern = timezone(timedelta(hours=-5))
    credential = build(valid_from=datetime(2025, 3, 2, 5, 25, 7, tzinfo=eastern))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})", credential["validFrom"])
    parsed = datetime.fromisoformat(credential["validFrom"])
    assert parsed.tzinfo is not None
    assert parsed == VALID_FROM  # the same instant, written in UTC


def test_a_naive_valid_from_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        build(valid_from=datetime(2025, 3, 2, 10, 25))


def test_recipient_email_is_only_present_as_a_salted_sha256_hash():
    credential = build()
    identifiers = credential["credentialSubject"]["identifier"]
    (email_identity,) = [i for i in identifiers if i["identityType"] == "emailAddress"]
    assert email_identity["hashed"] is True
    assert email_identity["salt"] == SALT
    assert re.fullmatch(r"sha256\$[0-9a-f]{64}", email_identity["identityHash"])
    expected = hashlib.sha256((EMAIL.lower() + SALT).encode("utf-8")).hexdigest()
    assert email_identity["identityHash"] == f"sha256${expected}"
    text = json.dumps(credential).lower()
    assert EMAIL.lower() not in text
    assert "trainee.7731" not in text and "hospital.example" not in text


def test_identity_hash_matches_the_specification_example():
    # OB 3.0 § B.7 IdentityHash: SHA-256 of 'a@example.com' salted with 'Kosher'.
    assert identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399")
    # Letter case in the address does not change the credential's hash.
    assert build(recipient_email="a@example.com", salt="Kosher")["credentialSubject"]["identifier"][0][
        "identityHash"] == build(recipient_email=" A@Example.COM ", salt="Kosher")["credentialSubject"][
        "identifier"][0]["identityHash"]


def test_recipient_name_is_a_plain_name_identity():
    identities = build()["credentialSubject"]["identifier"]
    assert {"type": "IdentityObject", "identityHash": "Ana Reyes", "identityType": "name",
            "hashed": False} in identities


def test_credential_round_trips_through_json():
    credential = build()
    assert json.loads(json.dumps(credential)) == credential


def test_credential_is_deterministic():
    assert build() == build()


def test_credential_validates_against_the_ob3_json_schema():
    schema = json.loads(OB3_SCHEMA.read_text(encoding="utf-8"))
    assert validator_for(schema) is Draft201909Validator
    Draft201909Validator.check_schema(schema)
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    credential = build()
    assert [error.message for error in validator.iter_errors(credential)] == []
    # The schema does constrain: the same document without validFrom, or with a bad context, is rejected.
    del credential["validFrom"]
    assert not validator.is_valid(credential)
    assert not validator.is_valid({**build(), "@context": ["https://www.w3.org/2018/credentials/v1"]})


def test_a_revoked_credit_is_not_issued():
    with pytest.raises(RevokedCredentialError):
        build(revoked=True)


@pytest.mark.parametrize("overrides", [{"salt": ""}, {"recipient_email": "not-an-address"},
                                       {"contact_hours": -1}, {"credential_id": " "}])
def test_bad_input_is_refused(overrides):
    with pytest.raises(ValueError):
        build(**overrides)


# --- Open Badges 3.0: VC-JWT signing (§ 8.2) -------------------------------------------------------

def _pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


KEY_MAKERS = {
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
}


@pytest.fixture(scope="module")
def keys():
    return {alg: (make(), make()) for alg, make in KEY_MAKERS.items()}


@pytest.mark.parametrize("alg", sorted(KEY_MAKERS))
def test_signed_credential_verifies_with_the_public_key(keys, alg):
    private_key, _ = keys[alg]
    credential = build()
    original = copy.deepcopy(credential)
    token = sign_credential(credential, _pem(private_key), "https://lms.example/keys#key-1")

    assert credential == original  # the input is not modified
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+", token)  # CompactJws
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": "https://lms.example/keys#key-1", "typ": "JWT"}
    payload = jwt.decode(token, private_key.public_key(), algorithms=[alg],
                         options={"require": ["iss", "jti", "nbf"]})
    assert payload["iss"] == credential["issuer"]["id"]
    assert payload["jti"] == credential["id"]
    assert payload["nbf"] == int(VALID_FROM.timestamp())
    assert "sub" not in payload  # the subject has no id, only identifiers
    assert {k: v for k, v in payload.items() if k not in {"iss", "jti", "nbf"}} == credential


@pytest.mark.parametrize("alg", sorted(KEY_MAKERS))
def test_signed_credential_fails_with_another_key(keys, alg):
    private_key, other_key = keys[alg]
    token = sign_credential(build(), _pem(private_key), "key-1")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_key.public_key(), algorithms=[alg])


def test_tampered_credential_fails_verification(keys):
    private_key, _ = keys["EdDSA"]
    header, payload, signature = sign_credential(build(), _pem(private_key), "key-1").split(".")
    forged = jwt.utils.base64url_encode(json.dumps({**build(), "name": "Forged"}).encode()).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", private_key.public_key(), algorithms=["EdDSA"])


def test_unsupported_signing_key_is_refused():
    with pytest.raises(ValueError, match="P-256"):
        sign_credential(build(), _pem(ec.generate_private_key(ec.SECP384R1())), "key-1")


# --- xAPI 1.0.3 statements -----------------------------------------------------------------------

ADL_VERBS = {
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
}
ACTIVITY_ID = "https://lms.example/modules/pharmacy-informatics-101"
PLUS_TWO = timezone(timedelta(hours=2))
ATTEMPTS = [
    {"id": 11, "started_at": datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
     "submitted_at": datetime(2025, 3, 1, 9, 12, 34, 500000, tzinfo=UTC),
     "score_percent": 62.5, "passed": False, "pass_mark": 70},
    {"id": 12, "started_at": datetime(2025, 3, 2, 12, 0, tzinfo=PLUS_TWO),
     "submitted_at": datetime(2025, 3, 2, 12, 20, tzinfo=PLUS_TWO),
     "score_percent": 85, "passed": True, "pass_mark": 70},
    {"id": 13, "started_at": datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
     "submitted_at": None, "score_percent": None, "passed": None, "pass_mark": 70},
]
COMPLETED_AT = datetime(2025, 3, 2, 10, 25, 7, tzinfo=UTC)


def statements(**overrides):
    values = {"actor_email": "ana.reyes@hospital.example", "actor_name": "Ana Reyes", "activity_id": ACTIVITY_ID,
              "activity_name": "Pharmacy Informatics 101", "attempts": ATTEMPTS, "completed_at": COMPLETED_AT,
              "platform": "Pharmacy Informatics LMS"}
    values.update(overrides)
    return xapi_statements(**values)


def by_verb(result, verb):
    return [s for s in result if s["verb"]["id"] == ADL_VERBS[verb]]


def test_one_attempted_per_attempt_a_result_per_submission_and_one_completed():
    result = statements()
    verbs = [s["verb"]["display"]["en-US"] for s in result]
    assert verbs == ["attempted", "failed", "attempted", "passed", "completed", "attempted"]
    assert len(by_verb(statements(completed_at=None), "completed")) == 0


def test_verbs_are_exactly_the_adl_iris():
    for statement in statements():
        name = statement["verb"]["display"]["en-US"]
        assert statement["verb"] == {"id": ADL_VERBS[name], "display": {"en-US": name}}


def test_every_statement_has_actor_verb_and_object():
    for statement in statements():
        assert {"actor", "verb", "object"} <= statement.keys()
        assert statement["actor"] == {"objectType": "Agent", "name": "Ana Reyes",
                                      "mbox": "mailto:ana.reyes@hospital.example"}
        assert statement["object"] == {
            "objectType": "Activity", "id": ACTIVITY_ID,
            "definition": {"name": {"en-US": "Pharmacy Informatics 101"},
                           "type": "http://adlnet.gov/expapi/activities/module"}}
        assert statement["context"]["platform"] == "Pharmacy Informatics LMS"


def test_score_is_scaled_from_the_percentage():
    scored = by_verb(statements(), "passed") + by_verb(statements(), "failed")
    assert len(scored) == 2
    percent = {"passed": 85, "failed": 62.5}
    for statement in scored:
        score = statement["result"]["score"]
        expected = percent[statement["verb"]["display"]["en-US"]]
        assert -1 <= score["scaled"] <= 1
        assert score["scaled"] == pytest.approx(expected / 100)
        assert score["raw"] == expected and score["min"] == 0 and score["max"] == 100
        assert statement["context"]["extensions"] == {
            "https://w3id.org/xapi/cmi5/context/extensions/masteryscore": pytest.approx(0.7)}


def test_success_matches_passed():
    (passed,) = by_verb(statements(), "passed")
    (failed,) = by_verb(statements(), "failed")
    assert passed["result"]["success"] is True
    assert failed["result"]["success"] is False
    # With passed unknown, success follows the pass mark.
    attempts = [{**ATTEMPTS[1], "passed": None, "score_percent": 69.5}]
    (derived,) = by_verb(statements(attempts=attempts, completed_at=None), "failed")
    assert derived["result"]["success"] is False
    (completed,) = by_verb(statements(), "completed")
    assert completed["result"] == {"completion": True}


def test_timestamps_are_iso_8601_with_a_time_zone():
    result = statements()
    for statement in result:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})", statement["timestamp"])
        assert datetime.fromisoformat(statement["timestamp"]).tzinfo is not None
    (second_attempt, _) = [s for s in result if s["context"].get("registration")
                           and s["timestamp"].startswith("2025-03-02")]
    assert datetime.fromisoformat(second_attempt["timestamp"]) == ATTEMPTS[1]["started_at"]
    assert [datetime.fromisoformat(s["timestamp"]) for s in result] == sorted(
        datetime.fromisoformat(s["timestamp"]) for s in result)


def test_duration_is_an_iso_8601_duration_of_the_attempt():
    (failed,) = by_verb(statements(), "failed")
    (passed,) = by_verb(statements(), "passed")
    assert failed["result"]["duration"] == "PT754.5S"
    assert passed["result"]["duration"] == "PT1200S"
    for statement in (failed, passed):
        assert re.fullmatch(r"PT\d+(\.\d{1,2})?S", statement["result"]["duration"])


def test_ids_are_valid_uuids_and_stable_across_calls():
    first, second = statements(), statements()
    ids = [s["id"] for s in first]
    assert ids == [s["id"] for s in second]
    assert ids == [s["id"] for s in statements(attempts=list(reversed(ATTEMPTS)))]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value  # standard string form
        assert parsed.variant == uuid.RFC_4122
    other_learner = {s["id"] for s in statements(actor_email="someone.else@hospital.example")}
    assert other_learner.isdisjoint(ids)


def test_statements_round_trip_through_json():
    result = statements()
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("attempts", [
    [{**ATTEMPTS[0], "started_at": datetime(2025, 3, 1, 9, 0)}],
    [{**ATTEMPTS[0], "submitted_at": datetime(2025, 3, 1, 9, 30)}],
    [{**ATTEMPTS[0], "score_percent": 120}],
    [{**ATTEMPTS[0], "submitted_at": ATTEMPTS[0]["started_at"] - timedelta(seconds=1)}],
])
def test_bad_attempts_are_refused(attempts):
    with pytest.raises(ValueError):
        statements(attempts=attempts)
