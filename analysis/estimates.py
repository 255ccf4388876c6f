"""Shared machinery of the metrics: which trials count, answer matching, and the intervals.

Every metric follows one recipe. A trial-level value is computed from the participant's answers
(NaN where the trial does not enter the metric, e.g. AI-correct trials for over-reliance); each
participant's estimate is the mean of their values; a condition's estimate is the mean of its
participants' estimates, with a t interval across participants or a cluster (participant)
bootstrap. Averaging participants rather than pooling trials keeps one prolific participant from
dominating and matches the unit that was randomised.

Tidy results: one row per participant (``metric, participant, condition, n, estimate, ci_low,
ci_high``; ``n`` counts that participant's trials) or per condition (``metric, condition, n,
estimate, ci_low, ci_high``; ``n`` counts participants).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

By = Literal["condition", "participant"]
CI = Literal["t", "bootstrap"]

CONDITION_COLUMNS = ["metric", "condition", "n", "estimate", "ci_low", "ci_high"]
PARTICIPANT_COLUMNS = ["metric", "participant", "condition", "n", "estimate", "ci_low", "ci_high"]
CONFIDENCE = 0.95

# Phases whose trials are practice, not measurement: they show the model's outputs.
NOT_MEASURED_PHASES = frozenset({"learning"})


def scored_trials(
    trials: pd.DataFrame,
    *,
    tasks: tuple[str, ...] | None = None,
    phases: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The trials that enter metrics, with ``condition`` set to the condition in force.

    Attention-check trials and learning-phase trials never count. ``tasks`` / ``phases``
    restrict further. In within-subjects designs ``trial_condition`` overrides ``condition``.
    """
    kept = trials[trials["trial_kind"].astype("string") != "attention"]
    phase = kept["phase"].astype("string")
    kept = kept[~phase.isin(NOT_MEASURED_PHASES).fillna(False).astype(bool)]
    if tasks is not None:
        kept = kept[kept["task"].astype("string").isin(tasks).fillna(False).astype(bool)]
    if phases is not None:
        kept = kept[kept["phase"].astype("string").isin(phases).fillna(False).astype(bool)]
    kept = kept.copy()
    if "trial_condition" in kept.columns:
        in_force = kept["trial_condition"].astype("string")
        kept["condition"] = in_force.fillna(kept["condition"].astype("string"))
    return kept


def as_number(values: pd.Series) -> pd.Series:
    """Answers as floats (NaN where missing or not a number)."""
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype(float)


def same_answer(left: pd.Series, right: pd.Series) -> pd.Series:
    """1.0 where two answers are the same, 0.0 where they differ, NaN where either is missing.

    Labels compare as stripped text; when both sides are numbers they compare as numbers, so
    a response "3.0" matches a model output "3".
    """
    left_text = left.astype("string").str.strip()
    right_text = right.astype("string").str.strip()
    equal = (left_text == right_text).astype("boolean")
    left_num, right_num = as_number(left), as_number(right)
    both_numeric = left_num.notna() & right_num.notna()
    equal = equal.mask(both_numeric, np.isclose(left_num, right_num))
    missing = left_text.isna() | right_text.isna()
    return equal.astype(float).mask(missing)


def as_float(values: pd.Series) -> pd.Series:
    """A boolean/number column as floats with NaN for missing cells."""
    return pd.to_numeric(values.astype("Float64"), errors="coerce").astype(float)


def participant_estimates(
    trials: pd.DataFrame, values: pd.Series, metric: str, *, binary: bool
) -> pd.DataFrame:
    """One row per participant (and condition in force): the mean of ``values`` over their trials.

    ``values`` is aligned with ``trials``; NaN marks trials that do not enter this metric, and
    participants with no such trial are left out. Intervals: Wilson for binary values, a t
    interval across trials otherwise.
    """
    frame = pd.DataFrame(
        {
            "participant": trials["participant"].astype(str),
            "condition": trials["condition"].astype(str),
            "value": values.astype(float),
        }
    ).dropna(subset=["value"])
    rows = []
    for (participant, condition), group in frame.groupby(["participant", "condition"], sort=True):
        x = group["value"].to_numpy()
        if binary:
            low, high = wilson_interval(float(x.sum()), len(x))
        else:
            low, high = t_interval(x)
        rows.append((metric, participant, condition, len(x), float(x.mean()), low, high))
    return pd.DataFrame(rows, columns=PARTICIPANT_COLUMNS)


