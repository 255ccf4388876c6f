"""Control models for sanity checks and attacks on explanations.

* :func:`randomise_weights` — a copy of a fitted model with its learned parameters replaced by
  random ones of the same scale and structure: the model-randomisation sanity check of Adebayo
  et al. (2018). An explanation that barely changes for this copy does not reflect the model.
* :class:`ScaffoldedClassifier` — the scaffolding attack of Slack et al. (2020): a classifier
  that uses a biased model on real rows and an innocuous one on the off-manifold perturbations
  LIME and KernelSHAP feed it, so their explanations hide the feature it really relies on.
* :class:`FeatureRuleClassifier` — a one-feature classifier, the building block of both halves
  of a scaffold (and a model whose true explanation is known).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from explainers._common import make_rng


def randomise_weights(
    model: Any,
    *,
    random_state: int | np.random.Generator | None,
    background: np.ndarray | None = None,
) -> Any:
    """A deep copy of ``model`` with every learned weight redrawn at random (seeded).

    Supports linear models (``coef_``), MLPs (``coefs_``), scikit-learn decision trees, random
    forests / extra trees, gradient boosting and histogram gradient boosting, and a Pipeline
    ending in one of these (its preprocessing is kept). Shapes (tree topology, layer sizes)
    are kept; weights are redrawn with the scale the learned ones had.

    For trees the leaf values are the weights, but the splits encode which features were
    learned to matter, so with leaves alone the copy still depends on the same features. Pass
    ``background`` (rows of data) to also redraw each split: a uniformly random feature and a
    threshold taken from that feature's background values.
    """
    rng = make_rng(random_state)
    clone = copy.deepcopy(model)
    final = clone.steps[-1][1] if hasattr(clone, "steps") else clone
    if hasattr(final, "coefs_"):
        _randomise_mlp(final, rng)
    elif hasattr(final, "coef_"):
        final.coef_ = rng.normal(0.0, _scale(final.coef_), np.shape(final.coef_))
        final.intercept_ = rng.normal(0.0, _scale(final.coef_), np.shape(final.intercept_))
    elif hasattr(final, "_predictors"):
        predictors = [p for trees in final._predictors for p in trees]
        _randomise_leaves(predictors, rng, hist=True)
        if background is not None:
            _randomise_hist_splits(predictors, _transformed(clone, background), rng)
    elif hasattr(final, "estimators_") or hasattr(final, "tree_"):
        trees = list(np.ravel(getattr(final, "estimators_", [final])))
        _randomise_leaves(trees, rng, hist=False)
        if background is not None:
            _randomise_splits([t.tree_ for t in trees], _transformed(clone, background), rng)
    else:
        raise NotImplementedError(
            f"randomise_weights does not know how to randomise {type(final).__name__}"
        )
    return clone


def _scale(weights: Any) -> float:
    spread = float(np.std(weights))
    return spread if spread > 0 else 1.0


def _randomise_mlp(mlp: Any, rng: np.random.Generator) -> None:
    # Glorot-uniform, the initialisation scikit-learn itself uses: "as if never trained".
    factor = 2.0 if mlp.activation == "logistic" else 6.0
    for i, weights in enumerate(mlp.coefs_):
        bound = np.sqrt(factor / (weights.shape[0] + weights.shape[1]))
        mlp.coefs_[i] = rng.uniform(-bound, bound, weights.shape)
        mlp.intercepts_[i] = rng.uniform(-bound, bound, mlp.intercepts_[i].shape)


def _randomise_leaves(trees: list[Any], rng: np.random.Generator, *, hist: bool) -> None:
    """Redraw the leaf values of every tree; class-probability leaves get Dirichlet draws."""
    if hist:
        leaves = [t.nodes["value"][t.nodes["is_leaf"] == 1] for t in trees]
        scale = _scale(np.concatenate(leaves))
        for t in trees:
            is_leaf = t.nodes["is_leaf"] == 1
            t.nodes["value"][is_leaf] = rng.normal(0.0, scale, int(is_leaf.sum()))
        return
    values = [t.tree_.value for t in trees]
    if values[0].shape[2] > 1:  # classifier trees hold class proportions per node
        for v in values:
            v[:] = rng.dirichlet(np.ones(v.shape[2]), size=v.shape[:2])
        return
    scale = _scale(np.concatenate([v.ravel() for v in values]))
    for v in values:  # regression trees (gradient boosting): leaf values of the same spread
        v[:] = rng.normal(0.0, scale, v.shape)


def _transformed(model: Any, X: np.ndarray) -> np.ndarray:
    """``X`` as the final step of a pipeline sees it."""
    X = np.asarray(X, dtype=float)
    for _, step in getattr(model, "steps", [])[:-1]:
        X = step.transform(X)
    return X


def _random_split(
    columns: list[np.ndarray], n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random (feature, threshold) pairs, each threshold halfway between two adjacent
    distinct values of the feature (``columns[j]`` are its sorted unique values, as
    scikit-learn places splits), so no data value sits on a threshold where float32
    (scikit-learn) and float64 (shap) could disagree."""
    usable = [j for j, c in enumerate(columns) if len(c) > 1]
    features = rng.choice(usable, size=n)
    thresholds = np.empty(n)
    for i, j in enumerate(features):
        k = rng.integers(0, len(columns[j]) - 1)
        thresholds[i] = (columns[j][k] + columns[j][k + 1]) / 2
    return features, thresholds


