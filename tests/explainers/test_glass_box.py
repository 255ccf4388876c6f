"""The glass-box view of a linear model (``linear_model``).

Oracle: the closed form of a linear model — intercept plus coefficient times value, summed
over features, is exactly the model's prediction; and scikit-learn's own ``coef_``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression

from explainers import explain
from explainers.base import Feature, TabularDataset
from explainers.render import render_html


@pytest.fixture(scope="module")
def fitted() -> tuple[LinearRegression, TabularDataset, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 10, size=(200, 3))
    y = 5000 + X @ np.array([120.0, -40.0, 7.5]) + rng.normal(0, 1, 200)
    features = (Feature("area", "numeric", unit="sq ft"),
                Feature("age", "numeric", unit="years", unit_one="year"),
                Feature("rooms", "numeric"))
    return LinearRegression().fit(X, y), TabularDataset(X=X, features=features), X


def test_the_terms_add_up_to_the_models_prediction(fitted):
    model, dataset, X = fitted
    for x in X[:5]:
        result = explain("linear_model", model, x, dataset=dataset)
        content = result.content
        total = content["intercept"] + sum(t["contribution"] for t in content["terms"])
        assert total == pytest.approx(model.predict(x[None])[0], rel=1e-12)
        assert content["output_value"] == pytest.approx(total)
        np.testing.assert_allclose([t["coefficient"] for t in content["terms"]], model.coef_)


def test_the_rendered_formula_shows_weights_but_not_the_total(fitted):
    model, dataset, X = fitted
    html = render_html(explain("linear_model", model, X[0], dataset=dataset))
    # A unit is one word to the line breaker: "sq ft" never parts (it did at 390 px).
    assert "per sq\u00a0ft<" in html and "per year<" in html and "Starting value" in html
    assert re.search(r"\d\u00a0sq\u00a0ft<", html)  # "This case": number and unit whole
    assert "per years" not in html  # a weight is per one unit
    assert "per point<" in html  # a feature without a unit
    # The simulation step must leave the sum to the participant.
    assert f"{model.predict(X[:1])[0]:,.0f}" not in html


def test_a_payload_stored_before_the_unit_of_one_still_renders(fitted):
    model, dataset, X = fitted
    stored = explain("linear_model", model, X[0], dataset=dataset)
    for term in stored.content["terms"]:
        del term["unit_one"]  # payloads prepared before the field have only "unit"
    html = render_html(stored)
    assert "per sq\u00a0ft<" in html and "per years<" in html


def test_a_model_without_an_equation_is_refused(fitted):
    _, dataset, X = fitted
    trees = GradientBoostingRegressor(n_estimators=5).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="not a linear model"):
        explain("linear_model", trees, X[0], dataset=dataset)
