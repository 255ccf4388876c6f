"""Gradient saliency maps for scikit-learn MLPs: gradient, gradient x input, SmoothGrad and
Integrated Gradients (Simonyan et al. 2014; Shrikumar et al. 2017; Smilkov et al. 2017;
Sundararajan et al. 2017).

All four explain the *predicted* class's score by default, or class ``target``'s when given (the
HIVE distinction task shows one map per candidate class): its logit (``score="logit"``), or its
probability (``score="probability"``). Positive attribution = evidence for the explained class.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np

from explainers._common import build_explanation, prediction_dict
from explainers.base import Classifier, Explanation, TabularDataset
from explainers.data import ImageDataset
from explainers.mlp import Score, class_score_gradient
from explainers.payloads import SaliencyContent
from explainers.registry import register

# Images, or feature rows read as a 1 x d "image" (the map is then one row).
PixelDataset: TypeAlias = ImageDataset | TabularDataset


def _setup(
    model: Classifier, x: np.ndarray, dataset: PixelDataset
) -> tuple[np.ndarray, tuple[int, ...], np.ndarray]:
    """The flattened input, the map shape and the model's probability vector for it."""
    flat = np.asarray(x, dtype=float).reshape(-1)
    shape = tuple(dataset.shape) if isinstance(dataset, ImageDataset) else (1, flat.size)
    proba = np.asarray(model.predict_proba(flat[None, :]))[0]
    return flat, shape, proba


def _background(dataset: PixelDataset) -> np.ndarray:
    X = dataset.flat if isinstance(dataset, ImageDataset) else np.asarray(dataset.X, float)
    return np.asarray(X, dtype=float)


def _finish(
    method: str,
    model: Classifier,
    dataset: PixelDataset,
    flat: np.ndarray,
    shape: tuple[int, ...],
    proba: np.ndarray,
    attributions: np.ndarray,
    *,
    params: dict[str, Any],
    random_state: int | None,
    extra: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    target: int | None = None,
) -> Explanation:
    background = _background(dataset)
    content: SaliencyContent = {
        "shape": list(shape),
        "attributions": attributions.reshape(shape).tolist(),
        "image": flat.reshape(shape).tolist(),
        "value_range": [float(background.min()), float(background.max())],
        "score": params["score"],
    }
    content.update(extra or {})  # type: ignore[typeddict-item]
    if target is not None:  # the class explained is not (necessarily) the prediction
        content["explained_class"] = str(dataset.class_names[target])
    return build_explanation(
        kind="saliency",
        method=method,
        model=model,
        prediction=prediction_dict(proba, dataset.class_names),
        content=content,
        params=_with_target(params, target),
        random_state=random_state,
        metrics=metrics,
        target=target,
    )


def _explained_class(proba: np.ndarray, target: int | None) -> int:
    """The class whose score is explained: the prediction, or a valid ``target``."""
    if target is None:
        return int(np.argmax(proba))
    if not 0 <= int(target) < len(proba):
        raise ValueError(f"target {target} is not a class index (0..{len(proba) - 1})")
    return int(target)


def _with_target(params: dict[str, Any], target: int | None) -> dict[str, Any]:
    """Parameters as recorded: ``target`` only when it was asked for (so the default's
    provenance, and its stored key, are unchanged)."""
    return params if target is None else {**params, "target": int(target)}


@register("gradient")
def explain_gradient(
    model: Classifier,
    x: Any,
    *,
    dataset: PixelDataset,
    random_state: int | None = None,
    score: Score = "logit",
    target: int | None = None,
) -> Explanation:
    """The input gradient of the predicted class's score (the "vanilla" saliency map)."""
    return _gradient_map(
        "gradient", model, x, dataset, times_input=False,
        random_state=random_state, score=score, target=target,
    )


