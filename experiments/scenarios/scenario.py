"""The :class:`Scenario`: data, a fitted model and (optionally) a planted bug, ready for a study.

``load_scenario`` is cached per process on all its arguments; the cached arrays are made
read-only so that one caller cannot change what the next one sees. Nothing is written to or read
from disk except the bundled CSVs: models are trained on first use (a second or two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from experiments.scenarios.bugs import (
    BUGS,
    LABEL_NOISE_SHARE,
    SPURIOUS_AGREEMENT,
    plant_label_noise,
    plant_ood,
    plant_spurious,
)
from experiments.scenarios.model_card import model_card
from experiments.scenarios.model_training import fit_model
from experiments.scenarios.own import (
    SUPPLIED,
    Material,
    default_model,
    own_source,
    raw_categories,
)
from experiments.scenarios.sources import LOADERS, MODELS, Source, Task, load_source
from explainers.base import Feature, TabularDataset
from explainers.control_models import randomise_weights
from explainers.data import ImageDataset, TextDataset

Dataset = TabularDataset | ImageDataset | TextDataset


@dataclass(frozen=True, eq=False)
class Scenario:
    """One task for participants: data, fitted model, description, and any planted bug.

    ``dataset`` describes the *training* data (the background explainers draw from). The model
    consumes rows of ``X_test`` directly: coded feature matrices for tables, flattened 0-16
    pixels for digits, raw strings for text. ``bug_details`` says exactly what was planted.
    """

    name: str
    task: Task
    dataset: Dataset
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    model: Any
    model_name: str
    bug: str | None
    description: str
    positive_class: int | None
    bug_details: dict[str, Any] = field(default_factory=dict)
    random_state: int = 0
    class_names: tuple[str, ...] = ()
    key_features: tuple[str, ...] = ()
    target_label: str = ""
    target_unit: str = ""
    # Where the data came from (own material: file name and content hashes, excluded columns).
    provenance: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def model_card(self) -> dict[str, Any]:
        """The model, its data and split, and its metrics on the test split (plain JSON)."""
        return model_card(self, provenance=self.provenance)

    @property
    def features(self) -> tuple[Feature, ...]:
        """The table's feature descriptions (empty for images and text)."""
        return self.dataset.features if isinstance(self.dataset, TabularDataset) else ()

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    @cached_property
    def test_predictions(self) -> np.ndarray:
        """The model's output for every test item (class index, or value for regression)."""
        return _read_only(np.asarray(self.model.predict(self.X_test)))

    @property
    def ai_correct(self) -> np.ndarray:
        """Whether the model is right on each test item (classification only)."""
        if self.task != "classification":
            raise ValueError("ai_correct is defined for classification; use model_error")
        return self.test_predictions == self.y_test

    @property
    def model_error(self) -> np.ndarray:
        """Absolute error per test item (regression), or 1 - probability of the true class."""
        if self.task == "regression":
            return np.abs(self.test_predictions - self.y_test)
        proba = self.model.predict_proba(self.X_test)
        return 1.0 - proba[np.arange(self.n_test), self.y_test]

    def item(self, i: int) -> dict[str, Any]:
        """Test item ``i`` as a participant sees it.

        Tables: feature label -> display value. Digits: ``{"image": 8x8 nested list of pixel
        values 0-16}``. Text: ``{"text": str}``. Always plain JSON types, so it can be stored as
        the record of what was shown.
        """
        x = self.X_test[i]
        if isinstance(self.dataset, TabularDataset):
            return self.dataset.describe_row(x)
        if isinstance(self.dataset, ImageDataset):
            return {"image": np.asarray(x, dtype=float).reshape(self.dataset.shape).tolist()}
        return {"text": str(x)}

    def predict(self, i: int) -> int | float:
        """The model's output for test item ``i``: class index, or value for regression."""
        value = self.test_predictions[i]
        return float(value) if self.task == "regression" else int(value)

    def predict_proba(self, i: int) -> np.ndarray:
        """Class probabilities for test item ``i`` (classification only)."""
        return np.asarray(self.model.predict_proba(self.X_test[i : i + 1]))[0]

    def label_text(self, value: float) -> str:
        """A class index or a regression value in the participant's words."""
        if self.task == "regression":
            return f"{float(value):,.0f} {self.target_unit}".strip()
        return self.class_names[int(value)]


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _dataset(source: Source) -> Dataset:
    """The explainers' data description of the training data."""
    if source.modality == "image":
        images = source.X_train.reshape(-1, *source.image_shape)
        return ImageDataset(
            X=images,
            y=source.y_train,
            class_names=source.class_names,
            shape=source.image_shape,
            name=source.name,
        )
    if source.modality == "text":
        return TextDataset(
            texts=tuple(str(t) for t in source.X_train),
            y=source.y_train,
            class_names=source.class_names,
            name=source.name,
        )
    return TabularDataset(
        X=source.X_train,
        features=source.features,
        class_names=source.class_names,
        y=source.y_train,
        name=source.name,
    )


def available_scenarios() -> list[str]:
    """Names accepted by :func:`load_scenario`."""
    return list(LOADERS)


