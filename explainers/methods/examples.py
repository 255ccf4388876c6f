"""Example-based explanations: the nearest training rows, ProtoDash prototypes of the predicted
class, and the training rows that most helped or hurt the prediction (influence functions).

Tabular rows are compared in a standardised space (each column divided by its standard
deviation) so that no feature dominates by its unit; images pixel by pixel; texts by TF-IDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import euclidean_distances

from explainers._common import build_explanation, class_name, prediction_dict
from explainers.base import Classifier, Explanation, TabularDataset
from explainers.data import Dataset, ImageDataset, TextDataset
from explainers.payloads import Example, ExamplesContent
from explainers.prototypes import influence_on_prediction, median_distance, protodash
from explainers.registry import register
from explainers.render.words import gettext_noop  # translated where shown


@dataclass(frozen=True)
class _Rows:
    """The background in the space where distances are taken, with labels and predictions."""

    vectors: Any  # (n, m) array, or a sparse matrix for texts
    query: Any  # (1, m): the explained input in the same space
    labels: np.ndarray  # true labels, -1 where unknown
    predicted: np.ndarray  # the model's class index for every row
    proba: np.ndarray  # the model's probabilities for the explained input

    @property
    def target(self) -> int:
        return int(np.argmax(self.proba))


def _rows(model: Classifier, x: Any, dataset: Dataset) -> _Rows:
    """Tables are standardised (no feature dominates by its unit), images compared pixel by
    pixel, texts by TF-IDF vectors of the data set's own vocabulary."""
    if isinstance(dataset, TextDataset):
        inputs: Any = list(dataset.texts)
        one: Any = [str(x)]
        tfidf = TfidfVectorizer(sublinear_tf=True, max_features=2000).fit(inputs)
        vectors, query = tfidf.transform(inputs), tfidf.transform(one)
    elif isinstance(dataset, ImageDataset | TabularDataset):
        inputs = dataset.flat if isinstance(dataset, ImageDataset) else np.asarray(dataset.X, float)
        one = np.asarray(x, dtype=float).reshape(1, -1)
        vectors, query = inputs, one
        if isinstance(dataset, TabularDataset):
            scale = np.where(inputs.std(axis=0) > 0, inputs.std(axis=0), 1.0)
            vectors, query = (inputs - inputs.mean(0)) / scale, (one - inputs.mean(0)) / scale
    else:
        raise TypeError("example-based explanations need a tabular, image or text dataset")
    predicted = np.argmax(np.asarray(model.predict_proba(inputs)), axis=1)
    n = len(predicted)
    labels = np.full(n, -1) if dataset.y is None else np.asarray(dataset.y, dtype=int)
    proba = np.asarray(model.predict_proba(one))[0]
    return _Rows(vectors, query, labels, predicted, proba)


def _card(dataset: Dataset, rows: _Rows, index: int, role: str, score: float) -> Example:
    names = tuple(dataset.class_names)
    label = int(rows.labels[index])
    card: Example = {
        "index": int(index),
        "role": role,  # type: ignore[typeddict-item]
        "score": float(score),
        "label": label if label >= 0 else None,
        "label_name": class_name(names, label) if label >= 0 else "",
        "prediction": int(rows.predicted[index]),
        "prediction_name": class_name(names, int(rows.predicted[index])),
    }
    if isinstance(dataset, ImageDataset):
        card["image"] = dataset.X[index].tolist()
    elif isinstance(dataset, TextDataset):
        card["text"] = dataset.texts[index]
    else:
        card["features"] = dataset.describe_row(dataset.X[index])
        card["values"] = np.asarray(dataset.X[index], dtype=float).tolist()
    return card


def _content(
    dataset: Dataset, x: Any, score_name: str, score_help: str, examples: list[Example]
) -> ExamplesContent:
    content: ExamplesContent = {
        "score_name": score_name,  # type: ignore[typeddict-item]
        "score_help": score_help,
        "examples": examples,
    }
    if isinstance(dataset, ImageDataset):
        content["query_image"] = np.asarray(x, dtype=float).reshape(dataset.shape).tolist()
    elif isinstance(dataset, TextDataset):
        content["query_text"] = str(x)
    else:
        content["query"] = dataset.describe_row(np.asarray(x, dtype=float).reshape(-1))
    return content


