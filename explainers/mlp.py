"""Forward and backward passes through a fitted scikit-learn ``MLPClassifier``'s weights.

scikit-learn offers no input gradients, so saliency methods compute them here from ``coefs_``
and ``intercepts_``. A ``Pipeline`` whose steps before the MLP are element-wise affine scalers
(``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``) is also accepted: the chain rule then
multiplies by the scaler's per-feature factor.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Score = Literal["logit", "probability"]


@dataclass(frozen=True)
class ScoreAndGradient:
    """The explained score of one class for each row and its gradient w.r.t. the raw input."""

    values: np.ndarray  # (n,)
    gradients: np.ndarray  # (n, d)


@dataclass(frozen=True)
class _LinearNetwork:
    """A LogisticRegression seen as a network without hidden layers (same attribute names)."""

    coefs_: list[np.ndarray]
    intercepts_: list[np.ndarray]
    activation: str = "identity"


def split_pipeline(model: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    """Return ``(network, scale, offset)`` such that the network sees ``(x - offset) * scale``.

    The network is the MLPClassifier itself, or a LogisticRegression wrapped as a network with
    no hidden layer (its single layer's logits are exactly the MLP's output logits).
    """
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    mlp = steps[-1]
    if type(mlp).__name__ == "LogisticRegression":
        mlp = _LinearNetwork([np.asarray(mlp.coef_, float).T], [np.asarray(mlp.intercept_, float)])
    elif not hasattr(mlp, "coefs_") or not hasattr(mlp, "out_activation_"):
        raise TypeError("saliency needs a fitted MLPClassifier or LogisticRegression")
    n_in = mlp.coefs_[0].shape[0]
    scale, offset = np.ones(n_in), np.zeros(n_in)
    for step in steps[:-1]:
        step_scale, step_offset = scaler_affine(step, n_in)
        # Composition: ((x - o1) * s1 - o2) * s2 = (x - (o1 + o2 / s1)) * (s1 * s2).
        offset = offset + step_offset / scale
        scale = scale * step_scale
    return mlp, scale, offset


def scaler_affine(step: Any, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) of an element-wise scaler, so that it maps x to (x - offset) * scale."""
    name = type(step).__name__
    if name == "StandardScaler":
        std = step.scale_ if step.scale_ is not None else np.ones(n_in)
        mean = step.mean_ if step.mean_ is not None else np.zeros(n_in)
        return 1.0 / std, np.asarray(mean, dtype=float)
    if name == "MinMaxScaler":
        # MinMaxScaler computes x * scale_ + min_ = (x + min_/scale_) * scale_.
        return np.asarray(step.scale_, float), -np.asarray(step.min_, float) / step.scale_
    if name == "MaxAbsScaler":
        return 1.0 / np.asarray(step.scale_, float), np.zeros(n_in)
    raise TypeError(f"cannot differentiate through pipeline step {name}")


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "identity":
        return z
    raise ValueError(f"unsupported activation {name!r}")


def _derivative(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """d activation / dz, given the pre-activation z and the activation a."""
    if name == "relu":
        return (z > 0).astype(float)
    if name == "tanh":
        return 1.0 - a**2
    if name == "logistic":
        return a * (1.0 - a)
    return np.ones_like(z)


def output_logits(model: Any, X: np.ndarray) -> np.ndarray:
    """Per-class logits, shape (n, n_classes); a binary model's single unit z gives [-z, z]."""
    mlp, scale, offset = split_pipeline(model)
    pre, _ = _forward(mlp, (np.atleast_2d(X) - offset) * scale)
    return _class_logits(pre[-1])


def _class_logits(z: np.ndarray) -> np.ndarray:
    # sklearn's binary MLP has one logistic output unit z = logit of class 1; softmax over
    # [-z/2, z/2] would give the same probabilities, but [-z, z] keeps "logit of the class"
    # meaning log p / (1 - p), which is what a reader expects.
    return np.hstack([-z, z]) if z.shape[1] == 1 else z


def _forward(mlp: Any, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations and activations of every layer (activations[0] is the input)."""
    pre: list[np.ndarray] = []
    post: list[np.ndarray] = [X]
    last = len(mlp.coefs_) - 1
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_, strict=True)):
        z = post[-1] @ W + b
        pre.append(z)
        post.append(z if i == last else _activate(mlp.activation, z))
    return pre, post


def class_score_gradient(
    model: Any, X: np.ndarray, class_index: int, *, score: Score = "logit"
) -> ScoreAndGradient:
    """The ``score`` of ``class_index`` for each row of ``X`` and its input gradient.

    ``score="logit"`` explains the pre-softmax logit (for a binary model: log p / (1 - p));
    ``score="probability"`` the softmax / logistic probability.
    """
    mlp, scale, offset = split_pipeline(model)
    X = np.atleast_2d(np.asarray(X, dtype=float))
    pre, post = _forward(mlp, (X - offset) * scale)
    z = pre[-1]
    logits = _class_logits(z)
    # delta = d score / d (output pre-activation), shape (n, n_out)
    if z.shape[1] == 1:
        sign = 1.0 if class_index == 1 else -1.0
        if score == "logit":
            values = sign * z[:, 0]
            delta = np.full_like(z, sign)
        else:
            values = 1.0 / (1.0 + np.exp(-sign * z[:, 0]))
            delta = (sign * values * (1.0 - values))[:, None]
    else:
        if score == "logit":
            values = logits[:, class_index]
            delta = np.zeros_like(z)
            delta[:, class_index] = 1.0
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            proba = shifted / shifted.sum(axis=1, keepdims=True)
            values = proba[:, class_index]
            onehot = np.zeros_like(proba)
            onehot[:, class_index] = 1.0
            delta = values[:, None] * (onehot - proba)
    for layer in range(len(mlp.coefs_) - 1, 0, -1):
        delta = (delta @ mlp.coefs_[layer].T) * _derivative(
            mlp.activation, pre[layer - 1], post[layer]
        )
    gradients = (delta @ mlp.coefs_[0].T) * scale
    return ScoreAndGradient(values=values, gradients=gradients)


def randomised_copy(model: Any, *, random_state: int | np.random.Generator | None) -> Any:
    """A copy of ``model`` whose weights are re-drawn (Adebayo et al. 2018's sanity check).

    Weights are drawn with the same per-layer standard deviation as the trained ones, so the
    network's scale is comparable but everything it learned is gone.
    """
    rng = np.random.default_rng(random_state)
    clone = copy.deepcopy(model)
    final = clone.steps[-1][1] if hasattr(clone, "steps") else clone
    if type(final).__name__ == "LogisticRegression":
        final.coef_ = rng.normal(0.0, final.coef_.std() or 1.0, size=final.coef_.shape)
        final.intercept_ = rng.normal(
            0.0, final.intercept_.std() or 1.0, size=final.intercept_.shape
        )
        return clone
    split_pipeline(clone)  # rejects anything that is not a network
    final.coefs_ = [rng.normal(0.0, W.std() or 1.0, size=W.shape) for W in final.coefs_]
    final.intercepts_ = [rng.normal(0.0, b.std() or 1.0, size=b.shape) for b in final.intercepts_]
    return clone
