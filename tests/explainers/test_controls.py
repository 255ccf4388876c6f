"""Control conditions: the placebo explanation, randomised-weights models, scaffolding attack."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tabular_cases import people_forest, people_gbm, people_logistic

from explainers import Feature, TabularDataset, explain
from explainers._common import attribution_vector
from explainers.models import FeatureRuleClassifier, ScaffoldedClassifier, randomise_weights


def test_the_placebo_is_seeded_and_has_the_scale_of_the_prediction_gap():
    c = people_gbm()
    x = c.X_test[0]
    a = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=1)
    b = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=1)
    other = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=2)
    assert a.to_json() == b.to_json()
    assert not np.allclose(attribution_vector(a), attribution_vector(other))
    gap = abs(a.content["output_value"] - a.content["base_value"])
    assert np.abs(attribution_vector(a)).sum() == pytest.approx(max(gap, 0.02))
    assert a.content["output_value"] == pytest.approx(a.prediction["probability"])


def test_the_placebo_can_shuffle_a_real_explanations_values():
    c = people_gbm()
    x = c.X_test[0]
    real = attribution_vector(explain("kernel_shap", c.model, x, dataset=c.dataset,
                                      random_state=0))
    placebo = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=0,
                      reference=real.tolist())
    assert sorted(np.abs(attribution_vector(placebo))) == pytest.approx(sorted(np.abs(real)))
    assert placebo.provenance.params["reference"] == pytest.approx(real.tolist())


def scaled_mlp():
    c = people_gbm()
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0)
    return make_pipeline(StandardScaler(), mlp).fit(c.dataset.X, c.dataset.y)


@pytest.mark.parametrize("kind", ["gbm", "forest", "logistic", "mlp", "hist"])
def test_randomised_weights_change_predictions_but_not_the_original(kind):
    c = people_gbm()
    X = c.dataset.X
    model = {
        "gbm": lambda: c.model,
        "forest": lambda: people_forest().model,
        "logistic": lambda: people_logistic().model,
        "mlp": scaled_mlp,
        "hist": lambda: HistGradientBoostingClassifier(max_iter=10).fit(X, c.dataset.y),
    }[kind]()
    before = model.predict_proba(X)
    scrambled = randomise_weights(model, random_state=0, background=X)
    again = randomise_weights(model, random_state=0, background=X)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    np.testing.assert_array_equal(scrambled.predict_proba(X), again.predict_proba(X))
    agreement = np.mean(scrambled.predict(X) == c.dataset.y)
    assert agreement < np.mean(model.predict(X) == c.dataset.y) - 0.1


def scaffold_data(n, seed):
    """Correlated features (so perturbations are off the data manifold), a binary group
    correlated with them, and an unrelated column for the innocuous model."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    related = z[:, None] + 0.3 * rng.normal(size=(n, 4))
    group = (z + 0.3 * rng.normal(size=n) > 0).astype(float)
    unrelated = rng.normal(size=n)
    return np.column_stack([related, group, unrelated])


@pytest.fixture(scope="module")
def scaffold():
    X = scaffold_data(2000, seed=0)
    features = (*(Feature(f"score_{i}") for i in range(4)),
                Feature("group", kind="categorical", categories=("A", "B")), Feature("noise"))
    data = TabularDataset(X, features, class_names=("deny", "grant"))
    biased = FeatureRuleClassifier(4)
    innocuous = FeatureRuleClassifier(5, threshold=0.0)
    return data, biased, ScaffoldedClassifier(biased, innocuous, random_state=0).fit(X)


def test_the_scaffolded_model_really_decides_by_the_sensitive_feature(scaffold):
    # Oracle: the biased model's decisions on new real rows, and flipping the group.
    _, biased, attacked = scaffold
    X_new = scaffold_data(400, seed=1)
    assert np.mean(attacked.predict(X_new) == biased.predict(X_new)) > 0.85
    flipped = X_new.copy()
    flipped[:, 4] = 1 - flipped[:, 4]
    real = attacked.looks_real(X_new) & attacked.looks_real(flipped)
    assert np.mean(attacked.predict(X_new[real]) != attacked.predict(flipped[real])) > 0.95


@pytest.mark.parametrize("method", ["lime", "kernel_shap"])
def test_lime_and_shap_stop_ranking_the_sensitive_feature_first_under_the_attack(
    scaffold, method
):
    data, biased, attacked = scaffold
    rows = scaffold_data(12, seed=2)

    def top_feature(model, x):
        phi = attribution_vector(explain(method, model, x, dataset=data, random_state=0))
        return int(np.argmax(np.abs(phi)))

    honest = [top_feature(biased, x) for x in rows]
    hidden = [top_feature(attacked, x) for x in rows]
    assert all(t == 4 for t in honest)
    assert np.mean([t == 4 for t in hidden]) <= 0.25
