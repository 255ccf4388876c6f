"""Reliance on AI advice: agreement, switching, weight of advice, over-/under-reliance,
RAIR/RSR, and complementary team performance.

Notation as in :mod:`analysis.metrics`: ``h0`` initial answer, ``h`` final answer, ``m`` the
AI's output, ``y`` the truth. Over- and under-reliance are **conditioned on AI correctness**
(the denominators are the trials where the AI was wrong / right), not divided by all trials,
which is the mistake in OpenHEXAI's released code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.estimates import (
    CI,
    CONDITION_COLUMNS,
    By,
    as_float,
    as_number,
    same_answer,
    scored_trials,
    trial_metric,
)


def ai_was_correct(trials: pd.DataFrame) -> pd.Series:
    """1.0 where the AI's output was right, from ``ai_correct`` (the platform's scoring rule,
    which may allow a tolerance for numbers) or else by comparing ``ai_prediction`` with
    ``truth``."""
    compared = same_answer(trials["ai_prediction"], trials["truth"])
    if "ai_correct" not in trials.columns:
        return compared
    return as_float(trials["ai_correct"]).fillna(compared)


def agreement(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Agreement ``mean(h == m)`` with the AI's output."""
    kept = scored_trials(trials)
    values = same_answer(kept["final_response"], kept["ai_prediction"])
    return trial_metric(
        kept, values, "agreement", binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def switch_fraction(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Among trials where the first answer disagreed with the AI (``h0 != m``), the share
    whose final answer took the AI's (``h == m``)."""
    kept = scored_trials(trials)
    disagreed = same_answer(kept["initial_response"], kept["ai_prediction"]) == 0
    values = same_answer(kept["final_response"], kept["ai_prediction"]).where(disagreed)
    return trial_metric(
        kept, values, "switch_fraction", binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def weight_of_advice(
    trials: pd.DataFrame,
    *,
    tolerance: float = 1e-6,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Weight of advice ``(h - h0) / (m - h0)`` clipped to [0, 1], for numeric answers.

    Trials with ``|m - h0| < tolerance`` are dropped: when the advice equals the first answer
    the ratio is undefined (and near it, explosive).
    """
    kept = scored_trials(trials)
    h0 = as_number(kept["initial_response"])
    h = as_number(kept["final_response"])
    m = as_number(kept["ai_prediction"])
    distance = m - h0
    usable = distance.abs() >= tolerance
    values = ((h - h0) / distance.where(usable)).clip(0.0, 1.0)
    return trial_metric(
        kept, values, "weight_of_advice", binary=False, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def over_reliance(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Over-reliance ``P(h == m | m != y)``: following the AI when it is wrong."""
    kept = scored_trials(trials)
    followed = same_answer(kept["final_response"], kept["ai_prediction"])
    values = followed.where(ai_was_correct(kept) == 0)
    return trial_metric(
        kept, values, "over_reliance", binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def under_reliance(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Under-reliance ``P(h != m | m == y)``: rejecting the AI when it is right."""
    kept = scored_trials(trials)
    rejected = 1 - same_answer(kept["final_response"], kept["ai_prediction"])
    values = rejected.where(ai_was_correct(kept) == 1)
    return trial_metric(
        kept, values, "under_reliance", binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def rair(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Relative AI reliance (Schemmer et al. 2023):
    RAIR = #(h0 wrong, m right, h == m) / #(h0 wrong, m right), per participant."""
    kept = scored_trials(trials)
    eligible = (same_answer(kept["initial_response"], kept["truth"]) == 0) & (
        ai_was_correct(kept) == 1
    )
    values = same_answer(kept["final_response"], kept["ai_prediction"]).where(eligible)
    return trial_metric(kept, values, "rair", binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed)


def rsr(
    trials: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Relative self-reliance (Schemmer et al. 2023):
    RSR = #(h0 right, m wrong, h == h0) / #(h0 right, m wrong), per participant."""
    kept = scored_trials(trials)
    eligible = (same_answer(kept["initial_response"], kept["truth"]) == 1) & (
        ai_was_correct(kept) == 0
    )
    values = same_answer(kept["final_response"], kept["initial_response"]).where(eligible)
    return trial_metric(kept, values, "rsr", binary=True, by=by, ci=ci, n_boot=n_boot, seed=seed)


def complementarity(
    trials: pd.DataFrame,
    *,
    human_alone: str | None = None,
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Complementary team performance (Bansal et al. 2021), per team condition.

    Rows per team condition: ``team_accuracy``, ``human_alone_accuracy``, ``ai_accuracy`` (the
    AI alone on the items that condition's participants saw) and ``complementarity`` = team -
    max(human alone, AI alone); the team is complementary when the latter's interval lies
    above 0. The human-alone baseline is the condition named ``human_alone`` or, when ``None``,
    the same participants' initial answers ``h0`` (two-step designs). Intervals are percentile
    cluster-bootstrap intervals (participants resampled within each condition), since the max
    has no t interval.
    """
    kept = scored_trials(trials)
    kept = kept.assign(
        _team=same_answer(kept["final_response"], kept["truth"]),
        _initial=same_answer(kept["initial_response"], kept["truth"]),
        _ai=ai_was_correct(kept),
    )
    means = kept.groupby(["condition", "participant"])[["_team", "_initial", "_ai"]].mean()
    rng = np.random.default_rng(seed)
    baseline = None
    if human_alone is not None:
        if human_alone not in means.index.get_level_values("condition"):
            raise ValueError(f"no trials in the human-alone condition {human_alone!r}")
        baseline = means.loc[human_alone, "_team"].dropna().to_numpy()
    rows = []
    for condition in sorted(set(means.index.get_level_values("condition")) - {human_alone}):
        team = means.loc[condition].dropna(subset=["_team", "_ai"])
        human = baseline if baseline is not None else team["_initial"].to_numpy()
        rows.extend(_complementarity_rows(condition, team, human, baseline is None, rng, n_boot))
    return pd.DataFrame(rows, columns=CONDITION_COLUMNS)


def _complementarity_rows(
    condition: str,
    team: pd.DataFrame,
    human: np.ndarray,
    paired: bool,
    rng: np.random.Generator,
    n_boot: int,
) -> list[tuple[object, ...]]:
    """Estimates and bootstrap intervals of team, human, AI accuracy and their contrast.

    ``paired``: the human baseline comes from the team participants themselves (``h0``),
    so it is resampled together with them.
    """
    team_acc, ai_acc = team["_team"].to_numpy(), team["_ai"].to_numpy()

    def contrast(t: np.ndarray, h: np.ndarray, a: np.ndarray) -> np.ndarray:
        h = h[~np.isnan(h)]
        return np.array([np.mean(t), np.mean(h) if len(h) else np.nan, np.mean(a)])

    point = contrast(team_acc, human, ai_acc)
    draws = np.empty((n_boot, 3))
    for b in range(n_boot):
        pick = rng.integers(0, len(team_acc), len(team_acc))
        pick_h = pick if paired else rng.integers(0, len(human), len(human))
        draws[b] = contrast(team_acc[pick], human[pick_h], ai_acc[pick])
    names = ["team_accuracy", "human_alone_accuracy", "ai_accuracy"]
    ns = [len(team_acc), int(np.sum(~np.isnan(human))), len(team_acc)]
    # Resampling one participant returns that participant every time: an interval of width 0
    # that says nothing about the population. Fewer than two: no interval.
    if len(team_acc) < 2 or (not paired and ns[1] < 2):
        draws[:] = np.nan
    rows: list[tuple[object, ...]] = []
    for j, name in enumerate(names):
        low, high = _percentiles(draws[:, j])
        rows.append((name, condition, ns[j], float(point[j]), float(low), float(high)))
    # fmax: without a human-alone baseline the bar is the AI alone.
    gap = point[0] - np.fmax(point[1], point[2])
    gaps = draws[:, 0] - np.fmax(draws[:, 1], draws[:, 2])
    low, high = _percentiles(gaps)
    rows.append(("complementarity", condition, len(team_acc), float(gap), float(low), float(high)))
    return rows


def _percentiles(draws: np.ndarray) -> tuple[float, float]:
    """95% percentile interval of bootstrap draws (NaN when there are none)."""
    finite = draws[~np.isnan(draws)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [0.025, 0.975])
    return float(low), float(high)
