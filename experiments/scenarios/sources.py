"""The six scenarios' data before any model or bug: split, encoded and described.

Everything is read from the compressed CSVs in ``experiments/data`` (or from scikit-learn for the
digits); nothing is downloaded. The split and any training subsample depend only on
``random_state``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from experiments.languages import gettext_noop
from experiments.scenarios import tabular_specs as specs
from experiments.scenarios.columns import ColumnSpec, encode_frame, select_specs
from explainers.base import Feature

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

Task = Literal["classification", "regression"]
Modality = Literal["tabular", "image", "text"]


@dataclass(frozen=True, eq=False)
class Source:
    """Train/test arrays plus everything needed to describe them to a participant."""

    name: str
    task: Task
    modality: Modality
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    description: str
    models: tuple[str, ...]
    features: tuple[Feature, ...] = ()
    class_names: tuple[str, ...] = ()
    positive_class: int | None = None
    key_features: tuple[str, ...] = ()
    target_label: str = ""
    target_unit: str = ""
    image_shape: tuple[int, int] = (0, 0)


# Models offered per scenario; the first is the default.
MODELS: dict[str, tuple[str, ...]] = {
    "adult": ("gbm", "logistic", "mlp"),
    "compas": ("gbm", "logistic", "mlp"),
    "german_credit": ("gbm", "logistic", "mlp"),
    "house_prices": ("linear", "gbm"),
    "digits": ("mlp", "logistic"),
    "sentiment": ("bow_logistic",),
}

DESCRIPTIONS = {
    "adult": (
        "Each profile describes an adult who answered the 1994 United States census: age, "
        "education, work and household. The AI predicts whether the person earns more than "
        "$50,000 a year."
    ),
    "compas": (
        "Each profile describes a defendant from Broward County, Florida, assessed in 2013 or "
        "2014: age, sex, race, juvenile record, number of prior offences and the current charge. "
        "The AI predicts whether the person will be arrested again within two years."
    ),
    "german_credit": (
        "Each profile describes a person who applied for a loan at a German bank (amounts in "
        "Deutsche Mark, DM): the loan, the applicant's accounts, job and housing. The AI predicts "
        "whether the applicant is a good or a bad credit risk."
    ),
    "house_prices": (
        "Each listing describes a house sold in Ames, Iowa, between 2006 and 2010: its size, "
        "quality, age, rooms and lot. The AI predicts the price it sold for, in US dollars."
    ),
    "digits": (
        "Each picture is a small, 8 by 8 pixel scan of a handwritten digit. The AI predicts "
        "which digit, from 0 to 9, the picture shows."
    ),
    "sentiment": (
        "Each text is a short public message posted on Twitter. The AI predicts whether the "
        "writer's feeling is positive or negative."
    ),
}


@lru_cache(maxsize=8)
def read_bundled(name: str) -> pd.DataFrame:
    """One bundled CSV (cached per process; callers must not modify the frame)."""
    return pd.read_csv(DATA_DIR / f"{name}.csv.gz")


def _tabular(
    name: str,
    frame_train: pd.DataFrame,
    frame_test: pd.DataFrame,
    all_specs: Sequence[ColumnSpec],
    features: Sequence[str] | None,
    target: Callable[[pd.DataFrame], np.ndarray],
    *,
    task: Task = "classification",
    class_names: tuple[str, ...] = (),
    positive_class: int | None = None,
    key_features: tuple[str, ...] = (),
    target_label: str = "",
    target_unit: str = "",
) -> Source:
    """Encode a train and a test frame with the chosen columns (``None``: all of them)."""
    column_specs = select_specs(all_specs, features)
    chosen = {spec.feature.name for spec in column_specs}
    return Source(
        name=name,
        task=task,
        modality="tabular",
        X_train=encode_frame(frame_train, column_specs),
        y_train=target(frame_train),
        X_test=encode_frame(frame_test, column_specs),
        y_test=target(frame_test),
        description=DESCRIPTIONS[name],
        models=MODELS[name],
        features=tuple(spec.feature for spec in column_specs),
        class_names=class_names,
        positive_class=positive_class,
        key_features=tuple(n for n in key_features if n in chosen),
        target_label=target_label,
        target_unit=target_unit,
    )


def _split(
    frame: pd.DataFrame, *, test_size: float, random_state: int, stratify: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    labels = frame[stratify] if stratify else None
    train, test = train_test_split(
        frame, test_size=test_size, random_state=random_state, stratify=labels
    )
    return train, test


ADULT_MAX_TRAIN_ROWS = 10_000  # keeps the GBM fit around a second; accuracy is unchanged


def load_adult(*, random_state: int, features: Sequence[str] | None) -> Source:
    """Adult census income: official UCI train/test split, seeded 10,000-row training sample."""
    frame = read_bundled("adult")
    train = frame[frame["split"] == "train"]
    rng = np.random.default_rng(random_state)
    train = train.iloc[np.sort(rng.choice(len(train), ADULT_MAX_TRAIN_ROWS, replace=False))]
    test = frame[frame["split"] == "test"]
    return _tabular(
        "adult",
        train,
        test,
        specs.ADULT,
        features,
        lambda f: (f["income"] == ">50K").to_numpy(dtype=int),
        class_names=(gettext_noop("$50K or less"), gettext_noop("More than $50K")),
        positive_class=1,
    )


def load_compas(*, random_state: int, features: Sequence[str] | None) -> Source:
    """ProPublica COMPAS two-year recidivism, stratified 70/30 split."""
    train, test = _split(
        read_bundled("compas"), test_size=0.3, random_state=random_state, stratify="two_year_recid"
    )
    return _tabular(
        "compas",
        train,
        test,
        specs.COMPAS,
        features,
        lambda f: f["two_year_recid"].to_numpy(dtype=int),
        class_names=(gettext_noop("Not re-arrested"),
                     gettext_noop("Re-arrested within two years")),
        positive_class=1,
    )


def load_german_credit(*, random_state: int, features: Sequence[str] | None) -> Source:
    """Statlog German credit (1,000 applicants), stratified 70/30 split; 1 = good risk."""
    train, test = _split(
        read_bundled("german_credit"), test_size=0.3, random_state=random_state, stratify="credit"
    )
    return _tabular(
        "german_credit",
        train,
        test,
        specs.GERMAN_CREDIT,
        features,
        lambda f: (f["credit"] == "good").to_numpy(dtype=int),
        class_names=(gettext_noop("Bad credit risk"), gettext_noop("Good credit risk")),
        positive_class=1,
    )


def load_house_prices(*, random_state: int, features: Sequence[str] | None) -> Source:
    """Ames house prices, eight features, 75/25 split; the target is the sale price in dollars."""
    frame = read_bundled("house_prices")
    frame = frame.assign(HouseAge=frame["YrSold"] - frame["YearBuilt"])
    train, test = _split(frame, test_size=0.25, random_state=random_state, stratify=None)
    return _tabular(
        "house_prices",
        train,
        test,
        specs.HOUSE_PRICES,
        features,
        lambda f: f["SalePrice"].to_numpy(dtype=float),
        task="regression",
        key_features=specs.HOUSE_PRICES_KEY_FEATURES,
        target_label=gettext_noop("Sale price"),
        target_unit=gettext_noop("dollars"),
    )


def load_digits_source(*, random_state: int, features: Sequence[str] | None) -> Source:
    """scikit-learn's 1,797 8x8 digits (pixel values 0-16), stratified 70/30 split."""
    from sklearn.datasets import load_digits

    if features is not None:
        raise ValueError("the digits scenario has no named features to select")
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data,
        digits.target,
        test_size=0.3,
        random_state=random_state,
        stratify=digits.target,
    )
    return Source(
        name="digits",
        task="classification",
        modality="image",
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        description=DESCRIPTIONS["digits"],
        models=MODELS["digits"],
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(8, 8),
    )


