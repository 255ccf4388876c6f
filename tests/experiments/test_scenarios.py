"""Bundled scenarios: data load offline, models are reproducible, items read as words."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.scenarios import (
    Scenario,
    available_bugs,
    available_models,
    available_scenarios,
    load_scenario,
)
from experiments.scenarios.scenario import _load_cached
from explainers.base import TabularDataset
from explainers.data import ImageDataset, TextDataset

# Oracle for accuracy floors: published baselines for these models on these data sets
# (Adult GBM ~0.86, COMPAS ~0.67, German credit ~0.75, digits MLP ~0.97, tweets BoW ~0.8).
ACCURACY_FLOOR = {
    "adult": 0.84,
    "compas": 0.63,
    "german_credit": 0.7,
    "digits": 0.93,
    "sentiment": 0.75,
}


def test_the_six_scenarios_and_four_bugs_are_offered() -> None:
    assert available_scenarios() == [
        "adult",
        "compas",
        "german_credit",
        "house_prices",
        "digits",
        "sentiment",
    ]
    assert available_bugs() == ["spurious", "label_noise", "randomised_weights", "ood"]
    assert available_models("adult") == ["gbm", "logistic", "mlp"]
    assert available_models("house_prices") == ["linear", "gbm"]


@pytest.mark.parametrize("name", sorted(ACCURACY_FLOOR))
def test_each_classification_scenario_loads_with_its_default_model_and_beats_its_floor(
    name: str,
) -> None:
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario)
    assert scenario.task == "classification"
    assert len(scenario.X_test) == len(scenario.y_test) > 100
    assert float(np.mean(scenario.ai_correct)) >= ACCURACY_FLOOR[name]
    prediction = scenario.predict(0)
    assert isinstance(prediction, int) and 0 <= prediction < len(scenario.class_names)
    assert scenario.label_text(prediction) in scenario.class_names
    assert len(scenario.description) > 80


def test_adult_items_are_shown_in_words_with_personal_attributes_immutable() -> None:
    scenario = load_scenario("adult", model="gbm")
    assert isinstance(scenario.dataset, TabularDataset)
    assert scenario.dataset.X is scenario.X_train
    item = scenario.item(0)
    assert list(item)[:3] == ["Age", "Type of employer", "Education"]
    assert item["Hours worked per week"].endswith("hours")
    assert item["Sex"] in ("Female", "Male")
    immutable = {f.name for f in scenario.features if f.immutable}
    assert {"age", "sex", "race"} <= immutable
    education = next(f for f in scenario.features if f.name == "education")
    assert education.direction == "increase"
    assert education.categories[0] == "Preschool" and education.categories[-1] == "Doctorate"
    assert scenario.class_names == ("$50K or less", "More than $50K")
    assert scenario.positive_class == 1


def test_coded_categories_round_trip_to_the_raw_words() -> None:
    # Oracle: the raw bundled CSV; the first Adult test row is a 25-year-old machine operator.
    scenario = load_scenario("adult")
    assert scenario.item(0)["Occupation"] == "Machine operator or inspector"
    assert scenario.item(0)["Age"] == "25 years"


def test_german_credit_is_a_recourse_scenario_with_immutable_personal_attributes() -> None:
    scenario = load_scenario("german_credit", model="logistic")
    features = {f.name: f for f in scenario.features}
    assert features["age"].immutable and features["status_sex"].immutable
    assert features["foreign_worker"].immutable
    assert not features["credit_amount"].immutable and features["duration"].lower == 4
    assert scenario.class_names[scenario.positive_class or 0] == "Good credit risk"


def test_house_prices_is_a_regression_with_two_key_features_for_the_small_model() -> None:
    full = load_scenario("house_prices", model="linear")
    assert full.task == "regression" and full.positive_class is None
    assert len(full.features) == 8
    assert full.key_features == ("GrLivArea", "OverallQual")
    small = load_scenario("house_prices", model="linear", features=full.key_features)
    assert [f.name for f in small.features] == list(full.key_features)
    assert small.X_test.shape[1] == 2
    assert isinstance(full.predict(0), float)
    assert full.label_text(full.predict(0)).endswith("dollars")
    # Oracle: a linear fit on Ames prices is off by roughly 15% on average.
    relative_error = np.mean(full.model_error / full.y_test)
    assert relative_error < 0.25
    with pytest.raises(ValueError, match="model_error"):
        _ = full.ai_correct


def test_digits_items_are_8_by_8_images_and_sentiment_items_are_texts() -> None:
    digits = load_scenario("digits", model="mlp")
    assert isinstance(digits.dataset, ImageDataset)
    assert digits.dataset.X.shape[1:] == (8, 8)
    image = np.asarray(digits.item(3)["image"])
    assert image.shape == (8, 8)
    assert np.array_equal(image.ravel(), digits.X_test[3])
    sentiment = load_scenario("sentiment")
    assert isinstance(sentiment.dataset, TextDataset)
    assert sentiment.model_name == "bow_logistic"
    text = sentiment.item(0)["text"]
    assert isinstance(text, str) and text == sentiment.X_test[0]
    assert sentiment.model.predict([text])[0] == sentiment.predict(0)


def test_the_same_seed_retrains_to_identical_predictions_and_another_seed_does_not() -> None:
    fresh = _load_cached.__wrapped__  # bypass the cache: train again from scratch
    first = fresh("german_credit", "gbm", None, 3, None)
    again = fresh("german_credit", "gbm", None, 3, None)
    other = fresh("german_credit", "gbm", None, 4, None)
    assert np.array_equal(first.X_test, again.X_test)
    assert np.array_equal(
        first.model.predict_proba(first.X_test), again.model.predict_proba(again.X_test)
    )
    assert not np.array_equal(first.X_test, other.X_test)


def test_scenarios_are_cached_per_process_and_their_arrays_cannot_be_changed() -> None:
    scenario = load_scenario("german_credit", model="gbm", random_state=0)
    assert load_scenario("german_credit", model="gbm", random_state=0) is scenario
    with pytest.raises(ValueError, match="read-only"):
        scenario.X_test[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        scenario.y_train[0] = 1


def test_the_gbm_model_is_explained_exactly_by_shap_tree_explainer() -> None:
    shap = pytest.importorskip("shap")
    scenario = load_scenario("adult", model="gbm")
    explainer = shap.TreeExplainer(scenario.model)
    values = explainer.shap_values(scenario.X_test[:20])
    # Oracle: TreeSHAP is additive on the model's log-odds output.
    total = values.sum(axis=1) + explainer.expected_value
    assert np.allclose(total, scenario.model.decision_function(scenario.X_test[:20]), atol=1e-6)


def test_unknown_names_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="choose from"):
        load_scenario("mnist")
    with pytest.raises(ValueError, match="not offered"):
        load_scenario("digits", model="linear")
    with pytest.raises(ValueError, match="unknown bug"):
        load_scenario("adult", bug="typo")
    with pytest.raises(ValueError, match="unknown features"):
        load_scenario("house_prices", features=("Pool",))
