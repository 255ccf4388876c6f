"""Quality metrics: real explanations pass, the placebo and randomised-model explanations fail."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explainers import TabularDataset, explain
from explainers._common import attribution_vector
from explainers.control_models import FeatureRuleClassifier, randomise_weights
from explainers.quality import (
    ALL_CHECKS,
    baseline_row,
    deletion_insertion,
    faithfulness_correlation,
    max_sensitivity,
    randomisation_check,
    score_explanation,
    seed_variation,
)
from tests.explainers.tabular_cases import breast_cancer_gbm, people_gbm, people_logistic

N_ITEMS = 12
PLACEBO_DRAWS = 4


@pytest.fixture(scope="module")
def scored():
    """tree_shap and the placebo on the same items, with the cheap checks. The placebo's
    feature order is a random draw, so its scores are averaged over several draws per item
    (one draw per item left the mean at the mercy of 12 random orders)."""
    c = breast_cancer_gbm()
    out: dict[str, list[dict[str, float]]] = {"tree_shap": [], "random_attribution": []}
    for i, x in enumerate(c.X_test[:N_ITEMS]):
        for method, rows in out.items():
            for draw in range(PLACEBO_DRAWS if method == "random_attribution" else 1):
                e = explain(method, c.model, x, dataset=c.dataset,
                            random_state=i + 1000 * draw)
                rows.append(score_explanation(
                    e, c.model, x, c.dataset, random_state=i,
                    checks=("deletion", "faithfulness", "randomisation")))
    return {m: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
            for m, rows in out.items()}


def test_real_attributions_pass_deletion_insertion_and_faithfulness(scored):
    real, placebo = scored["tree_shap"], scored["random_attribution"]
    assert real["deletion_auc"] < placebo["deletion_auc"] - 0.1
    assert real["insertion_auc"] > placebo["insertion_auc"] + 0.1
    assert real["faithfulness_correlation"] > 0.6
    assert abs(placebo["faithfulness_correlation"]) < 0.3


def test_real_attributions_pass_and_the_placebo_fails_the_randomisation_check(scored):
    assert scored["tree_shap"]["randomisation_rank_correlation"] < 0.5
    assert scored["random_attribution"]["randomisation_rank_correlation"] > 0.9


def test_explanations_of_a_randomised_model_fail_as_explanations_of_the_real_one():
    # The Adebayo scenario seen from the other side: showing the randomised copy's
    # explanation for the real model's prediction is caught by faithfulness and deletion.
    c = breast_cancer_gbm()
    scrambled = randomise_weights(c.model, random_state=0, background=c.dataset.X)
    faithful: list[float] = []
    unfaithful: list[float] = []
    del_real: list[float] = []
    del_fake: list[float] = []
    rng = np.random.default_rng(0)
    for x in c.X_test[:N_ITEMS]:
        real = explain("tree_shap", c.model, x, dataset=c.dataset, random_state=0)
        fake = explain("tree_shap", scrambled, x, dataset=c.dataset, random_state=0)
        target = int(real.target or 0)
        for e, corr, dels in ((real, faithful, del_real), (fake, unfaithful, del_fake)):
            phi = attribution_vector(e)
            corr.append(faithfulness_correlation(c.model, x, phi, c.dataset, target=target,
                                                 output_space="log-odds", rng=rng))
            dels.append(deletion_insertion(c.model, x, phi, c.dataset,
                                           target=target).deletion_auc)
    assert np.mean(faithful) > np.mean(unfaithful) + 0.4
    assert np.mean(del_real) < np.mean(del_fake) - 0.1


def test_deletion_curves_start_at_the_prediction_and_end_at_the_baseline():
    # Oracle: direct model calls on x and on the all-background row.
    c = people_gbm()
    x = c.X_test[0]
    e = explain("tree_shap", c.model, x, dataset=c.dataset, random_state=0)
    curves = deletion_insertion(c.model, x, attribution_vector(e), c.dataset,
                                target=int(e.target or 0))
    p = c.model.predict_proba(np.vstack([x, baseline_row(c.dataset)]))[:, e.target]
    assert curves.deletion[0] == pytest.approx(p[0]) == curves.insertion[-1]
    assert curves.deletion[-1] == pytest.approx(p[1]) == curves.insertion[0]
    assert len(curves.deletion) == len(x) + 1


def test_baseline_uses_the_mode_of_categorical_features():
    c = people_gbm()
    base = baseline_row(c.dataset)
    education = c.dataset.X[:, 2]
    assert base[2] == np.bincount(education.astype(int)).argmax()
    assert base[0] == pytest.approx(c.dataset.X[:, 0].mean())


def test_faithfulness_is_perfect_for_exact_shap_of_a_linear_model_on_numeric_data():
    # Oracle: linearity. Removing S to the mean lowers the logit by exactly sum_S w(x - mean).
    c = people_logistic()
    numeric = TabularDataset(c.dataset.X, tuple(
        f.__class__(f.name) for f in c.dataset.features), c.dataset.class_names)
    x = c.X_test[0]
    e = explain("linear_shap", c.model, x, dataset=numeric)
    value = faithfulness_correlation(c.model, x, attribution_vector(e), numeric,
                                     target=int(e.target or 0), output_space="log-odds",
                                     rng=np.random.default_rng(0))
    assert value == pytest.approx(1.0, abs=1e-9)


def test_max_sensitivity_of_linear_shap_is_bounded_by_the_closed_form():
    # Oracle: phi(x') - phi(x) = w * (x' - x), so the ratio is at most |w * r * std| / |phi|.
    c = people_logistic()
    x = c.X_test[0]
    e = explain("linear_shap", c.model, x, dataset=c.dataset)
    radius = 0.05
    value = max_sensitivity(e, c.model, x, c.dataset, rng=np.random.default_rng(0),
                            radius=radius, n_samples=8)
    step = radius * c.dataset.X.std(axis=0)
    step[c.dataset.categorical_indices] = 0
    bound = np.linalg.norm(c.model.coef_[0] * step) / np.linalg.norm(attribution_vector(e))
    assert 0 < value <= bound + 1e-12


def test_sampling_methods_agree_across_seeds_and_the_placebo_does_not():
    c = people_gbm()
    x = c.X_test[0]
    lime = explain("lime", c.model, x, dataset=c.dataset, random_state=0)
    placebo = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=0)
    lime_seeds = seed_variation(lime, c.model, x, c.dataset, seeds=5, top=3)
    placebo_seeds = seed_variation(placebo, c.model, x, c.dataset, seeds=5, top=3)
    assert lime_seeds["seed_rank_correlation"] > 0.8
    assert lime_seeds["seed_topk_jaccard"] > 0.8
    assert placebo_seeds["seed_rank_correlation"] < 0.4


def test_lime_passes_the_randomisation_check_on_average():
    c = breast_cancer_gbm()
    values = [randomisation_check(
        explain("lime", c.model, x, dataset=c.dataset, random_state=0, num_samples=2000),
        c.model, x, c.dataset, random_state=0) for x in c.X_test[:4]]
    assert np.mean(values) < 0.5


def test_score_explanation_stores_json_safe_reproducible_metrics():
    c = people_gbm()
    x = c.X_test[2]
    first = explain("kernel_shap", c.model, x, dataset=c.dataset, random_state=5)
    second = explain("kernel_shap", c.model, x, dataset=c.dataset, random_state=5)
    scores = score_explanation(first, c.model, x, c.dataset, random_state=5, stability_samples=3,
                               checks=ALL_CHECKS)
    score_explanation(second, c.model, x, c.dataset, random_state=5, stability_samples=3,
                      checks=ALL_CHECKS)
    assert set(scores) == {"deletion_auc", "insertion_auc", "faithfulness_correlation",
                           "max_sensitivity", "seed_rank_correlation", "seed_topk_jaccard",
                           "randomisation_rank_correlation"}
    assert first.metrics == second.metrics
    assert json.loads(first.to_json())["metrics"]["deletion_auc"] == scores["deletion_auc"]


def test_rules_get_seed_agreement_and_unknown_checks_are_refused():
    c = people_gbm()
    x = c.X_test[0]
    e = explain("anchors", c.model, x, dataset=c.dataset, random_state=0)
    assert score_explanation(e, c.model, x, c.dataset, random_state=0) == {}
    scores = score_explanation(e, c.model, x, c.dataset, random_state=0, seeds=3,
                               checks=ALL_CHECKS)
    assert set(scores) == {"seed_rule_jaccard"}
    assert 0.0 <= scores["seed_rule_jaccard"] <= 1.0
    with pytest.raises(ValueError, match="unknown quality checks"):
        score_explanation(e, c.model, x, c.dataset, random_state=0, checks=("bogus",))


def test_the_randomisation_check_is_left_out_for_a_model_that_cannot_be_scrambled():
    c = people_gbm()
    model = FeatureRuleClassifier(0, threshold=45.0)
    x = c.X_test[0]
    e = explain("kernel_shap", model, x, dataset=c.dataset, random_state=0)
    scores = score_explanation(e, model, x, c.dataset, random_state=0)
    assert set(scores) == {"deletion_auc", "insertion_auc", "faithfulness_correlation"}
