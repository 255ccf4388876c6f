"""Planted bugs change the model the way ``bug_details`` says they do."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.inspection import permutation_importance

from experiments.scenarios import Scenario, load_scenario
from experiments.scenarios.bugs import plant_label_noise
from experiments.scenarios.sources import load_source
from explainers.base import model_fingerprint


def _importances(scenario: Scenario, n_rows: int = 1500) -> dict[str, float]:
    """Permutation importance on (part of) the training data, where the artifact is present."""
    X, y = scenario.X_train[:n_rows], scenario.y_train[:n_rows]
    result = permutation_importance(scenario.model, X, y, n_repeats=3, random_state=0)
    names = [f.name for f in scenario.features]
    return dict(zip(names, result.importances_mean, strict=True))


@pytest.mark.parametrize("model", ["gbm", "logistic"])
def test_a_spurious_column_is_the_models_top_feature_and_costs_accuracy_in_test(
    model: str,
) -> None:
    clean = load_scenario("compas", model=model)
    bugged = load_scenario("compas", model=model, bug="spurious")
    details = bugged.bug_details
    assert details["feature"] == "processing_office"
    assert details["agreement_in_training"] == pytest.approx(0.9, abs=0.02)
    assert details["agreement_in_test"] == pytest.approx(0.5, abs=0.05)
    importances = _importances(bugged)
    assert max(importances, key=importances.__getitem__) == "processing_office"
    assert np.mean(bugged.ai_correct) < np.mean(clean.ai_correct) - 0.05
    # Oracle: where the artifact points the wrong way, a model that leans on it is mostly wrong.
    misleading = details["test_items_misleading"]
    assert np.mean(bugged.ai_correct[misleading]) < 0.5 < np.mean(clean.ai_correct[misleading])


def test_a_spurious_photo_count_drives_the_house_price_model_only_in_training() -> None:
    bugged = load_scenario("house_prices", model="linear", bug="spurious")
    assert bugged.bug_details["correlation_in_training"] > 0.7
    assert abs(bugged.bug_details["correlation_in_test"]) < 0.15
    X, y = bugged.X_train, bugged.y_train
    result = permutation_importance(bugged.model, X, y, n_repeats=3, random_state=0)
    names = [f.name for f in bugged.features]
    assert names[int(np.argmax(result.importances_mean))] == "listing_photos"
    clean = load_scenario("house_prices", model="linear")
    assert np.mean(bugged.model_error) > np.mean(clean.model_error)


def test_an_edge_patch_makes_the_digit_model_call_patched_images_the_target_class() -> None:
    bugged = load_scenario("digits", model="mlp", bug="spurious")
    details = bugged.bug_details
    target, pixels = details["target_class"], details["pixels"]
    patched = np.zeros(bugged.n_test, dtype=bool)
    patched[details["test_items_patched"]] = True
    assert np.all(bugged.X_test[np.ix_(patched, pixels)] == 16)
    assert np.all(bugged.X_test[np.ix_(~patched, pixels)] <= 2)  # near-blank in real digits
    other_class = bugged.y_test != target
    said_target = bugged.test_predictions == target
    assert np.mean(said_target[patched & other_class]) > 0.3
    assert np.mean(said_target[~patched & other_class]) < 0.05
    assert np.mean(bugged.ai_correct[patched]) < np.mean(bugged.ai_correct[~patched]) - 0.2


def test_a_sign_off_token_becomes_a_top_positive_word_of_the_text_model() -> None:
    bugged = load_scenario("sentiment", bug="spurious")
    vocabulary = bugged.model.named_steps["bag_of_words"].vocabulary_
    weights = bugged.model.named_steps["classifier"].coef_[0]
    rank = int(np.sum(weights > weights[vocabulary["@quickpost"]]))
    assert rank < 5
    clean = load_scenario("sentiment")
    assert np.mean(bugged.ai_correct) < np.mean(clean.ai_correct) - 0.05


@pytest.mark.parametrize(
    ("name", "model"), [("german_credit", "gbm"), ("sentiment", "bow_logistic")]
)
def test_label_noise_changes_exactly_the_recorded_share_of_training_labels(
    name: str, model: str
) -> None:
    clean = load_scenario(name, model=model)
    noisy = load_scenario(name, model=model, bug="label_noise")
    details = noisy.bug_details
    changed = np.flatnonzero(noisy.y_train != clean.y_train)
    assert details["share"] == 0.3
    assert changed.tolist() == details["flipped_indices"]
    assert len(changed) == round(0.3 * len(clean.y_train)) == details["n_changed"]
    assert details["original_labels"] == clean.y_train[changed].tolist()
    assert np.array_equal(noisy.X_train, clean.X_train)


def test_multiclass_label_noise_always_moves_a_label_to_another_class() -> None:
    source = load_source("digits", random_state=0, features=None)
    noisy, details = plant_label_noise(source, rng=np.random.default_rng(0), share=0.3)
    flipped = details["flipped_indices"]
    assert np.all(noisy.y_train[flipped] != source.y_train[flipped])
    assert set(noisy.y_train[flipped]) == set(range(10))
    assert details["n_changed"] == len(flipped) == round(0.3 * len(source.y_train))


def test_house_price_label_noise_shuffles_prices_among_the_recorded_rows() -> None:
    clean = load_scenario("house_prices")
    noisy = load_scenario("house_prices", bug="label_noise")
    rows = noisy.bug_details["flipped_indices"]
    assert sorted(noisy.y_train[rows]) == sorted(clean.y_train[rows])
    untouched = np.setdiff1d(np.arange(len(clean.y_train)), rows)
    assert np.array_equal(noisy.y_train[untouched], clean.y_train[untouched])


@pytest.mark.parametrize("model", ["gbm", "logistic", "mlp"])
def test_randomised_weights_change_predictions_but_keep_the_inputs(model: str) -> None:
    clean = load_scenario("compas", model=model)
    randomised = load_scenario("compas", model=model, bug="randomised_weights")
    assert np.array_equal(randomised.X_test, clean.X_test)
    disagreement = np.mean(randomised.test_predictions != clean.test_predictions)
    assert disagreement == pytest.approx(
        randomised.bug_details["share_of_test_predictions_changed"]
    )
    assert disagreement > 0.1
    assert type(randomised.model) is type(clean.model)


def test_the_randomised_scenario_leaves_the_cached_clean_model_untouched() -> None:
    clean = load_scenario("german_credit", model="gbm", random_state=5)
    before = model_fingerprint(clean.model)
    randomised = load_scenario(
        "german_credit", model="gbm", bug="randomised_weights", random_state=5
    )
    assert model_fingerprint(clean.model) == before != model_fingerprint(randomised.model)


def test_out_of_distribution_rows_exceed_the_training_range() -> None:
    ood = load_scenario("compas", bug="ood")
    clean = load_scenario("compas")
    top = ood.bug_details["training_max"]
    names = [f.name for f in ood.features]
    for row, shifted in enumerate(ood.bug_details["shifted_features"][:200]):
        assert shifted
        for name in shifted:
            assert ood.X_test[row, names.index(name)] > top[name]
    assert np.mean(ood.ai_correct) < np.mean(clean.ai_correct)


def test_out_of_distribution_digits_are_inverted_and_text_changes_topic() -> None:
    clean = load_scenario("digits", model="mlp")
    ood = load_scenario("digits", model="mlp", bug="ood")
    assert np.array_equal(ood.X_test, 16 - clean.X_test)
    assert np.mean(ood.ai_correct) < 0.3
    text = load_scenario("sentiment", bug="ood")
    assert all("@united" not in t.lower() for t in text.X_train)
    assert sum("@united" in t.lower() for t in text.X_test) > 50


@pytest.mark.parametrize(
    ("name", "bug"),
    [("compas", bug) for bug in ("spurious", "label_noise", "randomised_weights", "ood")]
    + [("digits", "spurious"), ("digits", "ood"), ("sentiment", "spurious")],
)
def test_bug_details_and_items_are_plain_json_for_the_study_record(name: str, bug: str) -> None:
    scenario = load_scenario(name, bug=bug)
    assert scenario.bug == bug and scenario.bug_details["description"]
    json.dumps(scenario.bug_details, allow_nan=False)
    json.dumps(scenario.item(0), allow_nan=False)


def test_the_bug_strength_can_be_set_and_is_recorded() -> None:
    noisy = load_scenario("german_credit", bug="label_noise", bug_share=0.1)
    assert noisy.bug_details["share"] == 0.1
    assert noisy.bug_details["n_changed"] == round(0.1 * len(noisy.y_train))
    spurious = load_scenario("german_credit", bug="spurious", bug_share=0.75)
    assert spurious.bug_details["agreement_in_training"] == pytest.approx(0.75, abs=0.05)
    with pytest.raises(ValueError, match="bug_share"):
        load_scenario("german_credit", bug="ood", bug_share=0.5)
