"""Small data sets and fitted models shared by the explainer tests (cached per session)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from explainers.base import Feature, TabularDataset


@dataclass(frozen=True)
class Case:
    """A data set description, a fitted model and rows to explain."""

    dataset: TabularDataset
    model: object
    X_test: np.ndarray


def people_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Independent features: age, hours, education (3 categories), sex (2), noise (2 numeric).

    The label depends on age, hours and education only, so sex and the noise are irrelevant.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    # Values on a binary grid are exact in float32, which scikit-learn trees compare in.
    hours = np.round(rng.normal(40, 10, n) * 4) / 4
    education = rng.integers(0, 3, n).astype(float)
    sex = rng.integers(0, 2, n).astype(float)
    noise = np.round(rng.normal(0, 1, (n, 2)) * 64) / 64
    logit = 0.08 * (age - 45) + 0.1 * (hours - 40) + 1.2 * (education - 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.column_stack([age, hours, education, sex, noise]), y


PEOPLE_FEATURES = (
    Feature("age", label="Age", integer=True, unit="years"),
    Feature("hours", label="Hours per week"),
    Feature("education", kind="categorical", categories=("School", "College", "Degree"),
            label="Education"),
    Feature("sex", kind="categorical", categories=("Female", "Male"), label="Sex"),
    Feature("noise_a", label="Noise A"),
    Feature("noise_b", label="Noise B"),
)


@cache
def people_gbm() -> Case:
    X, y = people_data(1500, seed=1)
    X_test, _ = people_data(40, seed=2)
    dataset = TabularDataset(X, PEOPLE_FEATURES, class_names=("<=50K", ">50K"), y=y,
                             name="people")
    model = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0).fit(X, y)
    return Case(dataset, model, X_test)


@cache
def people_forest() -> Case:
    case = people_gbm()
    model = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0)
    model.fit(case.dataset.X, case.dataset.y)
    return Case(case.dataset, model, case.X_test)


@cache
def people_logistic() -> Case:
    case = people_gbm()
    model = LogisticRegression(max_iter=1000).fit(case.dataset.X, case.dataset.y)
    return Case(case.dataset, model, case.X_test)


def breast_cancer(n_features: int) -> tuple[TabularDataset, np.ndarray]:
    """The first ``n_features`` columns: the first 450 rows to train on, the rest to explain."""
    data = load_breast_cancer()
    # Rounded to float16 precision so that every value and split is exact in float32.
    X, y = data.data[:, :n_features].astype(np.float16).astype(float), data.target
    features = tuple(Feature(str(n)) for n in data.feature_names[:n_features])
    dataset = TabularDataset(X[:450], features, class_names=tuple(data.target_names), y=y[:450])
    return dataset, X[450:]


@cache
def breast_cancer_gbm() -> Case:
    dataset, X_test = breast_cancer(10)
    model = GradientBoostingClassifier(n_estimators=50, random_state=0).fit(dataset.X, dataset.y)
    return Case(dataset, model, X_test)


@cache
def breast_cancer_forest_20() -> Case:
    """20 features: too many for KernelSHAP to enumerate every coalition (it must sample)."""
    dataset, X_test = breast_cancer(20)
    model = RandomForestClassifier(n_estimators=30, max_depth=5, random_state=0)
    model.fit(dataset.X, dataset.y)
    return Case(dataset, model, X_test)
