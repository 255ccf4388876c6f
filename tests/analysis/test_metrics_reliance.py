"""Reliance on advice: agreement, switching, weight of advice, over-/under-reliance, RAIR/RSR,
complementarity. Oracle: hand counts on the (y, m, h0, h) tables written in each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import reliance
from tests.analysis.data.handmade import advice_rows, by_participant, trials_frame


def test_agreement_is_the_share_of_final_answers_equal_to_the_ai_output(
    tiny_trials: pd.DataFrame,
) -> None:
    table = reliance.agreement(tiny_trials, by="participant")
    assert by_participant(table) == {"p1": 0.75, "p2": 0.5, "p3": 0.75, "p4": 0.25}


def test_over_reliance_is_conditioned_on_the_ai_being_wrong_not_divided_by_all_trials() -> None:
    # One AI error among four trials, and the participant followed it.
    trials = trials_frame(advice_rows("p", "c", [
        ("A", "A", "A", "A"), ("A", "A", "A", "A"), ("B", "B", "B", "B"), ("A", "B", "A", "B"),
    ]))
    table = reliance.over_reliance(trials, by="participant")
    # P(h == m | m != y) = 1/1. OpenHEXAI's mistake, followed errors / all trials, gives 0.25.
    assert table["estimate"].iloc[0] == 1.0
    assert table["n"].iloc[0] == 1


def test_over_and_under_reliance_match_hand_counts(tiny_trials: pd.DataFrame) -> None:
    over = reliance.over_reliance(tiny_trials, by="participant")
    under = reliance.under_reliance(tiny_trials, by="participant")
    assert by_participant(over) == {"p1": 0.5, "p2": 0.5, "p3": 1.0, "p4": 0.0}
    assert by_participant(under) == {"p1": 0.0, "p2": 0.5, "p3": 0.5, "p4": 0.5}
    assert (over["n"] == 2).all() and (under["n"] == 2).all()


def test_ai_correctness_comes_from_the_platform_column_when_present() -> None:
    # A numeric task where the platform counts the AI right within a tolerance.
    trials = trials_frame(advice_rows("p", "c", [("100", "101", "90", "101")], ai_correct="true"))
    assert reliance.under_reliance(trials, by="participant")["estimate"].iloc[0] == 0.0
    assert reliance.over_reliance(trials, by="participant").empty


def test_switch_fraction_counts_only_trials_where_the_first_answer_disagreed(
    tiny_trials: pd.DataFrame,
) -> None:
    table = reliance.switch_fraction(tiny_trials, by="participant")
    # p1: trials 1, 2, 4 had h0 != m; switched on 1 and 2. p3 never disagreed at first.
    assert by_participant(table) == pytest.approx({"p1": 2 / 3, "p2": 0.0, "p4": 0.0})
    assert by_participant(table.assign(estimate=table["n"])) == {"p1": 3, "p2": 2, "p4": 3}


def test_rair_and_rsr_follow_schemmer_et_al(tiny_trials: pd.DataFrame) -> None:
    rair = reliance.rair(tiny_trials, by="participant")
    rsr = reliance.rsr(tiny_trials, by="participant")
    # RAIR: among (h0 wrong, m right), share with h == m. p1 trial 1 -> 1/1; p2 trial 3 -> 0/1;
    # p4 trial 1 -> 0/1; p3 has no such trial and drops out.
    assert by_participant(rair) == {"p1": 1.0, "p2": 0.0, "p4": 0.0}
    # RSR: among (h0 right, m wrong), share keeping h == h0. p1: trials 2, 4 -> 1/2.
    assert by_participant(rsr) == {"p1": 0.5, "p2": 1.0, "p4": 1.0}
    summary = reliance.rair(tiny_trials).set_index("condition")
    assert summary.loc["prediction", "n"] == 1
    assert summary.loc["shap", "estimate"] == 0.5


def test_weight_of_advice_is_clipped_and_drops_advice_equal_to_the_first_answer() -> None:
    trials = trials_frame(advice_rows("p", "c", [
        ("0", "20", "10", "15"),  # moved halfway: 0.5
        ("0", "20", "10", "25"),  # overshot: clipped to 1
        ("0", "20", "10", "5"),   # moved away: clipped to 0
        ("0", "10", "10", "12"),  # advice equals first answer: undefined, dropped
    ]))
    table = reliance.weight_of_advice(trials, by="participant")
    assert table["estimate"].iloc[0] == pytest.approx(0.5)
    assert table["n"].iloc[0] == 3


def test_complementarity_is_team_accuracy_minus_the_better_of_human_and_ai() -> None:
    rows = []
    # Human-alone condition: accuracy 0.5 for everyone. Team: 0.75 for everyone; the AI is
    # right on 3 of 4 items shown to the team, so AI alone is 0.75 and the gap is 0.
    for i in range(4):
        rows += advice_rows(f"h{i}", "human", [("A", None, None, a) for a in "ABAB"])
        rows += advice_rows(f"t{i}", "team", [
            ("A", "A", None, "A"), ("A", "A", None, "A"), ("B", "B", None, "B"),
            ("B", "A", None, "A"),
        ])
    table = reliance.complementarity(trials_frame(rows), human_alone="human", n_boot=200, seed=1)
    values = table.set_index("metric")["estimate"]
    assert values["team_accuracy"] == 0.75
    assert values["human_alone_accuracy"] == 0.5
    assert values["ai_accuracy"] == 0.75
    assert values["complementarity"] == 0.0
    assert table["condition"].unique().tolist() == ["team"]


def test_complementarity_uses_the_first_answer_as_human_alone_in_two_step_designs() -> None:
    rows = []
    for i in range(3):
        # h0 right 2/4, AI right 2/4, final right 3/4: complementary by 0.25.
        rows += advice_rows(f"p{i}", "team", [
            ("A", "A", "B", "A"), ("A", "B", "A", "A"), ("B", "B", "B", "B"),
            ("B", "A", "A", "A"),
        ])
    table = reliance.complementarity(trials_frame(rows), n_boot=200, seed=1)
    values = table.set_index("metric")
    assert values.loc["complementarity", "estimate"] == pytest.approx(0.25)
    assert values.loc["human_alone_accuracy", "estimate"] == pytest.approx(0.5)
    assert not np.isnan(values.loc["complementarity", "ci_low"])
