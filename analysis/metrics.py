"""Performance metrics of participants: accuracy, simulation, time and model debugging.

Notation per trial (LITERATURE.md): ``h0`` the first answer (``initial_response``), ``h`` the
final answer (``final_response``), ``m`` the AI's output (``ai_prediction``), ``y`` the truth.
Every metric is computed on the **participants'** answers, never on the AI's, and attention-check
trials are excluded (see :func:`analysis.estimates.scored_trials`).

Each function returns a tidy table, by condition (default) or by participant; see
:mod:`analysis.estimates` for the columns and the intervals. Reliance measures live in
:mod:`analysis.reliance`, calibration in :mod:`analysis.calibration`, fairness in
:mod:`analysis.fairness`.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from analysis.estimates import (
    CI,
    PARTICIPANT_COLUMNS,
    By,
    as_float,
    as_number,
    participant_estimates,
    same_answer,
    scored_trials,
    summarise,
    trial_metric,
)
from experiments.designs import declaring

MS_PER_SECOND = 1000.0


def accuracy(
    trials: pd.DataFrame,
    *,
    answer: str = "final_response",
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Accuracy ``mean(h == y)`` of the participants' answers (metric ``accuracy``).

    ``answer="initial_response"`` gives the accuracy before advice (metric
    ``initial_accuracy``), the human-alone baseline of two-step designs.
    """
    kept = scored_trials(trials)
    values = same_answer(kept[answer], kept["truth"])
    metric = "accuracy" if answer == "final_response" else "initial_accuracy"
    return trial_metric(kept, values, metric, binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed)


