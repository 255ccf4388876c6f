"""The model itself as the explanation: a linear model's equation, term by term.

Poursabzi-Sangdeh et al. (CHI 2021) compare a *transparent* model — participants see every
coefficient and how the prediction adds up — with the same model as a black box. This method
produces that view for a fitted linear model (``LinearRegression`` or a logistic regression,
optionally behind affine scalers): for the input ``x`` it lists ``intercept``, each feature's
coefficient, its value and their product, whose sum is exactly the model's output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explainers._common import build_explanation, prediction_dict
from explainers.base import Classifier, Explanation, Regressor, TabularDataset
from explainers.payloads import GlobalContent, LinearTerm
from explainers.registry import register


def linear_terms(model: Classifier | Regressor) -> tuple[float, np.ndarray]:
    """``(intercept, coefficients)`` of a linear model in the units of its raw inputs.

    Regression: the fitted line itself. A single-output classifier: the log-odds of the
    positive class. Anything else (trees, MLPs, multi-class) is refused: it has no equation.
    """
    coef = getattr(model, "coef_", None)
    if coef is None:
        raise ValueError(f"{type(model).__name__} is not a linear model: it has no coefficients "
                         "to show (use a linear scenario model, e.g. model: linear)")
    weights = np.asarray(coef, dtype=float)
    if weights.ndim == 2 and weights.shape[0] != 1:
        raise ValueError("a multi-class linear model has one equation per class; "
                         "linear_model shows single-output models only")
    intercept = np.ravel(np.asarray(getattr(model, "intercept_", 0.0), dtype=float))
    return float(intercept[0]), weights.reshape(-1)


@register("linear_model")
def explain_linear_model(
    model: Classifier | Regressor,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
) -> Explanation:
    """Every term of the model's equation at ``x``: coefficient x value, and their sum."""
    row = np.asarray(x, dtype=float).reshape(-1)
    intercept, weights = linear_terms(model)
    if len(weights) != len(row) or len(row) != len(dataset.features):
        raise ValueError(f"the model has {len(weights)} coefficients but the input has "
                         f"{len(row)} features")
    terms: list[LinearTerm] = [{"feature": f.name, "label": f.display_name, "coefficient": float(w),
              "value": float(v), "display_value": f.display_value(float(v)),
              "unit": f.unit, "unit_one": f.per_unit, "contribution": float(w * v)}
             for f, w, v in zip(dataset.features, weights, row, strict=True)]
    output = intercept + float(weights @ row)
    content: GlobalContent = {"summary": "linear_model", "intercept": intercept,
                              "terms": terms, "output_value": output}
    predict_proba = getattr(model, "predict_proba", None)  # None: a regression
    proba = np.array([1.0]) if predict_proba is None else np.asarray(predict_proba(row[None]))[0]
    names = ("value",) if predict_proba is None else dataset.class_names
    return build_explanation(kind="global", method="linear_model", model=model,
                             prediction=prediction_dict(proba, names), content=content,
                             params={}, random_state=random_state)
