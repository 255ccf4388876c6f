"""Fairness of the **human** decisions: true- and false-positive-rate gaps between groups.

Computed on the participants' final answers ``h`` against the truth ``y``, never on the AI's
predictions (OpenHEXAI's released code computed its fairness metrics on the AI's outputs, which
says nothing about how the people decided).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from analysis.estimates import CONDITION_COLUMNS, cluster_bootstrap, scored_trials


def fairness_gaps(
    trials: pd.DataFrame,
    *,
    group: str | Mapping[str, str],
    positive: str,
    groups: tuple[str, str] | None = None,
    n_boot: int = 2000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Per condition: TPR and FPR of the human decisions in each group and their gaps.

    ``group`` is a trials column holding each item's protected attribute, or a mapping from
    ``item_id`` to it. ``positive`` is the positive class label. With more than two groups,
    ``groups=(a, b)`` picks the pair; ΔTPR = TPR(a) - TPR(b), ΔFPR = FPR(a) - FPR(b).
    Trials are pooled within a condition (participants see few items of each group) and the
    intervals are cluster-bootstrap intervals over participants.
    Metrics: ``tpr_<group>``, ``fpr_<group>``, ``delta_tpr``, ``delta_fpr``.
    """
    kept = scored_trials(trials)
    attribute = (
        kept[group] if isinstance(group, str) else kept["item_id"].astype(str).map(group)
    )
    frame = pd.DataFrame(
        {
            "participant": kept["participant"].astype(str),
            "condition": kept["condition"].astype(str),
            "group": attribute.astype("string"),
            "said_positive": kept["final_response"].astype("string").str.strip() == positive,
            "is_positive": kept["truth"].astype("string").str.strip() == positive,
        }
    ).dropna()
    pair = groups or _two_groups(frame["group"])
    names = [f"tpr_{pair[0]}", f"tpr_{pair[1]}", f"fpr_{pair[0]}", f"fpr_{pair[1]}",
             "delta_tpr", "delta_fpr"]

    rng = np.random.default_rng(seed)
    rows: list[tuple[object, ...]] = []
    for condition, part in frame.groupby("condition", sort=True):
        statistic = _gap_statistic(part, pair)
        estimates = statistic(np.arange(len(part)))
        low, high = cluster_bootstrap(part["participant"], statistic, rng=rng, n_boot=n_boot)
        n = part["participant"].nunique()
        rows.extend(
            (name, condition, n, float(estimates[j]), float(low[j]), float(high[j]))
            for j, name in enumerate(names)
        )
    return pd.DataFrame(rows, columns=CONDITION_COLUMNS)


def _gap_statistic(
    part: pd.DataFrame, pair: tuple[str, str]
) -> Callable[[np.ndarray], np.ndarray]:
    """TPR a, TPR b, FPR a, FPR b, ΔTPR, ΔFPR of the trials at the given positions."""
    in_a = (part["group"] == pair[0]).to_numpy()
    in_b = (part["group"] == pair[1]).to_numpy()
    positive = part["is_positive"].to_numpy(dtype=bool)
    said = part["said_positive"].to_numpy(dtype=float)

    def statistic(picked: np.ndarray) -> np.ndarray:
        tpr = [_rate(said[picked], (g & positive)[picked]) for g in (in_a, in_b)]
        fpr = [_rate(said[picked], (g & ~positive)[picked]) for g in (in_a, in_b)]
        return np.array([*tpr, *fpr, tpr[0] - tpr[1], fpr[0] - fpr[1]])

    return statistic


def _rate(said_positive: np.ndarray, among: np.ndarray) -> float:
    """Share of "positive" decisions among the selected trials (the group's truly positive
    items for TPR, its negative ones for FPR); NaN when there are none."""
    if not among.any():
        return float("nan")
    return float(said_positive[among].mean())


def _two_groups(values: pd.Series) -> tuple[str, str]:
    found = sorted(values.dropna().unique())
    if len(found) != 2:
        raise ValueError(
            f"fairness gaps need two groups, found {len(found)} ({found}); pass groups=(a, b)"
        )
    return str(found[0]), str(found[1])
