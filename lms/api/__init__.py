"""The JSON API (/api/v1): personal API tokens, read-mostly endpoints and an OpenAPI 3 document."""
