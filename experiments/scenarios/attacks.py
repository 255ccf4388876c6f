"""The scaffolding attack of Slack et al. (2020, "Fooling LIME and SHAP") as a study condition.

``scaffolded_scenarios(scenario, biased_feature=..., innocuous_feature=...)`` gives two views of
one AI: the *biased* model, which decides by the sensitive feature alone (Slack et al.'s f: the
group with the highest rate of the positive class in the training data gets the positive class),
and the *scaffolded* model (:class:`explainers.control_models.ScaffoldedClassifier`), which
gives the same answers on real rows but answers by the innocuous feature on the off-manifold
rows LIME and KernelSHAP query. Participants see the biased model's predictions in every
condition; an honest condition explains the biased model, an attacked one the scaffolded model,
whose LIME and SHAP explanations point at the innocuous feature and hide the bias.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import numpy as np

from experiments.scenarios.scenario import Scenario, load_scenario
from explainers.base import TabularDataset
from explainers.control_models import ScaffoldedClassifier

# The explanation methods the attack is aimed at (they query off-manifold perturbations), and the
# model-agnostic methods that can explain the biased rule itself (tree or gradient methods need a
# model of their kind).
ATTACKED_METHODS = frozenset({"lime", "kernel_shap"})
AGNOSTIC_METHODS = frozenset({"lime", "kernel_shap", "anchors", "random_attribution"})
SCAFFOLDED = "scaffolded"
RULE_CONFIDENCE = 0.95


class GroupRuleClassifier:
    """Predicts the positive class (1) with probability ``confidence`` exactly for rows whose
    ``feature`` lies in ``[low, high]`` (one category: low == high == its code)."""

    def __init__(self, feature: int, *, low: float, high: float,
                 confidence: float = RULE_CONFIDENCE) -> None:
        self.feature, self.low, self.high, self.confidence = feature, low, high, confidence
        self.classes_ = np.array([0, 1])

    def fit(self, X: Any = None, y: Any = None) -> GroupRuleClassifier:
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        column = np.atleast_2d(np.asarray(X, dtype=float))[:, self.feature]
        inside = (column >= self.low) & (column <= self.high)
        p1 = np.where(inside, self.confidence, 1.0 - self.confidence)
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.predict_proba(X).argmax(axis=1))


def group_rule(dataset: TabularDataset, y: np.ndarray, column: str) -> GroupRuleClassifier:
    """The one-feature rule that gives the positive class to the group with the highest rate of
    it in ``y``: one category, or the values above (or below) the median."""
    names = dataset.feature_names
    if column not in names:
        raise ValueError(f"unknown feature {column!r}; expected one of {', '.join(names)}")
    j = names.index(column)
    values, y = np.asarray(dataset.X[:, j], dtype=float), np.asarray(y)
    if dataset.features[j].kind == "categorical":
        codes = np.unique(values)
        top = max(codes, key=lambda c: (float(y[values == c].mean()), -c))
        return GroupRuleClassifier(j, low=float(top), high=float(top))
    median = float(np.median(values))
    above = values > median
    if above.any() and y[above].mean() >= y[~above].mean():
        return GroupRuleClassifier(j, low=np.nextafter(median, np.inf), high=np.inf)
    return GroupRuleClassifier(j, low=-np.inf, high=median)


def scaffolded_scenarios(scenario: Scenario, *, biased_feature: str,
                         innocuous_feature: str) -> tuple[Scenario, Scenario]:
    """(biased, scaffolded): the same data with the two models described in the module."""
    if not isinstance(scenario.dataset, TabularDataset) or scenario.task != "classification":
        raise ValueError("the scaffolding attack needs a table classification scenario")
    if len(scenario.class_names) != 2:
        raise ValueError("the scaffolding attack needs two classes")
    if biased_feature == innocuous_feature:
        raise ValueError("the innocuous feature must differ from the biased one")
    dataset = scenario.dataset
    biased = group_rule(dataset, scenario.y_train, biased_feature)
    innocuous = group_rule(dataset, scenario.y_train, innocuous_feature)
    attacked = ScaffoldedClassifier(biased, innocuous, random_state=scenario.random_state)
    attacked.fit(scenario.X_train)
    details = {"kind": "scaffolding", "biased_feature": biased_feature,
               "innocuous_feature": innocuous_feature}
    return (dataclasses.replace(scenario, model=biased, model_name="biased_rule",
                                bug_details=details),
            dataclasses.replace(scenario, model=attacked, model_name=SCAFFOLDED,
                                bug_details=details))


@lru_cache(maxsize=8)  # the detector takes a few seconds to fit; pools ask more than once
def load_scaffolded(name: str, *, model: str, random_state: int, biased_feature: str,
                    innocuous_feature: str) -> tuple[Scenario, Scenario]:
    """:func:`scaffolded_scenarios` of a bundled scenario (cached per process)."""
    base = load_scenario(name, model=model, random_state=random_state)
    return scaffolded_scenarios(base, biased_feature=biased_feature,
                                innocuous_feature=innocuous_feature)
