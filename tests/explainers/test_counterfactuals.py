"""Counterfactuals and recourse on a small synthetic credit data set.

Oracles: the closed-form minimum MAD-weighted L1 change for a linear score (all of it on the
feature with the largest |w_j| * MAD_j: a unit of cost buys |w_j| * MAD_j of score there),
brute-force enumeration of the action grid, and ``model.predict`` on every returned row.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from explainers import Feature, TabularDataset, explain
from explainers.methods.counterfactuals import flip_test
from explainers.recourse import action_space, change_cost, greedy_search, mad_scale, total_cost
from explainers.recourse_milp import linear_model_of

FEATURES = (
    Feature("income", label="Income", unit="k$", direction="increase", lower=0),
    Feature("age", label="Age", integer=True, immutable=True),
    Feature("debt", label="Debt", unit="k$", direction="decrease", lower=0),
    Feature("loans", label="Open loans", integer=True, lower=0, upper=6),
    Feature("housing", kind="categorical", categories=("rent", "own", "free")),
)


@pytest.fixture(scope="module")
def credit() -> TabularDataset:
    rng = np.random.default_rng(0)
    n = 300
    X = np.column_stack(
        [
            rng.gamma(4, 10, n),
            rng.integers(18, 70, n),
            rng.gamma(2, 5, n),
            rng.integers(0, 7, n),
            rng.integers(0, 3, n),
        ]
    ).astype(float)
    score = 0.08 * X[:, 0] - 0.15 * X[:, 2] - 0.4 * X[:, 3] + 0.8 * (X[:, 4] == 1) - 1.0
    y = (score + rng.logistic(size=n) > 0).astype(int)
    return TabularDataset(X, FEATURES, ("denied", "approved"), y)


@pytest.fixture(scope="module")
def logistic(credit):
    return LogisticRegression(max_iter=2000).fit(credit.X, credit.y)


def _denied_row(model, data, near=True):
    proba = model.predict_proba(data.X)[:, 1]
    denied = np.flatnonzero(proba < 0.5)
    return data.X[denied[np.argmax(proba[denied])] if near else denied[0]]


def test_the_linear_structure_of_scaler_and_one_hot_pipelines_reproduces_decision_values(credit):
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(), [4]), ("scale", StandardScaler(), [0, 1, 2, 3])]
    )
    for model in (
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        make_pipeline(encode, LogisticRegression(max_iter=2000)),
    ):
        model.fit(credit.X, credit.y)
        linear = linear_model_of(model, credit)
        assert linear is not None
        np.testing.assert_allclose(
            linear.scores(credit.X)[:, 1] - linear.scores(credit.X)[:, 0],
            model.decision_function(credit.X),
            rtol=1e-9,
            atol=1e-9,
        )


def test_a_non_linear_model_has_no_linear_structure(credit):
    forest = RandomForestClassifier(10, random_state=0).fit(credit.X, credit.y)
    assert linear_model_of(forest, credit) is None
    squared = make_pipeline(FunctionTransformer(np.square), StandardScaler(), LogisticRegression())
    assert linear_model_of(squared.fit(credit.X, credit.y), credit) is None


def test_one_hot_recourse_by_integer_program_matches_brute_force(credit):
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(), [4]), ("scale", StandardScaler(), [0, 1, 2, 3])]
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(credit.X, credit.y)
    x = _denied_row(model, credit)
    e = explain("recourse", model, x, dataset=credit, grid_size=5)
    assert e.content["solver"] == "milp"
    assert e.content["counterfactuals"][0]["cost"] == pytest.approx(
        _brute_force_cost(model, credit, x, grid_size=5), abs=1e-9
    )


def test_the_lp_counterfactual_equals_the_closed_form_minimum_mad_l1_change(credit):
    # Numeric, unconstrained features only, so the closed form applies exactly.
    free = TabularDataset(
        credit.X[:, [0, 2]], (Feature("income"), Feature("debt")), credit.class_names, credit.y
    )
    model = LogisticRegression(max_iter=2000).fit(free.X, free.y)
    x = _denied_row(model, free)
    w, b = model.coef_[0], model.intercept_[0]
    mad = mad_scale(free.X)
    best = int(np.argmax(np.abs(w) * mad))
    expected_cost = (1e-3 - (w @ x + b)) / (np.abs(w[best]) * mad[best])
    e = explain("counterfactual_mad", model, x, dataset=free)
    (cf,) = e.content["counterfactuals"]
    assert [c["feature"] for c in cf["changes"]] == [free.features[best].name]
    assert cf["distance"] == pytest.approx(expected_cost, rel=1e-6)
    assert e.content["solver"] == "lp"


def test_the_integer_program_is_no_costlier_than_the_greedy_search(credit, logistic):
    for i in range(8):
        x = credit.X[np.flatnonzero(logistic.predict(credit.X) == 0)[i]]
        exact = explain("recourse", logistic, x, dataset=credit)
        search = explain("recourse", logistic, x, dataset=credit, solver="search")
        assert exact.content["solver"] == "milp" and search.content["solver"] == "search"
        if search.content["counterfactuals"]:
            assert (
                exact.content["counterfactuals"][0]["cost"]
                <= search.content["counterfactuals"][0]["cost"] + 1e-9
            )


def _brute_force_cost(model, data, x, *, grid_size):
    space = action_space(data, x, actionable=True, grid_size=grid_size)
    flips = flip_test(model, 0, None)
    options = [np.append(space.grids[j], x[j]) for j in range(len(x))]
    rows = np.array(list(itertools.product(*options)))
    ok = rows[flips(rows)]
    costs = sum(change_cost(space, j, ok[:, j], "percentile_shift") for j in range(len(x)))
    return float(np.min(costs))


def test_the_integer_program_finds_the_brute_force_cheapest_action_on_the_grid(credit, logistic):
    x = _denied_row(logistic, credit)
    e = explain("recourse", logistic, x, dataset=credit, grid_size=5)
    assert e.content["counterfactuals"][0]["cost"] == pytest.approx(
        _brute_force_cost(logistic, credit, x, grid_size=5), abs=1e-9
    )


def _assert_feasible(data, x, cf, *, actionable):
    row = np.asarray(cf["values"])
    features = data.features
    for j, f in enumerate(features):
        low = min(f.lower if f.lower is not None else data.X[:, j].min(), x[j])
        high = max(f.upper if f.upper is not None else data.X[:, j].max(), x[j])
        assert low - 1e-9 <= row[j] <= high + 1e-9
        if f.immutable:
            assert row[j] == x[j]
        if f.integer or f.kind == "categorical":
            assert row[j] == round(row[j])
        if actionable and f.direction == "increase":
            assert row[j] >= x[j]
        if actionable and f.direction == "decrease":
            assert row[j] <= x[j]
    assert {c["feature"] for c in cf["changes"]} == {
        f.name for j, f in enumerate(features) if row[j] != x[j]
    }


@pytest.mark.parametrize("method", ["counterfactual_mad", "recourse", "diverse_counterfactuals"])
@pytest.mark.parametrize("kind", ["logistic", "forest"])
def test_every_counterfactual_flips_the_prediction_and_respects_the_constraints(
    credit, logistic, method, kind
):
    model = (
        logistic
        if kind == "logistic"
        else RandomForestClassifier(30, max_depth=5, random_state=0).fit(credit.X, credit.y)
    )
    x = _denied_row(model, credit, near=False)
    e = (
        explain(method, model, x, dataset=credit, random_state=0, n_samples=300)
        if (method == "diverse_counterfactuals")
        else explain(method, model, x, dataset=credit)
    )
    assert e.content["counterfactuals"], "expected at least one counterfactual"
    for cf in e.content["counterfactuals"]:
        assert model.predict(np.asarray(cf["values"])[None])[0] != e.target
        assert cf["prediction"]["class_index"] != e.target and cf["valid"]
        _assert_feasible(credit, x, cf, actionable=method != "counterfactual_mad")
    e.to_json()


def test_change_records_show_display_values(credit, logistic):
    x = _denied_row(logistic, credit)
    e = explain("recourse", logistic, x, dataset=credit)
    change = e.content["counterfactuals"][0]["changes"][0]
    assert set(change) == {"feature", "label", "from", "to", "from_display", "to_display"}
    feature = next(f for f in FEATURES if f.name == change["feature"])
    assert change["to_display"] == feature.display_value(change["to"])


def test_diverse_counterfactuals_are_distinct_and_reproducible_from_the_seed(credit, logistic):
    x = _denied_row(logistic, credit, near=False)
    a = explain(
        "diverse_counterfactuals", logistic, x, dataset=credit, random_state=4, k=3, n_samples=400
    )
    b = explain(
        "diverse_counterfactuals", logistic, x, dataset=credit, random_state=4, k=3, n_samples=400
    )
    assert a.fingerprint == b.fingerprint
    rows = {tuple(cf["values"]) for cf in a.content["counterfactuals"]}
    assert len(rows) == len(a.content["counterfactuals"]) >= 2


def test_a_row_whose_only_way_out_is_immutable_gets_no_counterfactual():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=100), rng.normal(size=100)])
    y = (X[:, 0] > 0).astype(int)
    data = TabularDataset(X, (Feature("fixed", immutable=True), Feature("noise")), ("a", "b"), y)
    model = LogisticRegression(C=0.01).fit(X[:, :1] * 0 + X[:, :1], y)  # uses feature 0 only

    class TwoColumn:
        classes_ = model.classes_

        def predict_proba(self, rows):
            return model.predict_proba(np.atleast_2d(rows)[:, :1])

        def predict(self, rows):
            return model.predict(np.atleast_2d(rows)[:, :1])

    e = explain("recourse", TwoColumn(), X[np.argmin(X[:, 0])], dataset=data)
    assert e.content["counterfactuals"] == [] and e.metrics["n_found"] == 0


def test_multiclass_lp_counterfactuals_reach_the_requested_class_no_costlier_than_search():
    wine = load_wine()
    data = TabularDataset(
        wine.data,
        tuple(Feature(str(n)) for n in wine.feature_names),
        tuple(wine.target_names),
        wine.target,
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(
        wine.data, wine.target
    )
    x = wine.data[0]
    for target in (t for t in range(3) if t != model.predict(x[None])[0]):
        exact = explain("counterfactual_mad", model, x, dataset=data, target_class=target)
        (cf,) = exact.content["counterfactuals"]
        assert cf["prediction"]["class_index"] == target
        space = action_space(data, x, actionable=False)
        flips = flip_test(model, int(model.predict(x[None])[0]), target)

        def score(rows, target=target):
            return model.predict_proba(rows)[:, target]

        searched = greedy_search(space, flips, score, cost="mad_l1")
        assert searched is not None
        assert cf["distance"] <= total_cost(space, searched, "mad_l1") + 1e-9


def test_recourse_never_moves_beyond_the_data_even_when_the_bounds_allow_it(credit, logistic):
    # A percentile cost is flat beyond the largest value seen; a move there would look free.
    wide = (Feature("income", direction="increase", upper=1e6), *FEATURES[1:])
    data = TabularDataset(credit.X, wide, credit.class_names, credit.y)
    x = _denied_row(logistic, data, near=False)
    space = action_space(data, x, actionable=True)
    assert space.grids[0].max() <= credit.X[:, 0].max()
    (cf,) = explain("recourse", logistic, x, dataset=data).content["counterfactuals"]
    assert cf["cost"] > 0 and cf["values"][0] <= credit.X[:, 0].max()


def test_bisection_brings_a_searched_counterfactual_closer_without_losing_the_flip(credit):
    forest = RandomForestClassifier(30, max_depth=5, random_state=0).fit(credit.X, credit.y)
    x = _denied_row(forest, credit, near=False)
    space = action_space(credit, x, actionable=False)
    flips = flip_test(forest, 0, None)

    def score(rows):
        return forest.predict_proba(rows)[:, 1]

    coarse = greedy_search(space, flips, score, cost="mad_l1")
    fine = greedy_search(space, flips, score, cost="mad_l1", refine=True)
    assert coarse is not None and fine is not None and flips(fine[None])[0]
    assert total_cost(space, fine, "mad_l1") <= total_cost(space, coarse, "mad_l1")
    # Oracle: just short of each refined numeric change (1% of the way back), no flip.
    for j in np.flatnonzero((fine != x) & (space.n_categories == 0) & ~space.integer):
        closer = fine.copy()
        closer[j] = fine[j] - 0.01 * (fine[j] - x[j])
        assert not flips(closer[None])[0]
