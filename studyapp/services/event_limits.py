"""Bounds on what one participant's page may log through ``/api/events/``.

The event log is telemetry (tab hidden, explanation shown), written by client code that
anyone can imitate. Without bounds one browser stored 3,000 events of 2 KB in 25 seconds and
100k rows slowed every export fifteen-fold. So each participant may log at most
``EVENTS_PER_PARTICIPANT`` client events in all and ``EVENTS_PER_MINUTE`` a minute, and an
event may only name a trial the participant has reached.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from studyapp.models import Event, Participant
from studyapp.services.errors import ConflictError, LimitReached

# Kinds the participant's page sends; the server's own events (answers, duplicates, ...)
# are not counted against the participant.
CLIENT_KINDS = ("explanation_shown", "page_hidden", "page_visible", "page_view", "blur", "focus")


class EventRefused(LimitReached):
    """An event over the participant's limits: not stored, and the client told to stop."""


class EventInvalid(ConflictError):
    """An event that names something the participant never had (a trial not yet reached):
    well-formed, but in conflict with where the participant is."""


def event_check(*, participant: Participant, trial_index: int | None) -> None:
    """Refuse an event the participant may not log now; store nothing either way."""
    if trial_index is not None and trial_index > participant.trial_pointer:
        raise EventInvalid(f"trial_index {trial_index} is a trial this participant has not "
                           f"reached (current: {participant.trial_pointer})")
    if not _within_rate(participant.pk):
        raise EventRefused(f"At most {settings.EVENTS_PER_MINUTE} events a minute.")
    if _client_events(participant.pk) >= settings.EVENTS_PER_PARTICIPANT:
        raise EventRefused(f"This participant has logged the most events allowed "
                           f"({settings.EVENTS_PER_PARTICIPANT}).")


def _within_rate(participant_id: int) -> bool:
    """A fixed one-minute window counted in the cache (shared by all workers via Redis)."""
    key = f"event-rate:{participant_id}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=120):
        return True
    try:
        return int(cache.incr(key)) <= settings.EVENTS_PER_MINUTE
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        return True


# On every event a page logs: fixed SQL, not compiled by the ORM each time (studyapp.rows).
_CLIENT_EVENTS_SQL = (f'SELECT COUNT(*) FROM "{Event._meta.db_table}" WHERE "participant_id" = %s '
                      f'AND "kind" IN ({", ".join(["%s"] * len(CLIENT_KINDS))})')


def _client_events(participant_id: int) -> int:
    """How many client events the participant has logged."""
    with connection.cursor() as cursor:
        cursor.execute(_CLIENT_EVENTS_SQL, [participant_id, *CLIENT_KINDS])
        return int(cursor.fetchone()[0])
