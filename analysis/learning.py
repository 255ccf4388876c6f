"""Learning across trials: does accuracy change with practice, and faster with feedback?

Reads ``trials.csv`` as exported (``analysis.schema``). Only scored main trials count (the
``correct`` column is filled; attention checks and unscored phases are left out), numbered in
each participant's own order: ``position`` is 1 for a participant's first scored trial.

- :func:`learning_curve`: accuracy per group in consecutive blocks of positions, with Wilson
  intervals, for a figure.
- :func:`learning_model`: the binomial GLMM researchers report for it,
  ``correct ~ group * position10 + (1 | participant) + (1 | item_id)``, where ``position10`` is
  the position centred on the study's mean position and in units of ten trials, so the group
  terms are differences at the average position and the slope is the change in log-odds over
  ten trials (lme4 formula, fitted by :func:`analysis.mixed.glmer`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.estimates import wilson_interval
from analysis.mixed import MixedResults, glmer

__all__ = ["learning_curve", "learning_model", "scored_positions"]


def scored_positions(trials: pd.DataFrame) -> pd.DataFrame:
    """The scored main trials with ``correct`` as 0/1 and each one's ``position`` (1, 2, ...)
    in its participant's order."""
    scored = trials[(trials["trial_kind"] == "main") & trials["correct"].notna()
                    & (trials["correct"].astype(str) != "")].copy()
    scored["correct"] = scored["correct"].map(_as_int).astype(int)
    scored = scored.sort_values(["participant", "trial_index"])
    scored["position"] = scored.groupby("participant").cumcount() + 1
    return scored


def learning_curve(trials: pd.DataFrame, *, by: str = "condition",
                   block_size: int = 5) -> pd.DataFrame:
    """Accuracy per ``by`` group and block of ``block_size`` positions (block 1 holds
    positions 1..block_size), with counts and 95% Wilson intervals."""
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    scored = scored_positions(trials)
    scored["block"] = (scored["position"] - 1) // block_size + 1
    table = (scored.groupby([by, "block"])["correct"].agg(["sum", "count"]).reset_index())
    low, high = wilson_interval(table["sum"].to_numpy(dtype=float),
                                table["count"].to_numpy(dtype=float))
    first = (table["block"] - 1) * block_size + 1
    return pd.DataFrame({
        by: table[by], "block": table["block"],
        "positions": [f"{a}-{a + block_size - 1}" for a in first],
        "n": table["count"], "accuracy": table["sum"] / table["count"],
        "ci_low": low, "ci_high": high,
    })


def learning_model(trials: pd.DataFrame, *, by: str = "condition") -> MixedResults:
    """Fit ``correct ~ C(by) * position10 + (1 | participant) + (1 | item_id)`` (see the
    module docstring); raises ValueError when there is nothing to fit."""
    scored = scored_positions(trials)
    if scored.empty:
        raise ValueError("no scored main trials to model")
    if scored["position"].nunique() < 2:
        raise ValueError("every participant has one scored trial: no learning to model")
    data = pd.DataFrame({
        "correct": scored["correct"].to_numpy(),
        "group": scored[by].astype(str).to_numpy(),
        "position10": (scored["position"] - scored["position"].mean()).to_numpy() / 10.0,
        "participant": scored["participant"].astype(str).to_numpy(),
        "item_id": scored["item_id"].astype(str).to_numpy(),
    })
    formula = "correct ~ group * position10 + (1 | participant) + (1 | item_id)"
    if data["group"].nunique() < 2:
        formula = "correct ~ position10 + (1 | participant) + (1 | item_id)"
    return glmer(formula, data)


def _as_int(value: object) -> int:
    """``correct`` as exported (``true``/``false``) or as already parsed (bool, 0/1)."""
    if isinstance(value, str):
        return int(value.strip().lower() in ("true", "1"))
    return int(bool(value)) if not (isinstance(value, float) and np.isnan(value)) else 0
