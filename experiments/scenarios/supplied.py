"""A researcher's own fitted model, in formats that cannot run code when loaded. Never pickle.

* scikit-learn through ``skops``: ``skops.io.load`` with an explicit list of trusted types;
  a file naming any other type is refused (and not loaded).
* ONNX through ``onnxruntime``: a graph of operators, no code. Only model-agnostic explanation
  methods apply (no gradients, no tree internals).

Both are wrapped in :class:`SuppliedModel`, which takes the same coded matrix as the models the
platform trains (categorical codes, numbers) and gives the platform's class order, so the rest of
the platform treats it like any other model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.scenarios.own import MAX_MODEL_BYTES, MaterialError
from explainers.base import Feature

# Types skops does not trust by default that a plain scikit-learn model needs; anything else in
# the file is refused. (skops already trusts scikit-learn's estimators and numpy arrays.)
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


class SuppliedModel:
    """Adapter: coded matrix in, platform class indices / probabilities / values out."""

    def __init__(self, predict_raw: Any, proba_raw: Any, *, features: Sequence[Feature],
                 raw_categories: dict[str, tuple[str, ...]], class_values: Sequence[str],
                 model_classes: Sequence[str] | None, kind: str, frame_input: bool) -> None:
        self._predict_raw = predict_raw
        self._proba_raw = proba_raw
        self.features = tuple(features)
        self._raw_categories = raw_categories
        self.kind = kind  # "skops" or "onnx", for the model card
        self._frame_input = frame_input
        self.class_values = tuple(class_values)
        if model_classes is not None:
            self._order = np.array([list(model_classes).index(v) for v in class_values])
            self.classes_ = np.arange(len(class_values))

    def frame(self, X: np.ndarray) -> pd.DataFrame | np.ndarray:
        """The researcher's columns with their raw values, as the model was trained on."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if not self._frame_input:
            return X
        columns: dict[str, Any] = {}
        for j, feature in enumerate(self.features):
            if feature.kind == "categorical":
                raw = np.array(self._raw_categories[feature.name], dtype=object)
                values = raw[np.clip(np.round(X[:, j]).astype(int), 0, len(raw) - 1)]
                columns[feature.name] = _typed(values)
            else:
                columns[feature.name] = X[:, j]
        return pd.DataFrame(columns)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = np.asarray(self._proba_raw(self.frame(X)), dtype=float)
        return proba[:, self._order]

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.class_values:
            return np.asarray(np.argmax(self.predict_proba(X), axis=1))
        return np.asarray(self._predict_raw(self.frame(X)), dtype=float).reshape(-1)


def _typed(values: np.ndarray) -> np.ndarray:
    """Raw category values as numbers when they all are (a model trained on a CSV saw 0/1 as
    integers), else as strings."""
    try:
        return values.astype(float)
    except ValueError:
        return values.astype(str)


def load_supplied(path: Path, *, label: str, features: Sequence[Feature],
                  raw_categories: dict[str, tuple[str, ...]], class_values: Sequence[str],
                  data_label: str) -> SuppliedModel:
    """Load and check a researcher's model; raises :class:`MaterialError` naming the file."""
    if not path.is_file():
        raise MaterialError(f"{label}: no such file")
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise MaterialError(f"{label}: larger than the limit of {MAX_MODEL_BYTES // 1024**2} MiB")
    suffix = path.suffix.lower()
    if suffix == ".skops":
        return _load_skops(path, label, features, raw_categories, class_values, data_label)
    if suffix == ".onnx":
        return _load_onnx(path, label, features, raw_categories, class_values, data_label)
    raise MaterialError(f"{label}: a model is brought as .skops (scikit-learn) or .onnx; "
                        "pickle and joblib files are refused because loading them runs code")


