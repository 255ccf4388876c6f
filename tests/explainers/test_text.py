"""LIME word weights for bag-of-words pipelines on a small synthetic sentiment corpus.

Oracle: for a linear bag-of-words model the contribution of a word is exactly
coefficient x presence, so LIME's weights must agree with it in sign and rank (and, on the
log-odds scale, in value).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from explainers import explain
from explainers.data import TextDataset
from explainers.methods.text import tokenise

POSITIVE = ["good", "great", "excellent", "lovely", "fun"]
NEGATIVE = ["bad", "awful", "boring", "terrible", "dull"]
NEUTRAL = ["the", "film", "plot", "was", "acting", "and", "story", "cast"]


@pytest.fixture(scope="module")
def corpus() -> TextDataset:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for _ in range(400):
        label = int(rng.integers(2))
        strong = POSITIVE if label else NEGATIVE
        words = list(rng.choice(strong, size=rng.integers(1, 4)))
        words += list(rng.choice(POSITIVE + NEGATIVE, size=rng.integers(0, 2)))
        words += list(rng.choice(NEUTRAL, size=rng.integers(2, 6)))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return TextDataset(tuple(texts), np.array(labels), ("negative", "positive"))


@pytest.fixture(scope="module")
def linear_bow(corpus):
    return make_pipeline(CountVectorizer(), LogisticRegression(C=0.5)).fit(
        list(corpus.texts), corpus.y
    )


TEXT = "The plot was dull, but the cast was great and the story excellent; fun, fun!"


def _oracle(model, text, target):
    vectorizer, lr = model[0], model[-1]
    coef = lr.coef_[0] * (1 if target == 1 else -1)
    counts = vectorizer.transform([text]).toarray()[0]
    vocabulary = vectorizer.vocabulary_
    return {
        w: coef[vocabulary[w]] * counts[vocabulary[w]] if w in vocabulary else 0.0
        for w in tokenise(text)[1]
    }


def test_log_odds_weights_equal_coefficient_times_count_for_a_linear_model(corpus, linear_bow):
    e = explain(
        "lime_text", linear_bow, TEXT, dataset=corpus, random_state=0, output="log_odds", alpha=1e-6
    )
    expected = _oracle(linear_bow, TEXT, e.target)
    for item in e.content["words"]:
        assert item["weight"] == pytest.approx(expected[item["word"]], abs=1e-4)


def test_probability_weights_agree_in_sign_and_rank_with_coefficient_times_presence(
    corpus, linear_bow
):
    e = explain("lime_text", linear_bow, TEXT, dataset=corpus, random_state=0)
    expected = _oracle(linear_bow, TEXT, e.target)
    words = [w for w in expected if abs(expected[w]) > 0.3]
    got = {item["word"]: item["weight"] for item in e.content["words"]}
    assert all(np.sign(got[w]) == np.sign(expected[w]) for w in words)
    assert spearmanr([got[w] for w in words], [expected[w] for w in words]).statistic > 0.95


def test_tokens_cover_the_text_and_carry_their_words_weight(corpus, linear_bow):
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(list(corpus.texts), corpus.y)
    e = explain("lime_text", model, TEXT, dataset=corpus, random_state=1, num_samples=300)
    assert "".join(t["text"] for t in e.content["tokens"]) == TEXT
    weights = {item["word"]: item["weight"] for item in e.content["words"]}
    for token in e.content["tokens"]:
        if token["weight"] is not None:
            assert token["weight"] == weights[token["text"].lower()]
    assert next(i for i in e.content["words"] if i["word"] == "fun")["count"] == 2
    assert e.prediction["class_name"] in corpus.class_names
    e.to_json()


def test_lime_text_is_reproducible_from_its_seed(corpus, linear_bow):
    a = explain("lime_text", linear_bow, TEXT, dataset=corpus, random_state=5, num_samples=200)
    b = explain("lime_text", linear_bow, TEXT, dataset=corpus, random_state=5, num_samples=200)
    assert a.fingerprint == b.fingerprint


def test_a_text_without_words_gets_an_empty_serialisable_explanation(corpus, linear_bow):
    e = explain("lime_text", linear_bow, "?!", dataset=corpus, random_state=0, num_samples=20)
    assert e.content["words"] == [] and e.content["tokens"][0]["weight"] is None
    e.to_json()
