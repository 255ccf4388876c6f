"""The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``)."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from studyapp.services.errors import ServiceError
from studyapp.views.errors import status_for


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A service's error as ``{"detail": message}`` with its status (``status_for``);
    everything else as DRF answers it."""
    if isinstance(exc, ServiceError):
        return Response({"detail": str(exc)}, status=status_for(exc))
    return drf_exception_handler(exc, context)
