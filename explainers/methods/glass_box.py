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

from explainers.base import Explanation, TabularDataset
from explainers.kinds_b import GlobalContent, LinearTerm, make_explanation
from explainers.registry import register


def linear_terms(model: Any) -> tuple[float, np.ndarray]:
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
    model: Any, x: Any, *, dataset: TabularDataset, random_state: int | None = None
) -> Explanation:
    """Every term of the model's equation at ``x``: coefficient x value, and their sum."""
    row = np.asarray(x, dtype=float).reshape(-1)
    intercept, weights = linear_terms(model)
    if len(weights) != len(row) or len(row) != len(dataset.features):
        raise ValueError(f"the model has {len(weights)} coefficients but the input has "
                         f"{len(row)} features")
    terms: list[LinearTerm] = [{"feature": f.name, "label": f.display_name, "coefficient": float(w),
              "value": float(v), "display_value": f.display_value(float(v)),
              "unit": f.unit, "contribution": float(w * v)}
             for f, w, v in zip(dataset.features, weights, row, strict=True)]
    output = intercept + float(weights @ row)
    content: GlobalContent = {"summary": "linear_model", "intercept": intercept,
                              "terms": terms, "output_value": output}
    is_regressor = not hasattr(model, "predict_proba")
    proba = np.array([1.0]) if is_regressor else np.asarray(model.predict_proba(row[None]))[0]
    names = ("value",) if is_regressor else tuple(getattr(dataset, "class_names", ()) or ())
    return make_explanation(kind="global", method="linear_model", model=model, proba=proba,
                            class_names=names, content=content, params={},
                            random_state=random_state)