def condition_summary(
    per_participant: pd.DataFrame,
    *,
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Per metric and condition: the mean of participants' estimates with a 95% interval.

    ``ci="t"`` is the t interval across participants' means; ``ci="bootstrap"`` resamples
    participants with replacement (percentile interval, ``n_boot`` draws, seeded).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for (metric, condition), group in per_participant.groupby(["metric", "condition"], sort=True):
        x = group["estimate"].dropna().to_numpy(dtype=float)
        if ci == "t":
            low, high = t_interval(x)
        elif ci == "bootstrap":
            low, high = bootstrap_interval(x, np.mean, rng=rng, n_boot=n_boot)
        else:
            raise ValueError(f"ci must be 't' or 'bootstrap', not {ci!r}")
        estimate = float(x.mean()) if len(x) else float("nan")
        rows.append((metric, condition, len(x), estimate, low, high))
    return pd.DataFrame(rows, columns=CONDITION_COLUMNS)


def summarise(
    per_participant: pd.DataFrame,
    *,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Return ``per_participant`` as is (``by="participant"``) or summarised by condition."""
    if by == "participant":
        return per_participant.reset_index(drop=True)
    if by == "condition":
        return condition_summary(per_participant, ci=ci, n_boot=n_boot, seed=seed)
    raise ValueError(f"by must be 'condition' or 'participant', not {by!r}")


def condition_contrasts(
    per_participant: pd.DataFrame, *, reference: str | None = None
) -> pd.DataFrame:
    """Difference of each condition's mean from the ``reference`` condition, per metric.

    Uses the participants' estimates (``by="participant"`` tables; grouped by ``task`` too
    when the table has that column) and a Welch t interval, so
    unequal group sizes and variances are allowed. ``reference`` defaults to the first
    condition in sorted order. Columns: ``metric, condition, reference, n, n_reference,
    difference, ci_low, ci_high, p_value``.
    """
    keys = [key for key in ("task", "metric") if key in per_participant.columns]
    rows = []
    for key, table in per_participant.groupby(keys, sort=False):
        groups = {c: g["estimate"].dropna().to_numpy(float) for c, g in table.groupby("condition")}
        base = reference if reference is not None else sorted(groups)[0]
        if base not in groups:
            continue
        for condition in sorted(set(groups) - {base}):
            difference, low, high, p_value = welch_difference(groups[condition], groups[base])
            rows.append((*key, condition, base, len(groups[condition]), len(groups[base]),
                         difference, low, high, p_value))
    return pd.DataFrame(rows, columns=[*keys, "condition", "reference", "n", "n_reference",
                                       "difference", "ci_low", "ci_high", "p_value"])


def welch_difference(
    x: np.ndarray, y: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float, float]:
    """mean(x) - mean(y) with a Welch t interval and two-sided p-value."""
    nan = float("nan")
    if len(x) < 2 or len(y) < 2:
        difference = float(np.mean(x) - np.mean(y)) if len(x) and len(y) else nan
        return difference, nan, nan, nan
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    difference = float(x.mean() - y.mean())
    se = np.sqrt(vx + vy)
    if se == 0:
        return difference, difference, difference, float("nan")
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    p_value = 2 * stats.t.sf(abs(difference) / se, df)
    return difference, float(difference - half), float(difference + half), float(p_value)


def t_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """mean ± t_{n-1} · sd / √n; NaN when fewer than two values."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def wilson_interval(
    successes: float, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``."""
    if n == 0:
        return float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # Clip: at p = 0 or 1 rounding leaves the bound a hair outside [0, 1].
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def bootstrap_interval(
    x: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    rng: np.random.Generator,
    n_boot: int = 2000,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over resamples of ``x``."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    draws = rng.integers(0, len(x), size=(n_boot, len(x)))
    values = np.array([statistic(x[row]) for row in draws])
    alpha = (1 - confidence) / 2
    return float(np.nanquantile(values, alpha)), float(np.nanquantile(values, 1 - alpha))


def cluster_bootstrap(
    trials: pd.DataFrame,
    statistic: Callable[[pd.DataFrame], float | np.ndarray],
    *,
    rng: np.random.Generator,
    n_boot: int = 2000,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of a trial-level ``statistic`` resampling whole participants.

    For statistics that pool trials (fairness gaps, pooled calibration), where a participant's
    trials are not independent. ``statistic`` may return several numbers at once; the result
    is then one array of lower and one of upper bounds (each of length 1 for a scalar).
    """
    positions = list(trials.groupby("participant", sort=True).indices.values())
    width = np.atleast_1d(np.asarray(statistic(trials), dtype=float)).shape[0]
    if len(positions) < 2:
        return np.full(width, np.nan), np.full(width, np.nan)
    values = np.empty((n_boot, width))
    for b in range(n_boot):
        picks = rng.integers(0, len(positions), size=len(positions))
        rows = np.concatenate([positions[i] for i in picks])
        values[b] = np.atleast_1d(np.asarray(statistic(trials.iloc[rows]), dtype=float))
    alpha = (1 - confidence) / 2
    with np.errstate(all="ignore"):
        low = np.array([_nan_quantile(values[:, j], alpha) for j in range(width)])
        high = np.array([_nan_quantile(values[:, j], 1 - alpha) for j in range(width)])
    return low, high


def _nan_quantile(values: np.ndarray, q: float) -> float:
    finite = values[~np.isnan(values)]
    return float(np.quantile(finite, q)) if len(finite) else float("nan")
