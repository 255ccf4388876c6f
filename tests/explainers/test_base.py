"""The shared shape: registry, provenance, predicted-class targets, reproducible JSON, payloads."""

from __future__ import annotations

import json
from typing import get_type_hints

import numpy as np
import pytest

from explainers import Explanation, available_methods, explain
from explainers.payloads import AttributionContent, FeatureAttribution, RuleCondition, RuleContent
from tests.explainers.tabular_cases import people_gbm

TABULAR = ["lime", "kernel_shap", "tree_shap", "anchors", "random_attribution"]


def test_every_tabular_method_is_registered():
    assert set(TABULAR) | {"linear_shap"} <= set(available_methods())


@pytest.mark.parametrize("method", TABULAR)
def test_same_inputs_and_seed_give_the_same_json(method):
    c = people_gbm()
    x = c.X_test[4]
    first = explain(method, c.model, x, dataset=c.dataset, random_state=7)
    second = explain(method, c.model, list(x), dataset=c.dataset, random_state=7)
    assert first.to_json() == second.to_json()
    assert first.fingerprint == second.fingerprint
    assert Explanation.from_dict(json.loads(first.to_json())).to_json() == first.to_json()


@pytest.mark.parametrize("method", TABULAR)
def test_the_explanation_is_of_the_predicted_class_not_the_true_label(method):
    c = people_gbm()
    wrong = np.flatnonzero(c.model.predict(c.dataset.X) != c.dataset.y)
    x = c.dataset.X[wrong[0]]
    e = explain(method, c.model, x, dataset=c.dataset, random_state=0)
    predicted = int(c.model.predict([x])[0])
    assert e.target == predicted != c.dataset.y[wrong[0]]
    assert e.prediction == {
        "class_index": predicted,
        "class_name": c.dataset.class_names[predicted],
        "probability": pytest.approx(c.model.predict_proba([x])[0, predicted]),
    }


def test_provenance_records_method_parameters_seed_model_and_versions():
    c = people_gbm()
    e = explain("lime", c.model, c.X_test[0], dataset=c.dataset, random_state=3,
                num_samples=1000)
    p = e.provenance
    assert p.method == "lime" and p.random_state == 3
    assert p.params["num_samples"] == 1000 and "kernel_width" in p.params
    assert len(p.model_fingerprint) == 16
    assert {"numpy", "scikit-learn", "shap"} <= set(p.library_versions)


def test_payloads_have_exactly_the_documented_keys():
    c = people_gbm()
    x = c.X_test[0]
    attribution = explain("kernel_shap", c.model, x, dataset=c.dataset, random_state=0)
    rule = explain("anchors", c.model, x, dataset=c.dataset, random_state=0)
    assert set(attribution.content) == set(get_type_hints(AttributionContent))
    assert set(attribution.content["features"][0]) == set(get_type_hints(FeatureAttribution))
    assert set(rule.content) == set(get_type_hints(RuleContent))
    assert set(rule.content["conditions"][0]) == set(get_type_hints(RuleCondition))


def test_unknown_methods_and_bad_rows_are_refused():
    c = people_gbm()
    with pytest.raises(ValueError, match="unknown explanation method"):
        explain("nonsense", c.model, c.X_test[0], dataset=c.dataset)
    with pytest.raises(ValueError, match="NaN"):
        explain("lime", c.model, [np.nan] * 6, dataset=c.dataset)
