"""Simulated data sets of the shapes used in the benchmarks (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def insteval_like(seed: int = 1, n_students: int = 2972, n_instructors: int = 1128,
                  n_rows: int = 73421) -> pd.DataFrame:
    """Ratings of instructors by students, crossed, shaped like lme4's InstEval."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, n_students, n_rows)
    d = rng.integers(0, n_instructors, n_rows)
    dept_of_d = rng.integers(0, 14, n_instructors)
    dept = dept_of_d[d]
    service = rng.integers(0, 2, n_rows)
    y = (3.2 + 0.1 * service + 0.05 * (dept % 5) + rng.normal(0, 0.32, n_students)[s]
         + rng.normal(0, 0.52, n_instructors)[d] + rng.normal(0, 1.18, n_rows))
    return pd.DataFrame({"y": y, "s": s.astype(str), "d": d.astype(str),
                         "dept": dept.astype(str), "service": service.astype(str)})


def crossed_logistic(seed: int = 1, n_participants: int = 1000, n_items: int = 40,
                     slope_sd: float = 0.5) -> pd.DataFrame:
    """Participants x items, a within-participant 0/1 predictor x and a between condition."""
    rng = np.random.default_rng(seed)
    p = np.repeat(np.arange(n_participants), n_items)
    i = np.tile(np.arange(n_items), n_participants)
    condition = np.where(p % 2 == 0, "ai", "control")
    x = rng.integers(0, 2, len(p)).astype(float)
    u0 = rng.normal(0, 0.8, n_participants)
    u1 = rng.normal(0, slope_sd, n_participants)
    w = rng.normal(0, 0.6, n_items)
    eta = 0.3 + 0.4 * (condition == "ai") + 0.5 * x + u0[p] + u1[p] * x + w[i]
    y = (rng.random(len(p)) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"correct": y, "participant": p.astype(str), "item": i.astype(str),
                         "condition": condition, "x": x})
