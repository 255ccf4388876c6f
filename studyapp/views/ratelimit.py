"""A small fixed-window rate limit on new enrolments per client address.

Uses Django's cache (Redis in deployment) so all gunicorn workers share the counters.
Resuming participants are never limited.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The participant's address. Behind ``TRUSTED_PROXIES`` reverse proxies, REMOTE_ADDR is
    the nearest proxy (every participant would share one limit), so the address is read from
    X-Forwarded-For, counting that many entries from the right: each trusted proxy appended
    one, and anything further left was written by the client and could be forged."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def enrolment_allowed(request: HttpRequest) -> bool:
    limit = settings.ENROL_RATE_PER_MINUTE
    if limit <= 0:
        return True
    window = int(time.time() // 60)
    key = f"enrol-rate:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count <= limit
