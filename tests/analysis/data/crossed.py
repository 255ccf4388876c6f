"""Small crossed designs (participants x items) simulated from a seed, shared by the
convergence tests and ``benchmarks/sim_convergence.py``: the seeds a test uses are ones on
which the fit used to stop short of lme4's optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_clmm", "simulate_glmm", "simulate_lmm"]


def _crossed(rng: np.random.Generator, n_p: int, n_i: int) -> pd.DataFrame:
    p = np.repeat(np.arange(n_p), n_i)
    i = np.tile(np.arange(n_i), n_p)
    return pd.DataFrame({"participant": [f"p{k:02d}" for k in p],
                         "item": [f"i{k:02d}" for k in i],
                         "condition": np.where(p % 2 == 0, "ai", "control")})


def simulate_lmm(seed: int) -> pd.DataFrame:
    """30 participants x 10 items, SDs small enough that boundaries are common."""
    rng = np.random.default_rng(seed)
    frame = _crossed(rng, 30, 10)
    p, i = frame.index // 10, frame.index % 10
    sd_p, sd_i = rng.uniform(0, 0.5), rng.uniform(0, 0.4)
    frame["y"] = (rng.normal(0, sd_p, 30)[p] + rng.normal(0, sd_i, 10)[i]
                  + rng.normal(0, 1, len(frame)))
    return frame


def simulate_glmm(seed: int) -> pd.DataFrame:
    """40 participants x 20 items, 0/1 answers."""
    rng = np.random.default_rng(seed)
    frame = _crossed(rng, 40, 20)
    p, i = frame.index // 20, frame.index % 20
    eta = (0.2 + 0.4 * (frame["condition"] == "ai") + rng.normal(0, rng.uniform(0, 1), 40)[p]
           + rng.normal(0, rng.uniform(0, 0.4), 20)[i])
    frame["y"] = (rng.random(len(frame)) < 1 / (1 + np.exp(-eta))).astype(int)
    return frame


def simulate_clmm(seed: int) -> pd.DataFrame:
    """30 participants x 10 items, 1-5 ratings."""
    rng = np.random.default_rng(seed)
    frame = _crossed(rng, 30, 10)
    p, i = frame.index // 10, frame.index % 10
    latent = (0.5 * (frame["condition"] == "ai") + rng.normal(0, rng.uniform(0, 1), 30)[p]
              + rng.normal(0, rng.uniform(0, 0.4), 10)[i] + rng.logistic(size=len(frame)))
    frame["y"] = 1 + np.searchsorted([-1.5, -0.5, 0.5, 1.5], latent)
    return frame
