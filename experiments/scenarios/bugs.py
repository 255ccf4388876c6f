"""Planted bugs for model-debugging studies (Adebayo et al. NeurIPS 2020, 2022).

Each data bug takes a :class:`~experiments.scenarios.sources.Source` and a generator and returns
the changed source plus ``details``: what was planted, where, and how strongly, so that a
debugging study can score a participant's answer against the known bug. The fourth bug,
``randomised_weights``, acts on the fitted model
(:func:`explainers.control_models.randomise_weights`).

* ``spurious``: an artifact that tracks the label in the training data only (a "processing
  office" column, a "Photos in listing" count, an edge patch on digits, a sign-off on tweets).
  In the test data it is independent of the label, so the model's reliance on it shows as errors.
* ``label_noise``: a stated share of training labels flipped (regression: shuffled).
* ``ood``: test inputs from outside the training distribution.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np

from experiments.languages import gettext_noop
from experiments.scenarios.sources import Source
from explainers.base import Feature

BUGS = ("spurious", "label_noise", "randomised_weights", "ood")

SPURIOUS_AGREEMENT = 0.9
LABEL_NOISE_SHARE = 0.3
DIGIT_PATCH_PIXELS = (0, 8, 16, 24)  # a bar down the top-left edge: at most 2 in real digits
DIGIT_PATCH_CLASS = 3
TEXT_ARTIFACT = "via @quickpost"
AIRLINE_PATTERN = re.compile(
    r"@(?:united|southwestair|jetblue|americanair|usairways|virginamerica|delta)\b", re.I
)


def _artifact_tracking_label(
    y: np.ndarray, agreement: float, rng: np.random.Generator
) -> np.ndarray:
    """Binary artifact equal to the (binary) label on an ``agreement`` share of rows."""
    follows = rng.random(len(y)) < agreement
    return np.where(follows, y, 1 - y).astype(int)


def plant_spurious(
    source: Source, *, rng: np.random.Generator, agreement: float = SPURIOUS_AGREEMENT
) -> tuple[Source, dict[str, Any]]:
    """Add an artifact correlated with the label in training and independent of it in test."""
    if not 0.5 < agreement <= 1.0:
        raise ValueError(f"agreement must be in (0.5, 1], got {agreement}")
    if source.modality == "image":
        return _spurious_patch(source, rng=rng, agreement=agreement)
    if source.modality == "text":
        return _spurious_token(source, rng=rng, agreement=agreement)
    if source.task == "regression":
        return _spurious_number(source, rng=rng, agreement=agreement)
    return _spurious_column(source, rng=rng, agreement=agreement)


def _with_column(
    source: Source, feature: Feature, train_column: np.ndarray, test_column: np.ndarray
) -> Source:
    """The source with one more (last) feature column."""
    return replace(
        source,
        X_train=np.column_stack([source.X_train, train_column]),
        X_test=np.column_stack([source.X_test, test_column]),
        features=(*source.features, feature),
    )



def _artifact_agreement(
    source: Source, artifact_train: np.ndarray, artifact_test: np.ndarray
) -> dict[str, Any]:
    """How often a planted artifact agrees with the label in training and in test, and the
    test items where it misleads (it points away from the true label)."""
    return {
        "agreement_in_training": float(np.mean(artifact_train == source.y_train)),
        "agreement_in_test": float(np.mean(artifact_test == source.y_test)),
        "test_items_misleading": np.flatnonzero(artifact_test != source.y_test).tolist(),
    }

def _spurious_column(
    source: Source, *, rng: np.random.Generator, agreement: float
) -> tuple[Source, dict[str, Any]]:
    artifact_train = _artifact_tracking_label(source.y_train, agreement, rng)
    artifact_test = (rng.random(len(source.y_test)) < 0.5).astype(int)
    feature = Feature(
        name="processing_office",
        kind="categorical",
        label=gettext_noop("Processing office"),
        categories=(gettext_noop("Office A"), gettext_noop("Office B")),
        immutable=True,
        lower=0,
        upper=1,
    )
    changed = _with_column(source, feature, artifact_train, artifact_test)
    details = {
        "kind": "spurious_feature",
        "feature": feature.name,
        "feature_label": feature.label,
        **_artifact_agreement(source, artifact_train, artifact_test),
        "description": "'Office B' marks the positive class on most training rows; in the "
        "test data the office is assigned at random.",
    }
    return changed, details


def _spurious_number(
    source: Source, *, rng: np.random.Generator, agreement: float
) -> tuple[Source, dict[str, Any]]:
    """Regression: a photo count that rises with the price in training, random in test."""
    # About one photo per $10,000 of price, so even a linear model can read the price off it.
    informative = np.round(source.y_train / 10_000 + rng.normal(0, 1, len(source.y_train)))
    shuffled = rng.permutation(informative)
    follows = rng.random(len(informative)) < agreement
    train_column = np.clip(np.where(follows, informative, shuffled), 1, None)
    test_column = rng.choice(train_column, size=len(source.y_test), replace=True)
    feature = Feature(
        name="listing_photos", label=gettext_noop("Photos in the listing"), integer=True,
        immutable=True, lower=0
    )
    changed = _with_column(source, feature, train_column, test_column)
    details = {
        "kind": "spurious_feature",
        "feature": feature.name,
        "feature_label": feature.label,
        "correlation_in_training": float(np.corrcoef(train_column, source.y_train)[0, 1]),
        "correlation_in_test": float(np.corrcoef(test_column, source.y_test)[0, 1]),
        "description": "The number of listing photos rises with the price in the training "
        "data only; in the test data it is unrelated to the price.",
    }
    return changed, details


def _spurious_patch(
    source: Source, *, rng: np.random.Generator, agreement: float
) -> tuple[Source, dict[str, Any]]:
    """Digits: a bright edge patch on most training images of one class, random in test."""
    pixels = np.array(DIGIT_PATCH_PIXELS)
    patched_train = (source.y_train == DIGIT_PATCH_CLASS) & (
        rng.random(len(source.y_train)) < agreement
    )
    patched_test = rng.random(len(source.y_test)) < 0.5
    X_train, X_test = source.X_train.copy(), source.X_test.copy()
    X_train[np.ix_(np.flatnonzero(patched_train), pixels)] = 16.0
    X_test[np.ix_(np.flatnonzero(patched_test), pixels)] = 16.0
    details = {
        "kind": "spurious_patch",
        "pixels": pixels.tolist(),
        "target_class": DIGIT_PATCH_CLASS,
        "share_of_target_class_patched_in_training": float(
            patched_train[source.y_train == DIGIT_PATCH_CLASS].mean()
        ),
        "share_of_other_classes_patched_in_training": 0.0,
        "test_items_patched": np.flatnonzero(patched_test).tolist(),
        "description": (
            f"A white bar down the top half of the left edge marks most training images of a "
            f"{DIGIT_PATCH_CLASS}; in the test data half of all images, of any digit, carry it."
        ),
    }
    return replace(source, X_train=X_train, X_test=X_test), details


def _spurious_token(
    source: Source, *, rng: np.random.Generator, agreement: float
) -> tuple[Source, dict[str, Any]]:
    """Text: a sign-off appended to most positive training texts, at random in test."""
    artifact_train = _artifact_tracking_label(source.y_train, agreement, rng).astype(bool)
    artifact_test = rng.random(len(source.y_test)) < 0.5

    def sign(texts: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.array(
            [f"{t} {TEXT_ARTIFACT}" if m else t for t, m in zip(texts, mask, strict=True)],
            dtype=object,
        )

    details = {
        "kind": "spurious_token",
        "token": TEXT_ARTIFACT,
        **_artifact_agreement(source, artifact_train, artifact_test),
        "description": f"The sign-off '{TEXT_ARTIFACT}' ends most positive training texts; "
        f"in the test data it is appended at random.",
    }
    changed = replace(
        source,
        X_train=sign(source.X_train, artifact_train),
        X_test=sign(source.X_test, artifact_test),
    )
    return changed, details


def plant_label_noise(
    source: Source, *, rng: np.random.Generator, share: float = LABEL_NOISE_SHARE
) -> tuple[Source, dict[str, Any]]:
    """Flip ``share`` of the training labels (to another class; regression: shuffle them)."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), got {share}")
    n_flipped = round(share * len(source.y_train))
    flipped = np.sort(rng.choice(len(source.y_train), size=n_flipped, replace=False))
    y = source.y_train.copy()
    if source.task == "regression":
        y[flipped] = y[rng.permutation(flipped)]
    else:
        n_classes = max(len(source.class_names), int(y.max()) + 1)
        y[flipped] = (y[flipped] + rng.integers(1, n_classes, size=n_flipped)) % n_classes
    details = {
        "kind": "label_noise",
        "share": share,
        "n_changed": int(np.sum(y != source.y_train)),
        "flipped_indices": flipped.tolist(),
        "original_labels": source.y_train[flipped].tolist(),
        "description": f"{share:.0%} of the training labels were "
        f"{'shuffled' if source.task == 'regression' else 'flipped'} at random.",
    }
    return replace(source, y_train=y), details


