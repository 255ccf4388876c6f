"""The table a paper reports: every metric that fits the task designs present in a study."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from analysis import calibration, metrics, reliance
from analysis.estimates import (
    CI,
    CONDITION_COLUMNS,
    PARTICIPANT_COLUMNS,
    By,
    as_float,
    same_answer,
    scored_trials,
    summarise,
)
from analysis.fairness import fairness_gaps
from experiments.designs import DESIGNS, ScoredAgainst

SUMMARY_COLUMNS = ["task", *CONDITION_COLUMNS]
PARTICIPANT_SUMMARY_COLUMNS = ["task", *PARTICIPANT_COLUMNS]
# The summary's rows of questionnaire scale scores, beside the task designs' rows.
QUESTIONNAIRE = "questionnaire"

# The metrics of every task design besides its own (experiments.designs declares those).
EVERY_TASK_METRICS = ("time_per_trial_s", "explanation_time_s")
# Metrics of how people used the AI's advice: they exist only where the advice was shown (a
# no-AI condition's "agreement" compares answers with advice nobody saw).
AI_METRICS = frozenset({
    "agreement", "over_reliance", "under_reliance", "switch_fraction", "rair", "rsr",
    "weight_of_advice", "complementarity", "team_accuracy", "human_alone_accuracy",
    "ai_accuracy", "deviation_from_ai",
})
# Metrics of the explanation itself: only where one was shown.
EXPLANATION_METRICS = frozenset({"explanation_time_s"})

# Metric name -> (function, fixed keyword arguments).
CALCULATORS: dict[str, tuple[Callable[..., pd.DataFrame], dict[str, Any]]] = {
    "accuracy": (metrics.accuracy, {}),
    "initial_accuracy": (metrics.accuracy, {"answer": "initial_response"}),
    "agreement": (reliance.agreement, {}),
    "over_reliance": (reliance.over_reliance, {}),
    "under_reliance": (reliance.under_reliance, {}),
    "switch_fraction": (reliance.switch_fraction, {}),
    "rair": (reliance.rair, {}),
    "rsr": (reliance.rsr, {}),
    "weight_of_advice": (reliance.weight_of_advice, {}),
    "complementarity": (reliance.complementarity, {}),
    "simulation_accuracy": (metrics.simulation_accuracy, {}),
    "simulation_accuracy_pre": (metrics.simulation_accuracy, {"phase": "pre"}),
    "simulation_accuracy_post": (metrics.simulation_accuracy, {"phase": "post"}),
    "simulation_change": (metrics.simulation_change, {}),
    "scored_accuracy": (metrics.scored_accuracy, {}),
    # In simulate-then-decide designs the guess of the model's output comes before the answer.
    "simulation_error": (metrics.simulation_error, {"answer": "simulation_response"}),
    "deviation_from_ai": (metrics.simulation_error, {"answer": "final_response",
                                                     "name": "deviation_from_ai"}),
    "decision_error": (metrics.decision_error, {}),
    "debugging_detection": (metrics.debugging_detection, {}),
    "time_per_trial_s": (metrics.response_time, {}),
    "explanation_time_s": (metrics.explanation_time, {}),
}


def summarise_study(
    trials: pd.DataFrame,
    participants: pd.DataFrame | None = None,
    *,
    human_alone: str | None = None,
    confidence_scale: tuple[int, int] | None = None,
    confidence_floor: float = 0.0,
    ready_threshold: float | None = None,
    fairness_group: str | Mapping[str, str] | None = None,
    positive_label: str | None = None,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Per task design present, per metric and condition: ``task, metric, condition, n,
    estimate, ci_low, ci_high``; with ``by="participant"`` one row per participant instead
    (plus a ``participant`` column; complementary team performance, which only exists per
    condition, is then left out).

    ``human_alone`` names the no-AI condition (adds complementary team performance for
    decision designs); ``confidence_scale`` (lowest, highest rating) adds the Brier score and
    ECE of stated confidence; ``ready_threshold`` is the lowest Likert rating meaning "ready to
    deploy" in debugging designs. ``fairness_group`` (a trials column or an item -> group
    mapping) with ``positive_label`` adds the human decisions' TPR/FPR gaps (by condition
    only). Scale scores (``score_*`` columns of ``participants``) are
    added under task ``questionnaire``. Pass trials after :func:`analysis.exclusions.
    apply_exclusions`; attention-check trials are dropped here in any case.
    """
    specific: dict[str, dict[str, Any]] = {
        "complementarity": {"human_alone": human_alone},
        "debugging_detection": {"ready_threshold": ready_threshold},
    }
    tables = []
    for task in sorted(trials["task"].dropna().astype(str).unique()):
        subset = trials[trials["task"].astype(str) == task]
        # Complementarity needs human-alone answers; early in a study there may be none yet.
        answered_alone = human_alone is not None and bool(
            (subset["condition"].astype(str) == human_alone).any())
        for name in [*task_metrics(task, human_alone=answered_alone, by=by),
                     *EVERY_TASK_METRICS]:
            function, fixed = CALCULATORS[name]
            options: dict[str, Any] = {"n_boot": n_boot, "seed": seed, **fixed}
            if name != "complementarity":
                options.update(ci=ci, by=by)
            options.update(specific.get(name, {}))
            tables.append(function(subset, **options).assign(task=task))
        if confidence_scale is not None and subset["confidence"].notna().any():
            calibration_options: dict[str, Any] = {
                "scale": confidence_scale,
                "floor": confidence_floor,
                # Verification designs rate the AI's correctness, the others their own answer.
                "target": "ai" if task in DESIGNS and DESIGNS[task].rates_ai else "own",
                "by": by,
                "n_boot": n_boot,
                "seed": seed,
            }
            brier = calibration.brier_score(subset, ci=ci, **calibration_options)
            ece = calibration.expected_calibration_error(subset, **calibration_options)
            tables.extend([brier.assign(task=task), ece.assign(task=task)])
        decides_label = task in DESIGNS and DESIGNS[task].decides_label
        if fairness_group is not None and by == "condition" and decides_label and (
                _group_count(subset, fairness_group) >= 2):
            if positive_label is None:
                raise ValueError("fairness gaps need positive_label, the positive class")
            gaps = fairness_gaps(subset, group=fairness_group, positive=positive_label,
                                 n_boot=n_boot, seed=seed)
            tables.append(gaps.assign(task=task))
    if participants is not None:
        tables.append(scale_scores(participants, by=by))
    columns = SUMMARY_COLUMNS if by == "condition" else PARTICIPANT_SUMMARY_COLUMNS
    tables = [table for table in tables if not table.empty]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def task_metrics(task: str, *, human_alone: bool = False, by: By = "condition") -> list[str]:
    """The metrics :func:`summarise_study` computes for a task design besides
    ``EVERY_TASK_METRICS``: those its design declares, plus its human-alone metrics when the
    study has human-alone answers (``human_alone``); accuracy for a task no design declares.
    Complementary team performance only exists per condition, so ``by="participant"`` leaves
    it out."""
    declared = DESIGNS.get(task)
    if declared is None:
        return ["accuracy"]
    names = [*declared.metrics, *(declared.human_alone_metrics if human_alone else ())]
    return [name for name in names if not (by == "participant" and name == "complementarity")]


