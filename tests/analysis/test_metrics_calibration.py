"""Calibration of stated confidence and fairness of human decisions.
Oracle: hand computation on the small tables in each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import calibration
from analysis.fairness import fairness_gaps
from tests.analysis.data.handmade import trials_frame


def test_a_five_point_scale_maps_linearly_onto_probabilities() -> None:
    ratings = pd.Series([1, 2, 3, 4, 5, None], dtype="Int64")
    plain = calibration.confidence_to_probability(ratings, scale=(1, 5))
    assert plain[:5].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert np.isnan(plain[5])
    # With a floor of 1/K for K = 2 classes the lowest rating means "guessing".
    guessing = calibration.confidence_to_probability(ratings, scale=(1, 5), floor=0.5)
    assert guessing[:5].tolist() == [0.5, 0.625, 0.75, 0.875, 1.0]


def test_a_rating_outside_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match=r"confidence 6 outside the scale 1\.\.5"):
        calibration.confidence_to_probability(pd.Series([3, 6]), scale=(1, 5))


def test_brier_score_of_stated_confidence_matches_hand_computation() -> None:
    rows = [
        {"participant": "p", "truth": "A", "final_response": h, "confidence": c}
        for h, c in [("A", 5), ("B", 1), ("A", 4), ("A", 3)]
    ]
    table = calibration.brier_score(trials_frame(rows), scale=(1, 5), by="participant")
    # p = 1, 0, 0.75, 0.5 against outcomes 1, 0, 1, 1: (0 + 0 + 0.0625 + 0.25) / 4.
    assert table["estimate"].iloc[0] == pytest.approx(0.078125)


def test_brier_score_can_judge_confidence_in_the_ai_instead_of_oneself() -> None:
    rows = [
        {"participant": "p", "truth": "A", "ai_prediction": m, "final_response": "4",
         "confidence": c}
        for m, c in [("A", 4), ("B", 4)]
    ]
    table = calibration.brier_score(trials_frame(rows), scale=(1, 4), target="ai",
                                    by="participant")
    # p = 1 both times; the AI was right once: (0 + 1) / 2.
    assert table["estimate"].iloc[0] == pytest.approx(0.5)


def test_expected_calibration_error_weights_bins_by_their_share_of_trials() -> None:
    # Two bins: confidence 0.1 with accuracy 0.5 (gap 0.4), 0.9 with accuracy 1 (gap 0.1).
    assert calibration.ece(np.array([0.1, 0.1, 0.9, 0.9]), np.array([0, 1, 1, 1]),
                           bins=10) == pytest.approx(0.25)


def test_a_probability_of_one_falls_in_the_last_bin() -> None:
    table = calibration.reliability_table(np.array([1.0, 0.95]), np.array([1, 1]), bins=10)
    assert table["n"].tolist() == [2]
    assert table["bin_low"].iloc[0] == pytest.approx(0.9)


def test_ece_by_condition_pools_trials_and_bootstraps_participants() -> None:
    rows = [
        {"participant": f"p{i}", "truth": "A", "final_response": "A" if j % 2 else "B",
         "confidence": 5}
        for i in range(6) for j in range(4)
    ]
    table = calibration.expected_calibration_error(trials_frame(rows), scale=(1, 5),
                                                   n_boot=100, seed=0)
    # Always certain, right half the time: ECE = 0.5 with no sampling variation.
    row = table.iloc[0]
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == (0.5, 0.5, 0.5)
    assert row["n"] == 6


def test_fairness_gaps_are_computed_on_the_human_decisions_not_the_ai() -> None:
    rows = []
    # The AI is perfect for both groups. The participants say "yes" to every truly-positive
    # applicant of group a but only half of group b's; and to one of two negatives in a.
    for participant in ("p1", "p2"):
        for group, truth, answer in [("a", "yes", "yes"), ("a", "yes", "yes"),
                                     ("a", "no", "yes"), ("a", "no", "no"),
                                     ("b", "yes", "yes"), ("b", "yes", "no"),
                                     ("b", "no", "no"), ("b", "no", "no")]:
            rows.append({"participant": participant, "truth": truth, "ai_prediction": truth,
                         "final_response": answer, "explanation_method": group})
    table = fairness_gaps(trials_frame(rows), group="explanation_method", positive="yes",
                          n_boot=50, seed=0)
    values = table.set_index("metric")["estimate"]
    assert values["tpr_a"] == 1.0 and values["tpr_b"] == 0.5
    assert values["fpr_a"] == 0.5 and values["fpr_b"] == 0.0
    assert values["delta_tpr"] == 0.5
    assert values["delta_fpr"] == 0.5


def test_fairness_groups_can_come_from_an_item_mapping_and_need_two_groups() -> None:
    rows = [{"participant": "p", "truth": "yes", "final_response": "yes"} for _ in range(3)]
    trials = trials_frame(rows)
    with pytest.raises(ValueError, match="need two groups, found 3"):
        fairness_gaps(trials, group={"item0": "a", "item1": "b", "item2": "c"}, positive="yes")
    table = fairness_gaps(trials, group={"item0": "a", "item1": "b", "item2": "c"},
                          positive="yes", groups=("a", "c"), n_boot=10, seed=0)
    assert table.set_index("metric").loc["delta_tpr", "estimate"] == 0.0
