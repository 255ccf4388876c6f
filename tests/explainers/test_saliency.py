"""Saliency maps for MLPs on scikit-learn's 8x8 digits.

Oracles: central finite differences of ``predict_proba`` / the logits (gradients), the
completeness identity of Integrated Gradients (sum = f(x) - f(baseline)), and a network with
re-drawn weights (Adebayo et al.'s model-randomisation check).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from explainers import explain
from explainers.data import ImageDataset
from explainers.mlp import class_score_gradient, output_logits, randomised_copy


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.fixture(scope="module")
def digits() -> ImageDataset:
    data = load_digits()
    X = data.images[:400] / 16.0
    return ImageDataset(X, data.target[:400], tuple(str(c) for c in range(10)), (8, 8))


@pytest.fixture(scope="module")
def mlp(digits: ImageDataset) -> MLPClassifier:
    model = MLPClassifier((24,), activation="tanh", max_iter=300, random_state=0)
    return _fit(model, digits.flat, digits.y)


def _central_difference(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    steps = np.eye(x.size) * h
    return (f(x + steps) - f(x - steps)) / (2 * h)


def _finite_difference_gradient(model, x: np.ndarray, target: int, score: str) -> np.ndarray:
    """The oracle: central differences of class ``target``'s logit or probability at ``x``."""

    def class_score(rows):
        if score == "probability":
            return model.predict_proba(rows)[:, target]
        return output_logits(model, rows)[:, target]

    return _central_difference(class_score, x)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("score", ["logit", "probability"])
def test_input_gradients_equal_central_finite_differences(digits, activation, score):
    model = _fit(
        MLPClassifier((10, 6), activation=activation, max_iter=40, random_state=1),
        digits.flat[:200],
        digits.y[:200],
    )
    x = digits.flat[3]
    target = int(model.predict(x[None])[0])
    grad = class_score_gradient(model, x, target, score=score).gradients[0]
    expected = _finite_difference_gradient(model, x, target, score)
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("score", ["logit", "probability"])
def test_binary_logistic_output_and_scaler_pipeline_gradients_match_finite_differences(
    digits, score
):
    mask = digits.y < 2
    model = _fit(
        make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=60, random_state=0)),
        digits.flat[mask],
        digits.y[mask],
    )
    x = digits.flat[mask][5]
    for target in (0, 1):
        grad = class_score_gradient(model, x, target, score=score).gradients[0]
        expected = _finite_difference_gradient(model, x, target, score)
        np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_binary_logits_are_the_log_odds_of_predict_proba(digits):
    mask = digits.y < 2
    model = _fit(
        MLPClassifier((8,), max_iter=60, random_state=0), digits.flat[mask], digits.y[mask]
    )
    proba = model.predict_proba(digits.flat[mask][:5])
    np.testing.assert_allclose(
        output_logits(model, digits.flat[mask][:5])[:, 1],
        np.log(proba[:, 1] / proba[:, 0]),
        rtol=1e-8,
    )


@pytest.mark.parametrize("baseline", ["black", "mean"])
def test_integrated_gradients_attributions_add_up_to_the_score_difference(digits, mlp, baseline):
    e = explain(
        "integrated_gradients", mlp, digits.X[7], dataset=digits, baseline=baseline, steps=64
    )
    x = digits.flat[7]
    base = np.zeros(64) if baseline == "black" else digits.flat.mean(axis=0)
    logits = output_logits(mlp, np.vstack([x, base]))[:, e.target]
    total = float(np.sum(e.content["attributions"]))
    assert abs(total - (logits[0] - logits[1])) < 1e-2  # completeness, from a direct forward pass
    assert e.metrics["completeness_gap"] < 1e-2


def test_every_saliency_map_explains_the_predicted_class_with_the_image_shape(digits, mlp):
    x = digits.X[11]
    predicted = int(mlp.predict(x.reshape(1, -1))[0])
    for method in ("gradient", "gradient_x_input", "smoothgrad", "integrated_gradients"):
        e = explain(method, mlp, x, dataset=digits, random_state=0)
        assert e.kind == "saliency" and e.target == predicted
        assert np.asarray(e.content["attributions"]).shape == (8, 8)
        assert e.content["score"] == "logit"
        e.to_json()  # serialisable


def test_gradient_x_input_is_the_gradient_times_the_pixels(digits, mlp):
    x = digits.X[2]
    g = np.asarray(explain("gradient", mlp, x, dataset=digits).content["attributions"])
    gxi = np.asarray(explain("gradient_x_input", mlp, x, dataset=digits).content["attributions"])
    np.testing.assert_allclose(gxi, g * x)


