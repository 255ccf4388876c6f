"""SHAP values (Lundberg & Lee 2017) for the predicted class: tree, kernel and linear.

* ``tree_shap``: exact interventional TreeSHAP (``shap.TreeExplainer`` with a background
  sample) in the space the trees add up in: log-odds for binary gradient boosting (also
  ``HistGradientBoostingClassifier`` without native categorical splits), probability for
  forests. The value function is E_b[f(x_S, b_rest)] over the background rows b.
* ``kernel_shap``: ``shap.KernelExplainer`` on the predicted class's probability (or log-odds),
  with ``l1_reg=False`` (its default silently zeroes all but ten features) and the same kind of
  background sample, so on a tree model it estimates what ``tree_shap`` computes exactly.
* ``linear_shap``: the closed form for a model whose decision function (log-odds) is additive in
  the features, f(x) = c + Σ_j u_j(x_j): a logistic regression, also behind per-column scalers
  and one-hot encoders. φ_j = u_j(x_j) - E_b[u_j(b_j)] over every background row b; for a plain
  logistic regression that is w_j (x_j - mean_j).

All satisfy efficiency: ``base_value + sum(attributions) == output_value`` in ``output_space``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

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
from explainers.base import Classifier, Explanation, TabularDataset, predicted_class
from explainers.methods.kernel_estimator import kernel_shap_values
from explainers.payloads import Prediction
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
    and decision trees, log-odds for binary (histogram) gradient boosting. ``output_space="auto"``
    picks that space; asking for the other one raises ValueError (shap would rescale the
    values approximately; use kernel_shap for probabilities of a boosted model). Multiclass
    boosting and ``HistGradientBoostingClassifier`` with native categorical splits (which shap
    reads as numeric thresholds) are refused with a ValueError: use kernel_shap for them.
    """
    x = as_row(x)
    target, proba = predicted_class(model, x)
    prediction = prediction_dict(proba, dataset.class_names)
    background = background_rows(dataset, max_rows=background_size, rng=make_rng(random_state))
    values, expected = tree_shap_values(model, x[None, :], background)
    space = native_space(values, expected, target, prediction["probability"])
    if output_space not in ("auto", space):
        raise ValueError(
            f"tree_shap is exact in this model's own output space ({space}), not in "
            f"{output_space}; use output_space='auto' or kernel_shap"
        )
    phi, base = _select_class(values, expected, target, space)
    _check_efficiency(phi, base, prediction["probability"], space, "tree_shap")
    params = {"background_size": background_size, "output_space": output_space}
    return _shap_explanation("tree_shap", model, x, dataset, phi, base, space,
                             params=params, random_state=random_state, prediction=prediction)


def tree_shap_values(
    model: Any, rows: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, Any]:
    """shap's raw interventional TreeSHAP values of ``rows`` and its expected value(s).

    Raw means the trees' own sum (log-odds for boosting, probability for forests), the only
    output TreeSHAP computes exactly. Raises ValueError for trees shap would misread.
    """
    import shap

    _refuse_misread_trees(model)
    # shap silently subsamples a background of more than 100 rows unless told otherwise.
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.TreeExplainer(
        model, data=masker, feature_perturbation="interventional", model_output="raw"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.asarray(explainer.shap_values(rows))
    return values, explainer.expected_value


def _refuse_misread_trees(model: Any) -> None:
    """Boosted models whose raw TreeSHAP output is not the binary log-odds we explain."""
    categorical = getattr(model, "is_categorical_", None)
    if categorical is not None and bool(np.any(categorical)):
        raise ValueError(
            "tree_shap cannot explain a HistGradientBoostingClassifier with native categorical "
            "splits: shap reads them as numeric thresholds; use kernel_shap for this model"
        )
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

    boosted = isinstance(model, GradientBoostingClassifier | HistGradientBoostingClassifier)
    if boosted and len(model.classes_) > 2:
        raise ValueError(
            "tree_shap explains binary boosting only: a multiclass booster's trees add up to "
            "per-class scores, not to any class's log-odds; use kernel_shap for this model"
        )


TreeSpace = Literal["probability", "log-odds"]


def native_space(
    values: np.ndarray, expected: Any, target: int, probability: float
) -> TreeSpace:
    """Which space the raw tree outputs add up in: the one where efficiency holds."""
    spaces: tuple[TreeSpace, ...] = ("probability", "log-odds")
    for space in spaces:
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
    target, proba = predicted_class(model, x)
    prediction = prediction_dict(proba, dataset.class_names)
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
    """Exact SHAP values of a binary classifier whose log-odds are additive in the features.

    The value function is interventional over every background row of ``dataset`` (features
    independent), in log-odds. The model is only evaluated, never taken apart, so a logistic
    regression behind scalers and one-hot encoders works too; a model with interactions
    between features (trees, neural networks) is refused with a ValueError.
    """
    x = as_row(x)
    target, proba = predicted_class(model, x)
    prediction = prediction_dict(proba, dataset.class_names)
    decision = getattr(model, "decision_function", None)
    if decision is None:
        raise ValueError("linear_shap needs a model with decision_function (a linear model)")
    phi, base = additive_shap_values(
        _binary_decision(decision), x, np.asarray(dataset.X, dtype=float)
    )
    if target == 0:  # the decision function is the log-odds of class 1
        phi, base = -phi, -base
    _check_efficiency(phi, base, prediction["probability"], "log-odds", "linear_shap")
    return _shap_explanation("linear_shap", model, x, dataset, phi, base, "log-odds",
                             params={}, random_state=random_state, prediction=prediction)


def _binary_decision(decision: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], np.ndarray]:
    def output(rows: np.ndarray) -> np.ndarray:
        out = np.asarray(decision(rows), dtype=float)
        if out.ndim != 1:
            raise ValueError("linear_shap supports binary classifiers only")
        return out

    return output