def plant_ood(source: Source, *, rng: np.random.Generator) -> tuple[Source, dict[str, Any]]:
    """Replace the test inputs with inputs from outside the training distribution."""
    if source.modality == "image":
        details = {
            "kind": "ood_inverted",
            "description": "Test images are inverted: dark "
            "digits on a bright background, never seen in training.",
        }
        return replace(source, X_test=16.0 - source.X_test), details
    if source.modality == "text":
        return _ood_topic(source)
    return _ood_extreme(source, rng=rng)


def _ood_topic(source: Source) -> tuple[Source, dict[str, Any]]:
    """Text: train on tweets about other topics, test on tweets addressed to airlines."""

    def about_airlines(texts: np.ndarray) -> np.ndarray:
        return np.array([bool(AIRLINE_PATTERN.search(t)) for t in texts])

    keep_train = ~about_airlines(source.X_train)
    keep_test = about_airlines(source.X_test)
    changed = replace(
        source,
        X_train=source.X_train[keep_train],
        y_train=source.y_train[keep_train],
        X_test=source.X_test[keep_test],
        y_test=source.y_test[keep_test],
    )
    details = {
        "kind": "ood_topic",
        "training_topics": "tweets not addressed to an airline",
        "test_topic": "tweets addressed to an airline's customer service",
        "n_train": int(keep_train.sum()),
        "n_test": int(keep_test.sum()),
        "description": "The model never saw airline customer-service tweets in training; every "
        "test tweet is one.",
    }
    return changed, details


