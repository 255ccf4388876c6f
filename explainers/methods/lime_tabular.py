"""LIME for tabular data (Ribeiro, Singh & Guestrin 2016), written from the paper.

The row is described by interpretable binary features "feature j is in the same quartile (or
category) as x". Perturbations draw every feature independently from its training marginal; each
is weighted by an exponential kernel on its distance to x in the interpretable space, and a
weighted ridge regression of the predicted class's probability on the binary features is the
local surrogate. Its coefficients are the attributions and its weighted R² the local fidelity.

With ``discretize=False`` the interpretable features are the standardised values instead, and a
feature's attribution is its coefficient times x's standardised value (its pull away from the
mean), so that on a linear model LIME recovers coefficient x scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explainers._common import (
    as_row,
    attribution_content,
    build_explanation,
    class_probability,
    make_rng,
    prediction_dict,
)
from explainers.base import Classifier, Explanation, TabularDataset, predicted_class
from explainers.registry import register


@dataclass(frozen=True)
class LocalSurrogate:
    """A weighted ridge fit of the model around x: attributions plus its fidelity."""

    attributions: np.ndarray
    intercept: float
    local_prediction: float
    r2: float


def quartile_edges(dataset: TabularDataset) -> list[np.ndarray]:
    """Per feature, the inner bin edges (25th/50th/75th percentiles); empty for categoricals."""
    X = np.asarray(dataset.X, dtype=float)
    edges = []
    for j, feature in enumerate(dataset.features):
        if feature.kind == "categorical":
            edges.append(np.empty(0))
        else:
            edges.append(np.unique(np.percentile(X[:, j], [25, 50, 75])))
    return edges


def discretise(X: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Bin index per cell; categoricals keep their code. Bins are (-∞,q1], (q1,q2], …"""
    bins = np.empty(X.shape, dtype=np.int64)
    for j, e in enumerate(edges):
        if e.size:
            bins[:, j] = np.searchsorted(e, X[:, j], side="left")
        else:
            bins[:, j] = np.round(X[:, j]).astype(np.int64)
    return bins


def sample_marginals(X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows whose features are drawn independently from their training marginals."""
    picks = rng.integers(0, len(X), size=(n, X.shape[1]))
    return X[picks, np.arange(X.shape[1])]


def fit_surrogate(
    model: Classifier,
    x: np.ndarray,
    dataset: TabularDataset,
    target: int,
    *,
    num_samples: int,
    kernel_width: float | None,
    discretize: bool,
    alpha: float,
    rng: np.random.Generator,
) -> LocalSurrogate:
    """Sample around ``x``, weight, and fit the local linear surrogate."""
    X = np.asarray(dataset.X, dtype=float)
    samples = sample_marginals(X, num_samples, rng)
    samples[0] = x  # the row itself is always in the neighbourhood, as in the paper
    if discretize:
        edges = quartile_edges(dataset)
        Z = (discretise(samples, edges) == discretise(x[None, :], edges)).astype(float)
        z_x = np.ones(X.shape[1])
    else:
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        Z = (samples - X.mean(axis=0)) / scale
        z_x = (x - X.mean(axis=0)) / scale
    width = kernel_width if kernel_width is not None else 0.75 * np.sqrt(X.shape[1])
    distance = np.linalg.norm(Z - z_x, axis=1)
    # exp(-D^2 / (2 width^2)): the paper's exponential kernel with the lime package's scaling,
    # so the same width means the same neighbourhood in both.
    weights = np.exp(-(distance**2) / (2 * width**2))
    y = class_probability(model, samples, target)
    coef, intercept, r2 = _ridge(Z, y, weights, alpha=alpha)
    attributions = coef if discretize else coef * z_x
    local = float(intercept + z_x @ coef)
    return LocalSurrogate(attributions, intercept, local, r2)


def _ridge(
    Z: np.ndarray, y: np.ndarray, w: np.ndarray, *, alpha: float
) -> tuple[np.ndarray, float, float]:
    """Weighted ridge with an unpenalised intercept, as scikit-learn's Ridge(alpha) with
    sample_weight would fit it: minimise sum w (y - Z b - c)^2 + alpha |b|^2."""
    total = w.sum()
    z_mean = (w @ Z) / total
    y_mean = float(w @ y) / total
    Zc, yc = Z - z_mean, y - y_mean
    Zw = Zc * w[:, None]
    coef = np.linalg.solve(Zw.T @ Zc + alpha * np.eye(Z.shape[1]), Zw.T @ yc)
    intercept = y_mean - float(z_mean @ coef)
    residual = yc - Zc @ coef
    spread = float(w @ yc**2)
    r2 = 1.0 - float(w @ residual**2) / spread if spread > 0 else 1.0
    return coef, intercept, r2


@register("lime")
def explain_lime(
    model: Classifier,
    x: np.ndarray,
    *,
    dataset: TabularDataset,
    random_state: int | None,
    num_samples: int = 5000,
    kernel_width: float | None = None,
    discretize: bool = True,
    alpha: float = 1.0,
) -> Explanation:
    """LIME attributions for the predicted class, in probability units.

    ``kernel_width`` defaults to 0.75·sqrt(d). ``metrics["lime_r2"]`` is the surrogate's
    weighted R² on its own neighbourhood (local fidelity); ``metrics["lime_local_prediction"]``
    its prediction at x, to compare with the model's probability.
    """
    x = as_row(x)
    target, proba = predicted_class(model, x)
    prediction = prediction_dict(proba, dataset.class_names)
    surrogate = fit_surrogate(
        model, x, dataset, target,
        num_samples=num_samples, kernel_width=kernel_width, discretize=discretize,
        alpha=alpha, rng=make_rng(random_state),
    )
    content = attribution_content(
        dataset, x, surrogate.attributions,
        base_value=surrogate.intercept,
        output_value=surrogate.local_prediction,
        output_space="probability",
    )
    params = {"num_samples": num_samples, "kernel_width": kernel_width,
              "discretize": discretize, "alpha": alpha}
    metrics = {"lime_r2": surrogate.r2, "lime_local_prediction": surrogate.local_prediction}
    return build_explanation(
        kind="attribution", method="lime", model=model,
        content=content, params=params, random_state=random_state, metrics=metrics,
        prediction=prediction,
    )
