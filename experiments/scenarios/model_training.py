"""The models a scenario can be trained with, all plain scikit-learn and seeded.

* ``gbm`` is the bare :class:`~sklearn.ensemble.GradientBoostingClassifier` (or regressor) on the
  coded matrix, so ``shap.TreeExplainer`` takes it directly; trees need no one-hot encoding.
* ``logistic`` and ``mlp`` on tables are pipelines that one-hot encode the categorical codes and
  standardise the numbers internally: they still consume the same coded matrix as ``gbm``.
* On digits, ``mlp`` and ``logistic`` are bare estimators on the raw 0-16 pixels, so saliency
  methods can back-propagate through ``coefs_`` without a preprocessing step.
* ``linear`` (house prices) is a plain least-squares fit whose coefficients read as dollars per
  unit, the transparent model of the simulate-then-decide design.
* ``random_forest`` (researchers' own tables) is a bare seeded forest on the coded matrix.
* ``bow_logistic`` (text) is a binary bag-of-words pipeline that takes raw strings.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from experiments.scenarios.sources import Source

GBM_TREES = 100
GBM_DEPTH = 3
FOREST_TREES = 100
# Leaves of at least 3 rows keep the forest's probabilities from being all 0 or 1 (calibration).
FOREST_MIN_LEAF = 3


def _tabular_preprocessor(categorical: Sequence[int], numeric: Sequence[int]) -> ColumnTransformer:
    """One-hot for categorical codes, standardisation for numbers; output order fixed."""
    return ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(categorical)),
            ("numeric", StandardScaler(), list(numeric)),
        ],
        sparse_threshold=0.0,
    )


def make_model(source: Source, model: str, *, random_state: int) -> Any:
    """An unfitted estimator of the requested kind for this scenario."""
    if model not in source.models:
        raise ValueError(
            f"model {model!r} is not offered for scenario {source.name!r}; "
            f"choose from {list(source.models)}"
        )
    if source.modality == "text":
        return Pipeline(
            [
                # Tokens keep @handles and #hashtags: they carry sentiment and planted artifacts.
                (
                    "bag_of_words",
                    CountVectorizer(binary=True, min_df=2, token_pattern=r"(?u)[@#]?\b\w\w+\b"),
                ),
                ("classifier", LogisticRegression(C=1.0, max_iter=2000)),
            ]
        )
    if model == "random_forest":
        forest = RandomForestRegressor if source.task == "regression" else RandomForestClassifier
        return forest(n_estimators=FOREST_TREES, min_samples_leaf=FOREST_MIN_LEAF, n_jobs=1,
                      random_state=random_state)
    if source.task == "regression" and model == "mlp":
        network = make_pipeline(_tabular_preprocessor(*_kinds(source)), MLPRegressor(
            hidden_layer_sizes=(32,), max_iter=500, early_stopping=True,
            random_state=random_state))
        # Targets in the thousands (prices) would swamp the network's initial scale.
        return TransformedTargetRegressor(regressor=network, transformer=StandardScaler())
    if source.task == "regression":
        if model == "linear":
            return LinearRegression()
        return GradientBoostingRegressor(
            n_estimators=GBM_TREES, max_depth=GBM_DEPTH, random_state=random_state
        )
    if model == "gbm":
        return GradientBoostingClassifier(
            n_estimators=GBM_TREES, max_depth=GBM_DEPTH, random_state=random_state
        )
    if source.modality == "image":
        if model == "mlp":
            return MLPClassifier(hidden_layer_sizes=(64,), max_iter=400, random_state=random_state)
        # Strong regularisation: raw 0-16 pixels make the default C converge slowly.
        return LogisticRegression(C=0.01, max_iter=2000)
    categorical, numeric = _kinds(source)
    if model == "mlp":
        estimator: Any = MLPClassifier(
            hidden_layer_sizes=(32,), max_iter=300, early_stopping=True, random_state=random_state
        )
    else:
        estimator = LogisticRegression(max_iter=2000)
    return make_pipeline(_tabular_preprocessor(categorical, numeric), estimator)


def _kinds(source: Source) -> tuple[list[int], list[int]]:
    """Positions of the categorical and of the numeric columns."""
    categorical = [i for i, f in enumerate(source.features) if f.kind == "categorical"]
    numeric = [i for i, f in enumerate(source.features) if f.kind == "numeric"]
    return categorical, numeric


def fit_model(source: Source, model: str, *, random_state: int) -> Any:
    """Fit the requested model on the source's training data (deterministic given the seed)."""
    estimator = make_model(source, model, random_state=random_state)
    with warnings.catch_warnings():
        # The iteration caps bound training time on purpose; on noisy (bugged) labels the MLP
        # stops before full convergence, which is expected and harmless here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(source.X_train, source.y_train)