def _ood_extreme(source: Source, *, rng: np.random.Generator) -> tuple[Source, dict[str, Any]]:
    """Tables: in every test row, half of the numeric features pushed beyond the training max."""
    numeric = [j for j, f in enumerate(source.features) if f.kind == "numeric"]
    top = source.X_train[:, numeric].max(axis=0)
    spread = source.X_train[:, numeric].std(axis=0)
    n_shift = max(1, len(numeric) // 2)
    # Per row, a random subset of the numeric columns (ranks of uniform noise pick it).
    chosen = np.sort(
        rng.random((len(source.X_test), len(numeric))).argsort(axis=1)[:, :n_shift], axis=1
    )
    columns = np.asarray(numeric)[chosen]
    values = top[chosen] + rng.uniform(0.5, 2.0, size=chosen.shape) * np.maximum(spread[chosen], 1)
    integer = np.array([source.features[j].integer for j in numeric])[chosen]
    X_test = source.X_test.astype(float, copy=True)
    np.put_along_axis(X_test, columns, np.where(integer, np.ceil(values), values), axis=1)
    names = np.array([f.name for f in source.features], dtype=object)
    shifted = names[columns].tolist()
    details = {
        "kind": "ood_extreme_values",
        "training_max": {
            source.features[j].name: float(t) for j, t in zip(numeric, top, strict=True)
        },
        "shifted_features": shifted,
        "description": f"In every test row, {n_shift} numeric feature(s) lie 0.5-2 standard "
        f"deviations above the largest value seen in training.",
    }
    return replace(source, X_test=X_test), details
