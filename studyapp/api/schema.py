"""OpenAPI descriptions drf-spectacular cannot infer by itself."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ParticipantSessionScheme(OpenApiAuthenticationExtension):
    """Participants are identified by their session cookie (and must send the CSRF token)."""

    target_class = "studyapp.api.views.ParticipantSessionAuthentication"
    name = "participantSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# The error answers every operation can give, which drf-spectacular leaves out: DRF answers
# {"detail": ...} for refused credentials, missing objects and bad media types, and
# {"field": [...]} for invalid input. Documenting them lets clients (and the schema fuzzer)
# tell a documented refusal from a broken endpoint.
_DETAIL_SCHEMA = {"type": "object", "required": ["detail"],
                  "properties": {"detail": {"type": "string"}}}
_INVALID_SCHEMA = {"type": "object", "additionalProperties": {},
                   "description": "Field name -> what was wrong with it."}


def _error(name: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _error_responses(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    parameters = operation.get("parameters", [])
    errors: dict[str, dict[str, Any]] = {}
    if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
        errors["400"] = _error("ValidationErrors", "The input was invalid (or not parseable).")
    errors["401"] = _error("ErrorDetail", "The credentials were wrong.")
    errors["403"] = _error("ErrorDetail", "Not logged in, not allowed, or no CSRF token.")
    errors["404"] = _error("ErrorDetail", "No such study (or not one of yours), no such "
                           "condition, or no participant session for this study.")
    errors["503"] = _error("ErrorDetail", "The database or task queue is briefly unavailable; "
                           "retry after the Retry-After header's seconds.")
    if "requestBody" in operation:
        errors["413"] = _error("ErrorDetail", "The request body is too large.")
        errors["415"] = _error("ErrorDetail", "The request body is not JSON.")
    return errors


def document_error_responses(result: dict[str, Any], generator: Any, request: Any,
                             public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the error responses to every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = _DETAIL_SCHEMA
    schemas["ValidationErrors"] = _INVALID_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in _error_responses(operation).items():
                if "content" not in responses.get(status, {}):
                    responses[status] = response
    return result
