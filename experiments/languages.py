"""The languages participants can read a study in, and the spec's texts given per language.

A spec declares ``languages: [de, en]`` (the first is the default). Each participant-facing
text is then a mapping ``{de: "...", en: "..."}`` that gives every declared language; a plain
string is allowed only in a study of one language. A spec without ``languages`` is English.
The platform's own strings are translated by Django (``locale/``); these are the spec's own.

This module does not import Django: the few participant sentences written in ``experiments``
are marked with :func:`gettext_noop` and translated where the page is rendered (studyapp).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# The languages whose platform strings ship translated (locale/<code>/LC_MESSAGES/django.po).
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "es": "Español"}
DEFAULT_LANGUAGES = ("en",)
# The language standard scales are published in (analysis.questionnaires).
SCALES_LANGUAGE = "en"

Text = str | Mapping[str, str]


def gettext_noop(text: str) -> str:
    """Marks ``text`` for the translation catalogue (``manage.py makemessages`` finds it) and
    returns it unchanged; the page translates it when it is shown."""
    return text


def spec_languages(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """The study's languages, default first (English when the spec names none)."""
    return tuple(spec.get("languages") or DEFAULT_LANGUAGES)


def text_in(value: Text, language: str) -> str:
    """A spec text in ``language``: a plain string as it is, a mapping's entry."""
    if isinstance(value, str):
        return value
    return value[language]


def localised_fields(spec: Mapping[str, Any]) -> Iterator[tuple[str, Text]]:
    """(field path, value) of every participant-facing text the spec gives."""
    for key in ("title", "description"):
        if key in spec:
            yield key, spec[key]
    if "text" in spec.get("consent", {}):
        yield "consent.text", spec["consent"]["text"]
    for i, paragraph in enumerate(spec.get("instructions", ())):
        yield f"instructions[{i}]", paragraph
    for key in ("question", "prompt"):
        if key in spec.get("task", {}):
            yield f"task.{key}", spec["task"][key]
    for c, condition in enumerate(spec.get("conditions", ())):
        for i, paragraph in enumerate(condition.get("tutorial", {}).get("text", ())):
            yield f"conditions[{c}].tutorial.text[{i}]", paragraph
    for q, question in enumerate(spec.get("comprehension", {}).get("questions", ())):
        yield f"comprehension.questions[{q}].text", question["text"]
        for o, option in enumerate(question["options"]):
            yield f"comprehension.questions[{q}].options[{o}]", option
        yield f"comprehension.questions[{q}].answer", question["answer"]
    for n, entry in enumerate(spec.get("questionnaires", ())):
        if isinstance(entry, Mapping):
            yield f"questionnaires[{n}].free_text.prompt", entry["free_text"]["prompt"]


def missing_languages(value: Text, languages: tuple[str, ...]) -> list[str]:
    """The declared languages a text does not give (none for a plain string)."""
    if isinstance(value, str):
        return []
    return [language for language in languages if not value.get(language)]