def scored_accuracy(
    trials: pd.DataFrame,
    *,
    by_ai_correct: bool = True,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Mean of the platform's ``correct`` column, for designs whose answer is not a label.

    In verification designs (HIVE "agreement") the answer is a rating of whether the AI is
    right, scored by the platform; chance is 50% and results are reported separately for
    correct and incorrect AI predictions (metrics ``scored_accuracy_ai_correct`` /
    ``scored_accuracy_ai_wrong``) unless ``by_ai_correct=False``.
    """
    kept = scored_trials(trials)
    correct = as_float(kept["correct"])
    if not by_ai_correct:
        table = participant_estimates(kept, correct, "scored_accuracy", binary=True)
    else:
        ai_correct = as_float(kept["ai_correct"])
        table = pd.concat(
            [
                participant_estimates(
                    kept, correct.where(ai_correct == 1), "scored_accuracy_ai_correct", binary=True
                ),
                participant_estimates(
                    kept, correct.where(ai_correct == 0), "scored_accuracy_ai_wrong", binary=True
                ),
            ],
            ignore_index=True,
        )
    return summarise(table, by=by, ci=ci, n_boot=n_boot, seed=seed)


def simulation_accuracy(
    trials: pd.DataFrame,
    *,
    answer: str = "final_response",
    phase: str | None = None,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Simulation accuracy ``mean(h_sim == m)``: how often participants predict the AI's output.

    ``answer`` names the column holding the simulation (``initial_response`` in
    simulate-then-decide designs). ``phase`` restricts to one phase; the metric is then named
    ``simulation_accuracy_<phase>``.
    """
    kept = scored_trials(trials, phases=(phase,) if phase else None)
    values = same_answer(kept[answer], kept["ai_prediction"])
    metric = f"simulation_accuracy_{phase}" if phase else "simulation_accuracy"
    return trial_metric(kept, values, metric, binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed)


def simulation_change(
    trials: pd.DataFrame,
    *,
    before: str = "pre",
    after: str = "post",
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Per participant Δ = simulation accuracy ``after`` - ``before`` (Hase & Bansal 2020).

    Paired within participant: only participants with trials in both phases count, and the
    condition interval is the paired t interval (a t interval over the Δs).
    """
    kept = scored_trials(trials, phases=(before, after))
    hits = same_answer(kept["final_response"], kept["ai_prediction"])
    frame = pd.DataFrame(
        {
            "participant": kept["participant"].astype(str),
            "condition": kept["condition"].astype(str),
            "phase": kept["phase"].astype(str),
            "hit": hits,
        }
    ).dropna(subset=["hit"])
    means = frame.pivot_table(
        index=["participant", "condition"], columns="phase", values="hit", aggfunc="mean"
    )
    counts = frame.groupby(["participant", "condition"]).size()
    rows = []
    if before in means.columns and after in means.columns:
        paired = means.dropna(subset=[before, after])
        for (participant, condition), row in paired.iterrows():
            delta = float(row[after] - row[before])
            n = int(counts[(participant, condition)])
            rows.append(("simulation_change", participant, condition, n, delta, np.nan, np.nan))
    table = pd.DataFrame(rows, columns=PARTICIPANT_COLUMNS)
    return summarise(table, by=by, ci=ci, n_boot=n_boot, seed=seed)


def simulation_error(
    trials: pd.DataFrame,
    *,
    answer: str = "final_response",
    name: str = "simulation_error",
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Mean absolute distance ``|h - m|`` of a numeric answer from the model's output: the
    simulation error for a guess of the model (``answer="simulation_response"``), the
    deviation from the model for the final answer (Poursabzi-Sangdeh et al. 2021)."""
    kept = scored_trials(trials)
    values = (as_number(kept[answer]) - as_number(kept["ai_prediction"])).abs()
    return trial_metric(kept, values, name, binary=False, by=by, ci=ci, n_boot=n_boot,
                        seed=seed)


def decision_error(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Mean absolute error of numeric final answers against the truth ``|h - y|``."""
    kept = scored_trials(trials)
    values = (as_number(kept["final_response"]) - as_number(kept["truth"])).abs()
    return trial_metric(
        kept, values, "decision_error", binary=False, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def response_time(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Mean time per trial in seconds (metric ``time_per_trial_s``).

    ``rt_ms`` is in milliseconds, so seconds are ``rt_ms / 1000`` (OpenHEXAI divided by 100
    and called the result minutes).
    """
    kept = scored_trials(trials)
    seconds = as_float(kept["rt_ms"]) / MS_PER_SECOND
    return trial_metric(
        kept, seconds, "time_per_trial_s", binary=False, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def explanation_time(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Mean seconds the explanation was on screen, over trials that showed one.

    Metric ``explanation_time_s``; conditions without explanations have no row.
    """
    kept = scored_trials(trials)
    seconds = as_float(kept["explanation_visible_ms"]) / MS_PER_SECOND
    if "explanation_id" in kept.columns:
        shown = kept["explanation_id"].astype("string").notna().to_numpy()
        seconds = seconds.where(shown)
    return trial_metric(
        kept, seconds, "explanation_time_s", binary=False, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def debugging_detection(
    trials: pd.DataFrame,
    *,
    clean_labels: Collection[str] = ("none", "clean", "no_bug"),
    ready_responses: Collection[str] = ("ready", "yes", "true", "deploy"),
    ready_threshold: float | None = None,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Model-debugging detection (Adebayo et al. 2020, 2022) from "ready to deploy?" answers.

    A trial's model is bugged unless ``truth`` is one of ``clean_labels`` (the truth of a
    debugging trial names the planted bug). The answer means "ready" when it is one of
    ``ready_responses`` or, for Likert answers, a number ``>= ready_threshold``.
    Metrics: ``judged_ready_bugged`` = P(ready | bugged), ``sensitivity`` = P(not ready |
    bugged), ``specificity`` = P(ready | clean).
    """
    kept = scored_trials(trials, tasks=declaring("debugging_detection"))
    ready = _judged_ready(kept["final_response"], ready_responses, ready_threshold)
    truth = kept["truth"].astype("string").str.strip().str.lower()
    clean = truth.isin({label.lower() for label in clean_labels}).astype(float).mask(truth.isna())
    bugged = 1 - clean
    table = pd.concat(
        [
            participant_estimates(
                kept, ready.where(bugged == 1), "judged_ready_bugged", binary=True
            ),
            participant_estimates(kept, (1 - ready).where(bugged == 1), "sensitivity", binary=True),
            participant_estimates(kept, ready.where(clean == 1), "specificity", binary=True),
        ],
        ignore_index=True,
    )
    return summarise(table, by=by, ci=ci, n_boot=n_boot, seed=seed)


def _judged_ready(
    answers: pd.Series, ready_responses: Collection[str], ready_threshold: float | None
) -> pd.Series:
    """1.0 where the answer says "ready to deploy", 0.0 where not, NaN when missing."""
    text = answers.astype("string").str.strip().str.lower()
    numbers = as_number(answers)
    if numbers.notna().any():
        if ready_threshold is None:
            raise ValueError(
                "debugging answers are numbers (a Likert scale): pass ready_threshold, the "
                "lowest rating that means 'ready to deploy'"
            )
        return (numbers >= ready_threshold).astype(float).mask(numbers.isna())
    wanted = {value.lower() for value in ready_responses}
    return text.isin(wanted).astype(float).mask(text.isna())
