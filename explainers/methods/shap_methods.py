"""SHAP values (Lundberg & Lee 2017) for the predicted class: tree, kernel and linear.

* ``tree_shap``: exact interventional TreeSHAP (``shap.TreeExplainer`` with a background
  sample) in the space the trees add up in: log-odds for gradient boosting, probability for
  forests. The value function is E_b[f(x_S, b_rest)] over the background rows b.
* ``kernel_shap``: ``shap.KernelExplainer`` on the predicted class's probability (or log-odds),
  with ``l1_reg=False`` (its default silently zeroes all but ten features) and the same kind of
  background sample, so on a tree model it estimates what ``tree_shap`` computes exactly.
* ``linear_shap``: the closed form for a model whose decision function is affine in x
  (logistic regression, also inside a scaling pipeline): φ_j = w_j (x_j - mean_j) in log-odds.

All satisfy efficiency: ``base_value + sum(attributions) == output_value`` in ``output_space``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from explainers._common import (
    as_row,
    attribution_content,
    background_rows,
    build_explanation,
    log_odds,
    make_rng,
    prediction_dict,
    seeded_global_numpy,
)
from explainers.base import Classifier, Explanation, TabularDataset
from explainers.methods.kernel_estimator import kernel_shap_values
from explainers.registry import register

# Efficiency must hold to this tolerance, else the model is not what the method assumes.
_EFFICIENCY_TOL = 1e-6


@register("tree_shap")
def explain_tree_shap(
    model: Classifier,
    x: np.ndarray,
    *,
    dataset: TabularDataset,
    random_state: int | None,
    background_size: int = 100,
    output_space: str = "auto",
) -> Explanation:
    """Exact interventional TreeSHAP of the predicted class against a background sample.

    TreeSHAP is exact only for the output the trees add up to: probability for random forests
    and decision trees, log-odds for (histogram) gradient boosting. ``output_space="auto"``
    picks that space; asking for the other one raises ValueError (shap would rescale the
    values approximately; use kernel_shap for probabilities of a boosted model).
    """
    import shap

    x = as_row(x)
    target, prediction = prediction_dict(model, x, dataset)
    background = background_rows(dataset, max_rows=background_size, rng=make_rng(random_state))
    # shap silently subsamples a background of more than 100 rows unless told otherwise.
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.TreeExplainer(
        model, data=masker, feature_perturbation="interventional", model_output="raw"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.asarray(explainer.shap_values(x[None, :]))
    space = _native_space(values, explainer.expected_value, target, prediction["probability"])
    if output_space not in ("auto", space):
        raise ValueError(
            f"tree_shap is exact in this model's own output space ({space}), not in "
            f"{output_space}; use output_space='auto' or kernel_shap"
        )
    phi, base = _select_class(values, explainer.expected_value, target, space)
    _check_efficiency(phi, base, prediction["probability"], space, "tree_shap")
    params = {"background_size": background_size, "output_space": output_space}
    return _shap_explanation("tree_shap", model, x, dataset, phi, base, space,
                             params=params, random_state=random_state, prediction=prediction)


def _native_space(values: np.ndarray, expected: Any, target: int, probability: float) -> str:
    """Which space the raw tree outputs add up in: the one where efficiency holds."""
    for space in ("probability", "log-odds"):
        phi, base = _select_class(values, expected, target, space)
        try:
            _check_efficiency(phi, base, probability, space, "tree_shap")
        except ValueError:
            continue
        return space
    raise ValueError("tree_shap supports tree models whose output is a probability or, for "
                     "binary boosting, log-odds; use kernel_shap for this model")


@register("kernel_shap")
def explain_kernel_shap(
    model: Classifier,
    x: np.ndarray,
    *,
    dataset: TabularDataset,
    random_state: int | None,
    background_size: int = 50,
    nsamples: int | str = "auto",
    output_space: str = "probability",
    engine: str = "shap",
) -> Explanation:
    """KernelSHAP (``l1_reg=False``) of the predicted class's probability (or its log-odds).

    ``nsamples="auto"`` is shap's 2*d + 2048 coalitions (all of them when 2^d is fewer).
    ``engine="shap"`` runs ``shap.KernelExplainer``; ``engine="own"`` our estimator with
    paired sampling (:mod:`explainers.methods.kernel_estimator`), same value function.
    """
    x = as_row(x)
    target, prediction = prediction_dict(model, x, dataset)
    rng = make_rng(random_state)
    background = background_rows(dataset, max_rows=background_size, rng=rng)
    f = _class_output_fn(model, target, output_space)
    budget = 2 * len(x) + 2048 if nsamples == "auto" else int(nsamples)
    if engine == "own":
        phi, base = kernel_shap_values(f, x, background, nsamples=budget, rng=rng)
    elif engine == "shap":
        phi, base = _shap_kernel(f, x, background, nsamples=budget, rng=rng)
    else:
        raise ValueError(f"engine must be 'shap' or 'own', not {engine!r}")
    _check_efficiency(phi, base, prediction["probability"], output_space, "kernel_shap")
    params = {"background_size": background_size, "nsamples": nsamples,
              "output_space": output_space, "engine": engine}
    return _shap_explanation("kernel_shap", model, x, dataset, phi, base, output_space,
                             params=params, random_state=random_state, prediction=prediction)


def _shap_kernel(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    background: np.ndarray,
    *,
    nsamples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """shap.KernelExplainer with l1_reg=False, seeded through numpy's global generator."""
    import shap

    explainer = shap.KernelExplainer(f, background)
    with seeded_global_numpy(int(rng.integers(2**32))), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phi = np.asarray(
            explainer.shap_values(x[None, :], nsamples=nsamples, l1_reg=False, silent=True)
        ).reshape(-1)
    return phi, float(np.ravel(explainer.expected_value)[0])


