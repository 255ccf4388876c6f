"""The scaffolding attack as a study condition (Slack et al. 2020). Oracles: the training
labels' positive rate per group, computed by brute force, and the attack's own definition
(same answers as the biased model wherever its detector sees a real row)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.scenarios import load_scenario
from experiments.scenarios.attacks import group_rule, load_scaffolded, scaffolded_scenarios


def test_the_biased_rule_gives_the_positive_class_to_the_group_with_the_highest_rate():
    s = load_scenario("compas", model="gbm", random_state=0)
    j = s.dataset.feature_names.index("race")
    codes = np.unique(s.dataset.X[:, j])
    rates = {c: s.y_train[s.dataset.X[:, j] == c].mean() for c in codes}
    top = max(rates, key=rates.get)
    rule = group_rule(s.dataset, s.y_train, "race")
    assert s.dataset.features[j].categories[int(top)] == "African-American"
    predicted = rule.predict(s.X_test)
    np.testing.assert_array_equal(predicted, (s.X_test[:, j] == top).astype(int))


def test_a_numeric_feature_splits_at_the_median_towards_the_higher_rate():
    s = load_scenario("compas", model="gbm", random_state=0)
    j = s.dataset.feature_names.index("priors_count")
    median = np.median(s.dataset.X[:, j])
    above = s.dataset.X[:, j] > median
    rule = group_rule(s.dataset, s.y_train, "priors_count")
    high_is_positive = s.y_train[above].mean() >= s.y_train[~above].mean()
    expected = (s.X_test[:, j] > median) if high_is_positive else (s.X_test[:, j] <= median)
    np.testing.assert_array_equal(rule.predict(s.X_test), expected.astype(int))


def test_the_scaffolded_twin_answers_as_the_biased_ai_on_rows_its_detector_takes_for_real():
    biased, twin = load_scaffolded("compas", model="gbm", random_state=0,
                                   biased_feature="race", innocuous_feature="c_charge_degree")
    real = twin.model.looks_real(biased.X_test)
    assert real.sum() > 100  # enough items for a pool
    np.testing.assert_array_equal(twin.model.predict(biased.X_test[real]),
                                  biased.model.predict(biased.X_test[real]))
    assert biased.bug_details == twin.bug_details == {
        "kind": "scaffolding", "biased_feature": "race", "innocuous_feature": "c_charge_degree"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"biased_feature": "colour", "innocuous_feature": "sex"}, "unknown feature 'colour'"),
    ({"biased_feature": "race", "innocuous_feature": "race"}, "must differ"),
])
def test_bad_features_are_refused(kwargs, message):
    s = load_scenario("compas", model="gbm", random_state=0)
    with pytest.raises(ValueError, match=message):
        scaffolded_scenarios(s, **kwargs)


def test_only_table_classification_scenarios_can_be_scaffolded():
    with pytest.raises(ValueError, match="table classification"):
        scaffolded_scenarios(load_scenario("digits", random_state=0), biased_feature="a",
                             innocuous_feature="b")
