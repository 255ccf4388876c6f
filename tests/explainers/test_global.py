"""Global explanations: distilled rules, mean |SHAP| importance, counterfactual summaries.

Oracles: evaluating the returned rules' conditions directly on the data (partition and
agreement), the closed form of interventional SHAP for a linear function
(phi_j = w_j (x_j - mean_j)), the dummy axiom (a feature a tree never splits on gets zero), and
the feature constraints themselves for the summary.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from explainers import Feature, TabularDataset, explain


@pytest.fixture(scope="module")
def data() -> TabularDataset:
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.uniform(0, 10, 400),
            rng.normal(50, 10, 400),
            rng.integers(0, 3, 400),
            rng.normal(size=400),
        ]
    )
    y = ((X[:, 0] > 5) & (X[:, 2] != 1)).astype(int)
    features = (
        Feature("hours", unit="h"),
        Feature("age", integer=True, immutable=True),
        Feature("plan", kind="categorical", categories=("basic", "pro", "team")),
        Feature("noise", direction="increase"),
    )
    return TabularDataset(X, features, ("no", "yes"), y)


def _holds(condition, value):
    if condition["op"] == "<=":
        return value <= condition["threshold"]
    return value > condition["threshold"]


def test_distilled_rules_of_a_small_tree_partition_the_data_and_reproduce_the_model(data):
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(data.X, data.y)
    e = explain("distilled_tree", model, data.X[0], dataset=data, random_state=0, max_depth=3)
    assert e.metrics["fidelity"] == 1.0
    predicted = model.predict(data.X)
    names = [f.name for f in data.features]
    covered = np.zeros(len(data.X), dtype=int)
    for rule in e.content["rules"]:
        mask = np.ones(len(data.X), dtype=bool)
        for c in rule["conditions"]:
            mask &= _holds(c, data.X[:, names.index(c["feature"])])
        covered += mask
        assert np.all(predicted[mask] == rule["class_index"])
        holds_for_x = all(
            _holds(c, data.X[0, names.index(c["feature"])]) for c in rule["conditions"]
        )
        assert rule["covers_input"] == holds_for_x
    assert np.all(covered == 1)
    assert any("plan is" in r["text"] for r in e.content["rules"])
    e.to_json()


def test_mean_abs_shap_of_a_linear_function_matches_the_closed_form(data):
    w = np.array([0.02, -0.005, 0.0, 0.03])

    class LinearProbability:
        def predict_proba(self, X):
            p = 0.5 + np.atleast_2d(X) @ w / 40
            return np.column_stack([1 - p, p])

        def predict(self, X):
            return (self.predict_proba(X)[:, 1] > 0.5).astype(int)

    model = LinearProbability()
    x = np.array([9.0, 50.0, 0.0, 0.0])  # predicted class 1
    e = explain(
        "mean_abs_shap",
        model,
        x,
        dataset=data,
        random_state=0,
        n_rows=20,
        n_background=30,
        nsamples=200,
    )
    assert e.content["shap_explainer"] == "kernel"
    rng = np.random.default_rng(0)  # the same draws as the method makes
    background = data.X[rng.choice(len(data.X), size=30, replace=False)]
    sample = data.X[rng.choice(len(data.X), size=20, replace=False)]
    expected = np.abs(w / 40) * np.abs(sample - background.mean(axis=0)).mean(axis=0)
    got = {item["feature"]: item["value"] for item in e.content["importances"]}
    np.testing.assert_allclose([got[f.name] for f in data.features], expected, atol=1e-6)


def test_mean_abs_shap_gives_zero_to_features_a_tree_never_uses(data):
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data.X, data.y)
    used = set(model.tree_.feature[model.tree_.feature >= 0])
    e = explain("mean_abs_shap", model, data.X[1], dataset=data, random_state=0, n_rows=40)
    assert e.content["shap_explainer"] == "tree"
    for j, f in enumerate(data.features):
        value = next(i["value"] for i in e.content["importances"] if i["feature"] == f.name)
        assert (value == 0.0) == (j not in used)
    assert e.content["importances"][0]["feature"] in {"hours", "plan"}


def test_counterfactual_summary_counts_only_feasible_changes(data):
    model = LogisticRegression(max_iter=1000).fit(data.X, data.y)
    denied = data.X[model.predict(data.X) == 0][0]
    e = explain("counterfactual_summary", model, denied, dataset=data, random_state=0, n_rows=15)
    changes = {c["feature"]: c for c in e.content["feature_changes"]}
    assert e.content["group_class"] == 0 and e.content["group_size"] == 15
    assert "age" not in changes  # immutable
    if "noise" in changes:
        assert changes["noise"]["median_change"] >= 0  # may only increase
    assert all(0 < c["share_changed"] <= 1 for c in changes.values())
    assert e.metrics["recourse_rate"] > 0.5
    assert sum(c["share_changed"] for c in changes.values()) >= 1 - 1e-12


def test_kernel_mean_abs_shap_is_reproducible_from_its_seed(data):
    model = LogisticRegression(max_iter=1000).fit(data.X, data.y)
    runs = [
        explain(
            "mean_abs_shap",
            model,
            data.X[0],
            dataset=data,
            random_state=7,
            n_rows=4,
            n_background=10,
            nsamples=8,  # fewer than the 14 coalitions: sampled, so the seed matters
        )
        for _ in range(2)
    ]
    assert runs[0].content["shap_explainer"] == "kernel"
    assert runs[0].fingerprint == runs[1].fingerprint