def load_sentiment(*, random_state: int, features: Sequence[str] | None) -> Source:
    """6,000 balanced positive/negative tweets, stratified 75/25 split; 1 = positive."""
    if features is not None:
        raise ValueError("the sentiment scenario has no named features to select")
    frame = read_bundled("sentiment")
    train, test = _split(frame, test_size=0.25, random_state=random_state, stratify="sentiment")
    return Source(
        name="sentiment",
        task="classification",
        modality="text",
        X_train=train["text"].to_numpy(dtype=object),
        y_train=(train["sentiment"] == "positive").to_numpy(dtype=int),
        X_test=test["text"].to_numpy(dtype=object),
        y_test=(test["sentiment"] == "positive").to_numpy(dtype=int),
        description=DESCRIPTIONS["sentiment"],
        models=MODELS["sentiment"],
        class_names=(gettext_noop("Negative"), gettext_noop("Positive")),
        positive_class=1,
    )


# Scenarios whose target is a number (the rest are classification), known without loading data
# so that a spec can be checked against its task design.
REGRESSION_SCENARIOS = frozenset({"house_prices"})
MODALITIES = {"adult": "tabular", "compas": "tabular", "german_credit": "tabular",
              "house_prices": "tabular", "digits": "image", "sentiment": "text"}

LOADERS: dict[str, Callable[..., Source]] = {
    "adult": load_adult,
    "compas": load_compas,
    "german_credit": load_german_credit,
    "house_prices": load_house_prices,
    "digits": load_digits_source,
    "sentiment": load_sentiment,
}


def load_source(name: str, *, random_state: int, features: Sequence[str] | None) -> Source:
    """The named scenario's data, split by ``random_state``."""
    if name not in LOADERS:
        raise ValueError(f"unknown scenario {name!r}; choose from {sorted(LOADERS)}")
    return LOADERS[name](random_state=random_state, features=features)


_TABLE_COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {
    "adult": specs.ADULT, "compas": specs.COMPAS, "german_credit": specs.GERMAN_CREDIT,
    "house_prices": specs.HOUSE_PRICES}


def scenario_columns(name: str) -> list[str]:
    """The feature (column) names of a table scenario, known without loading its data."""
    return [spec.feature.name for spec in _TABLE_COLUMNS.get(name, ())]