def available_models(name: str) -> list[str]:
    """Models offered for a scenario; the first is the default."""
    if name not in MODELS:
        raise ValueError(f"unknown scenario {name!r}; choose from {sorted(MODELS)}")
    return list(MODELS[name])


def available_bugs() -> list[str]:
    """Bugs accepted by ``load_scenario(..., bug=...)``."""
    return list(BUGS)


def load_scenario(
    name: str,
    *,
    model: str | None = None,
    bug: str | None = None,
    random_state: int = 0,
    features: Sequence[str] | None = None,
    bug_share: float | None = None,
    material: Material | None = None,
) -> Scenario:
    """Build (or fetch from this process's cache) a scenario with a fitted model.

    ``model=None`` picks the scenario's default (``gbm`` on tables, ``linear`` for house prices,
    ``mlp`` for digits, ``bow_logistic`` for text). ``features`` keeps only the named columns of
    a table (e.g. ``scenario.key_features`` for the "2 vs 8 features" design). ``bug_share`` sets
    the bug's strength: the share of training labels flipped (``label_noise``, default 0.3) or of
    training rows where the artifact follows the label (``spurious``, default 0.9). The same
    arguments always give identical predictions.

    ``material`` is a researcher's own table (:mod:`experiments.scenarios.own`); ``name`` is then
    their name for it and ``model`` one of :data:`~experiments.scenarios.own.FAMILIES` or
    ``"supplied"`` (their own fitted model file).
    """
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}; choose from {list(BUGS)} or None")
    if bug_share is not None and bug not in ("spurious", "label_noise"):
        raise ValueError("bug_share applies to the spurious and label_noise bugs only")
    # The default is resolved here so that model=None and its name share one cache entry.
    if material is not None:
        model_name = model or default_model(modality=material.modality,
                                            model_file=material.model_file is not None)
        if (model_name == SUPPLIED) != (material.model_file is not None):
            raise ValueError("model 'supplied' goes with a model file, and only with one")
        if model_name == SUPPLIED and bug is not None:
            raise ValueError("planted bugs retrain the model; a supplied model cannot have one")
    else:
        model_name = model or available_models(name)[0]
    chosen = None if features is None else tuple(features)
    share = None if bug_share is None else float(bug_share)
    return _load_cached(name, model_name, bug, int(random_state), chosen, share, material)


@lru_cache(maxsize=32)
def _load_cached(
    name: str,
    model_name: str,
    bug: str | None,
    random_state: int,
    features: tuple[str, ...] | None,
    bug_share: float | None = None,
    material: Material | None = None,
) -> Scenario:
    provenance: dict[str, Any] = {}
    if material is None:
        source = load_source(name, random_state=random_state, features=features)
    else:
        source, plan = own_source(material, random_state=random_state, features=features)
        provenance = {"data": material.data_label, "data_sha256": material.data.stem,
                      "excluded_columns": list(plan.excluded),
                      "test_share": float(len(source.y_test) / len(plan.y))}
    # One stream for the bug, independent of the split: the same seed plants the same bug.
    rng = np.random.Generator(np.random.PCG64([random_state, 0xB06]))
    details: dict[str, Any] = {}
    if bug == "spurious":
        source, details = plant_spurious(source, rng=rng, agreement=bug_share or SPURIOUS_AGREEMENT)
    elif bug == "label_noise":
        source, details = plant_label_noise(source, rng=rng, share=bug_share or LABEL_NOISE_SHARE)
    elif bug == "ood":
        source, details = plant_ood(source, rng=rng)
    if bug == "randomised_weights":
        # Randomise a copy of the very model the clean scenario holds (cached, so not refitted).
        clean = _load_cached(name, model_name, None, random_state, features,
                             material=material).model
        # Tables: splits are redrawn too (from the training rows), not only the leaf values.
        background = source.X_train if source.modality == "tabular" else None
        fitted = randomise_weights(clean, random_state=rng, background=background)
        changed = float(np.mean(fitted.predict(source.X_test) != clean.predict(source.X_test)))
        details = {
            "kind": "randomised_weights",
            "share_of_test_predictions_changed": changed,
            "description": "The trained model's weights were replaced by random ones; "
            "it keeps its inputs and outputs but learned nothing.",
        }
    elif model_name == SUPPLIED and material is not None and material.model_file is not None:
        from experiments.scenarios.supplied import load_supplied

        fitted = load_supplied(material.model_file, label=material.model_file.name,
                               features=source.features, raw_categories=raw_categories(plan),
                               class_values=plan.class_values, data_label=material.data_label)
        provenance["model_file_sha256"] = material.model_file.stem
    else:
        fitted = fit_model(source, model_name, random_state=random_state)
    for array in (source.X_train, source.y_train, source.X_test, source.y_test):
        _read_only(array)
    return Scenario(
        name=source.name,
        task=source.task,
        dataset=_dataset(source),
        X_train=source.X_train,
        y_train=source.y_train,
        X_test=source.X_test,
        y_test=source.y_test,
        model=fitted,
        model_name=model_name,
        bug=bug,
        description=source.description,
        positive_class=source.positive_class,
        bug_details=details,
        random_state=random_state,
        class_names=source.class_names,
        key_features=source.key_features,
        target_label=source.target_label,
        target_unit=source.target_unit,
        provenance=provenance,
    )
