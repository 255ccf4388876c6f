"""Our own KernelSHAP estimator (Lundberg & Lee 2017), used by ``kernel_shap(engine="own")``.

Shapley values are the solution of a weighted least-squares problem over coalitions S with
the Shapley kernel weight (d - 1) / (C(d, |S|) |S| (d - |S|)), constrained to add up to
v(all) - v(empty). Coalition sizes near 0 and d carry most of the weight, so they are
enumerated completely while the budget allows (all 2^d - 2 coalitions when it fits: the result
is then exact); the other sizes are sampled by weight, each coalition together with its
complement ("paired sampling", Covert & Lee 2021), which cancels much of the sampling noise.
The value function is interventional:
v(S) = mean over background rows b of f(x_S, b_rest), one batched model call per estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from math import comb

import numpy as np


def shapley_kernel_size_weights(d: int) -> np.ndarray:
    """Total kernel weight of each coalition size 1..d-1 (sizes 0 and d are constraints)."""
    sizes = np.arange(1, d)
    return (d - 1) / (sizes * (d - sizes))


def _of_size(d: int, size: int) -> np.ndarray:
    masks = np.zeros((comb(d, size), d), dtype=bool)
    for row, members in enumerate(combinations(range(d), size)):
        masks[row, list(members)] = True
    return masks


def coalitions(d: int, budget: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coalitions and least-squares weights for at most about ``budget`` evaluations.

    Sizes carry kernel weight (d-1)/(s(d-s)), most of it at the extremes, so sizes s and d-s
    are enumerated completely, from the outside in, while the budget allows; the remaining
    sizes are sampled by weight in complementary pairs, sharing the weight left over.
    """
    size_weight = dict(zip(range(1, d), shapley_kernel_size_weights(d), strict=True))
    masks: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    left = budget
    pending = list(range(1, d))
    for small in range(1, d // 2 + 1):
        sizes = sorted({small, d - small})
        count = sum(comb(d, s) for s in sizes)
        if count > left:
            break
        for s in sizes:
            masks.append(_of_size(d, s))
            weights.append(np.full(comb(d, s), size_weight[s] / comb(d, s)))
            pending.remove(s)
        left -= count
    if pending and left >= 2:
        p = np.array([size_weight[s] for s in pending])
        half = left // 2
        sizes_drawn = rng.choice(pending, size=half, p=p / p.sum())
        chosen = rng.random((half, d)).argsort(axis=1) < sizes_drawn[:, None]
        masks.append(np.vstack([chosen, ~chosen]))
        weights.append(np.full(2 * half, p.sum() / (2 * half)))
    return np.vstack(masks), np.concatenate(weights)


def coalition_values(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, background: np.ndarray, masks: np.ndarray
) -> np.ndarray:
    """v(S) = mean_b f(x_S, b_rest) for every mask, in one model call."""
    rows = np.where(masks[:, None, :], x[None, None, :], background[None, :, :])
    out = np.asarray(f(rows.reshape(-1, len(x))), dtype=float)
    return out.reshape(len(masks), len(background)).mean(axis=1)


def kernel_shap_values(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    background: np.ndarray,
    *,
    nsamples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """(phi, base) with base = v(empty) and base + sum(phi) = f(x) exactly.

    A feature on which x equals every background row cannot change any v(S): its value is
    exactly 0 and it is left out of the regression (fewer features, often full enumeration).
    """
    base = float(np.mean(f(background)))
    full = float(np.asarray(f(x[None, :]))[0])
    phi = np.zeros(len(x))
    varying = np.flatnonzero(np.any(background != x, axis=0))
    if len(varying) <= 1:
        phi[varying] = full - base
        return phi, base
    small, weights = coalitions(len(varying), nsamples, rng)
    masks = np.zeros((len(small), len(x)), dtype=bool)
    masks[:, varying] = small
    values = coalition_values(f, x, background, masks) - base
    phi[varying] = _constrained_wls(small.astype(float), values, weights, full - base)
    return phi, base


def _constrained_wls(Z: np.ndarray, y: np.ndarray, w: np.ndarray, total: float) -> np.ndarray:
    """argmin sum w (y - Z phi)^2 subject to sum(phi) = total, by eliminating the last phi."""
    # phi_last = total - sum(phi_rest): y - z_last * total = (Z_rest - z_last) phi_rest
    A = Z[:, :-1] - Z[:, -1:]
    b = y - Z[:, -1] * total
    Aw = A * w[:, None]
    rest = np.linalg.lstsq(Aw.T @ A, Aw.T @ b, rcond=None)[0]
    return np.append(rest, total - rest.sum())
