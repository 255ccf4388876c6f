"""Error pages, and the one translation of the services' errors into HTTP statuses.

Services and selectors raise ``studyapp.services.errors`` (no HTTP in them). A page's view
lets them through to ``ServiceErrorMiddleware``; the API's DRF exception handler
(``studyapp.api.exceptions``) answers them in JSON. Both take the status from ``status_for``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views import defaults

from studyapp.models import Study
from studyapp.services.errors import ConflictError, LimitReached, NotFoundError, ServiceError

_STATUSES: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFoundError, 404), (ConflictError, 409), (LimitReached, 429))


def status_for(error: ServiceError) -> int:
    """The HTTP status of a service's error: 400 unless it is of a kind listed above."""
    return next((status for kind, status in _STATUSES if isinstance(error, kind)), 400)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 page, except under /api/, whose clients (and schema) expect JSON."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def error_page(request: HttpRequest, study: Study | None, message: str,
               status: int = 400) -> HttpResponse:
    """The participant's "we could not open the study" page, with the reason."""
    spec = study.spec_in(get_language() or "") if study is not None else None
    return render(request, "participant/error.html",
                  {"study": study, "spec": spec, "message": message}, status=status)


class ServiceErrorMiddleware:
    """A service's error that a page's view let through: the site's 404 for NotFoundError,
    else the error page with the message, in the study of the address (if it names one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest,
                          exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ServiceError):
            return None
        if isinstance(exception, NotFoundError):
            return response_for_exception(request, Http404(str(exception)))
        match = request.resolver_match
        slug = match.kwargs.get("slug") if match is not None else None
        study = Study.objects.filter(slug=slug).first() if slug else None
        return error_page(request, study, str(exception), status=status_for(exception))