@register("linear_shap")
def explain_linear_shap(
    model: Classifier,
    x: np.ndarray,
    *,
    dataset: TabularDataset,
    random_state: int | None,
) -> Explanation:
    """Closed-form SHAP values of a binary linear classifier in log-odds (features independent).

    The decision function is read from the model by evaluating it, so a pipeline of affine
    scalers before a logistic regression works too; a non-affine model is refused.
    """
    x = as_row(x)
    target, prediction = prediction_dict(model, x, dataset)
    mean = np.asarray(dataset.X, dtype=float).mean(axis=0)
    phi, base = linear_shap_values(model, x, mean)
    if target == 0:  # the decision function is the log-odds of class 1
        phi, base = -phi, -base
    _check_efficiency(phi, base, prediction["probability"], "log-odds", "linear_shap")
    return _shap_explanation("linear_shap", model, x, dataset, phi, base, "log-odds",
                             params={}, random_state=random_state, prediction=prediction)


def linear_shap_values(model: Any, x: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, float]:
    """φ_j = w_j (x_j - mean_j) and base = f(mean) for an affine ``decision_function`` f."""
    decision = getattr(model, "decision_function", None)
    if decision is None:
        raise ValueError("linear_shap needs a model with decision_function (a linear model)")
    # Row 0: the mean; row j+1: the mean with feature j set to x_j. Affine f makes these exact.
    rows = np.tile(mean, (len(x) + 1, 1))
    rows[1:][np.diag_indices(len(x))] = x
    out = np.asarray(decision(rows), dtype=float)
    if out.ndim != 1:
        raise ValueError("linear_shap supports binary classifiers only")
    base = float(out[0])
    phi = out[1:] - base
    actual = float(np.asarray(decision(x[None, :])).reshape(-1)[0])
    if abs(base + phi.sum() - actual) > 1e-6 * max(1.0, abs(actual)):
        raise ValueError("the model's decision function is not affine in x; use kernel_shap")
    return phi, base


def _class_output_fn(
    model: Classifier, target: int, output_space: str
) -> Callable[[np.ndarray], np.ndarray]:
    if output_space not in ("probability", "log-odds"):
        raise ValueError(f"output_space must be 'probability' or 'log-odds', not {output_space!r}")

    def output(X: np.ndarray) -> np.ndarray:
        p = np.asarray(model.predict_proba(X))[:, target]
        return p if output_space == "probability" else np.asarray(log_odds(p))

    return output


def _select_class(
    values: np.ndarray, expected: Any, target: int, output_space: str
) -> tuple[np.ndarray, float]:
    """The predicted class's values from shap's per-class or class-1-only output."""
    expected = np.ravel(np.asarray(expected, dtype=float))
    if values.ndim == 3:  # (rows, features, classes)
        return values[0, :, target], float(expected[target])
    phi, base = values.reshape(-1), float(expected[0])
    if target == 1:
        return phi, base
    # Binary models explained for class 1 only: class 0 is 1 - p, or -logit in log-odds.
    if output_space == "probability":
        return -phi, 1.0 - base
    return -phi, -base


def _check_efficiency(
    phi: np.ndarray, base: float, probability: float, output_space: str, method: str
) -> None:
    if output_space == "log-odds" and min(probability, 1 - probability) < 1e-6:
        return  # the logit of a probability this close to 0 or 1 is not accurate enough
    expected = probability if output_space == "probability" else float(log_odds(probability))
    tolerance = _EFFICIENCY_TOL if output_space == "probability" else 1e-4
    if abs(base + phi.sum() - expected) > tolerance * max(1.0, abs(expected)):
        raise ValueError(
            f"{method}: base + sum(attributions) = {base + phi.sum():.6g} but the model gives "
            f"{expected:.6g} in {output_space}; this model's output is not in {output_space}"
        )


def _shap_explanation(
    method: str,
    model: Classifier,
    x: np.ndarray,
    dataset: TabularDataset,
    phi: np.ndarray,
    base: float,
    output_space: str,
    *,
    params: dict[str, Any],
    random_state: int | None,
    prediction: dict[str, Any],
) -> Explanation:
    content = attribution_content(
        dataset, x, phi, base_value=base, output_value=base + float(phi.sum()),
        output_space=output_space,
    )
    return build_explanation(
        kind="attribution", method=method, model=model, x=x, dataset=dataset, content=content,
        params=params, random_state=random_state, prediction=prediction,
    )