@register("gradient_x_input")
def explain_gradient_x_input(
    model: Classifier,
    x: Any,
    *,
    dataset: PixelDataset,
    random_state: int | None = None,
    score: Score = "logit",
    target: int | None = None,
) -> Explanation:
    """Gradient times input: the first-order contribution of each pixel relative to zero."""
    return _gradient_map(
        "gradient_x_input", model, x, dataset, times_input=True,
        random_state=random_state, score=score, target=target,
    )


def _gradient_map(
    method: str,
    model: Classifier,
    x: Any,
    dataset: PixelDataset,
    *,
    times_input: bool,
    random_state: int | None,
    score: Score,
    target: int | None,
) -> Explanation:
    """The explained class's score gradient at ``x``, times ``x`` itself when ``times_input``."""
    flat, shape, proba = _setup(model, x, dataset)
    explained = _explained_class(proba, target)
    grad = class_score_gradient(model, flat, explained, score=score).gradients[0]
    return _finish(
        method,
        model,
        dataset,
        flat,
        shape,
        proba,
        grad * flat if times_input else grad,
        params={"score": score},
        random_state=random_state,
        target=target,
    )


@register("smoothgrad")
def explain_smoothgrad(
    model: Classifier,
    x: Any,
    *,
    dataset: PixelDataset,
    random_state: int | None = None,
    score: Score = "logit",
    n_samples: int = 50,
    noise: float = 0.15,
    target: int | None = None,
) -> Explanation:
    """The mean gradient over ``n_samples`` noisy copies of the input.

    The noise is Gaussian with sigma = ``noise`` x (max - min of the data set's values), the
    parametrisation of Smilkov et al.; it is drawn from ``random_state``.
    """
    flat, shape, proba = _setup(model, x, dataset)
    background = _background(dataset)
    sigma = noise * float(background.max() - background.min())
    rng = np.random.default_rng(random_state)
    noisy = flat + rng.normal(0.0, sigma, size=(n_samples, flat.size))
    explained = _explained_class(proba, target)
    grads = class_score_gradient(model, noisy, explained, score=score).gradients
    params = {"score": score, "n_samples": n_samples, "noise": noise}
    return _finish(
        "smoothgrad",
        model,
        dataset,
        flat,
        shape,
        proba,
        grads.mean(axis=0),
        params=params,
        random_state=random_state,
        target=target,
        extra={"n_samples": n_samples, "noise": noise},
    )


@register("integrated_gradients")
def explain_integrated_gradients(
    model: Classifier,
    x: Any,
    *,
    dataset: PixelDataset,
    random_state: int | None = None,
    score: Score = "logit",
    baseline: Literal["black", "mean"] = "black",
    steps: int = 64,
    target: int | None = None,
) -> Explanation:
    """(x - baseline) times the path integral of the gradient, by the trapezoid rule.

    ``baseline="black"`` is the all-zero input, ``"mean"`` the data set's mean input. Metrics
    report the completeness gap |sum(attributions) - (f(x) - f(baseline))|, which shrinks as
    ``steps`` grows; a large gap means the attributions do not add up to the prediction.
    """
    flat, shape, proba = _setup(model, x, dataset)
    base = _background(dataset).mean(axis=0) if baseline == "mean" else np.zeros_like(flat)
    alphas = np.linspace(0.0, 1.0, steps + 1)
    path = base + alphas[:, None] * (flat - base)
    result = class_score_gradient(model, path, _explained_class(proba, target), score=score)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2.0  # trapezoid: end points count half
    attributions = (flat - base) * (weights @ result.gradients)
    difference = float(result.values[-1] - result.values[0])
    gap = abs(float(attributions.sum()) - difference)
    params = {"score": score, "baseline": baseline, "steps": steps}
    return _finish(
        "integrated_gradients",
        model,
        dataset,
        flat,
        shape,
        proba,
        attributions,
        params=params,
        random_state=random_state,
        target=target,
        extra={"baseline": baseline, "steps": steps},
        metrics={"completeness_gap": gap, "score_difference": difference},
    )
