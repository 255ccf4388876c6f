"""The post-study questionnaires a spec names, as pages of items to show and validate.

Scale definitions (item texts, reverse keying, ranges) live in ``analysis.questionnaires`` so
that the items shown and the scoring in the analysis cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from analysis.questionnaires import SCALES, Questionnaire
from experiments.designs import Exposure
from experiments.study_spec import ScaleTranslation, StudySpec
from studyapp.models import Study
from studyapp.services.errors import ParticipantError

MAX_FREE_TEXT = 5000
# What our pages send for a scale point or a count: ASCII digits only.
ASCII_INTEGER = re.compile(r"[0-9]{1,9}")
# Spec names -> scale definitions (item texts, reverse keying, range): analysis.SCALES.


@dataclass(frozen=True)
class QuestionItem:
    """One field on the questionnaire page; ``field`` is its form name."""

    questionnaire: str
    item: str
    text: str
    kind: str  # "likert" or "text"
    low: int = 0
    high: int = 0
    labels: tuple[str, ...] = ()  # the scale's wording at each point ("" = number only)
    required: bool = True

    @property
    def field(self) -> str:
        return f"q_{self.questionnaire}_{self.item}"

    @property
    def points(self) -> list[int]:
        return list(range(self.low, self.high + 1))

    @property
    def labelled_points(self) -> list[tuple[int, str]]:
        """(point, wording) for every point, in order; wording "" where there is none."""
        return list(zip(self.points, self.labels or ("",) * len(self.points), strict=True))

    @property
    def every_point_labelled(self) -> bool:
        return bool(self.labels) and all(self.labels)


def questionnaire_items(study: Study, *, seen: Exposure | None = None,
                        spec: StudySpec | None = None) -> list[QuestionItem]:
    """The questionnaire fields put to a participant who saw ``seen`` (None: every field the
    spec names, as the codebook lists them), worded as ``spec`` (the participant's view of
    it; default: the study's default language). A scale about the AI is asked only of those
    who saw the AI, one about explanations only of those who saw an explanation."""
    spec = spec or study.typed_spec
    items: list[QuestionItem] = []
    for entry in spec.questionnaires:
        if isinstance(entry, str):
            if seen is None or scale_applies(SCALES[entry], seen):
                items.extend(_scale_items(entry, spec.scale_translations.get(entry)))
        else:
            items.append(QuestionItem(questionnaire="text", item=entry.name,
                                      text=entry.prompt, kind="text",
                                      required=entry.required))
    return items


def scale_applies(scale: Questionnaire, seen: Exposure) -> bool:
    """Whether a participant who saw ``seen`` is asked ``scale`` (by what its items rate)."""
    return seen.explanation if scale.about == "explanation" else seen.ai


def study_scales(study: Study) -> list[Questionnaire]:
    """The standard scales (with scoring rules) a study's spec asks for."""
    return [SCALES[entry] for entry in study.typed_spec.scales]


def _scale_items(name: str, translation: ScaleTranslation | None) -> list[QuestionItem]:
    """A scale's items in its published English wording, or in the validated translation the
    spec cites for the participant's language (validation allows no other)."""
    scale = SCALES[name]
    # The wording at each point is the scale's own declaration (analysis.questionnaires).
    anchors = dict(scale.anchors)
    texts = [item.render("the AI") for item in scale.items]
    if translation is not None:
        anchors = dict(zip(anchors, translation.anchors, strict=True))
        texts = list(translation.items)
    labels = tuple(anchors.get(point, "") for point in scale.points)
    return [
        QuestionItem(questionnaire=scale.name, item=item.key, text=text,
                     kind="likert", low=scale.scale_min, high=scale.scale_max, labels=labels)
        for item, text in zip(scale.items, texts, strict=True)
    ]


def questionnaire_answers_validate(study: Study, form: Any, *, seen: Exposure,
                                   spec: StudySpec | None = None
                                   ) -> list[tuple[str, str, str]]:
    """(questionnaire, item, value) rows for every answer to a field put to a participant who
    saw ``seen`` (fields not put to them are ignored, never stored); ParticipantError on any
    bad one."""
    rows: list[tuple[str, str, str]] = []
    for question in questionnaire_items(study, seen=seen, spec=spec):
        raw = (form.get(question.field) or "").strip()
        if not raw:
            if question.required:
                raise ParticipantError(gettext("Please answer every question on this page."))
            continue
        rows.append((question.questionnaire, question.item, _validate_value(question, raw)))
    return rows


def _validate_value(question: QuestionItem, raw: str) -> str:
    if question.kind == "text":
        if len(raw) > MAX_FREE_TEXT:
            raise ParticipantError(gettext("Please keep your answer under {count} characters.")
                                   .format(count=MAX_FREE_TEXT))
        if "\x00" in raw:  # only a forged request sends NUL; PostgreSQL text cannot hold it
            raise ParticipantError(gettext("Your answer contains a character that cannot be "
                                           "saved."))
        return raw
    if not ASCII_INTEGER.fullmatch(raw):  # int() would also read "٣" (Arabic-Indic 3)
        raise ParticipantError(gettext("Please choose one of the points on each scale."))
    value = int(raw)
    if not question.low <= value <= question.high:
        raise ParticipantError(gettext("Please choose one of the points on each scale."))
    return str(value)
