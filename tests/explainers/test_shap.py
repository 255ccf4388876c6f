"""SHAP methods against independent oracles: brute-force Shapley values, shap's own
LinearExplainer, the linear closed form, and exact TreeSHAP for KernelSHAP."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pytest
import shap
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from experiments.scenarios import load_scenario
from explainers import TabularDataset, explain
from explainers._common import attribution_vector, log_odds
from tests.explainers.tabular_cases import (
    breast_cancer_forest_20,
    breast_cancer_gbm,
    people_forest,
    people_gbm,
    people_logistic,
)


def small_background(dataset: TabularDataset, n: int) -> TabularDataset:
    """The same features with only ``n`` background rows, so every method uses all of them."""
    return TabularDataset(dataset.X[:n], dataset.features, dataset.class_names)


def native_output(model, target):
    """The output TreeSHAP is exact in: the boosting margin (log-odds) or the probability."""
    if hasattr(model, "decision_function"):
        sign = 1.0 if target == 1 else -1.0
        return lambda X: sign * model.decision_function(X)
    return lambda X: model.predict_proba(X)[:, target]


def brute_force_shapley(output, x, background):
    """Exact Shapley values of v(S) = mean_b f(x_S, b_rest) by enumerating all coalitions."""
    d = len(x)
    coalitions = [frozenset(c) for k in range(d + 1) for c in combinations(range(d), k)]
    rows = []
    for coalition in coalitions:
        mixed = background.copy()
        mixed[:, list(coalition)] = x[list(coalition)]
        rows.append(mixed)
    p = output(np.vstack(rows)).reshape(len(coalitions), -1).mean(axis=1)
    value = dict(zip(coalitions, p, strict=True))
    phi = np.zeros(d)
    for coalition in coalitions[:-1]:  # the full coalition has no feature left to add
        weight = factorial(len(coalition)) * factorial(d - len(coalition) - 1) / factorial(d)
        for j in set(range(d)) - coalition:
            phi[j] += weight * (value[coalition | {j}] - value[coalition])
    return phi, value[frozenset()]


@pytest.mark.parametrize("case", [people_gbm, breast_cancer_gbm, people_forest])
def test_tree_shap_matches_brute_force_shapley_values_over_the_same_background(case):
    # Oracle: our own exponential enumeration of the interventional value function. 150
    # background rows: more than the 100 that shap silently subsamples to by default.
    c = case()
    data = small_background(c.dataset, 150)
    for x in c.X_test[:3]:
        e = explain("tree_shap", c.model, x, dataset=data, random_state=0, background_size=150)
        phi, base = brute_force_shapley(native_output(c.model, e.target), x, data.X)
        np.testing.assert_allclose(attribution_vector(e), phi, atol=1e-6)
        assert e.content["base_value"] == pytest.approx(base, abs=1e-6)


def test_kernel_shap_agrees_with_exact_tree_shap_on_the_same_background():
    # Oracle: exact interventional TreeSHAP on identical background rows. With 20 features
    # KernelSHAP cannot enumerate the 2^20 coalitions and has to sample (2*20 + 2048).
    c = breast_cancer_forest_20()
    data = small_background(c.dataset, 30)
    errors = []
    for x in c.X_test[:3]:
        exact = explain("tree_shap", c.model, x, dataset=data, random_state=0)
        approx = explain("kernel_shap", c.model, x, dataset=data, random_state=0)
        assert exact.content["output_space"] == approx.content["output_space"] == "probability"
        errors.append(np.abs(attribution_vector(exact) - attribution_vector(approx)).mean())
    assert np.mean(errors) < 0.01


def test_kernel_shap_in_log_odds_agrees_with_tree_shap_on_a_boosted_model():
    # Oracle: exact TreeSHAP in the boosting margin; 6 features, so KernelSHAP enumerates.
    c = people_gbm()
    data = small_background(c.dataset, 30)
    for x in c.X_test[:3]:
        exact = explain("tree_shap", c.model, x, dataset=data, random_state=0)
        approx = explain("kernel_shap", c.model, x, dataset=data, random_state=0,
                         output_space="log-odds")
        assert exact.content["output_space"] == "log-odds"
        np.testing.assert_allclose(attribution_vector(approx), attribution_vector(exact),
                                   atol=1e-4)


def test_kernel_shap_keeps_every_feature_instead_of_l1_zeroing():
    # Oracle: the brute-force values, none of which is zero here; shap's default l1_reg
    # would keep only 10 of these 10+ features non-zero only by luck.
    c = breast_cancer_gbm()
    data = small_background(c.dataset, 30)
    x = c.X_test[0]
    e = explain("kernel_shap", c.model, x, dataset=data, random_state=0)
    phi, _ = brute_force_shapley(lambda X: c.model.predict_proba(X)[:, e.target], x, data.X)
    assert np.all(phi != 0)
    np.testing.assert_allclose(attribution_vector(e), phi, atol=1e-6)


def test_tree_shap_on_boosting_adds_up_to_the_models_logit_and_refuses_probability():
    # Oracle: efficiency against the model's own probability turned into log-odds.
    c = people_gbm()
    for x in c.X_test[:4]:
        e = explain("tree_shap", c.model, x, dataset=c.dataset, random_state=0)
        total = e.content["base_value"] + attribution_vector(e).sum()
        assert total == pytest.approx(float(log_odds(e.prediction["probability"])), abs=1e-5)
        assert e.content["output_space"] == "log-odds"
    with pytest.raises(ValueError, match="exact in this model's own output space"):
        explain("tree_shap", c.model, c.X_test[0], dataset=c.dataset, output_space="probability")


def test_shap_methods_explain_the_predicted_class_even_when_it_is_class_zero():
    c = people_gbm()
    rows = [x for x in c.X_test if c.model.predict([x])[0] == 0][:2]
    assert rows
    for x in rows:
        p0 = c.model.predict_proba([x])[0, 0]
        for method in ("tree_shap", "kernel_shap"):
            e = explain(method, c.model, x, dataset=c.dataset, random_state=0)
            assert e.target == 0
            total = e.content["base_value"] + attribution_vector(e).sum()
            expected = p0 if e.content["output_space"] == "probability" else log_odds(p0)
            assert total == pytest.approx(float(expected), abs=1e-6)


def test_linear_shap_equals_the_closed_form_and_shaps_linear_explainer():
    # Oracles: w * (x - mean) in log-odds; shap.LinearExplainer with an independent masker.
    c = people_logistic()
    model, X = c.model, c.dataset.X
    reference = shap.LinearExplainer(model, shap.maskers.Independent(X, max_samples=len(X)))
    for x in c.X_test[:4]:
        e = explain("linear_shap", model, x, dataset=c.dataset)
        sign = 1.0 if e.target == 1 else -1.0
        closed = sign * model.coef_[0] * (x - X.mean(axis=0))
        np.testing.assert_allclose(attribution_vector(e), closed, atol=1e-9)
        from_shap = sign * np.asarray(reference.shap_values(x[None, :])).reshape(-1)
        np.testing.assert_allclose(attribution_vector(e), from_shap, atol=1e-6)


def test_linear_shap_reads_through_a_scaling_pipeline_and_refuses_trees():
    c = people_logistic()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    pipe.fit(c.dataset.X, c.dataset.y)
    x = c.X_test[0]
    e = explain("linear_shap", pipe, x, dataset=c.dataset)
    total = e.content["base_value"] + attribution_vector(e).sum()
    assert total == pytest.approx(float(log_odds(e.prediction["probability"])), abs=1e-6)
    with pytest.raises(ValueError, match=r"decision_function"):
        explain("linear_shap", people_forest().model, x, dataset=c.dataset)


@pytest.mark.parametrize(
    ("name", "features"),
    [
        ("adult", None),  # all 12 features: 4096 coalitions
        ("german_credit", ("status", "duration", "credit_history", "purpose", "credit_amount",
                           "savings", "age", "housing")),
    ],
)
def test_linear_shap_is_exact_on_the_bundled_one_hot_logistic_pipelines(name, features):
    # Oracle: brute-force Shapley values of the pipeline's own decision function over the same
    # background. The pipeline one-hot encodes with handle_unknown="ignore", so the old
    # shortcut through f(column means) met a mean category code as an unknown category and
    # was up to 0.46 log-odds off here.
    s = load_scenario(name, model="logistic", features=features)
    data = small_background(s.dataset, 20)
    for x in s.X_test[:3]:
        e = explain("linear_shap", s.model, x, dataset=data)
        sign = 1.0 if e.target == 1 else -1.0
        phi, base = brute_force_shapley(lambda X, k=sign: k * s.model.decision_function(X),
                                        x, data.X)
        np.testing.assert_allclose(attribution_vector(e), phi, atol=1e-9)
        assert e.content["base_value"] == pytest.approx(base, abs=1e-9)


def test_linear_shap_refuses_a_model_with_interactions_even_with_a_decision_function():
    # Oracle: boosted trees of depth 3 interact; the Shapley values of such a model are not
    # a sum of one-feature effects, so no exact closed form exists.
    c = people_gbm()
    with pytest.raises(ValueError, match="not additive"):
        explain("linear_shap", c.model, c.X_test[0], dataset=c.dataset)


def test_tree_shap_is_exact_for_histogram_gradient_boosting():
    # Oracle: brute-force Shapley values of the booster's own log-odds (decision_function).
    c = people_gbm()
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0)
    model.fit(c.dataset.X, c.dataset.y)
    data = small_background(c.dataset, 40)
    for x in c.X_test[:3]:
        e = explain("tree_shap", model, x, dataset=data, random_state=0)
        phi, base = brute_force_shapley(native_output(model, e.target), x, data.X)
        assert e.content["output_space"] == "log-odds"
        np.testing.assert_allclose(attribution_vector(e), phi, atol=1e-6)
        assert e.content["base_value"] == pytest.approx(base, abs=1e-6)


def test_tree_shap_refuses_boosting_it_would_misread_and_says_why():
    c = people_gbm()
    X, y = c.dataset.X, c.dataset.y
    categorical = HistGradientBoostingClassifier(max_iter=20, categorical_features=[2, 3],
                                                 random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="categorical splits"):
        explain("tree_shap", categorical, c.X_test[0], dataset=c.dataset)
    three = np.digitize(X[:, 0], [35, 55])  # three classes
    data = TabularDataset(X, c.dataset.features, ("young", "middle", "old"), y=three)
    for model in (HistGradientBoostingClassifier(max_iter=10, random_state=0),
                  GradientBoostingClassifier(n_estimators=10, random_state=0)):
        model.fit(X, three)
        with pytest.raises(ValueError, match="binary boosting only"):
            explain("tree_shap", model, c.X_test[0], dataset=data)


@pytest.mark.parametrize(("case", "space"), [(people_gbm, "log-odds"),
                                             (people_forest, "probability")])
def test_mean_abs_shap_of_trees_is_the_mean_of_exact_shapley_values(case, space):
    # Oracle: brute-force Shapley values in the trees' own output space, for the rows and
    # background the method draws from its seed. shap's probability output for boosting
    # rescales log-odds values and was up to 0.008 off per feature here.
    c = case()
    x = c.X_test[0]
    e = explain("mean_abs_shap", c.model, x, dataset=c.dataset, random_state=0,
                n_rows=10, n_background=20)
    assert e.content["shap_explainer"] == "tree"
    assert e.content["output_space"] == space
    rng = np.random.default_rng(0)  # the same draws as the method makes
    X = c.dataset.X
    background = X[rng.choice(len(X), size=20, replace=False)]
    sample = X[rng.choice(len(X), size=10, replace=False)]
    output = native_output(c.model, e.target)
    phis = np.array([brute_force_shapley(output, row, background)[0] for row in sample])
    got = {item["feature"]: item["value"] for item in e.content["importances"]}
    np.testing.assert_allclose([got[f.name] for f in c.dataset.features],
                               np.abs(phis).mean(axis=0), atol=1e-6)


def test_our_kernel_estimator_is_exact_when_it_can_enumerate_every_coalition():
    # Oracle: the brute-force Shapley values (6 features: 62 coalitions fit the budget).
    c = people_forest()
    data = small_background(c.dataset, 30)
    for x in c.X_test[:2]:
        e = explain("kernel_shap", c.model, x, dataset=data, random_state=0, engine="own")
        phi, base = brute_force_shapley(lambda X, t=e.target: c.model.predict_proba(X)[:, t],
                                        x, data.X)
        np.testing.assert_allclose(attribution_vector(e), phi, atol=1e-9)
        assert e.content["base_value"] == pytest.approx(base)


def test_our_kernel_estimator_agrees_with_exact_tree_shap_when_it_has_to_sample():
    # Oracle: exact TreeSHAP; 20 features, 1024 coalitions out of about a million.
    c = breast_cancer_forest_20()
    data = small_background(c.dataset, 30)
    errors = []
    for x in c.X_test[:3]:
        exact = attribution_vector(explain("tree_shap", c.model, x, dataset=data))
        ours = explain("kernel_shap", c.model, x, dataset=data, random_state=0, engine="own",
                       nsamples=1024)
        errors.append(np.abs(attribution_vector(ours) - exact).mean())
    assert np.mean(errors) < 0.01