def _load_skops(path: Path, label: str, features: Sequence[Feature],
                raw_categories: dict[str, tuple[str, ...]], class_values: Sequence[str],
                data_label: str) -> SuppliedModel:
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # any malformed archive: report, never load
        raise MaterialError(f"{label}: not a readable skops file ({str(exc)[:200]})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise MaterialError(f"{label}: contains types that are not trusted: "
                            f"{', '.join(refused[:10])}; only scikit-learn estimators and "
                            "pipelines are accepted")
    try:
        model = skops.io.load(path, trusted=sorted(set(untrusted)))
    except Exception as exc:
        raise MaterialError(f"{label}: cannot be loaded ({str(exc)[:200]})") from None
    if not hasattr(model, "predict"):
        raise MaterialError(f"{label}: holds a {type(model).__name__}, not a fitted model")
    names = [f.name for f in features]
    given = getattr(model, "feature_names_in_", None)
    if given is not None:
        _check_columns([str(c) for c in given], names, label, data_label)
        ordered = [next(f for f in features if f.name == str(c)) for c in given]
        frame_input = True
    else:
        width = getattr(model, "n_features_in_", None)
        if width is not None and width != len(names):
            raise MaterialError(f"{label}: the model takes {width} input columns but "
                                f"{data_label} has {len(names)} features ({', '.join(names)})")
        ordered, frame_input = list(features), False
    classes = None
    if class_values:
        if not hasattr(model, "predict_proba"):
            raise MaterialError(f"{label}: a classifier needs predict_proba")
        classes = [_as_raw(c) for c in model.classes_]
        _check_classes(classes, class_values, label, data_label)
    return SuppliedModel(model.predict, getattr(model, "predict_proba", None), features=ordered,
                         raw_categories=raw_categories, class_values=class_values,
                         model_classes=classes, kind="skops", frame_input=frame_input)


def _as_raw(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_columns(model_columns: Sequence[str], data_columns: Sequence[str], label: str,
                   data_label: str) -> None:
    missing = [c for c in model_columns if c not in data_columns]
    extra = [c for c in data_columns if c not in model_columns]
    if missing or extra:
        raise MaterialError(f"{label}: the model's input columns do not match {data_label}: "
                            f"the model needs {missing or 'nothing more'} that the data lacks "
                            f"(or that the codebook excludes); the data has {extra or 'nothing'} "
                            "that the model does not take")


def _check_classes(model_classes: Sequence[str], class_values: Sequence[str], label: str,
                   data_label: str) -> None:
    if sorted(model_classes) != sorted(class_values):
        raise MaterialError(f"{label}: the model's classes {list(model_classes)} are not the "
                            f"target's values in {data_label} {list(class_values)}")


def _load_onnx(path: Path, label: str, features: Sequence[Feature],
               raw_categories: dict[str, tuple[str, ...]], class_values: Sequence[str],
               data_label: str) -> SuppliedModel:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # preparation runs many of these side by side
    try:
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise MaterialError(f"{label}: not a loadable ONNX model ({str(exc)[:200]})") from None
    inputs = session.get_inputs()
    names = [f.name for f in features]
    if len(inputs) == 1 and len(inputs[0].shape) == 2 and inputs[0].shape[1] == len(names):
        # One float tensor: the features in the data's column order, categoricals as codes.
        def run(X: Any) -> list[Any]:
            return list(session.run(None, {inputs[0].name: np.asarray(X, dtype=np.float32)}))
        frame_input = False
    else:
        _check_columns([i.name for i in inputs], names, label, data_label)
        kinds = {i.name: i.type for i in inputs}

        def run(X: Any) -> list[Any]:
            feed = {c: (X[c].to_numpy().astype(str) if "string" in kinds[c]
                        else X[c].to_numpy().astype(np.float32)).reshape(-1, 1)
                    for c in names}
            return list(session.run(None, feed))
        frame_input = True
    outputs = session.get_outputs()
    if class_values:
        proba_index = next((k for k, o in enumerate(outputs) if "tensor(float" in o.type
                            and len(o.shape or ()) == 2), None)
        if proba_index is None:
            raise MaterialError(f"{label}: a classifier needs a probability output (a float "
                                "tensor with one column per class; export with zipmap off)")
        # scikit-learn's (and skl2onnx's) convention: probability columns in sorted class order.
        from experiments.scenarios.own import _sorted_levels

        classes = _sorted_levels(list(class_values))
        model = SuppliedModel(None, lambda X: run(X)[proba_index], features=features,
                              raw_categories=raw_categories, class_values=class_values,
                              model_classes=classes, kind="onnx", frame_input=frame_input)
    else:
        model = SuppliedModel(lambda X: run(X)[0], None, features=features,
                              raw_categories=raw_categories, class_values=(),
                              model_classes=None, kind="onnx", frame_input=frame_input)
    return model
