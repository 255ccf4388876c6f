"""What a participant's browser session holds: which participant it is, in each study."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from studyapp.rows import JoinedRead, Part, table


def participant_key(slug: str) -> str:
    """The session key under which a browser holds its participant's id in study ``slug``.

    Participant pages, the researcher's preview and the event API all read or write it;
    the session (cycled at enrolment) is what binds a browser to one participant."""
    return f"participant:{slug}"


def withdrawn_key(slug: str) -> str:
    """Set once the browser's participant withdrew: it shows the confirmation again."""
    return f"withdrawn:{slug}"


def language_key(slug: str) -> str:
    """The language the browser's participant reads study ``slug`` in (studyapp.translation):
    set at enrolment from the participant, so every page of theirs, the error and withdrawal
    pages too, is in it."""
    return f"language:{slug}"


class SessionStore(db.SessionStore):
    """Django's database sessions, read with SQL written once (studyapp.rows): every
    participant request reads its session, and compiling that query each time cost more CPU
    than PostgreSQL took to answer it. Writes, keys and expiry are Django's own."""

    def _get_session_from_db(self) -> Any:
        session = _session_read().one(self.session_key, timezone.now())
        if session is None:
            self._session_key = None
        return session


@cache
def _session_read() -> JoinedRead:
    model = db.SessionStore.get_model_class()  # not at import: the app registry loads first
    return JoinedRead([Part(model, "d")], table(model, "d"),
                      where='"d"."session_key" = %s AND "d"."expire_date" > %s')
