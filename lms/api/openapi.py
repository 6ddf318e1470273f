"""The OpenAPI 3 description of /api/v1. A test keeps it and the URL map in step."""

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
ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {"401": _ok({"$ref": "#/components/schemas/Error"}, "Missing or invalid token"),
           "403": _ok({"$ref": "#/components/schemas/Error"}, "Not allowed")}
_DATES = [{"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
          {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}}]


def openapi_document(server_url: str) -> dict:
    credits = {"type": "array", "items": {"$ref": "#/components/schemas/Credit"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pharmacy Informatics Academy API", "version": "1.0.0",
                 "description": "Read-mostly access to your credits and transcript, certificate verification, "
                                "and, for supervisors, their cohorts' progress. Authenticate with a personal "
                                "API token from your profile page: `Authorization: Bearer <token>`."},
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Credit": CREDIT, "Error": ERROR},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/me/credits": {"get": {"summary": "My credits", "operationId": "myCredits",
                                           "responses": {"200": _ok({"type": "object", "properties": {
                                               "credits": credits}}), **_ERRORS}}},
            "/api/v1/me/transcript": {"get": {
                "summary": "My transcript, with totals per year", "operationId": "myTranscript",
                "parameters": _DATES,
                "responses": {"200": _ok({"type": "object", "properties": {
                    "credits": credits, "totals_by_year": {"type": "array", "items": {"type": "object"}},
                    "total_hours": {"type": "number"}}}), "400": _ok({"$ref": "#/components/schemas/Error"},
                                                                     "Bad date"), **_ERRORS}}},
            "/api/v1/verify/{code}": {"get": {
                "summary": "Verify a certificate code", "operationId": "verify", "security": [],
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "status": {"type": "string", "enum": ["valid", "revoked"]}, "name": {"type": "string"},
                    "activity": {"type": "string"}, "completed_on": {"type": "string"},
                    "hours": {"type": "number"}, "revoked_on": {"type": "string"}}}),
                    "404": _ok({"type": "object", "properties": {"status": {"type": "string"}}}, "Not found")}}},
            "/api/v1/cohorts": {"get": {
                "summary": "My cohorts and each trainee's progress (supervisors and admins)",
                "operationId": "cohorts",
                "responses": {"200": _ok({"type": "object", "properties": {"cohorts": {
                    "type": "array", "items": {"type": "object"}}}}), **_ERRORS}}},
            "/api/v1/cohorts/{cohort_id}/credits": {"get": {
                "summary": "Credits of a cohort's trainees", "operationId": "cohortCredits",
                "parameters": [{"name": "cohort_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                               *_DATES],
                "responses": {"200": _ok({"type": "object", "properties": {"credits": credits}}), **_ERRORS,
                              "404": _ok({"$ref": "#/components/schemas/Error"}, "No such cohort")}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "security": [],
                                             "responses": {"200": {"description": "OpenAPI 3 document"}}}},
        },
    }
