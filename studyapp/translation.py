"""The participant's language on their pages: which it is, and the platform's words in it.

A study's languages are its spec's (``languages:``, the first the default; English without
one). The link may ask for one of them (``?lang=de``); the choice is stored with the
participant at enrolment and kept for the whole session. Participant views activate it
(``translation.override``) around everything they do, so the services' messages, the
templates' ``{% translate %}`` and the strings marked in ``experiments`` (gettext_noop) are
all translated by Django from ``locale/``. Researcher pages stay English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from explainers.render.words import Words
from studyapp.models import Study
from studyapp.services.errors import ParticipantError

LANGUAGE_PARAMETER = "lang"


def translated(text: str) -> str:
    """``text`` in the active language; "" stays "" (gettext("") is the catalogue header)."""
    return gettext(text) if text else ""


def link_language(study: Study, query: Mapping[str, str]) -> str:
    """The language a study link asks for (``?lang=``), else the study's default.

    A language the study is not given in is refused (ParticipantError, shown to the
    participant): silently showing another language would hand them a study they may not be
    able to read, and the researcher a link that does not do what it says.
    """
    languages = study.typed_spec.languages
    asked = (query.get(LANGUAGE_PARAMETER) or "").strip().lower()
    if not asked:
        return languages[0]
    if asked not in languages:
        raise ParticipantError(
            gettext("This study is not available in the language the link asks for "
                    "(“{asked}”). It is available in: {languages}.").format(
                asked=asked[:16], languages=", ".join(languages)))
    return asked


def localised_display(display: Any, language: str) -> Any:
    """A table item's profile (feature -> value) in ``language``; pictures and texts as they
    are (they are the material itself)."""
    if not isinstance(display, dict) or set(display) <= {"image", "text"}:
        return display
    # Values in the same words and numbers the explanation beside them writes.
    words = Words(language)
    return {translated(label): words.value(value) for label, value in display.items()}
