"""What a participant's browser session holds: which participant it is, in each study."""

from __future__ import annotations


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
