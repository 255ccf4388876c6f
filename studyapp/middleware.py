"""A clear "please retry" (503) when a backing service is briefly unavailable.

A PostgreSQL restart or failover, or the task broker being down, makes requests fail for a few
seconds. Participants should then see a short page that asks them to try again — not a
traceback or a generic error — and clients (bots, proxies) a 503 with ``Retry-After``. Retrying
is safe: every submission is one transaction, so it is stored once or not at all, and a
repeated answer is recognised as a repeat.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
_MARK = "_explainlab_unavailable"

DATABASE_DOWN = ("The study server is briefly unavailable. Your answers so far are saved. "
                 "Please wait a few seconds and try again.")
BROKER_DOWN = ("The background task queue is unavailable, so the task was not started and "
               "nothing was changed. Please try again in a minute.")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Please try again</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Please try again in a moment</h1><p id="unavailable">{message}</p>
<p><a href="{path}">Try again</a></p></body></html>
"""


def unavailable_message(exc: BaseException | None) -> str | None:
    """What to tell the user when ``exc`` means a service is down, else None."""
    if isinstance(exc, BrokerError):  # checked first: kombu's error is no database error
        return BROKER_DOWN
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE_DOWN
    return None


def unavailable_response(request: HttpRequest, message: str) -> HttpResponse:
    """A page (or JSON under /api/) that never touches the database it may be missing."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        # Retrying a POST re-sends it; a GET of the same address shows the current page.
        response = HttpResponse(_PAGE.format(message=escape(message),
                                             path=escape(request.path)), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class ServiceUnavailableMiddleware:
    """Outermost middleware: turns "service unavailable" errors into a 503 page.

    Errors raised in a view arrive through ``process_exception``. Errors raised while another
    middleware finishes a response (the session saved to a database that just went away)
    never reach it: Django turns them into a 500 first, so the request is marked when the
    error happens (``got_request_exception``) and that 500 is replaced here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        message = getattr(request, _MARK, None)
        if message is not None and response.status_code == 500:
            return unavailable_response(request, message)
        return response

    def process_exception(self, request: HttpRequest,
                          exception: Exception) -> HttpResponse | None:
        message = unavailable_message(exception)
        if message is None:
            return None
        logger.warning("503 for %s %s: %s: %s", request.method, request.path,
                       type(exception).__name__, exception)
        return unavailable_response(request, message)


@receiver(got_request_exception)
def _mark_unavailable(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    message = unavailable_message(sys.exc_info()[1])
    if request is not None and message is not None:
        setattr(request, _MARK, message)


def _too_large(request: HttpRequest, limit: int) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True  # a Content-Length no server could honour
    return length > limit


class RequestSizeLimitMiddleware:
    """Refuses a body larger than ``MAX_REQUEST_BYTES`` from its Content-Length, unread.

    Django's own limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``) leave uploaded files out, so a
    multipart POST to any page was read in full (spooled to disk) before a form refused it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        if _too_large(request, limit):
            message = f"The request is larger than the server accepts ({limit // 2**20} MiB)."
            if request.path.startswith("/api/"):
                response: HttpResponse = JsonResponse({"detail": message}, status=413)
            else:
                response = HttpResponse(escape(message), status=413,
                                        content_type="text/plain; charset=utf-8")
            response["Connection"] = "close"  # the unread body must not be taken as a request
            return response
        return self.get_response(request)


# Pages load scripts, styles and images from this site only; SVG charts carry style
# attributes and the report embeds its figures as data: URIs, hence those two allowances.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "font-src 'self'", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "frame-ancestors 'none'",
])
# Study pages need none of these powerful features; deny them to anything embedded too.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth",
    "midi", "magnetometer", "gyroscope", "accelerometer", "display-capture",
    "interest-cohort"))


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (Django 5.2 has
    neither built in). A response that already set its own policy keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
