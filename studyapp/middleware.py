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
<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
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