@register("nearest_examples")
def explain_nearest_examples(
    model: Classifier,
    x: Any,
    *,
    dataset: Dataset,
    random_state: int | None = None,
    k: int = 5,
    same_class: bool = False,
    exclude_identical: bool = False,
) -> Explanation:
    """The ``k`` background rows closest to ``x`` (Euclidean, standardised space).

    ``same_class=True`` keeps only rows labelled with the predicted class (the model's own
    predictions stand in for labels when the data set has none). ``exclude_identical=True``
    leaves out rows equal to ``x``: when ``x`` is itself a training row (finding mislabelled
    points) its nearest neighbour would otherwise be itself, with the label under question.
    """
    rows = _rows(model, x, dataset)
    distance = euclidean_distances(rows.vectors, rows.query).ravel()
    if exclude_identical:
        distance = np.where(distance > 1e-12, distance, np.inf)
    if same_class:
        reference = rows.labels if dataset.y is not None else rows.predicted
        distance = np.where(reference == rows.target, distance, np.inf)
    order = [int(i) for i in np.argsort(distance, kind="stable")[:k] if np.isfinite(distance[i])]
    cards = [_card(dataset, rows, i, "nearest", distance[i]) for i in order]
    agree = np.mean([rows.predicted[i] == rows.target for i in order]) if order else 0.0
    content = _content(
        dataset,
        x,
        "distance",
        gettext_noop("Distance to the case being explained (smaller is more similar)."),
        cards,
    )
    return build_explanation(
        kind="examples",
        method="nearest_examples",
        model=model,
        prediction=prediction_dict(rows.proba, dataset.class_names),
        content=content,
        params={"k": k, "same_class": same_class, "exclude_identical": exclude_identical},
        random_state=random_state,
        metrics={"neighbour_agreement": float(agree)},
    )


@register("prototypes")
def explain_prototypes(
    model: Classifier,
    x: Any,
    *,
    dataset: Dataset,
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
    rows = _rows(model, x, dataset)
    reference = rows.labels if dataset.y is not None else rows.predicted
    members = np.flatnonzero(reference == rows.target)
    if len(members) > max_rows:
        rng = np.random.default_rng(random_state)
        members = np.sort(rng.choice(members, size=max_rows, replace=False))
    Z = rows.vectors[members]
    width = kernel_width or median_distance(Z, random_state=random_state)
    result = protodash(Z, Z, n_prototypes=n_prototypes, kernel_width=width)
    weights = result.weights / result.weights.sum() if result.weights.sum() > 0 else result.weights
    cards = [
        _card(dataset, rows, int(members[i]), "prototype", w)
        for i, w in zip(result.indices, weights, strict=True)
    ]
    content = _content(
        dataset,
        x,
        "weight",
        gettext_noop("How much of the class this example stands for (weights sum to 1)."),
        cards,
    )
    params = {"n_prototypes": n_prototypes, "kernel_width": float(width), "max_rows": max_rows}
    return build_explanation(
        kind="examples",
        method="prototypes",
        model=model,
        prediction=prediction_dict(rows.proba, dataset.class_names),
        content=content,
        params=params,
        random_state=random_state,
        metrics={"objective": float(result.objectives[-1]) if result.objectives else 0.0},
    )


@register("influence")
def explain_influence(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    k: int = 5,
) -> Explanation:
    """The ``k`` training rows whose removal would most lower / raise the prediction's loss.

    Koh & Liang (2017) influence for binary logistic regression (optionally after a scaler),
    in closed form with the exact L2-regularised Hessian of scikit-learn's objective
    (C * sum of log-losses + ||w||^2 / 2). ``dataset.X``/``dataset.y`` must be the training
    data. Score = predicted increase of -log p(predicted class | x) if the row were removed:
    positive rows support the prediction, negative rows oppose it. Rows the model gets wrong
    have large loss gradients, so mislabelled training rows tend to appear at either end.
    """
    if not isinstance(dataset, TabularDataset) or dataset.y is None:
        raise TypeError("influence needs a TabularDataset with the training labels")
    rows = _rows(model, x, dataset)
    flat = np.asarray(x, dtype=float).reshape(-1)
    X = np.asarray(dataset.X, dtype=float)
    scores = influence_on_prediction(model, X, np.asarray(dataset.y), flat, rows.target)
    order = np.argsort(-scores, kind="stable")
    supports = [int(i) for i in order[:k] if scores[i] > 0]
    opposes = [int(i) for i in order[::-1][:k] if scores[i] < 0]
    cards = [_card(dataset, rows, i, "supports", scores[i]) for i in supports]
    cards += [_card(dataset, rows, i, "opposes", scores[i]) for i in opposes]
    content = _content(
        dataset,
        flat,
        "influence",
        gettext_noop("How much less sure the AI would be of this prediction without the "
                     "example (negative: the example pulls the other way)."),
        cards,
    )
    return build_explanation(
        kind="examples",
        method="influence",
        model=model,
        prediction=prediction_dict(rows.proba, dataset.class_names),
        content=content,
        params={"k": k},
        random_state=random_state,
        metrics={
            "n_supporting": float(np.sum(scores > 0)),
            "n_opposing": float(np.sum(scores < 0)),
        },
    )
