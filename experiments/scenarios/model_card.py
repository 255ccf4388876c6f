"""A short model card: what was trained on what, and how well it does on the held-out test split.

Classification: accuracy (and the majority-class baseline), ROC AUC (one-vs-rest macro for more
than two classes), the Brier score (mean squared error of the class probabilities, summed over
classes) and the expected calibration error of the top-class probability over 10 equal-width
bins (the bins themselves: :func:`reliability_bins`). Regression: RMSE, MAE and R². All on
``X_test``, which the model never saw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score

CALIBRATION_BINS = 10


def reliability_bins(proba: np.ndarray, y: np.ndarray,
                     bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """The reliability diagram as a table: per equal-width bin of top-class probability that
    holds items, its range, its share of the items, mean confidence and accuracy."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            table.append({"low": float(edges[b]), "high": float(edges[b + 1]),
                          "count": int(inside.sum()), "share": float(inside.mean()),
                          "confidence": float(confidence[inside].mean()),
                          "accuracy": float(correct[inside].mean())})
    return table


def expected_calibration_error(proba: np.ndarray, y: np.ndarray,
                               bins: int = CALIBRATION_BINS) -> float:
    """Weighted mean gap between confidence and accuracy of the top class per bin."""
    return float(sum(b["share"] * abs(b["confidence"] - b["accuracy"])
                     for b in reliability_bins(proba, y, bins)))


def brier_score(proba: np.ndarray, y: np.ndarray) -> float:
    """Mean over items of the squared distance between probabilities and the one-hot label."""
    onehot = np.eye(proba.shape[1])[y]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def test_metrics(model: Any, X_test: np.ndarray, y_test: np.ndarray, task: str) -> dict[str, float]:
    if task == "regression":
        predicted = np.asarray(model.predict(X_test), dtype=float)
        return {"rmse": float(np.sqrt(np.mean((predicted - y_test) ** 2))),
                "mae": float(mean_absolute_error(y_test, predicted)),
                "r2": float(r2_score(y_test, predicted))}
    y = np.asarray(y_test, dtype=int)
    proba = np.asarray(model.predict_proba(X_test), dtype=float)
    metrics = {"accuracy": float(np.mean(proba.argmax(axis=1) == y)),
               "majority_baseline": float(np.bincount(y).max() / len(y)),
               "brier": brier_score(proba, y),
               "calibration_error": expected_calibration_error(proba, y)}
    if len(np.unique(y)) == proba.shape[1]:
        metrics["auc"] = float(roc_auc_score(y, proba[:, 1]) if proba.shape[1] == 2 else
                               roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    return metrics


def model_card(scenario: Any, *, provenance: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON: the model, its data, its split and its test metrics."""
    model = scenario.model
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return {
        "scenario": scenario.name,
        "task": scenario.task,
        "model": scenario.model_name,
        "estimator": getattr(model, "kind", None) or type(final).__name__,
        "seed": scenario.random_state,
        "n_train": len(scenario.y_train),
        "n_test": len(scenario.y_test),
        "features": [f.name for f in scenario.features],
        "classes": list(scenario.class_names),
        "test_metrics": test_metrics(model, scenario.X_test, scenario.y_test, scenario.task),
        **provenance,
    }