def _randomise_splits(trees: list[Any], X: np.ndarray, rng: np.random.Generator) -> None:
    columns = [np.unique(X[:, j]) for j in range(X.shape[1])]
    for tree in trees:
        inner = tree.feature >= 0  # leaves are marked with feature -2
        features, thresholds = _random_split(columns, int(inner.sum()), rng)
        tree.feature[inner] = features
        tree.threshold[inner] = thresholds


def _randomise_hist_splits(predictors: list[Any], X: np.ndarray, rng: np.random.Generator) -> None:
    columns = [np.unique(X[:, j]) for j in range(X.shape[1])]
    for predictor in predictors:
        nodes = predictor.nodes
        inner = (nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0)
        features, thresholds = _random_split(columns, int(inner.sum()), rng)
        nodes["feature_idx"][inner] = features
        nodes["num_threshold"][inner] = thresholds


class FeatureRuleClassifier:
    """Predicts class 1 with probability ``confidence`` when ``X[:, feature] > threshold``.

    Nothing is learned: ``fit`` only records the classes, so the model's true dependence on
    exactly one feature is known by construction.
    """

    def __init__(self, feature: int, *, threshold: float = 0.5, confidence: float = 0.95) -> None:
        self.feature = feature
        self.threshold = threshold
        self.confidence = confidence
        self.classes_ = np.array([0, 1])

    def fit(self, X: Any = None, y: Any = None) -> FeatureRuleClassifier:
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        above = np.asarray(X, dtype=float)[:, self.feature] > self.threshold
        p1 = np.where(above, self.confidence, 1.0 - self.confidence)
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.predict_proba(X).argmax(axis=1))


def perturbation_rows(
    X: np.ndarray, n: int, rng: np.random.Generator, *, noise: float = 0.3
) -> np.ndarray:
    """Rows like those LIME and KernelSHAP query: three equal parts.

    (1) every feature drawn independently from its marginal (LIME's tabular sampling);
    (2) a real row with Gaussian noise of ``noise`` standard deviations (LIME without
    discretisation); (3) a real row with a random subset of features taken from another real
    row (a KernelSHAP coalition over a background row).
    """
    d = X.shape[1]
    parts = np.array_split(np.arange(n), 3)
    marginal = X[rng.integers(0, len(X), (len(parts[0]), d)), np.arange(d)]
    noisy = X[rng.integers(0, len(X), len(parts[1]))] + rng.normal(
        0.0, noise, (len(parts[1]), d)
    ) * X.std(axis=0)
    base = X[rng.integers(0, len(X), len(parts[2]))]
    donor = X[rng.integers(0, len(X), len(parts[2]))]
    swap = rng.random((len(parts[2]), d)) < rng.random((len(parts[2]), 1))
    mixed = np.where(swap, donor, base)
    return np.vstack([marginal, noisy, mixed])


class ScaffoldedClassifier:
    """Slack et al. (2020): biased on real rows, innocuous on explainers' perturbations.

    ``fit(X)`` trains a random-forest out-of-distribution detector to tell the real rows ``X``
    from :func:`perturbation_rows`; ``predict_proba`` routes each row to ``biased`` when the
    detector thinks it is real and to ``innocuous`` otherwise. Real predictions therefore follow
    the biased model, while LIME and KernelSHAP mostly see the innocuous one.
    """

    def __init__(
        self,
        biased: Any,
        innocuous: Any,
        *,
        perturbations_per_row: int = 2,
        n_estimators: int = 100,
        random_state: int | None = None,
    ) -> None:
        self.biased = biased
        self.innocuous = innocuous
        self.perturbations_per_row = perturbations_per_row
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> ScaffoldedClassifier:
        X = np.asarray(X, dtype=float)
        rng = make_rng(self.random_state)
        fake = perturbation_rows(X, self.perturbations_per_row * len(X), rng)
        self.detector_ = RandomForestClassifier(
            n_estimators=self.n_estimators, min_samples_leaf=2,
            random_state=int(rng.integers(2**31)),
        ).fit(np.vstack([X, fake]), np.r_[np.ones(len(X)), np.zeros(len(fake))])
        self.classes_ = np.asarray(self.biased.classes_)
        return self

    def looks_real(self, X: Any) -> np.ndarray:
        """Whether the detector takes each row for real data (and so uses the biased model)."""
        return np.asarray(self.detector_.predict_proba(np.asarray(X, dtype=float))[:, 1] >= 0.5)

    def predict_proba(self, X: Any) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        real = self.looks_real(X)
        return np.where(real[:, None], self.biased.predict_proba(X),
                        self.innocuous.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])
