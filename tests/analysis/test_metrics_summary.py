"""The study summary table: which metrics each design gets, and that they are the metric
functions' own numbers. Oracle: the hand counts of test_metrics / test_metrics_reliance."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.io import load_export
from analysis.questionnaires import score_all
from analysis.summary import summarise_study, trial_outcomes
from tests.analysis.data.handmade import TINY, trials_frame


@pytest.fixture(scope="module")
def tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    export = load_export(TINY)
    keep = ["p1", "p2", "p3", "p4"]
    trials = export.trials[export.trials["participant"].isin(keep)]
    participants = export.participants[export.participants["participant"].isin(keep)]
    return trials, score_all(participants)


def test_a_judge_advisor_study_reports_accuracy_reliance_and_time(
    tiny: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    trials, participants = tiny
    table = summarise_study(trials, participants, confidence_scale=(1, 5), n_boot=100, seed=0)
    assert list(table.columns) == ["task", "metric", "condition", "n", "estimate", "ci_low",
                                   "ci_high"]
    metrics = set(table["metric"])
    assert {"initial_accuracy", "accuracy", "agreement", "over_reliance", "under_reliance",
            "switch_fraction", "rair", "rsr", "complementarity", "time_per_trial_s",
            "explanation_time_s", "brier_score", "ece", "score_jian"} <= metrics
    values = table.set_index(["metric", "condition"])["estimate"]
    assert values[("accuracy", "shap")] == pytest.approx(0.625)
    assert values[("over_reliance", "prediction")] == pytest.approx(0.5)
    # Categorical answers have no weight of advice.
    assert "weight_of_advice" not in metrics


def test_per_participant_summary_has_one_row_per_participant_and_metric(
    tiny: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    trials, participants = tiny
    table = summarise_study(trials, participants, by="participant")
    accuracy = table[table["metric"] == "accuracy"]
    assert dict(zip(accuracy["participant"], accuracy["estimate"], strict=True)) == {
        "p1": 0.75, "p2": 0.5, "p3": 0.25, "p4": 0.75
    }
    assert "complementarity" not in set(table["metric"])
    jian = table[table["metric"] == "score_jian"].set_index("participant")["estimate"]
    assert jian["p1"] == pytest.approx(71 / 12)


def test_each_design_gets_its_own_metrics() -> None:
    rows = [
        {"participant": "a", "task": "forward_simulation", "phase": "pre",
         "ai_prediction": "A", "final_response": "A"},
        {"participant": "a", "task": "forward_simulation", "phase": "post",
         "ai_prediction": "A", "final_response": "A"},
        {"participant": "a", "task": "agreement", "ai_correct": "true", "correct": "true",
         "final_response": "4"},
        {"participant": "a", "task": "simulate_then_decide", "truth": "300", "ai_prediction": "250",
         "simulation_response": "240", "final_response": "260"},
    ]
    table = summarise_study(trials_frame(rows))
    by_task = table.groupby("task")["metric"].apply(set).to_dict()
    assert {"simulation_accuracy_pre", "simulation_accuracy_post", "simulation_change"} <= by_task[
        "forward_simulation"]
    assert "scored_accuracy_ai_correct" in by_task["agreement"]
    values = table.set_index(["task", "metric"])["estimate"]
    assert values[("simulate_then_decide", "simulation_error")] == 10.0
    assert values[("simulate_then_decide", "decision_error")] == 40.0
    assert values[("simulate_then_decide", "deviation_from_ai")] == 10.0


def test_trial_outcomes_score_each_design_by_its_own_rule() -> None:
    rows = [
        {"participant": "a", "task": "decision", "truth": "A", "ai_prediction": "B",
         "final_response": "A"},
        {"participant": "a", "task": "forward_simulation", "phase": "post", "truth": "A",
         "ai_prediction": "B", "final_response": "B"},
        {"participant": "a", "task": "agreement", "truth": "A", "ai_prediction": "A",
         "final_response": "1", "correct": "false"},
        {"participant": "a", "task": "decision", "trial_kind": "attention", "truth": "A",
         "final_response": "A"},
    ]
    outcomes = trial_outcomes(trials_frame(rows))
    assert outcomes["correct"].tolist() == [1.0, 1.0, 0.0]
    assert outcomes["ai_correct"].tolist() == [0.0, 0.0, 1.0]
    assert list(outcomes.columns) == ["participant", "item", "condition", "task", "phase",
                                      "correct", "ai_correct", "agreed"]


def test_fairness_gaps_join_the_summary_when_a_group_is_named() -> None:
    rows = [
        {"participant": p, "truth": "yes", "final_response": answer, "explanation_method": g}
        for p in ("a", "b") for g, answer in [("x", "yes"), ("y", "no")]
    ]
    table = summarise_study(trials_frame(rows), fairness_group="explanation_method",
                            positive_label="yes", n_boot=20, seed=0)
    values = table.set_index("metric")["estimate"]
    assert values["delta_tpr"] == 1.0
    with pytest.raises(ValueError, match="positive_label"):
        summarise_study(trials_frame(rows), fairness_group="explanation_method")


def test_an_early_export_without_human_alone_answers_or_a_second_group_still_summarises():
    """Early in a study the no-AI condition may have no answers yet and every item may come
    from one group: the summary leaves complementarity and fairness out instead of failing."""
    from tests.analysis.data.handmade import advice_rows

    rows = advice_rows("p1", "ai", [("yes", "yes", None, "yes"), ("no", "yes", None, "no")],
                       task="decision", group="Male")
    summary = summarise_study(trials_frame(rows), human_alone="no_ai",
                              fairness_group="group", positive_label="yes")
    assert "accuracy" in set(summary["metric"])
    assert not any(m.startswith(("complementarity", "tpr", "fpr", "delta"))
                   for m in summary["metric"])
