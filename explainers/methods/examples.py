"""Example-based explanations: the nearest training rows, ProtoDash prototypes of the predicted
class, and the training rows that most helped or hurt the prediction (influence functions).

Tabular rows are compared in a standardised space (each column divided by its standard
deviation) so that no feature dominates by its unit; images are compared pixel by pixel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explainers.base import Explanation, TabularDataset
from explainers.data import ImageDataset
from explainers.kinds_b import Example, ExamplesContent, class_name, make_explanation
from explainers.prototypes import influence_on_prediction, median_distance, protodash
from explainers.registry import register


def _matrix(dataset: Any) -> np.ndarray:
    if isinstance(dataset, ImageDataset):
        return dataset.flat
    if isinstance(dataset, TabularDataset):
        return np.asarray(dataset.X, dtype=float)
    raise TypeError("example-based explanations need a TabularDataset or an ImageDataset")


def _comparable(dataset: Any, X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X, rows) in the space where distances are taken: standardised for tables."""
    if isinstance(dataset, ImageDataset):
        return X, rows
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    centre = X.mean(axis=0)
    return (X - centre) / scale, (rows - centre) / scale


def _class_of_rows(dataset: Any, model: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels or -1 when unknown, the model's predicted class index) for every row."""
    predicted = np.argmax(np.asarray(model.predict_proba(X)), axis=1)
    labels = np.full(len(X), -1) if dataset.y is None else np.asarray(dataset.y, dtype=int)
    return labels, predicted


def _card(
    dataset: Any,
    X: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray,
    index: int,
    role: str,
    score: float,
) -> Example:
    names = tuple(dataset.class_names)
    label = int(labels[index])
    card: Example = {
        "index": int(index),
        "role": role,  # type: ignore[typeddict-item]
        "score": float(score),
        "label": label if label >= 0 else None,
        "label_name": class_name(label, names) if label >= 0 else "",
        "prediction": int(predicted[index]),
        "prediction_name": class_name(int(predicted[index]), names),
    }
    if isinstance(dataset, ImageDataset):
        card["image"] = dataset.X[index].tolist()
    else:
        card["features"] = dataset.describe_row(X[index])
        card["values"] = X[index].tolist()
    return card


def _content(
    dataset: Any, x: np.ndarray, score_name: str, score_help: str, examples: list[Example]
) -> ExamplesContent:
    content: ExamplesContent = {
        "score_name": score_name,  # type: ignore[typeddict-item]
        "score_help": score_help,
        "examples": examples,
    }
    if isinstance(dataset, ImageDataset):
        content["query_image"] = x.reshape(dataset.shape).tolist()
    else:
        content["query"] = dataset.describe_row(x)
    return content


def _explanation(
    method: str,
    model: Any,
    dataset: Any,
    proba: np.ndarray,
    content: ExamplesContent,
    params: dict[str, Any],
    random_state: int | None,
    metrics: dict[str, float] | None = None,
) -> Explanation:
    return make_explanation(
        kind="examples",
        method=method,
        model=model,
        proba=proba,
        class_names=tuple(dataset.class_names),
        content=content,
        params=params,
        random_state=random_state,
        metrics=metrics,
    )


@register("nearest_examples")
def explain_nearest_examples(
    model: Any,
    x: Any,
    *,
    dataset: Any,
    random_state: int | None = None,
    k: int = 5,
    same_class: bool = False,
) -> Explanation:
    """The ``k`` background rows closest to ``x`` (Euclidean, standardised space).

    ``same_class=True`` keeps only rows labelled with the predicted class (the model's own
    predictions stand in for labels when the data set has none).
    """
    X = _matrix(dataset)
    flat = np.asarray(x, dtype=float).reshape(-1)
    proba = np.asarray(model.predict_proba(flat[None, :]))[0]
    target = int(np.argmax(proba))
    labels, predicted = _class_of_rows(dataset, model, X)
    Z, z = _comparable(dataset, X, flat[None, :])
    distance = np.linalg.norm(Z - z, axis=1)
    if same_class:
        reference = labels if dataset.y is not None else predicted
        distance = np.where(reference == target, distance, np.inf)
    order = [int(i) for i in np.argsort(distance, kind="stable")[:k] if np.isfinite(distance[i])]
    cards = [_card(dataset, X, labels, predicted, i, "nearest", distance[i]) for i in order]
    agree = np.mean([predicted[i] == target for i in order]) if order else 0.0
    content = _content(
        dataset,
        flat,
        "distance",
        "Distance to the case being explained (smaller is more similar).",
        cards,
    )
    return _explanation(
        "nearest_examples",
        model,
        dataset,
        proba,
        content,
        {"k": k, "same_class": same_class},
        random_state,
        {"neighbour_agreement": float(agree)},
    )


@register("prototypes")
def explain_prototypes(
    model: Any,
    x: Any,
    *,
    dataset: Any,
    random_state: int | None = None,
    n_prototypes: int = 5,
    kernel_width: float | None = None,
    max_rows: int = 1500,
) -> Explanation:
    """ProtoDash prototypes (Gurumoorthy et al. 2019) of the predicted class, with weights.

    The class's rows (by label, else by the model's prediction) are summarised by a few of
    their members, chosen greedily to maximise the MMD-based objective with a Gaussian kernel.
    Up to ``max_rows`` rows are used, drawn with ``random_state`` when there are more.
    """
    X = _matrix(dataset)
    flat = np.asarray(x, dtype=float).reshape(-1)
    proba = np.asarray(model.predict_proba(flat[None, :]))[0]
    target = int(np.argmax(proba))
    labels, predicted = _class_of_rows(dataset, model, X)
    members = np.flatnonzero((labels if dataset.y is not None else predicted) == target)
    if len(members) > max_rows:
        rng = np.random.default_rng(random_state)
        members = np.sort(rng.choice(members, size=max_rows, replace=False))
    Z, _ = _comparable(dataset, X, flat[None, :])
    width = kernel_width or median_distance(Z[members], random_state=random_state)
    result = protodash(Z[members], Z[members], n_prototypes=n_prototypes, kernel_width=width)
    weights = result.weights / result.weights.sum() if result.weights.sum() > 0 else result.weights
    cards = [
        _card(dataset, X, labels, predicted, int(members[i]), "prototype", w)
        for i, w in zip(result.indices, weights, strict=True)
    ]
    content = _content(
        dataset,
        flat,
        "weight",
        "How much of the class this example stands for (weights sum to 1).",
        cards,
    )
    params = {"n_prototypes": n_prototypes, "kernel_width": float(width), "max_rows": max_rows}
    return _explanation(
        "prototypes",
        model,
        dataset,
        proba,
        content,
        params,
        random_state,
        {"objective": float(result.objectives[-1]) if result.objectives else 0.0},
    )


@register("influence")
def explain_influence(
    model: Any,
    x: Any,
    *,
    dataset: Any,
    random_state: int | None = None,
    k: int = 5,
) -> Explanation:
    """The ``k`` training rows whose removal would most lower / raise the prediction's loss.

    Koh & Liang (2017) influence for binary logistic regression (optionally after a scaler),
    in closed form with the exact L2-regularised Hessian of scikit-learn's objective
    (C * sum of log-losses + ||w||^2 / 2). ``dataset.X``/``dataset.y`` must be the training
    data. Score = predicted increase of -log p(predicted class | x) if the row were removed:
    positive rows support the prediction, negative rows oppose it (often mislabelled ones).
    """
    if not isinstance(dataset, TabularDataset) or dataset.y is None:
        raise TypeError("influence needs a TabularDataset with the training labels")
    X = np.asarray(dataset.X, dtype=float)
    flat = np.asarray(x, dtype=float).reshape(-1)
    proba = np.asarray(model.predict_proba(flat[None, :]))[0]
    target = int(np.argmax(proba))
    scores = influence_on_prediction(model, X, np.asarray(dataset.y), flat, target)
    labels, predicted = _class_of_rows(dataset, model, X)
    order = np.argsort(-scores, kind="stable")
    supports = [int(i) for i in order[:k] if scores[i] > 0]
    opposes = [int(i) for i in order[::-1][:k] if scores[i] < 0]
    cards = [_card(dataset, X, labels, predicted, i, "supports", scores[i]) for i in supports]
    cards += [_card(dataset, X, labels, predicted, i, "opposes", scores[i]) for i in opposes]
    content = _content(
        dataset,
        flat,
        "influence",
        "How much less sure the AI would be of this prediction without the example "
        "(negative: the example pulls the other way).",
        cards,
    )
    return _explanation(
        "influence",
        model,
        dataset,
        proba,
        content,
        {"k": k},
        random_state,
        {"n_supporting": float(np.sum(scores > 0)), "n_opposing": float(np.sum(scores < 0))},
    )