# Rows of the background on which every pair of features is checked for an interaction.
_INTERACTION_ROWS = 16


def additive_shap_values(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, float]:
    """Exact interventional Shapley values of an additive f = c + Σ_j u_j(x_j) at x.

    For additive f, v(S) = E_b f(x_S, b_rest) makes φ_j = u_j(x_j) - E_b u_j(b_j), which is
    f(x) - E_b f(x with feature j set to b_j): one evaluation per distinct background value
    of each feature. The model is evaluated at real values only; the old shortcut through
    f(column means) went wrong behind a one-hot encoder, where a mean category code is no
    category at all. Raises ValueError when f is not additive on these points.
    """
    d = len(x)
    substituted, weights = [], []
    for j in range(d):
        values, counts = np.unique(background[:, j], return_counts=True)
        rows = np.tile(x, (len(values), 1))
        rows[:, j] = values
        substituted.append(rows)
        weights.append(counts / counts.sum())
    singles, doubles, pairs = _interaction_rows(x, background)
    # One model call for everything: a pipeline costs milliseconds per call, not per row.
    blocks = [x[None, :], background, *substituted, singles, doubles]
    out = np.split(f(np.vstack(blocks)), np.cumsum([len(b) for b in blocks])[:-1])
    at_x, base = float(out[0][0]), float(out[1].mean())
    phi = np.array([at_x - float(w @ v) for w, v in zip(weights, out[2 : 2 + d], strict=True)])
    # f(x) - f(x^j) - f(x^k) + f(x^jk), x^S being x with S taken from a background row.
    single = out[-2].reshape(-1, d)
    mixed = (at_x - single[:, [j for j, _ in pairs]] - single[:, [k for _, k in pairs]]
             + out[-1].reshape(len(single), len(pairs)))
    scale = max(1.0, abs(at_x), abs(base))
    if abs(base + phi.sum() - at_x) > 1e-8 * scale or np.any(np.abs(mixed) > 1e-8 * scale):
        raise ValueError(
            "the model's decision function is not additive in the features (it has "
            "interactions), so linear_shap is not exact for it; use kernel_shap"
        )
    return phi, base


def _interaction_rows(
    x: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """x with each feature, and with each pair of features, taken from a few background rows."""
    d = len(x)
    pairs = [(j, k) for j in range(d) for k in range(j + 1, d)]
    picks = np.linspace(0, len(background) - 1, min(_INTERACTION_ROWS, len(background)))
    singles, doubles = [], []
    for b in background[picks.astype(int)]:
        one = np.tile(x, (d, 1))
        one[np.arange(d), np.arange(d)] = b
        two = np.tile(x, (len(pairs), 1))
        for row, (j, k) in enumerate(pairs):
            two[row, [j, k]] = b[[j, k]]
        singles.append(one)
        doubles.append(two)
    return np.vstack(singles), np.vstack(doubles).reshape(-1, d), pairs


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
    prediction: Prediction,
) -> Explanation:
    content = attribution_content(
        dataset, x, phi, base_value=base, output_value=base + float(phi.sum()),
        output_space=output_space,
    )
    return build_explanation(
        kind="attribution", method=method, model=model, content=content,
        params=params, random_state=random_state, prediction=prediction,
    )
