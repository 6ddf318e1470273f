"""Open Badges 3.0 credentials for earned credits: a pure builder and a VC-JWT signer.

Follows the Open Badges Specification v3.0 (1EdTech, https://www.imsglobal.org/spec/ob/v3p0/), in its
Verifiable Credentials Data Model 2.0 form:

- § B.1.2 AchievementCredential: ``@context`` is the ordered set ``https://www.w3.org/ns/credentials/v2``,
  ``https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json``; ``type`` contains ``VerifiableCredential``
  and ``OpenBadgeCredential`` (``AchievementCredential`` is an alias); ``id``, ``issuer``, ``validFrom``
  (a DateTimeZ, i.e. with its time zone) and ``credentialSubject`` are required.
- § B.1.3 AchievementSubject: the recipient is identified by ``identifier`` (IdentityObjects, § B.1.12)
  rather than ``id``; the e-mail address is carried only as an IdentityHash, ``sha256$`` + the hex SHA-256
  of the UTF-8 address with the salt appended (§ B.7 IdentityHash; the salt travels in the object so a
  verifier who knows the address can recompute it, § 9.3).
- § 8.2 JSON Web Token Proof Format (VC-JWT): the JWT payload is the credential itself plus the
  ``iss`` / ``jti`` / ``nbf`` / ``sub`` / ``exp`` claims mapped from ``issuer.id`` / ``id`` / ``validFrom`` /
  ``credentialSubject.id`` / ``validUntil``; the JOSE header holds only ``alg``, ``kid`` and ``typ``.

The builder performs no I/O and reads no configuration; PyJWT and cryptography are imported only when a
credential is signed.
"""

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXT = (VC_CONTEXT_V2, OB3_CONTEXT)
CREDENTIAL_TYPE = ("VerifiableCredential", "OpenBadgeCredential")
ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json")
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"  # § B.1.21 CredentialSchema
# § B.1.28 AchievementType: "Credential that acknowledges completion of an assignment, training or other activity."
ACHIEVEMENT_TYPE = "CertificateOfCompletion"


class RevokedCredentialError(ValueError):
    """A revoked credit must not be issued (or re-issued) as an Open Badge.

    Open Badges 3.0 has no "revoked" flag inside a credential: revocation is a status a verifier looks up
    through ``credentialStatus`` (e.g. a 1EdTech Revocation List hosted by the issuer). Until the site
    hosts such a list, the only honest answer for a revoked credit is to issue nothing.
    """


def identity_hash(identity: str, salt: str) -> str:
    """``sha256$<hex>`` over the UTF-8 identity with the salt appended (OB 3.0 § B.7 IdentityHash)."""
    return "sha256$" + hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


def normalize_email(email: str) -> str:
    """The form an address is hashed in: surrounding space removed, lowercased.

    Verifiers compare hashes, so a credential issued for ``Ana@Example.org`` must match a check made with
    ``ana@example.org``; hashing the lowercased address makes that hold.
    """
    return email.strip().lower()