def test_smoothgrad_is_reproducible_from_its_seed_and_tends_to_the_gradient_as_noise_vanishes(
    digits, mlp
):
    x = digits.X[4]
    a = explain("smoothgrad", mlp, x, dataset=digits, random_state=3)
    b = explain("smoothgrad", mlp, x, dataset=digits, random_state=3)
    assert a.fingerprint == b.fingerprint
    tiny = explain("smoothgrad", mlp, x, dataset=digits, random_state=3, noise=1e-9)
    plain = explain("gradient", mlp, x, dataset=digits)
    np.testing.assert_allclose(
        tiny.content["attributions"], plain.content["attributions"], rtol=1e-5, atol=1e-8
    )


def _rank_correlation(method, model, other, digits, x, *, absolute):
    a = np.ravel(explain(method, model, x, dataset=digits, random_state=0).content["attributions"])
    b = np.ravel(explain(method, other, x, dataset=digits, random_state=0).content["attributions"])
    if absolute:
        a, b = np.abs(a), np.abs(b)
    return spearmanr(a, b).statistic


def test_gradient_maps_of_a_network_with_randomised_weights_differ(digits, mlp):
    # Adebayo et al. (2018): rank correlation of absolute maps, trained vs re-drawn weights.
    random_model = randomised_copy(mlp, random_state=0)
    assert not np.allclose(random_model.coefs_[0], mlp.coefs_[0])
    for method in ("gradient", "smoothgrad"):
        assert (
            _rank_correlation(method, mlp, random_model, digits, digits.X[9], absolute=True) < 0.5
        )


def test_input_weighted_maps_of_a_randomised_network_differ_in_sign_but_keep_the_input_shape(
    digits, mlp
):
    # The paper's caveat, reproduced: |gradient x input| and |IG| follow the digit's strokes
    # whatever the weights, so only their signed maps reveal the randomisation.
    random_model = randomised_copy(mlp, random_state=0)
    for method in ("gradient_x_input", "integrated_gradients"):
        x = digits.X[9]
        assert _rank_correlation(method, mlp, random_model, digits, x, absolute=False) < 0.5
        assert _rank_correlation(method, mlp, random_model, digits, x, absolute=True) > 0.5


def test_a_logistic_regression_logit_gradient_is_its_coefficient_row(digits):
    model = LogisticRegression(C=0.05, max_iter=500).fit(digits.flat, digits.y)
    x = digits.flat[1]
    target = int(model.predict(x[None])[0])
    grad = class_score_gradient(model, x, target).gradients[0]
    np.testing.assert_allclose(grad, model.coef_[target], rtol=1e-12)  # closed form
    proba_grad = class_score_gradient(model, x, target, score="probability").gradients[0]
    expected = _central_difference(lambda rows: model.predict_proba(rows)[:, target], x)
    np.testing.assert_allclose(proba_grad, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    scrambled = randomised_copy(model, random_state=0)
    assert not np.allclose(scrambled.coef_, model.coef_)


@pytest.mark.parametrize("method", ["gradient", "smoothgrad", "integrated_gradients"])
def test_a_chosen_target_class_is_explained_instead_of_the_prediction(digits, mlp, method):
    """HIVE distinction needs one map per candidate class. Oracle for the plain gradient:
    central finite differences of the target class's probability; for every method, asking
    for the predicted class gives the default map exactly."""
    x = digits.flat[5]
    predicted = int(mlp.predict(x[None])[0])
    other = (predicted + 3) % 10
    default = explain(method, mlp, x, dataset=digits, random_state=0, score="probability")
    same = explain(method, mlp, x, dataset=digits, random_state=0, score="probability",
                   target=predicted)
    np.testing.assert_allclose(same.content["attributions"], default.content["attributions"])
    chosen = explain(method, mlp, x, dataset=digits, random_state=0, score="probability",
                     target=other)
    assert chosen.target == other and chosen.prediction["class_index"] == predicted
    assert chosen.content["explained_class"] == str(other)
    assert chosen.provenance.params["target"] == other
    if method == "gradient":
        expected = _central_difference(lambda rows: mlp.predict_proba(rows)[:, other], x)
        np.testing.assert_allclose(np.ravel(chosen.content["attributions"]), expected,
                                   rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    with pytest.raises(ValueError, match="not a class index"):
        explain(method, mlp, x, dataset=digits, target=10)
