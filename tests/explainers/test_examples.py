"""Example-based explanations: nearest rows, ProtoDash prototypes, logistic influence.

Oracles: brute-force distance sorting (nearest), the objective recomputed from its definition
and a brute-force search over pairs (ProtoDash), and actual leave-one-out retraining (influence).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.datasets import load_digits
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from explainers import Feature, TabularDataset, explain
from explainers.data import ImageDataset, TextDataset
from explainers.prototypes import gaussian_kernel, influence_on_prediction, protodash
from explainers.render import render_html


@pytest.fixture(scope="module")
def small_credit() -> tuple[TabularDataset, LogisticRegression]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1.0, 5.0, 0.5] + [0.0, 40.0, 2.0]
    y = (X[:, 0] + 0.2 * (X[:, 1] - 40) - X[:, 2] + 2 + rng.normal(0, 1, 60) > 0).astype(int)
    y[:3] = 1 - y[:3]  # three mislabelled rows
    features = (Feature("debt"), Feature("age", integer=True), Feature("loans"))
    data = TabularDataset(X, features, ("denied", "approved"), y)
    model = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    return data, model


def _objective(K, mu, chosen, weights):
    sub = K[np.ix_(chosen, chosen)]
    return weights @ mu[chosen] - weights @ sub @ weights / 2


def test_nearest_examples_are_the_brute_force_closest_rows_in_standardised_space(small_credit):
    data, model = small_credit
    x = data.X[10] + 0.01
    e = explain("nearest_examples", model, x, dataset=data, k=4)
    Z = (data.X - data.X.mean(0)) / data.X.std(0)
    z = (x - data.X.mean(0)) / data.X.std(0)
    expected = sorted(range(len(Z)), key=lambda i: float(np.sum((Z[i] - z) ** 2)))[:4]
    assert [ex["index"] for ex in e.content["examples"]] == expected
    assert e.content["examples"][0]["features"]["age"] == f"{round(data.X[10, 1])}"


def test_nearest_examples_of_the_same_class_carry_the_predicted_label(small_credit):
    data, model = small_credit
    e = explain("nearest_examples", model, data.X[5], dataset=data, k=5, same_class=True)
    assert all(ex["label"] == e.target for ex in e.content["examples"])
    assert {"prediction", "prediction_name", "label_name"} <= set(e.content["examples"][0])


def test_a_training_row_is_not_its_own_nearest_example_when_excluded():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    dataset = TabularDataset(X=X, features=tuple(Feature(f"x{i}", "numeric") for i in range(3)),
                             class_names=("no", "yes"), y=y)
    model = LogisticRegression().fit(X, y)
    with_self = explain("nearest_examples", model, X[7], dataset=dataset, k=3)
    without = explain("nearest_examples", model, X[7], dataset=dataset, k=3,
                      exclude_identical=True)
    assert with_self.content["examples"][0]["index"] == 7
    z = (X - X.mean(axis=0)) / X.std(axis=0)
    distances = np.linalg.norm(z - z[7], axis=1)
    distances[7] = np.inf
    expected = list(np.argsort(distances, kind="stable")[:3])
    assert [e["index"] for e in without.content["examples"]] == expected


def test_protodash_objective_never_decreases_and_matches_its_definition():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4))
    result = protodash(X, X, n_prototypes=8, kernel_width=1.5)
    assert np.all(np.diff(result.objectives) >= -1e-12)
    assert np.all(result.weights >= 0)
    K = gaussian_kernel(X, X, 1.5)
    mu = K.mean(axis=1)
    assert result.objectives[-1] == pytest.approx(_objective(K, mu, result.indices, result.weights))


def test_protodash_weights_are_optimal_for_the_chosen_set_against_a_grid_search():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 2))
    result = protodash(X, X, n_prototypes=2, kernel_width=1.0)
    K = gaussian_kernel(X, X, 1.0)
    mu = K.mean(axis=1)
    grid = np.linspace(0, 1.5, 151)
    best = max(
        _objective(K, mu, result.indices, np.array(w)) for w in itertools.product(grid, grid)
    )
    assert result.objectives[-1] >= best - 1e-9


def test_prototypes_of_a_two_cluster_data_set_come_from_both_clusters():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(-5, 0.5, size=(40, 2)), rng.normal(5, 0.5, size=(40, 2))])
    y = np.zeros(80, dtype=int)
    data = TabularDataset(X, (Feature("a"), Feature("b")), ("only",), y)

    class OneClass:
        def predict_proba(self, rows):
            return np.ones((len(np.atleast_2d(rows)), 1))

        def predict(self, rows):
            return np.zeros(len(np.atleast_2d(rows)), dtype=int)

    e = explain("prototypes", OneClass(), X[0], dataset=data, n_prototypes=4, random_state=0)
    chosen = [ex["index"] for ex in e.content["examples"]]
    assert any(i < 40 for i in chosen) and any(i >= 40 for i in chosen)
    assert sum(ex["score"] for ex in e.content["examples"]) == pytest.approx(1.0)


def test_prototypes_of_a_digit_come_from_its_predicted_class():
    d = load_digits()
    data = ImageDataset(d.images[:300] / 16, d.target[:300], tuple("0123456789"), (8, 8))
    model = MLPClassifier((16,), max_iter=200, random_state=0).fit(data.flat, data.y)
    e = explain("prototypes", model, data.X[0], dataset=data, n_prototypes=3, random_state=0)
    assert all(ex["label"] == e.target for ex in e.content["examples"])
    assert np.asarray(e.content["examples"][0]["image"]).shape == (8, 8)


def test_influence_agrees_with_leave_one_out_retraining(small_credit):
    data, model = small_credit
    x = np.array([0.3, 41.0, 2.2])
    target = int(model.predict(x[None])[0])

    def loss(m):
        return -np.log(m.predict_proba(x[None])[0, target])

    base = loss(model)
    with threadpool_limits(1):  # 60 tiny fits: BLAS threads only contend with each other
        actual = np.array(
            [
                loss(
                    LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(
                        np.delete(data.X, i, 0), np.delete(data.y, i)
                    )
                )
                - base
                for i in range(len(data.X))
            ]
        )
    predicted = influence_on_prediction(model, data.X, data.y, x, target)
    assert pearsonr(predicted, actual).statistic > 0.95
    top = np.argsort(-np.abs(actual))[:5]
    assert np.all(np.sign(predicted[top]) == np.sign(actual[top]))


def test_influence_payload_splits_supporting_and_opposing_rows(small_credit):
    data, model = small_credit
    e = explain("influence", model, data.X[20], dataset=data, k=3)
    roles = [ex["role"] for ex in e.content["examples"]]
    assert set(roles) <= {"supports", "opposes"}
    for ex in e.content["examples"]:
        assert (ex["score"] > 0) == (ex["role"] == "supports")
    e.to_json()


def test_nearest_examples_of_a_text_start_with_its_own_copy_in_the_corpus():
    texts = tuple(
        f"{a} film with {b} acting"
        for a in ("great", "dull", "lovely", "awful")
        for b in ("fine", "poor", "good")
    )
    labels = np.array([1 if t.startswith(("great", "lovely")) else 0 for t in texts])
    corpus = TextDataset(texts, labels, ("negative", "positive"))
    model = make_pipeline(CountVectorizer(), LogisticRegression()).fit(list(texts), labels)
    e = explain("nearest_examples", model, texts[4], dataset=corpus, k=3)
    first = e.content["examples"][0]
    assert first["index"] == 4 and first["score"] == pytest.approx(0.0, abs=1e-9)  # identity
    assert first["text"] == texts[4] and e.content["query_text"] == texts[4]
    html = render_html(e)
    assert html.count("<blockquote") == 3


def test_planted_label_flips_dominate_the_largest_influences():
    # Oracle: the rows whose labels were flipped on purpose (5% of the training data).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X @ [1, -1, 0.5, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    flipped = rng.choice(400, 20, replace=False)
    y[flipped] = 1 - y[flipped]
    model = LogisticRegression().fit(X, y)
    shares = []
    for x in rng.normal(size=(10, 4)):
        target = int(model.predict(x[None])[0])
        scores = influence_on_prediction(model, X, y, x, target)
        shares.append(np.isin(np.argsort(-np.abs(scores))[:10], flipped).mean())
    assert np.mean(shares) > 0.5  # against a base rate of 0.05
