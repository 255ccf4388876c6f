"""KL-LUCB best-arm identification (Kaufmann & Kalyanakrishnan 2013) for anchor precisions.

An arm is a candidate anchor; pulling it draws samples from D(·|A) and counts how many keep the
prediction. Confidence bounds come from the Bernoulli KL divergence, which is much tighter than
Hoeffding's when the precision is close to 1, as it is for good anchors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Exploration rate constants from Kaufmann & Kalyanakrishnan (2013), as the Anchors paper uses.
_K = 405.5
_ALPHA = 1.1
_FIRST_CHECK_BATCHES = 5
_BISECTION_STEPS = 15  # bounds to within 3e-5
_TINY = 1e-12


class ArmSampler(Protocol):
    """Anything that can pull arms and remembers each arm's (pulls, successes)."""

    stats: dict[tuple[int, ...], tuple[int, int]]

    def pull(self, anchors: list[tuple[int, ...]], n: int) -> None: ...

    def successes(self, anchor: tuple[int, ...], n: int) -> int:
        """Draw ``n`` fresh samples of ``anchor``, not recorded in ``stats``; count successes."""
        ...


@dataclass(frozen=True)
class PrecisionCheck:
    """The outcome of testing one anchor against the precision threshold."""

    mean: float
    lower: float
    valid: bool


def kl_bounds(
    mean: np.ndarray, pulls: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds {q : pulls * KL(mean, q) <= beta}, by bisection on both sides."""
    p = np.clip(np.concatenate([mean, mean]), _TINY, 1 - _TINY)
    # KL(p||q) = -H(p) - p log q - (1-p) log(1-q); the entropy part is fixed, so only the
    # cross-entropy is recomputed at each step.
    limit = np.concatenate([beta / pulls, beta / pulls]) - p * np.log(p) - (1 - p) * np.log(1 - p)
    # The first half searches below the mean (lower bound), the second half above it.
    inner = p.copy()
    outer = np.concatenate([np.full_like(mean, _TINY), np.full_like(mean, 1 - _TINY)])
    for _ in range(_BISECTION_STEPS):
        mid = (inner + outer) / 2
        inside = -(p * np.log(mid) + (1 - p) * np.log1p(-mid)) <= limit
        inner = np.where(inside, mid, inner)
        outer = np.where(inside, outer, mid)
    return inner[: len(mean)], inner[len(mean) :]


def _estimates(sampler: ArmSampler, arms: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    pulls = np.array([sampler.stats[a][0] for a in arms], dtype=float)
    wins = np.array([sampler.stats[a][1] for a in arms], dtype=float)
    return wins / pulls, pulls


def kl_lucb(
    sampler: ArmSampler,
    arms: list[tuple[int, ...]],
    *,
    top: int,
    delta: float,
    epsilon: float,
    batch_size: int,
    max_rounds: int = 200,
) -> list[int]:
    """Indices of the ``top`` arms with the highest precision, ε-optimal with prob. ≥ 1 - δ."""
    sampler.pull([a for a in arms if a not in sampler.stats], batch_size)
    if top >= len(arms):
        return list(range(len(arms)))
    for t in range(1, max_rounds + 1):
        mean, pulls = _estimates(sampler, arms)
        beta = np.log(_K * len(arms) * t**_ALPHA / delta)
        lower, upper = kl_bounds(mean, pulls, beta)
        order = np.argsort(-mean, kind="stable")
        best, rest = order[:top], order[top:]
        weakest = best[np.argmin(lower[best])]
        challenger = rest[np.argmax(upper[rest])]
        if upper[challenger] - lower[weakest] < epsilon:
            break
        # LUCB pulls the weakest of the best and the strongest challenger; we also pull every
        # other arm whose comparison is still open (up to ``top`` per side), so one model call
        # does the work of several rounds. Each model call has a fixed cost of about 1 ms.
        open_best = best[lower[best] < upper[challenger] - epsilon]
        open_rest = rest[upper[rest] > lower[weakest] + epsilon]
        chosen = [*open_best[np.argsort(lower[open_best])][:top],
                  *open_rest[np.argsort(-upper[open_rest])][:top]]
        sampler.pull([arms[i] for i in chosen], batch_size)
    mean, _ = _estimates(sampler, arms)
    return [int(i) for i in np.argsort(-mean, kind="stable")[:top]]


def confirm_precision(
    sampler: ArmSampler,
    anchor: tuple[int, ...],
    *,
    threshold: float,
    delta: float,
    batch_size: int,
    max_pulls: int = 3000,
) -> PrecisionCheck:
    """Is the precision of ``anchor`` above ``threshold`` with confidence 1 - δ?

    Uses its own samples, not the bandit's: the bandit picked this anchor *because* its
    estimate was high, so re-using those draws would let lucky rules through. Samples until the
    KL confidence interval no longer contains the threshold (or the budget runs out); valid
    means the lower bound is above the threshold, as in the paper.
    """
    beta = float(np.log(1 / delta))
    pulls, wins = 0, 0
    # A generous first draw costs one model call and keeps a few lucky draws from deciding.
    n = _FIRST_CHECK_BATCHES * batch_size
    while True:
        wins += sampler.successes(anchor, n)
        pulls += n
        n = batch_size
        mean = np.array([wins / pulls])
        lower, upper = kl_bounds(mean, np.array([float(pulls)]), beta)
        if not lower[0] <= threshold < upper[0] or pulls >= max_pulls:
            break
    return PrecisionCheck(float(mean[0]), float(lower[0]), bool(lower[0] > threshold))
