"""The questionnaire page shows each standard scale's published anchors at their points.

Oracle: each scale's own declaration in ``analysis.questionnaires`` (point -> wording, with
the source cited there), read back from the rendered HTML with the standard library's parser.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from analysis.questionnaires import QUESTIONNAIRES
from studyapp.services.questionnaires import SCALES
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


class ScalePoints(HTMLParser):
    """Per questionnaire field: point -> the words inside that point's <label>."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, dict[int, str]] = {}
        self._point: int | None = None
        self._field = ""
        self._words: list[str] = []
        self._in_words = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "label" and "scale-point" in classes:
            self._point, self._words = int(found["data-point"] or 0), []
        elif tag == "input" and self._point is not None:
            self._field = found["name"] or ""
        elif tag == "span" and "point-words" in classes:
            self._in_words = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_words = False
        if tag == "label" and self._point is not None:
            self.fields.setdefault(self._field, {})[self._point] = "".join(self._words).strip()
            self._point = None

    def handle_data(self, data: str) -> None:
        if self._in_words:
            self._words.append(data)


def _questionnaire_page(owner, scale_name: str) -> str:  # type: ignore[no-untyped-def]
    spec = small_spec(questionnaires=[scale_name])
    # Everyone sees the AI and an explanation, so every scale is asked.
    spec["conditions"] = [{"name": "ai_shap", "label": "AI + SHAP",
                           "explanation": {"method": "tree_shap"}}]
    walker = Walker(make_study(owner, spec))
    walker.to_trials()
    walker.finish_trials()
    page = walker.page()
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize("scale_name", sorted(SCALES))
def test_every_scale_shows_its_declared_anchors_at_the_declared_points(owner, scale_name):
    scale = SCALES[scale_name]
    parser = ScalePoints()
    parser.feed(_questionnaire_page(owner, scale_name))
    assert set(parser.fields) == set(scale.columns)
    declared = {point: scale.label_at(point) for point in scale.points}
    for field, shown in parser.fields.items():
        assert shown == declared, field
    # Every declared anchor is on the page at its point (none lost, none moved).
    for point, words in scale.anchors:
        assert all(shown[point] == words for shown in parser.fields.values())


def test_the_hoffman_scales_end_with_agree_strongly_not_disagree_somewhat():
    """The reported bug: the high end read "I disagree somewhat" (the second anchor)."""
    for name in ("hoffman_satisfaction", "hoffman_trust"):
        scale = QUESTIONNAIRES[name]
        assert scale.label_at(scale.scale_min) == "I disagree strongly"
        assert scale.label_at(scale.scale_max) == "I agree strongly"
        assert [scale.label_at(p) for p in scale.points] == [
            "I disagree strongly", "I disagree somewhat", "I'm neutral about it",
            "I agree somewhat", "I agree strongly"]


def test_jian_words_only_its_two_ends():
    scale = QUESTIONNAIRES["jian"]
    assert [scale.label_at(p) for p in scale.points] == [
        "Not at all", "", "", "", "", "", "Extremely"]


def test_an_anchor_outside_the_scale_or_out_of_order_is_refused():
    from analysis.questionnaires import Questionnaire

    with pytest.raises(ValueError, match=r"outside 1\.\.5"):
        Questionnaire("x", "x", "x", (), 1, 5, anchors=((0, "low"),))
    with pytest.raises(ValueError, match="rise without repeats"):
        Questionnaire("x", "x", "x", (), 1, 5, anchors=((5, "high"), (1, "low")))
