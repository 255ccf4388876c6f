"""A Redis cache that degrades to "nothing cached" while Redis is unreachable.

The cache only holds what can be lost (enrolment rate-limit counters), so a Redis outage must
not fail a participant's page or a study's preparation. Django's own Redis backend raises on
every call instead; this one logs a warning and answers like an empty cache. After a failure
it stops asking Redis for a few seconds, so that pages do not each wait on a dead server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
PAUSE_SECONDS = 5.0  # after a failure, how long calls skip Redis altogether


class _Outage:
    """When Redis last failed, shared by the threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self._until

    def start(self, operation: str, exc: Exception) -> None:
        with self._lock:
            first = not self.active()
            self._until = time.monotonic() + PAUSE_SECONDS
        if first:  # one warning per outage window, not one per call
            logger.warning("cache unavailable during %s (%s): answering as if empty for %.0fs",
                           operation, exc, PAUSE_SECONDS)


_outage = _Outage()


class ForgivingRedisCacheClient(RedisCacheClient):
    """Each operation, or what an empty cache would answer when Redis is down."""

    def _degrade(self, operation: str, fallback: Any, *args: Any) -> Any:
        if _outage.active():
            return fallback
        try:
            return getattr(super(), operation)(*args)
        except REDIS_DOWN as exc:
            _outage.start(operation, exc)
            return fallback

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return bool(self._degrade("add", False, key, value, timeout))

    def get(self, key: Any, default: Any) -> Any:
        return self._degrade("get", default, key, default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._degrade("set", None, key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        return bool(self._degrade("touch", False, key, timeout))

    def delete(self, key: Any) -> bool:
        return bool(self._degrade("delete", False, key))

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return dict(self._degrade("get_many", {}, keys))

    def has_key(self, key: Any) -> bool:
        return bool(self._degrade("has_key", False, key))

    def incr(self, key: Any, delta: int) -> int:
        value = self._degrade("incr", None, key, delta)
        if value is None:  # as for a missing key: callers already handle that case
            raise ValueError(f"Key {key!r} not found (the cache is unavailable)")
        return int(value)

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        self._degrade("set_many", None, data, timeout)

    def delete_many(self, keys: Any) -> None:
        self._degrade("delete_many", None, keys)

    def clear(self) -> bool:
        return bool(self._degrade("clear", False))


class ForgivingRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that survives a Redis outage."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ForgivingRedisCacheClient
