"""The OpenAPI 3 description of /api/v1. Tests keep it and the URL map in step, and schemathesis keeps it and
what the API answers in step."""

# What the handlers accept (lms.validation's bounds); the document states them so clients and schemathesis know them.
from lms.validation import DATE_MAX, DATE_MIN, MAX_ID

# Years 1900-2199, months 01-12, days 01-31; `format: date` rules out the days a month does not have.
DATE_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

CREDIT = {
    "type": "object",
    "required": ["code", "activity_title", "activity_number", "contact_hours", "completed_at", "status"],
    "properties": {
        "code": {"type": "string", "example": "7K3M-9QXR-2PWD"},
        "module_id": {"type": "string"},
        "activity_title": {"type": "string"},
        "activity_number": {"type": "string", "example": "0000-0000-26-005-H05-T"},
        "activity_type": {"type": "string", "enum": ["knowledge", "application"]},
        "contact_hours": {"type": "number"},
        "ceus": {"type": "number"},
        "score_percent": {"type": "number"},
        "completed_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["valid", "revoked"]},
        "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
PERSON = {"type": "object", "required": ["id", "name", "email"],
          "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"}}}
COHORT = {
    "type": "object",
    "required": ["id", "name", "trainees", "credits_url"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "trainees": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Person"}, {
            "type": "object", "required": ["credits", "contact_hours"],
            "properties": {"credits": {"type": "integer"}, "contact_hours": {"type": "number"}}}]}},
        "credits_url": {"type": "string", "format": "uri"},
    },
}
ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string", "description": "what went wrong, in a few words"},
                        "message": {"type": "string", "description": "what to do about it"}}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict) -> dict:
    return _json(schema, "OK")


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


# Any request can be refused as malformed (a bad date, a NUL character in the address); token-protected
# operations answer 401 without a valid token.
BAD_REQUEST = {"400": _error("Bad request: a parameter is not valid; the message says which")}
UNAUTHORIZED = {"401": _error("Missing, revoked or invalid token")}
FORBIDDEN = {"403": _error("Your role may not use this operation, or the object is not yours")}


def _date(name: str, meaning: str) -> dict:
    return {"name": name, "in": "query", "required": False,
            "description": f"{meaning} (inclusive), as YYYY-MM-DD between {DATE_MIN} and {DATE_MAX}. "
                           "Leave the parameter out for no limit; an empty value is refused.",
            "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN}}


DATES = [_date("start", "Earliest completion date"), _date("end", "Latest completion date")]


def openapi_document(server_url: str) -> dict:
    credits = {"type": "array", "items": _ref("Credit")}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pharmacy Informatics Academy API", "version": "1.0.0",
                 "description": "Read-mostly access to your credits and transcript, certificate verification, "
                                "and, for supervisors, their cohorts' progress. Authenticate with a personal "
                                "API token from your profile page: `Authorization: Bearer <token>`. Errors "
                                "are JSON objects with `error` and `message`."},
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Credit": CREDIT, "Person": PERSON, "Cohort": COHORT, "Error": ERROR},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/me/credits": {"get": {
                "summary": "My credits", "operationId": "myCredits",
                "responses": {"200": _ok({"type": "object", "required": ["credits"],
                                          "properties": {"credits": credits}}),
                              **BAD_REQUEST, **UNAUTHORIZED}}},
            "/api/v1/me/transcript": {"get": {
                "summary": "My transcript, with totals per year", "operationId": "myTranscript",
                "parameters": DATES,
                "responses": {"200": _ok({"type": "object", "required": ["credits", "totals_by_year", "total_hours"],
                                          "properties": {
                    "credits": credits,
                    "totals_by_year": {"type": "array", "items": {
                        "type": "object", "required": ["year", "hours", "credits"],
                        "properties": {"year": {"type": "string"}, "hours": {"type": "number"},
                                       "credits": {"type": "integer"}}}},
                    "total_hours": {"type": "number"}}}),
                    **BAD_REQUEST, **UNAUTHORIZED}}},
            "/api/v1/verify/{code}": {"get": {
                "summary": "Verify a certificate code", "operationId": "verify", "security": [],
                "description": "Public, and limited to 30 requests a minute from one address.",
                "parameters": [{"name": "code", "in": "path", "required": True,
                                "description": "The code printed on the certificate, e.g. 7K3M-9QXR-2PWD",
                                "schema": {"type": "string"}}],
                "responses": {
                    "200": _ok({"type": "object", "required": ["status", "name", "activity", "completed_on", "hours"],
                                "properties": {
                                    "status": {"type": "string", "enum": ["valid", "revoked"]},
                                    "name": {"type": "string"}, "activity": {"type": "string"},
                                    "completed_on": {"type": "string"}, "hours": {"type": "number"},
                                    "revoked_on": {"type": "string"}}}),
                    **BAD_REQUEST,
                    "404": _json({"anyOf": [{"type": "object", "required": ["status"],
                                             "properties": {"status": {"type": "string", "enum": ["not_found"]}}},
                                            _ref("Error")]}, "No certificate has this code"),
                    "429": _error("Too many verifications from this address; wait a minute")}}},
            "/api/v1/cohorts": {"get": {
                "summary": "My cohorts and each trainee's progress (supervisors and admins)",
                "operationId": "cohorts",
                "responses": {"200": _ok({"type": "object", "required": ["cohorts"], "properties": {
                    "cohorts": {"type": "array", "items": _ref("Cohort")}}}),
                    **BAD_REQUEST, **UNAUTHORIZED, **FORBIDDEN}}},
            "/api/v1/cohorts/{cohort_id}/credits": {"get": {
                "summary": "Credits of a cohort's trainees", "operationId": "cohortCredits",
                "parameters": [{"name": "cohort_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}},
                               *DATES],
                "responses": {"200": _ok({"type": "object", "required": ["credits"], "properties": {"credits": {
                    "type": "array", "items": {"allOf": [_ref("Credit"), {
                        "type": "object", "required": ["trainee"],
                        "properties": {"trainee": _ref("Person")}}]}}}}),
                    **BAD_REQUEST, **UNAUTHORIZED, **FORBIDDEN, "404": _error("No such cohort")}}},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "operationId": "openapi", "security": [],
                "responses": {"200": _json({"type": "object", "required": ["openapi", "paths"]},
                                           "OpenAPI 3 document"), **BAD_REQUEST}}},
        },
    }
