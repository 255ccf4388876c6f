"""Control conditions: the placebo explanation, randomised-weights models, scaffolding attack."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from explainers import Feature, TabularDataset, explain
from explainers._common import attribution_vector
from explainers.control_models import FeatureRuleClassifier, ScaffoldedClassifier, randomise_weights
from tests.explainers.tabular_cases import people_forest, people_gbm, people_logistic


def test_the_placebo_is_seeded_and_has_the_scale_of_the_prediction_gap():
    c = people_gbm()
    x = c.X_test[0]
    a = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=1)
    b = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=1)
    other = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=2)
    assert a.to_json() == b.to_json()
    assert not np.allclose(attribution_vector(a), attribution_vector(other))
    gap = a.content["output_value"] - a.content["base_value"]
    # The bars add up to the stated change, with a total size of the same order as the gap.
    assert attribution_vector(a).sum() == pytest.approx(gap)
    assert abs(gap) - 1e-12 <= np.abs(attribution_vector(a)).sum() <= 4 * abs(gap) + 1e-12
    assert a.content["output_value"] == pytest.approx(a.prediction["probability"])


def test_the_placebo_can_shuffle_a_real_explanations_values():
    c = people_gbm()
    x = c.X_test[0]
    real = attribution_vector(explain("kernel_shap", c.model, x, dataset=c.dataset,
                                      random_state=0))
    placebo = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=0,
                      reference=real.tolist())
    values = attribution_vector(placebo)
    assert values.sum() == pytest.approx(placebo.content["output_value"]
                                         - placebo.content["base_value"])
    # The real sizes, shuffled, times one common factor (the one that meets the sum).
    sizes, real_sizes = np.sort(np.abs(values)), np.sort(np.abs(real))
    factor = sizes[-1] / real_sizes[-1]
    np.testing.assert_allclose(sizes, factor * real_sizes, rtol=1e-9, atol=1e-12)
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


# ----- a control must look exactly like the method it imitates ------------------------------

def _form(html: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The rendered structure: (tag, class) of every element in order, and the sentences with
    every number replaced by N (what stays when the values are set aside)."""
    import re
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.elements: list[tuple[str, str]] = []
            self.sentences: list[str] = []
            self.inside: list[str] = []

        def handle_starttag(self, tag, attrs):
            cls = dict(attrs).get("class") or ""
            # A bar's sign is one of its values, not part of the form.
            self.elements.append((tag, re.sub(r"xl-(positive|negative)", "xl-sign", cls)))
            self.inside.append(cls)

        def handle_endtag(self, tag):
            self.inside.pop()

        def handle_data(self, data):
            if self.inside and self.inside[-1] in {"xl-start", "xl-how-to-read"}:
                self.sentences.append(re.sub(r"[+\u2212-]?\d+(\.\d+)?", "N", data))

    form = Form()
    form.feed(html)
    return form.elements, form.sentences


def _stated_change(html: str) -> float:
    import re

    found = re.search(r"change of ([+\u2212]?[\d.]+) points", html)
    assert found is not None
    return float(found.group(1).replace("\u2212", "-")) / 100


@pytest.mark.parametrize("imitated", ["kernel_shap", "tree_shap"])
@pytest.mark.parametrize("row", [0, 3, 7])
def test_the_placebo_is_indistinguishable_in_form_from_the_method_it_imitates(imitated, row):
    """Oracle: the real method's own rendering (structure and sentences, numbers aside), and
    efficiency (base + sum of bars = output) for the sums. Before the fix the placebo's bars
    summed to a random number, not to the change its sentence states."""
    from explainers.methods.controls import IMITATES
    from explainers.render import render_html

    assert imitated in IMITATES["random_attribution"]
    c = people_gbm()
    x = c.X_test[row]
    real = explain(imitated, c.model, x, dataset=c.dataset, random_state=0)
    placebo = explain("random_attribution", c.model, x, dataset=c.dataset, random_state=row)
    for explanation in (real, placebo):
        total = attribution_vector(explanation).sum()
        assert explanation.content["base_value"] + total == pytest.approx(
            explanation.content["output_value"], abs=1e-9)
    real_html, placebo_html = render_html(real), render_html(placebo)
    assert _form(placebo_html) == _form(real_html)
    for html, explanation in ((real_html, real), (placebo_html, placebo)):
        # What a participant reads: the bars add up to the change the sentence states, and
        # the sentence ends at the AI's own probability.
        assert _stated_change(html) == pytest.approx(
            sum(float(v.replace("\u2212", "-")) for v in __import__("re").findall(
                r'class="xl-value"[^>]*>[\u25b6\u25c0] ([^<]+)<', html)) / 100, abs=0.006)
        assert f"for this case, {100 * explanation.prediction['probability']:.0f}%" in html
