"""Small helpers every method module shares: the prediction shown, provenance, payload parts.

Method modules build their :class:`~explainers.base.Explanation` through
:func:`build_explanation`, from the record :func:`prediction_dict` makes of the model's
probabilities, so that target, prediction and provenance are filled in the same way everywhere
(the predicted class, never the true label; the seed and the model fingerprint).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from explainers.base import (
    Classifier,
    Explanation,
    ExplanationKind,
    Provenance,
    Regressor,
    TabularDataset,
    library_versions,
    model_fingerprint,
)
from explainers.payloads import Prediction

# Probabilities are clipped before taking logits so that a confident model gives finite numbers.
_LOGIT_EPS = 1e-7


def as_row(x: Any) -> np.ndarray:
    """One input as a flat float vector (accepts a list, a 1-D or a 1xd array)."""
    row = np.asarray(x, dtype=float).reshape(-1)
    if not np.all(np.isfinite(row)):
        raise ValueError("the row to explain contains NaN or infinite values")
    return row


def make_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """The one way randomness enters a method: an explicit seed or a Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def class_name(class_names: Sequence[str], index: int) -> str:
    """The display name of class ``index`` (falls back to the index as text)."""
    return str(class_names[index]) if 0 <= index < len(class_names) else str(index)


def prediction_dict(proba: np.ndarray, class_names: Sequence[str]) -> Prediction:
    """The ``prediction`` record shown with an explanation: the predicted (argmax) class of a
    probability vector, its name and its probability."""
    index = int(np.argmax(proba))
    return {
        "class_index": index,
        "class_name": class_name(class_names, index),
        "probability": float(proba[index]),
    }


def make_provenance(
    method: str,
    model: Classifier | Regressor,
    *,
    params: dict[str, Any],
    random_state: int | None,
) -> Provenance:
    """Provenance for an explanation made by ``method`` with ``params`` and ``random_state``."""
    seed = random_state if isinstance(random_state, int | type(None)) else None
    return Provenance(
        method=method,
        params=dict(sorted(params.items())),
        random_state=seed,
        model_fingerprint=model_fingerprint(model),
        library_versions=library_versions(),
    )


def build_explanation(
    *,
    kind: ExplanationKind,
    method: str,
    model: Classifier | Regressor,
    prediction: Prediction,
    content: Mapping[str, Any],
    params: dict[str, Any],
    random_state: int | None,
    metrics: Mapping[str, float] | None = None,
    target: int | None = None,
) -> Explanation:
    """An Explanation of the predicted class (``prediction``, see :func:`prediction_dict`), or
    of class ``target`` when given, with provenance filled in. ``prediction`` always records
    the model's own choice.
    """
    return Explanation(
        kind=kind,
        method=method,
        target=prediction["class_index"] if target is None else int(target),
        prediction=dict(prediction),
        content=dict(content),
        provenance=make_provenance(method, model, params=params, random_state=random_state),
        metrics={k: float(v) for k, v in (metrics or {}).items()},
    )


def class_probability(model: Classifier, X: np.ndarray, target: int) -> np.ndarray:
    """The model's probability of class ``target`` for each row of ``X``."""
    return np.asarray(model.predict_proba(np.atleast_2d(X)))[:, target]


def log_odds(p: np.ndarray | float) -> np.ndarray:
    """log(p / (1 - p)), clipped so that p = 0 or 1 stays finite."""
    q = np.clip(np.asarray(p, dtype=float), _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(q / (1 - q))


def background_rows(
    dataset: TabularDataset, *, max_rows: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``max_rows`` rows of the background sample, drawn without replacement."""
    X = np.asarray(dataset.X, dtype=float)
    if max_rows is None or len(X) <= max_rows:
        return X
    return X[np.sort(rng.choice(len(X), size=max_rows, replace=False))]


def attribution_content(
    dataset: TabularDataset,
    x: np.ndarray,
    attributions: np.ndarray,
    *,
    base_value: float,
    output_value: float,
    output_space: str,
) -> dict[str, Any]:
    """The ``attribution`` payload (see :class:`explainers.payloads.AttributionContent`)."""
    features = [
        {
            "name": f.name,
            "label": f.display_name,
            "value": float(v),
            "display_value": f.display_value(float(v)),
            "attribution": float(a),
        }
        for f, v, a in zip(dataset.features, x, attributions, strict=True)
    ]
    return {
        "features": features,
        "base_value": float(base_value),
        "output_value": float(output_value),
        "output_space": output_space,
    }


def attribution_vector(explanation: Explanation) -> np.ndarray:
    """The attributions of an ``attribution`` explanation, in feature order."""
    if explanation.kind != "attribution":
        raise ValueError(f"expected an attribution explanation, got {explanation.kind!r}")
    return np.array([f["attribution"] for f in explanation.content["features"]], dtype=float)


@contextmanager
def seeded_global_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global generator, then restore it.

    shap's KernelExplainer samples coalitions from the global generator and ignores its own
    ``seed`` argument, so this is the only way to make it reproducible. Not thread-safe.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
