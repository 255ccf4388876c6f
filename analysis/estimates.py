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
from typing import Literal, overload

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

    Only ``main`` trials count: never attention checks or unscored practice trials (a
    condition's tutorial), nor learning-phase trials. ``tasks`` / ``phases`` restrict
    further. In within-subjects designs ``trial_condition`` overrides ``condition``.
    """
    main = trials["trial_kind"].astype("string").eq("main").fillna(False)
    kept = trials[main.astype(bool)]
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
    grouped = frame.groupby(["participant", "condition"], sort=True)["value"]
    table = grouped.agg(["count", "sum", "mean", "std"]).reset_index()
    n = table["count"].to_numpy(dtype=float)
    if binary:
        low, high = wilson_interval(table["sum"].to_numpy(dtype=float), n)
    else:
        low, high = _t_bounds(table["mean"].to_numpy(float), table["std"].to_numpy(float), n)
    return pd.DataFrame(
        {
            "metric": metric,
            "participant": table["participant"],
            "condition": table["condition"],
            "n": table["count"].astype(int),
            "estimate": table["mean"].astype(float),
            "ci_low": low,
            "ci_high": high,
        },
        columns=PARTICIPANT_COLUMNS,
    )


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


def trial_metric(
    trials: pd.DataFrame,
    values: pd.Series,
    metric: str,
    *,
    binary: bool,
    by: By = "condition",
    ci: CI = "t",
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """A per-trial value averaged per participant, then returned per participant or per
    condition: the shape every trial-level metric shares."""
    table = participant_estimates(trials, values, metric, binary=binary)
    return summarise(table, by=by, ci=ci, n_boot=n_boot, seed=seed)


def condition_contrasts(
    per_participant: pd.DataFrame, *, reference: str | None = None
) -> pd.DataFrame:
    """Difference of each condition's mean from the ``reference`` condition, per metric.

    Uses the participants' estimates (``by="participant"`` tables; grouped by ``task`` too
    when the table has that column). Between subjects: a Welch t interval (unequal sizes and
    variances allowed). When the same participants appear in both conditions (within
    subjects): a paired t interval over the participants who have both. ``reference``
    defaults to the first condition in sorted order. Columns: ``[task,] metric, condition,
    reference, test, n, n_reference, difference, ci_low, ci_high, p_value``.
    """
    keys = [key for key in ("task", "metric") if key in per_participant.columns]
    rows = []
    for key, table in per_participant.groupby(keys, sort=False):
        groups = {
            c: g.dropna(subset=["estimate"]).set_index(g["participant"].astype(str).to_numpy())[
                "estimate"
            ].astype(float)
            for c, g in table.groupby("condition")
        }
        base = reference if reference is not None else sorted(groups)[0]
        if base not in groups:
            continue
        for condition in sorted(set(groups) - {base}):
            x, y = groups[condition], groups[base]
            shared = x.index.intersection(y.index)
            if len(shared):
                test = "paired"
                x, y = x.loc[shared], y.loc[shared]
                result = paired_difference(x.to_numpy(), y.to_numpy())
            else:
                test = "welch"
                result = welch_difference(x.to_numpy(), y.to_numpy())
            rows.append((*key, condition, base, test, len(x), len(y), *result))
    return pd.DataFrame(rows, columns=[*keys, "condition", "reference", "test", "n",
                                       "n_reference", "difference", "ci_low", "ci_high",
                                       "p_value"])


def paired_difference(
    x: np.ndarray, y: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float, float]:
    """mean(x - y) over pairs with a paired t interval and two-sided p-value."""
    differences = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    nan = float("nan")
    if len(differences) < 2:
        return (float(differences.mean()) if len(differences) else nan), nan, nan, nan
    low, high = t_interval(differences, confidence)
    se = differences.std(ddof=1) / np.sqrt(len(differences))
    statistic = differences.mean() / se if se > 0 else nan
    p_value = float(2 * stats.t.sf(abs(statistic), len(differences) - 1)) if se > 0 else nan
    return float(differences.mean()), low, high, p_value


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
    low, high = _t_bounds(np.array([x.mean()]), np.array([x.std(ddof=1)]),
                          np.array([float(len(x))]), confidence)
    return float(low[0]), float(high[0])


def _t_bounds(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise t intervals from means, standard deviations and counts (NaN for n < 2)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.where(n >= 2, n - 1, np.nan)
        half = stats.t.ppf(0.5 + confidence / 2, df) * sd / np.sqrt(n)
    return mean - half, mean + half


@overload
def wilson_interval(
    successes: float, n: float, confidence: float = CONFIDENCE
) -> tuple[float, float]: ...
@overload
def wilson_interval(
    successes: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]: ...
def wilson_interval(
    successes: float | np.ndarray, n: float | np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion ``successes / n`` (elementwise for arrays)."""
    k, total = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / total
        centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
    # Clip: at p = 0 or 1 rounding leaves the bound a hair outside [0, 1].
    low, high = np.clip(centre - half, 0.0, None), np.clip(centre + half, None, 1.0)
    if np.ndim(successes) == 0 and np.ndim(n) == 0:
        return float(low), float(high)
    return low, high


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
    clusters: pd.Series | np.ndarray,
    statistic: Callable[[np.ndarray], float | np.ndarray],
    *,
    rng: np.random.Generator,
    n_boot: int = 2000,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of a statistic of pooled trials, resampling whole clusters
    (participants), since one participant's trials are not independent.

    ``clusters`` labels each trial; ``statistic`` receives the positions of the resampled
    trials (with repeats) and may return several numbers at once. Returns one array of lower
    and one of upper bounds (each of length 1 for a scalar statistic).
    """
    labels = np.asarray(clusters)
    positions = list(pd.Series(np.arange(len(labels))).groupby(labels, sort=True).indices.values())
    width = np.atleast_1d(np.asarray(statistic(np.arange(len(labels))), dtype=float)).shape[0]
    if len(positions) < 2:
        return np.full(width, np.nan), np.full(width, np.nan)
    values = np.empty((n_boot, width))
    for b in range(n_boot):
        picks = rng.integers(0, len(positions), size=len(positions))
        rows = np.concatenate([positions[i] for i in picks])
        values[b] = np.atleast_1d(np.asarray(statistic(rows), dtype=float))
    alpha = (1 - confidence) / 2
    low = np.array([_nan_quantile(values[:, j], alpha) for j in range(width)])
    high = np.array([_nan_quantile(values[:, j], 1 - alpha) for j in range(width)])
    return low, high


def _nan_quantile(values: np.ndarray, q: float) -> float:
    finite = values[~np.isnan(values)]
    return float(np.quantile(finite, q)) if len(finite) else float("nan")
