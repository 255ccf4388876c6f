"""Questionnaire definitions and scoring. Oracle: hand computation and the source papers'
item counts, ranges and reversed items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import questionnaires as q
from analysis.io import load_export
from tests.analysis.data.handmade import TINY


def test_jian_has_twelve_seven_point_items_with_the_first_five_reversed() -> None:
    scale = q.JIAN_TRUST
    assert len(scale.items) == 12
    assert (scale.scale_min, scale.scale_max) == (1, 7)
    assert [item.key for item in scale.items if item.reverse] == ["1", "2", "3", "4", "5"]
    assert scale.columns[0] == "q_jian_1"


def test_hoffman_scales_have_eight_five_point_items() -> None:
    for scale in (q.HOFFMAN_SATISFACTION, q.HOFFMAN_TRUST):
        assert len(scale.items) == 8
        assert (scale.scale_min, scale.scale_max) == (1, 5)
        assert [point for point, _ in scale.anchors] == [1, 2, 3, 4, 5]
        assert "1812.04608" in scale.source
    assert not any(item.reverse for item in q.HOFFMAN_SATISFACTION.items)
    assert [item.key for item in q.HOFFMAN_TRUST.items if item.reverse] == ["6"]


def test_item_text_names_the_system_being_rated() -> None:
    assert q.JIAN_TRUST.items[0].render("the AI") == "The AI is deceptive."
    assert q.HOFFMAN_TRUST.items[5].render("the AI") == "I am wary of the AI."
    assert all("{system}" in item.text for item in q.HOFFMAN_SATISFACTION.items)


def test_jian_score_is_the_mean_after_reversing_the_distrust_items() -> None:
    participants = load_export(TINY).participants
    scores = q.score(participants, q.JIAN_TRUST)
    # p1 answered 1,2,1,3,2 | 6,5,6,6,7,6,4: reversed 7,6,7,5,6 (sum 31) + 40 = 71 over 12.
    assert scores.iloc[0] == pytest.approx(71 / 12)
    assert scores.name == "score_jian"
    # p6 answered nothing.
    assert np.isnan(scores.iloc[5])


def test_an_answer_outside_the_scale_is_refused_naming_the_item() -> None:
    participants = pd.DataFrame({f"q_jian_{i}": [4] for i in range(1, 13)})
    participants.loc[0, "q_jian_7"] = 8
    with pytest.raises(ValueError, match=r"q_jian_7 \(row 0\): 8 is not an integer from 1 to 7"):
        q.score(participants, q.JIAN_TRUST)


def test_a_missing_item_column_is_refused() -> None:
    participants = pd.DataFrame({f"q_jian_{i}": [4] for i in range(1, 12)})
    with pytest.raises(ValueError, match="q_jian_12"):
        q.score(participants, q.JIAN_TRUST)


def test_partly_answered_scales_are_missing_unless_prorating_is_allowed() -> None:
    participants = pd.DataFrame({f"q_hoffman_trust_{i}": [4.0] for i in range(1, 9)})
    participants.loc[0, "q_hoffman_trust_8"] = np.nan
    assert np.isnan(q.score(participants, q.HOFFMAN_TRUST).iloc[0])
    # Item 6 reversed: 6 - 4 = 2, so the seven answered items average (6 * 4 + 2) / 7.
    prorated = q.score(participants, q.HOFFMAN_TRUST, min_answered=7)
    assert prorated.iloc[0] == pytest.approx(26 / 7)


def test_score_all_adds_a_score_column_for_each_questionnaire_present() -> None:
    participants = load_export(TINY).participants
    scored = q.score_all(participants)
    assert "score_jian" in scored.columns
    assert [scale.name for scale in q.present(participants)] == ["jian"]


def test_the_error_names_the_participant_when_the_table_has_them() -> None:
    participants = load_export(TINY).participants
    participants.loc[1, "q_jian_3"] = 0
    with pytest.raises(ValueError, match=r"q_jian_3 \(participant p2\): 0 is not an integer"):
        q.item_responses(participants, q.JIAN_TRUST)
