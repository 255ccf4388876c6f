"""The participant's language on their pages: which it is, and the platform's words in it.

A study's languages are its spec's (``languages:``, the first the default; English without
one). The link may ask for one of them (``?lang=de``); the choice is stored with the
participant at enrolment and kept for the whole session. Participant views activate it
(``translation.override``) around everything they do, so the services' messages, the
templates' ``{% translate %}`` and the strings marked in ``experiments`` (gettext_noop) are
all translated by Django from ``locale/``. Researcher pages stay English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from studyapp.models import Study
from studyapp.services.errors import ParticipantError

LANGUAGE_PARAMETER = "lang"
# A number as the scenarios write it ("2,174", "39", "-1.5"), then its unit ("dollars").
_NUMBER_WITH_UNIT = re.compile(r"^(-?[0-9][0-9,]*(?:\.[0-9]+)?)(?: (.+))?$")
# Languages that write 2.174,5 where English writes 2,174.5.
_DECIMAL_COMMA = {"de", "es"}


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


def localised_number(text: str, language: str) -> str:
    """A number written the English way (2,174.5) as ``language`` writes it (2.174,5)."""
    if language not in _DECIMAL_COMMA:
        return text
    return text.translate(str.maketrans(",.", ".,"))


def localised_value(value: Any, language: str) -> str:
    """A profile value in ``language``: a category's words, or a number with its unit."""
    text = str(value)
    match = _NUMBER_WITH_UNIT.match(text)
    if match is None:
        return translated(text)
    number, unit = match.groups()
    return " ".join(filter(None, [localised_number(number, language), translated(unit or "")]))


def localised_display(display: Any, language: str) -> Any:
    """A table item's profile (feature -> value) in ``language``; pictures and texts as they
    are (they are the material itself)."""
    if not isinstance(display, dict) or set(display) <= {"image", "text"}:
        return display
    return {translated(label): localised_value(value, language)
            for label, value in display.items()}
