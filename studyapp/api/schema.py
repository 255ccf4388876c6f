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
