"""Learning across trials: the curve by hand, the model against lme4.

Oracles: a hand-counted table for :func:`learning_curve`; R's ``lme4::glmer`` on the same rows
(same position coding) for :func:`learning_model` (marker ``r``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.learning import learning_curve, learning_model, scored_positions
from tests.analysis.rscript import r_has_packages, run_r_json


def _rows(participant: str, condition: str, outcomes: list[str]) -> list[dict[str, object]]:
    rows = []
    for index, outcome in enumerate(outcomes):
        kind = "attention" if outcome == "check" else "main"
        rows.append({"participant": participant, "condition": condition, "trial_index": index,
                     "trial_kind": kind, "item_id": f"i{index}",
                     "correct": "true" if outcome in ("1", "check") else
                     ("false" if outcome == "0" else "")})
    return rows


def test_the_curve_counts_scored_trials_in_each_participants_order():
    trials = pd.DataFrame(
        _rows("a", "fb", ["0", "check", "1", "1", "1"])  # positions 1..4: 0 1 | 1 1
        + _rows("b", "fb", ["0", "0", "", "1"])          # unanswered skipped: 0 0 | 1
        + _rows("c", "none", ["1", "0", "0"]))
    curve = learning_curve(trials, block_size=2).set_index(["condition", "block"])
    assert curve.loc[("fb", 1), "n"] == 4 and curve.loc[("fb", 1), "accuracy"] == 0.25
    assert curve.loc[("fb", 2), "n"] == 3 and curve.loc[("fb", 2), "accuracy"] == 1.0
    assert curve.loc[("none", 1), "accuracy"] == 0.5
    assert curve.loc[("fb", 2), "positions"] == "3-4"
    assert (curve["ci_low"] <= curve["accuracy"]).all()
    assert (curve["accuracy"] <= curve["ci_high"]).all()
    assert list(scored_positions(trials).query("participant == 'b'")["position"]) == [1, 2, 3]


def _simulated(seed: int = 7) -> pd.DataFrame:
    """40 participants x 16 trials; accuracy rises with practice in the feedback group."""
    rng = np.random.default_rng(seed)
    rows = []
    item_effect = rng.normal(0, 0.5, 16)
    for p in range(40):
        condition = "feedback" if p % 2 else "none"
        ability = rng.normal(0, 0.6)
        for t in range(16):
            slope = 0.15 if condition == "feedback" else 0.0
            eta = -0.2 + ability + item_effect[t] + slope * (t - 7.5)
            correct = rng.random() < 1 / (1 + np.exp(-eta))
            rows.append({"participant": f"p{p}", "condition": condition, "trial_index": t,
                         "trial_kind": "main", "item_id": f"i{t}",
                         "correct": "true" if correct else "false"})
    return pd.DataFrame(rows)


def test_the_model_finds_faster_learning_with_feedback():
    fit = learning_model(_simulated())
    interaction = fit.params["group[T.none]:position10"]
    assert fit.params["position10"] > 0.5 and interaction < 0  # learning only with feedback


@pytest.mark.r
@pytest.mark.skipif(not r_has_packages("lme4", "jsonlite"), reason="R with lme4 needed")
def test_the_model_matches_lme4_on_the_same_rows(tmp_path: Path):
    trials = _simulated()
    fit = learning_model(trials)
    scored = scored_positions(trials)
    data = pd.DataFrame({"correct": scored["correct"], "group": scored["condition"],
                         "position10": (scored["position"] - scored["position"].mean()) / 10,
                         "participant": scored["participant"], "item_id": scored["item_id"]})
    script = """
library(lme4); library(jsonlite)
d <- read.csv(commandArgs(TRUE)[1])
fit <- glmer(correct ~ group * position10 + (1 | participant) + (1 | item_id), data = d,
             family = binomial, control = glmerControl(optimizer = "bobyqa"))
cat(toJSON(list(beta = as.list(fixef(fit)), llf = as.numeric(logLik(fit))), digits = 12,
           auto_unbox = TRUE))
"""
    r = run_r_json(script, data, tmp_path)
    ours = {"(Intercept)": fit.params["Intercept"], "groupnone": fit.params["group[T.none]"],
            "position10": fit.params["position10"],
            "groupnone:position10": fit.params["group[T.none]:position10"]}
    for name, value in ours.items():
        assert value == pytest.approx(r["beta"][name], abs=2e-3), name
    assert fit.llf >= r["llf"] - 1e-4  # at the optimum, as lme4 or better
