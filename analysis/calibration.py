"""Calibration of participants' stated confidence: Brier score and expected calibration error.

Participants rate confidence on a k-point scale, not as a probability. The mapping used here is
linear: rating ``c`` on a scale ``lo..hi`` becomes

    p = floor + (1 - floor) · (c - lo) / (hi - lo)

``floor=0`` maps the lowest rating to 0 and the highest to 1 (a "0-100%" reading). For
confidence *in one's own answer* on a task with K classes, ``floor=1/K`` is the natural choice:
the lowest rating then means "guessing". Whichever is used must be reported with the results.

``target="own"`` scores confidence against the participant's own correctness (``h == y``);
``target="ai"`` against the AI's correctness, for designs that ask "how confident are you that
the AI's prediction is correct?" (HIVE verification).
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from analysis.estimates import (
    CI,
    CONDITION_COLUMNS,
    PARTICIPANT_COLUMNS,
    By,
    as_float,
    cluster_bootstrap,
    same_answer,
    scored_trials,
    trial_metric,
)
from analysis.reliance import ai_was_correct

Target = Literal["own", "ai"]


def confidence_to_probability(
    confidence: pd.Series | np.ndarray, *, scale: tuple[int, int], floor: float = 0.0
) -> np.ndarray:
    """Map ratings on the ``scale`` (lowest, highest) to probabilities (see module docstring).

    Raises ``ValueError`` for ratings outside the scale; missing ratings stay NaN.
    """
    low, high = scale
    if high <= low:
        raise ValueError(f"confidence scale must run from low to high, got {scale}")
    if not 0.0 <= floor < 1.0:
        raise ValueError(f"floor must be in [0, 1), got {floor}")
    values = np.asarray(pd.to_numeric(pd.Series(confidence), errors="coerce"), dtype=float)
    outside = ~np.isnan(values) & ((values < low) | (values > high))
    if outside.any():
        raise ValueError(f"confidence {values[outside][0]:g} outside the scale {low}..{high}")
    return floor + (1.0 - floor) * (values - low) / (high - low)


def brier_score(
    trials: pd.DataFrame,
    *,
    scale: tuple[int, int],
    floor: float = 0.0,
    target: Target = "own",
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Brier score ``mean((p - o)²)`` of stated confidence ``p`` against outcome ``o``."""
    kept = scored_trials(trials)
    p, outcome = _probability_and_outcome(kept, scale=scale, floor=floor, target=target)
    values = pd.Series((p - outcome) ** 2, index=kept.index)
    return trial_metric(
        kept, values, "brier_score", binary=False, by=by, ci=ci, n_boot=n_boot, seed=seed
    )


def expected_calibration_error(
    trials: pd.DataFrame,
    *,
    scale: tuple[int, int],
    floor: float = 0.0,
    target: Target = "own",
    bins: int = 10,
    by: By = "condition",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Expected calibration error with ``bins`` equal-width bins on [0, 1].

    ECE = Σ_b (n_b / N) · |accuracy_b - mean confidence_b|. By condition the trials are pooled
    (ECE of a handful of trials is biased upwards, so participant-level ECEs are not averaged)
    and the interval is a cluster bootstrap over participants; by participant, each
    participant's own trials, without an interval.
    """
    kept = scored_trials(trials)
    p, outcome = _probability_and_outcome(kept, scale=scale, floor=floor, target=target)
    frame = pd.DataFrame(
        {
            "participant": kept["participant"].astype(str),
            "condition": kept["condition"].astype(str),
            "p": p,
            "o": outcome,
        }
    ).dropna(subset=["p", "o"])

    rows: list[tuple[object, ...]] = []
    if by == "participant":
        for (participant, condition), group in frame.groupby(["participant", "condition"]):
            value = ece(group["p"].to_numpy(), group["o"].to_numpy(), bins=bins)
            rows.append(("ece", participant, condition, len(group), value, np.nan, np.nan))
        return pd.DataFrame(rows, columns=PARTICIPANT_COLUMNS)
    rng = np.random.default_rng(seed)
    for condition, group in frame.groupby("condition", sort=True):
        p_values, outcomes = group["p"].to_numpy(), group["o"].to_numpy()
        low, high = cluster_bootstrap(
            group["participant"],
            partial(_ece_of_rows, p_values, outcomes, bins),
            rng=rng,
            n_boot=n_boot,
        )
        estimate = ece(p_values, outcomes, bins=bins)
        rows.append(("ece", condition, group["participant"].nunique(), estimate, low[0], high[0]))
    return pd.DataFrame(rows, columns=CONDITION_COLUMNS)


def ece(probability: np.ndarray, outcome: np.ndarray, *, bins: int = 10) -> float:
    """Expected calibration error of probabilities against 0/1 outcomes (equal-width bins)."""
    probability = np.asarray(probability, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    if len(probability) == 0:
        return float("nan")
    index = _bin_index(probability, bins)
    count = np.bincount(index, minlength=bins)
    gap = np.bincount(index, weights=outcome - probability, minlength=bins)
    # sum_b (n_b / N) |acc_b - conf_b| = sum_b |sum over the bin of (o - p)| / N
    return float(np.abs(gap).sum() / count.sum())


def reliability_table(
    probability: np.ndarray, outcome: np.ndarray, *, bins: int = 10
) -> pd.DataFrame:
    """Per non-empty bin: ``bin_low, bin_high, n, mean_confidence, accuracy`` (for a
    reliability diagram). Bins are [k/B, (k+1)/B), the last one closed at 1."""
    probability = np.asarray(probability, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    index = _bin_index(probability, bins)
    rows = []
    for b in range(bins):
        in_bin = index == b
        if in_bin.any():
            rows.append(
                (
                    b / bins,
                    (b + 1) / bins,
                    int(in_bin.sum()),
                    float(probability[in_bin].mean()),
                    float(outcome[in_bin].mean()),
                )
            )
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "n", "mean_confidence", "accuracy"])


def _ece_of_rows(
    probability: np.ndarray, outcome: np.ndarray, bins: int, picked: np.ndarray
) -> float:
    return ece(probability[picked], outcome[picked], bins=bins)


def _bin_index(probability: np.ndarray, bins: int) -> np.ndarray:
    """Bin k holds [k/B, (k+1)/B); probability 1 joins the last bin."""
    return np.minimum((probability * bins).astype(int), bins - 1)


def _probability_and_outcome(
    trials: pd.DataFrame, *, scale: tuple[int, int], floor: float, target: Target
) -> tuple[np.ndarray, np.ndarray]:
    """Stated confidence as probabilities and the 0/1 outcome it is judged against."""
    p = confidence_to_probability(as_float(trials["confidence"]), scale=scale, floor=floor)
    if target == "own":
        outcome = same_answer(trials["final_response"], trials["truth"])
    elif target == "ai":
        outcome = ai_was_correct(trials)
    else:
        raise ValueError(f"target must be 'own' or 'ai', not {target!r}")
    return p, outcome.to_numpy(dtype=float)
