"""LIME for texts (Ribeiro et al. 2016): which words pushed the prediction, and how much.

The model is a pipeline that takes raw strings (e.g. TfidfVectorizer + LogisticRegression).
Each perturbed text removes every occurrence of a random subset of the distinct words; a
weighted ridge regression of the predicted class's output on the word-present mask gives one
weight per word. Samples are weighted by an exponential kernel of the cosine distance between
the mask and the full text, as in the reference implementation (distance x 100, width 25).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
from sklearn.linear_model import Ridge

from explainers._common import build_explanation, prediction_dict
from explainers.base import Classifier, Explanation
from explainers.data import TextDataset
from explainers.payloads import TextContent, Token, WordWeight
from explainers.registry import register

WORD = re.compile(r"\w+", re.UNICODE)


def tokenise(text: str) -> tuple[list[Token], list[str], np.ndarray]:
    """(tokens covering the whole text, distinct lower-cased words, word id of each token or -1)."""
    tokens: list[Token] = []
    words: list[str] = []
    ids: list[int] = []
    position = 0
    for match in WORD.finditer(text):
        if match.start() > position:
            tokens.append(
                {
                    "text": text[position : match.start()],
                    "start": position,
                    "end": match.start(),
                    "weight": None,
                }
            )
            ids.append(-1)
        word = match.group().lower()
        if word not in words:
            words.append(word)
        tokens.append(
            {"text": match.group(), "start": match.start(), "end": match.end(), "weight": None}
        )
        ids.append(words.index(word))
        position = match.end()
    if position < len(text):
        tokens.append(
            {"text": text[position:], "start": position, "end": len(text), "weight": None}
        )
        ids.append(-1)
    return tokens, words, np.array(ids, dtype=int)


def _without(tokens: list[Token], ids: np.ndarray, keep: np.ndarray) -> str:
    """The text with every token of a removed word left out (gaps kept, so words stay apart)."""
    return "".join(t["text"] for t, i in zip(tokens, ids, strict=True) if i < 0 or keep[i])


@register("lime_text")
def explain_lime_text(
    model: Classifier,
    x: Any,
    *,
    dataset: TextDataset | None,
    random_state: int | None = None,
    num_samples: int = 1000,
    kernel_width: float = 25.0,
    output: Literal["probability", "log_odds"] = "probability",
    alpha: float = 1.0,
) -> Explanation:
    """Word weights for the predicted class of ``x`` (a string).

    ``output="probability"`` regresses the predicted class's probability (LIME's default);
    ``"log_odds"`` its log-odds, which a linear bag-of-words model turns into an exact sum.
    """
    text = str(x)
    proba = np.asarray(model.predict_proba([text]))[0]
    target = int(np.argmax(proba))
    tokens, words, ids = tokenise(text)
    rng = np.random.default_rng(random_state)
    masks = _masks(len(words), num_samples, rng)
    texts = [_without(tokens, ids, m) for m in masks]
    y = np.asarray(model.predict_proba(texts))[:, target]
    if output == "log_odds":
        y = np.log(np.clip(y, 1e-12, 1) / np.clip(1 - y, 1e-12, 1))
    coef, intercept, local, fit = _weighted_ridge(masks, y, kernel_width, alpha)
    for token, i in zip(tokens, ids, strict=True):
        token["weight"] = float(coef[i]) if i >= 0 else None
    counts = np.bincount(ids[ids >= 0], minlength=len(words))
    ranked: list[WordWeight] = sorted(
        (
            {"word": w, "weight": float(c), "count": int(n)}
            for w, c, n in zip(words, coef, counts, strict=True)
        ),
        key=lambda item: -abs(item["weight"]),
    )
    content: TextContent = {
        "text": text,
        "tokens": tokens,
        "words": ranked,
        "output": output,
        "intercept": intercept,
    }
    return build_explanation(
        kind="text",
        method="lime_text",
        model=model,
        prediction=prediction_dict(proba, dataset.class_names if dataset is not None else ()),
        content=content,
        params={
            "num_samples": num_samples,
            "kernel_width": kernel_width,
            "output": output,
            "alpha": alpha,
        },
        random_state=random_state,
        metrics={
            "local_prediction": local,
            "explained_value": float(y[0]),
            "score": fit,
        },
    )


def _weighted_ridge(
    masks: np.ndarray, y: np.ndarray, kernel_width: float, alpha: float
) -> tuple[np.ndarray, float, float, float]:
    """(word weights, intercept, local prediction for the full text, weighted R^2).

    LIME's kernel on the cosine distance between each mask and the full text (x 100). Note
    that, as in the reference implementation, very short texts get tiny sample weights for
    every perturbation, so ridge's penalty shrinks their word weights towards zero.
    """
    if masks.shape[1] == 0:  # no words: nothing to attribute
        return np.zeros(0), float(y[0]), float(y[0]), 0.0
    kept = masks.sum(axis=1)
    cosine = 1 - kept / np.sqrt(np.maximum(kept, 1) * masks.shape[1])
    weights = np.sqrt(np.exp(-((cosine * 100) ** 2) / kernel_width**2))
    ridge = Ridge(alpha=alpha).fit(masks, y, sample_weight=weights)
    local = float(ridge.predict(masks[:1])[0])
    fit = float(ridge.score(masks, y, sample_weight=weights))
    return np.asarray(ridge.coef_), float(ridge.intercept_), local, fit


def _masks(n_words: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Row 0 keeps every word; each other row removes a uniformly sized random subset."""
    masks = np.ones((n, n_words))
    for row in masks[1:]:
        if n_words:
            removed = rng.choice(n_words, size=rng.integers(1, n_words + 1), replace=False)
            row[removed] = 0
    return masks