def iso_datetime_z(moment: datetime, timespec: str = "seconds") -> str:
    """A timezone-aware datetime as an RFC 3339 / ISO 8601 UTC timestamp ending in ``Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass a timezone-aware datetime")
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _require(**values: str) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")


def achievement_credential(*, credential_id: str, issuer_id: str, issuer_name: str, issuer_url: str,
                           achievement_id: str, achievement_name: str, achievement_description: str,
                           criteria: str, contact_hours: float, activity_number: str, recipient_email: str,
                           recipient_name: str, salt: str, valid_from: datetime, revoked: bool = False) -> dict:
    """An unsigned OpenBadgeCredential (OB 3.0, VC Data Model 2.0) for one earned credit.

    ``contact_hours`` becomes the achievement's ``creditsAvailable`` and the subject's ``creditsEarned``;
    ``activity_number`` becomes the achievement's ``humanCode``. The recipient is identified by a salted
    SHA-256 hash of the e-mail address (the address itself never appears) and by their display name.
    ``salt`` is published inside the credential, so it must be a value made for this purpose — never a secret.

    Raises ``RevokedCredentialError`` for a revoked credit and ``ValueError`` for missing values, an empty
    salt, a negative or non-numeric ``contact_hours``, or a ``valid_from`` without a time zone.
    """
    if revoked:
        raise RevokedCredentialError(f"credential {credential_id} is revoked; it is no longer issued as a badge")
    _require(credential_id=credential_id, issuer_id=issuer_id, issuer_name=issuer_name, issuer_url=issuer_url,
             achievement_id=achievement_id, achievement_name=achievement_name,
             achievement_description=achievement_description, criteria=criteria, activity_number=activity_number,
             recipient_email=recipient_email, recipient_name=recipient_name, salt=salt)
    if "@" not in recipient_email:
        raise ValueError("recipient_email is not an e-mail address")
    if isinstance(contact_hours, bool) or not isinstance(contact_hours, int | float) or contact_hours < 0:
        raise ValueError("contact_hours must be a non-negative number")
    hours = float(contact_hours)
    valid_from_text = iso_datetime_z(valid_from)

    return {
        "@context": list(CONTEXT),
        "id": credential_id,
        "type": list(CREDENTIAL_TYPE),
        "name": achievement_name,
        "description": achievement_description,
        "issuer": {
            "id": issuer_id,
            "type": ["Profile"],
            "name": issuer_name,
            "url": issuer_url,
        },
        "validFrom": valid_from_text,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(normalize_email(recipient_email), salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                },
                {
                    "type": "IdentityObject",
                    "identityHash": recipient_name.strip(),
                    "identityType": "name",
                    "hashed": False,
                },
            ],
            "creditsEarned": hours,
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": ACHIEVEMENT_TYPE,
                "name": achievement_name,
                "description": achievement_description,
                "criteria": {"narrative": criteria},
                "creditsAvailable": hours,
                "humanCode": activity_number,
            },
        },
        "credentialSchema": [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": SCHEMA_VALIDATOR_TYPE}],
    }


def _numeric_date(text: str) -> int:
    """A DateTimeZ string as a JWT NumericDate (whole seconds since the epoch)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return int(moment.timestamp())


def _jws_algorithm(private_key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        if isinstance(private_key.curve, ec.SECP256R1):
            return "ES256"
        raise ValueError(f"EC keys must be on P-256 for ES256, not {private_key.curve.name}")
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < 2048:
            raise ValueError("RSA keys must be at least 2048 bits")
        return "RS256"
    raise ValueError(f"unsupported signing key type {type(private_key).__name__}; use Ed25519, P-256 or RSA")


def sign_credential(credential: dict, private_key_pem: bytes, kid: str) -> str:
    """The credential as a VC-JWT: a compact JWS (OB 3.0 § 8.2), signed with an Ed25519, P-256 or RSA key.

    The algorithm follows the key: ``EdDSA`` (Ed25519), ``ES256`` (P-256) or ``RS256`` (RSA ≥ 2048 bits;
    the algorithm 1EdTech's conformance suite requires). The header is ``{"alg", "kid", "typ": "JWT"}``, where
    ``kid`` should be a URI that dereferences to the public JWK. The payload is the credential plus
    ``iss`` = ``issuer.id``, ``jti`` = ``id``, ``nbf`` = ``validFrom``, and ``sub`` / ``exp`` when the
    credential has ``credentialSubject.id`` / ``validUntil``. The input dict is not modified.

    Needs PyJWT and cryptography; ``private_key_pem`` is an unencrypted PEM private key.
    """
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    _require(kid=kid)
    private_key = load_pem_private_key(private_key_pem, password=None)
    algorithm = _jws_algorithm(private_key)

    payload = copy.deepcopy(credential)
    issuer = credential["issuer"]
    payload["iss"] = issuer if isinstance(issuer, str) else issuer["id"]
    payload["jti"] = credential["id"]
    payload["nbf"] = _numeric_date(credential["validFrom"])
    subject_id = credential.get("credentialSubject", {}).get("id")
    if subject_id:
        payload["sub"] = subject_id
    if credential.get("validUntil"):
        payload["exp"] = _numeric_date(credential["validUntil"])
    return jwt.encode(payload, private_key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})
