"""The post-study questionnaires a spec names, as pages of items to show and validate.

Scale definitions (item texts, reverse keying, ranges) live in ``analysis.questionnaires`` so
that the items shown and the scoring in the analysis cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analysis.questionnaires import (
    HOFFMAN_SATISFACTION,
    HOFFMAN_TRUST,
    JIAN_TRUST,
    Questionnaire,
)
from studyapp.models import Study
from studyapp.services.errors import ParticipantError

MAX_FREE_TEXT = 5000
# What our pages send for a scale point or a count: ASCII digits only.
ASCII_INTEGER = re.compile(r"[0-9]{1,9}")
# Spec names -> scale definitions (item texts, reverse keying, range) from the analysis package.
SCALES: dict[str, Questionnaire] = {
    "jian_trust": JIAN_TRUST,
    "hoffman_satisfaction": HOFFMAN_SATISFACTION,
    "hoffman_trust": HOFFMAN_TRUST,
}


@dataclass(frozen=True)
class QuestionItem:
    """One field on the questionnaire page; ``field`` is its form name."""

    questionnaire: str
    item: str
    text: str
    kind: str  # "likert" or "text"
    low: int = 0
    high: int = 0
    low_label: str = ""
    high_label: str = ""
    required: bool = True

    @property
    def field(self) -> str:
        return f"q_{self.questionnaire}_{self.item}"

    @property
    def points(self) -> list[int]:
        return list(range(self.low, self.high + 1))


def questionnaire_items(study: Study, *, saw_ai: bool = True,
                        saw_explanation: bool = True) -> list[QuestionItem]:
    """The questionnaire fields; a scale about the AI is asked only of those who saw it, one
    about explanations only of those who saw an explanation."""
    seen = {"ai": saw_ai, "explanation": saw_explanation}
    items: list[QuestionItem] = []
    for entry in study.spec.get("questionnaires", []):
        if isinstance(entry, str):
            if seen[SCALES[entry].about]:
                items.extend(_scale_items(entry))
        else:
            free = entry["free_text"]
            items.append(QuestionItem(questionnaire="text", item=free["name"],
                                      text=free["prompt"], kind="text",
                                      required=free.get("required", False)))
    return items


def study_scales(study: Study) -> list[Questionnaire]:
    """The standard scales (with scoring rules) a study's spec asks for."""
    return [SCALES[entry] for entry in study.spec.get("questionnaires", [])
            if isinstance(entry, str)]


def _scale_items(name: str) -> list[QuestionItem]:
    scale = SCALES[name]
    # The scale's ends carry its first and last anchors (not the first two).
    low_label, high_label = (scale.anchors[0], scale.anchors[-1]) if scale.anchors else ("", "")
    return [
        QuestionItem(questionnaire=scale.name, item=item.key, text=item.render("the AI"),
                     kind="likert", low=scale.scale_min, high=scale.scale_max,
                     low_label=low_label, high_label=high_label)
        for item in scale.items
    ]


def questionnaire_answers_validate(study: Study, form: Any, *, saw_ai: bool = True,
                                   saw_explanation: bool = True
                                   ) -> list[tuple[str, str, str]]:
    """(questionnaire, item, value) rows for every answer; ParticipantError on any bad one."""
    rows: list[tuple[str, str, str]] = []
    for question in questionnaire_items(study, saw_ai=saw_ai, saw_explanation=saw_explanation):
        raw = (form.get(question.field) or "").strip()
        if not raw:
            if question.required:
                raise ParticipantError("Please answer every question on this page.")
            continue
        rows.append((question.questionnaire, question.item, _validate_value(question, raw)))
    return rows


def _validate_value(question: QuestionItem, raw: str) -> str:
    if question.kind == "text":
        if len(raw) > MAX_FREE_TEXT:
            raise ParticipantError(f"Please keep your answer under {MAX_FREE_TEXT} characters.")
        if "\x00" in raw:  # only a forged request sends NUL; PostgreSQL text cannot hold it
            raise ParticipantError("Your answer contains a character that cannot be saved.")
        return raw
    if not ASCII_INTEGER.fullmatch(raw):  # int() would also read "٣" (Arabic-Indic 3)
        raise ParticipantError("Please choose one of the points on each scale.")
    value = int(raw)
    if not question.low <= value <= question.high:
        raise ParticipantError("Please choose one of the points on each scale.")
    return str(value)
