"""Accuracy, simulation, time and debugging metrics, and the intervals they all share.

Oracles: hand computation on the tiny export (tests/analysis/data/tiny, built from the
(y, m, h0, h) tables listed in the comments below), closed forms, and scipy/statsmodels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis import metrics
from analysis.estimates import condition_contrasts, same_answer, wilson_interval
from tests.analysis.data.handmade import by_participant, trials_frame

# Main trials (y, m, h0, h) of the tiny export, all judge-advisor:
#   p1 shap:       (A,A,B,A) (A,B,A,B) (B,B,B,B) (B,A,B,B)   + attention trial answered A (right)
#   p2 shap:       (A,A,A,A) (A,B,A,A) (B,B,A,A) (B,A,A,A)
#   p3 prediction: (A,A,A,A) (A,B,B,B) (B,B,B,A) (B,A,A,A)
#   p4 prediction: (A,A,B,B) (A,B,A,A) (B,B,B,B) (B,A,B,B)
# p5 is a bot and p6 returned early; they are left out here.






def test_accuracy_per_participant_is_the_share_of_answers_equal_to_the_truth(
    tiny_trials: pd.DataFrame,
) -> None:
    table = metrics.accuracy(tiny_trials, by="participant")
    # Hand count of h == y; p1's correct attention trial would make it 4/5 if it counted.
    assert by_participant(table) == {"p1": 0.75, "p2": 0.5, "p3": 0.25, "p4": 0.75}
    assert set(table.columns) >= {"metric", "condition", "n", "estimate", "ci_low", "ci_high"}
    assert (table["n"] == 4).all()


def test_initial_accuracy_scores_the_answer_before_advice(tiny_trials: pd.DataFrame) -> None:
    table = metrics.accuracy(tiny_trials, answer="initial_response", by="participant")
    assert by_participant(table) == {"p1": 0.75, "p2": 0.5, "p3": 0.5, "p4": 0.75}
    assert set(table["metric"]) == {"initial_accuracy"}


def test_condition_interval_is_the_t_interval_across_participant_means(
    tiny_trials: pd.DataFrame,
) -> None:
    table = metrics.accuracy(tiny_trials).set_index("condition")
    shap = table.loc["shap"]
    assert shap["n"] == 2
    assert shap["estimate"] == pytest.approx(0.625)
    # Hand: sd(0.75, 0.5) = 0.17678, se = 0.125, t(0.975, 1) = 12.7062 -> 0.625 -/+ 1.58828.
    assert shap["ci_low"] == pytest.approx(0.625 - 1.58828, abs=1e-5)
    assert shap["ci_high"] == pytest.approx(0.625 + 1.58828, abs=1e-5)
    low, high = stats.t.interval(0.95, 1, loc=0.625, scale=0.125)
    assert (shap["ci_low"], shap["ci_high"]) == pytest.approx((low, high))


def test_bootstrap_interval_is_reproducible_with_a_seed_and_brackets_the_mean() -> None:
    rows = [
        {"participant": f"p{i}", "condition": "c", "truth": "A",
         "final_response": "A" if j < i % 5 + 1 else "B"}
        for i in range(12) for j in range(5)
    ]
    trials = trials_frame(rows)
    first = metrics.accuracy(trials, ci="bootstrap", n_boot=500, seed=3)
    second = metrics.accuracy(trials, ci="bootstrap", n_boot=500, seed=3)
    pd.testing.assert_frame_equal(first, second)
    row = first.iloc[0]
    assert row["ci_low"] < row["estimate"] < row["ci_high"]


def test_participant_interval_is_the_wilson_interval() -> None:
    # Oracle: statsmodels' Wilson interval; by hand 3/4 gives (0.30064, 0.95441).
    assert wilson_interval(3, 4) == pytest.approx(proportion_confint(3, 4, method="wilson"))
    assert wilson_interval(3, 4) == pytest.approx((0.30064, 0.95441), abs=1e-5)
    assert wilson_interval(0, 5)[0] == 0.0


def test_answers_that_are_numbers_match_numerically() -> None:
    left = pd.Series(["3.0", "A", None, " >50K"], dtype="string")
    right = pd.Series(["3", "a", "A", ">50K"], dtype="string")
    result = same_answer(left, right).tolist()
    assert result[:2] == [1.0, 0.0]
    assert np.isnan(result[2])
    assert result[3] == 1.0


def test_simulation_accuracy_compares_answers_with_the_ai_output_not_the_truth() -> None:
    trials = trials_frame([
        {"participant": "p", "truth": "A", "ai_prediction": "B", "final_response": "B"},
        {"participant": "p", "truth": "A", "ai_prediction": "A", "final_response": "A"},
        {"participant": "p", "truth": "B", "ai_prediction": "A", "final_response": "B"},
    ])
    table = metrics.simulation_accuracy(trials, by="participant")
    assert table["estimate"].iloc[0] == pytest.approx(2 / 3)


def test_simulation_change_is_post_minus_pre_paired_within_participant() -> None:
    rows = []
    # p1: pre 1/2, post 2/2 -> +0.5; p2: pre 0/2, post 1/2 -> +0.5; p3 has no post trials.
    for participant, phase, hits in [("p1", "pre", [1, 0]), ("p1", "post", [1, 1]),
                                     ("p2", "pre", [0, 0]), ("p2", "post", [1, 0]),
                                     ("p3", "pre", [1, 1])]:
        for hit in hits:
            rows.append({"participant": participant, "task": "forward_simulation",
                         "phase": phase, "ai_prediction": "A",
                         "final_response": "A" if hit else "B"})
    # Learning trials show the model's outputs: they are never scored.
    rows.append({"participant": "p1", "phase": "learning", "ai_prediction": "A",
                 "final_response": "B"})
    trials = trials_frame(rows)
    per_participant = metrics.simulation_change(trials, by="participant")
    assert by_participant(per_participant) == {"p1": 0.5, "p2": 0.5}
    summary = metrics.simulation_change(trials)
    assert summary["n"].iloc[0] == 2
    assert summary["estimate"].iloc[0] == pytest.approx(0.5)
    pre = metrics.simulation_accuracy(trials, phase="pre", by="participant")
    assert by_participant(pre) == {"p1": 0.5, "p2": 0.0, "p3": 1.0}


def test_simulation_error_is_the_absolute_distance_from_the_model_output() -> None:
    trials = trials_frame([
        {"participant": "p", "ai_prediction": "200000", "final_response": "150000"},
        {"participant": "p", "ai_prediction": "100000", "final_response": "130000"},
    ])
    table = metrics.simulation_error(trials, by="participant")
    assert table["estimate"].iloc[0] == pytest.approx(40000.0)


def test_response_time_is_milliseconds_divided_by_a_thousand(tiny_trials: pd.DataFrame) -> None:
    table = metrics.response_time(tiny_trials, by="participant")
    # p1: 2, 4, 6, 8 s (the 99 s attention trial does not count). Never rt_ms / 100.
    assert by_participant(table)["p1"] == pytest.approx(5.0)
    assert set(table["metric"]) == {"time_per_trial_s"}


def test_explanation_time_counts_only_trials_that_showed_an_explanation(
    tiny_trials: pd.DataFrame,
) -> None:
    table = metrics.explanation_time(tiny_trials)
    # Only the shap condition shows explanations: 1, 2, 3, 4 s for each participant.
    assert table["condition"].tolist() == ["shap"]
    assert table["estimate"].iloc[0] == pytest.approx(2.5)


def test_debugging_detection_scores_ready_answers_against_the_planted_bug() -> None:
    rows = [
        {"participant": "p", "task": "debugging", "truth": bug, "final_response": answer}
        for bug, answer in [("spurious_correlation", "ready"), ("label_noise", "not_ready"),
                            ("random_weights", "not_ready"), ("none", "ready"),
                            ("none", "not_ready")]
    ]
    table = metrics.debugging_detection(trials_frame(rows), by="participant")
    result = dict(zip(table["metric"], table["estimate"], strict=True))
    # Hand: 1 of 3 bugged models judged ready; 2/3 flagged; 1 of 2 clean ones passed.
    assert result["judged_ready_bugged"] == pytest.approx(1 / 3)
    assert result["sensitivity"] == pytest.approx(2 / 3)
    assert result["specificity"] == pytest.approx(1 / 2)


def test_debugging_likert_answers_need_a_threshold() -> None:
    rows = [{"participant": "p", "task": "debugging", "truth": "none", "final_response": "4"}]
    with pytest.raises(ValueError, match="ready_threshold"):
        metrics.debugging_detection(trials_frame(rows))
    table = metrics.debugging_detection(trials_frame(rows), ready_threshold=4)
    assert table.set_index("metric").loc["specificity", "estimate"] == 1.0


def test_the_condition_in_force_on_a_trial_wins_in_within_subject_designs() -> None:
    trials = trials_frame([
        {"participant": "p", "condition": "order_ab", "trial_condition": "shap",
         "truth": "A", "final_response": "A"},
        {"participant": "p", "condition": "order_ab", "trial_condition": "none",
         "truth": "A", "final_response": "B"},
    ])
    table = metrics.accuracy(trials, by="participant")
    assert dict(zip(table["condition"], table["estimate"], strict=True)) == {
        "none": 0.0, "shap": 1.0
    }


def test_condition_contrasts_match_scipy_welch_t_test() -> None:
    per_participant = pd.DataFrame({
        "metric": "accuracy",
        "participant": [f"p{i}" for i in range(7)],
        "condition": ["a", "a", "a", "b", "b", "b", "b"],
        "estimate": [0.5, 0.6, 0.7, 0.8, 0.9, 0.7, 1.0],
    })
    row = condition_contrasts(per_participant).iloc[0]
    a, b = [0.5, 0.6, 0.7], [0.8, 0.9, 0.7, 1.0]
    assert row["test"] == "welch"
    assert row["difference"] == pytest.approx(np.mean(b) - np.mean(a))
    assert row["p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    interval = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((interval.low, interval.high))


def test_within_subject_contrasts_are_paired_like_scipy_ttest_rel() -> None:
    explained = [0.9, 0.8, 0.75, 0.95]
    plain = [0.7, 0.75, 0.6, 0.8]
    per_participant = pd.DataFrame({
        "metric": "accuracy",
        "participant": [f"p{i}" for i in range(4)] * 2,
        "condition": ["shap"] * 4 + ["none"] * 4,
        "estimate": explained + plain,
    })
    row = condition_contrasts(per_participant, reference="none").iloc[0]
    assert row["test"] == "paired"
    oracle = stats.ttest_rel(explained, plain)
    assert row["p_value"] == pytest.approx(oracle.pvalue)
    interval = oracle.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((interval.low, interval.high))
