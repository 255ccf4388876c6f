"""Sending a bot's request again when the server could not answer it.

A person whose page fails to load (a worker restarting, the database failing over) presses the
button again. Bots do the same, and send the request unchanged: the same form, so the same
CSRF token and idempotency key. That is safe because the server stores a repeated submission
once — which is exactly what the fault tests check afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

# What a server says when it is briefly unable to answer (a proxy, or our 503 page).
RETRY_STATUSES = frozenset({502, 503, 504})
UNREACHABLE = (requests.ConnectionError, requests.Timeout,
               requests.exceptions.ChunkedEncodingError)
FIRST_PAUSE, LONGEST_PAUSE = 0.1, 1.0


@dataclass(frozen=True)
class Retry:
    """One request sent again: when it went (``time.monotonic()``), which method, and why.
    The last retry of an outage is the request that got through."""

    at: float
    method: str
    reason: str


RetryObserver = Callable[[Retry], None]


def send_retrying(session: requests.Session, method: str, url: str, *, retry_seconds: float,
                  on_retry: RetryObserver, **kwargs: Any) -> requests.Response:
    """``session.request(method, url, **kwargs)``, sent again unchanged while the server is
    unreachable or answers 502/503/504, for up to ``retry_seconds`` (0: never again).

    After that the last answer is returned, or the last connection error raised.
    """
    give_up = time.monotonic() + retry_seconds
    pause = FIRST_PAUSE
    while True:
        try:
            response = session.request(method, url, **kwargs)
        except UNREACHABLE as exc:
            if time.monotonic() >= give_up:
                raise
            reason = type(exc).__name__
        else:
            if response.status_code not in RETRY_STATUSES or time.monotonic() >= give_up:
                return response
            reason = str(response.status_code)
        time.sleep(pause)
        pause = min(2 * pause, LONGEST_PAUSE)
        on_retry(Retry(at=time.monotonic(), method=method, reason=reason))