def _scored_against(task: str) -> ScoredAgainst:
    """A task no design declares is scored against the truth."""
    return DESIGNS[task].scored_against if task in DESIGNS else "truth"


def trial_outcomes(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per scored trial, ready for a mixed model: ``participant, item, condition, task,
    phase, correct, ai_correct, agreed`` (0/1 floats, NaN when not defined).

    ``correct`` is computed from the participant's answer: ``h == y`` for decision designs,
    ``h == m`` for simulation designs, and the platform's ``correct`` for designs whose answer
    is a rating or a number. Attention-check and learning trials are left out.
    """
    kept = scored_trials(trials)
    task = kept["task"].astype(str)
    versus_truth = same_answer(kept["final_response"], kept["truth"])
    versus_ai = same_answer(kept["final_response"], kept["ai_prediction"])
    platform = (
        as_float(kept["correct"])
        if "correct" in kept.columns
        else pd.Series(float("nan"), index=kept.index)
    )
    against = task.map(_scored_against)
    correct = versus_truth.where(against != "ai", versus_ai)
    correct = correct.where(against != "platform", platform).fillna(platform)
    return pd.DataFrame(
        {
            "participant": kept["participant"].astype(str),
            "item": kept["item_id"].astype(str),
            "condition": kept["condition"].astype(str),
            "task": task,
            "phase": kept["phase"].astype(str),
            "correct": correct,
            "ai_correct": reliance.ai_was_correct(kept),
            "agreed": versus_ai,
        }
    ).reset_index(drop=True)


def scale_scores(participants: pd.DataFrame, *, by: By = "condition") -> pd.DataFrame:
    """Each ``score_*`` column (task ``questionnaire``): per condition the mean with a t
    interval, or per participant the score itself."""
    frames = []
    for column in sorted(c for c in participants.columns if c.startswith("score_")):
        values = pd.to_numeric(participants[column], errors="coerce").astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "metric": column,
                    "participant": participants["participant"].astype(str).to_numpy(),
                    "condition": participants["condition"].astype(str).to_numpy(),
                    "n": 1,
                    "estimate": values.to_numpy(),
                    "ci_low": float("nan"),
                    "ci_high": float("nan"),
                }
            ).dropna(subset=["estimate"])
        )
    if not frames:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    per_participant = pd.concat(frames, ignore_index=True)
    return summarise(per_participant, by=by).assign(task=QUESTIONNAIRE)


def _group_count(trials: pd.DataFrame, group: str | Mapping[str, str]) -> int:
    """How many groups the trials hold (fairness gaps need two; early data may have one)."""
    if isinstance(group, str):
        return int(trials[group].dropna().nunique()) if group in trials else 0
    return len({group[item] for item in trials["item_id"].astype(str) if item in group})
