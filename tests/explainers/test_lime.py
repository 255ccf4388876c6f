"""LIME against oracles: a model whose local linear form is known, and the `lime` package."""

from __future__ import annotations

import numpy as np
import pytest
from lime.lime_tabular import LimeTabularExplainer
from scipy.stats import spearmanr

from explainers import Feature, TabularDataset, explain
from explainers._common import attribution_vector
from tests.explainers.tabular_cases import people_gbm

WEIGHTS = np.array([0.005, -0.002, 0.0005, 0.0])
SCALES = np.array([10.0, 20.0, 40.0, 5.0])


class LinearProbabilityModel:
    """P(class 1) = 0.5 + w . (x - mean): linear, so its local slopes are known exactly."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p1 = 0.5 + (np.asarray(X) - 50.0) @ WEIGHTS
        return np.column_stack([1 - p1, p1])

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


@pytest.fixture(scope="module")
def linear_case():
    rng = np.random.default_rng(0)
    X = 50.0 + rng.standard_normal((3000, 4)) * SCALES
    features = tuple(Feature(f"f{i}") for i in range(4))
    return TabularDataset(X, features, class_names=("no", "yes")), LinearProbabilityModel()


def test_continuous_lime_recovers_coefficient_times_scale_on_a_linear_model(linear_case):
    # Oracle: the model's own weights; a linear function is fitted exactly by any local
    # weighted regression, so the standardised coefficients are w_j * std_j.
    data, model = linear_case
    x = np.array([60.0, 30.0, 70.0, 50.0])
    e = explain("lime", model, x, dataset=data, random_state=0, discretize=False)
    z = (x - data.X.mean(axis=0)) / data.X.std(axis=0)
    sign = 1.0 if e.target == 1 else -1.0
    np.testing.assert_allclose(attribution_vector(e) / z, sign * WEIGHTS * data.X.std(axis=0),
                               atol=2e-4)
    assert e.metrics["lime_r2"] > 0.99


def test_quartile_lime_on_a_linear_model_gets_signs_and_ranking_right(linear_case):
    # Oracle: with x in the top quartile of every feature, "in x's quartile" moves the
    # probability by about w_j * (a constant times std_j); the rank follows |w_j| * std_j.
    data, model = linear_case
    x = np.percentile(data.X, 90, axis=0)
    e = explain("lime", model, x, dataset=data, random_state=0)
    phi = attribution_vector(e)
    expected = WEIGHTS * SCALES
    assert e.target == 1
    assert np.all(np.sign(phi[:3]) == np.sign(expected[:3]))
    assert abs(phi[3]) < 0.01
    assert list(np.argsort(-np.abs(phi))) == list(np.argsort(-np.abs(expected), kind="stable"))


def test_lime_top_features_are_stable_across_seeds():
    c = people_gbm()
    x = c.X_test[0]
    tops = [set(np.argsort(-np.abs(attribution_vector(
        explain("lime", c.model, x, dataset=c.dataset, random_state=seed))))[:3])
        for seed in range(5)]
    assert all(t == tops[0] for t in tops)


def test_lime_agrees_with_the_lime_package_on_a_boosted_model():
    # Oracle: lime 0.2.0.1 with the same choices (quartiles, width 0.75 sqrt(d), ridge, all
    # features). Independent implementations, different random draws: rankings must agree.
    c = people_gbm()
    d = c.dataset.X.shape[1]
    reference = LimeTabularExplainer(
        c.dataset.X, categorical_features=c.dataset.categorical_indices,
        discretize_continuous=True, discretizer="quartile", random_state=0,
        kernel_width=0.75 * np.sqrt(d),
    )
    correlations = []
    for x in c.X_test[:4]:
        ours = explain("lime", c.model, x, dataset=c.dataset, random_state=0)
        theirs = reference.explain_instance(x, c.model.predict_proba, labels=(ours.target,),
                                            num_features=d, num_samples=5000)
        by_feature = dict(theirs.as_map()[ours.target])
        theirs_vector = np.array([by_feature[j] for j in range(d)])
        correlations.append(spearmanr(attribution_vector(ours), theirs_vector).statistic)
        assert np.corrcoef(attribution_vector(ours), theirs_vector)[0, 1] > 0.9
    assert np.mean(correlations) > 0.8


def test_lime_reports_local_fidelity_and_its_local_prediction():
    c = people_gbm()
    e = explain("lime", c.model, c.X_test[1], dataset=c.dataset, random_state=3)
    assert 0.0 < e.metrics["lime_r2"] <= 1.0
    total = e.content["base_value"] + attribution_vector(e).sum()
    assert total == pytest.approx(e.content["output_value"])
    assert e.content["output_space"] == "probability"
