"""The shared shape of every explanation: data description, result container, provenance.

Every method in this package takes a fitted model and one input, plus a :class:`TabularDataset`
(or an image / text equivalent) describing the features and a background sample, and returns an
:class:`Explanation`. The explanation is always of the class the model *predicts* for ``x``
(the one a participant is shown), never of the true label.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

ExplanationKind = Literal[
    "attribution", "rule", "examples", "counterfactual", "saliency", "text", "global"
]
FeatureKind = Literal["numeric", "categorical"]
Direction = Literal["any", "increase", "decrease"]


class Classifier(Protocol):
    """What a model must offer to be explained: scikit-learn's classifier surface."""

    def predict_proba(self, X: Any) -> np.ndarray: ...

    def predict(self, X: Any) -> np.ndarray: ...


class Regressor(Protocol):
    """A model that predicts numbers: ``linear_model`` shows a regression's equation too."""

    def predict(self, X: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class Feature:
    """One column of a tabular data set as people and constraints see it.

    Categorical features are stored as integer codes ``0..len(categories)-1`` in the numeric
    matrix the model consumes; ``categories`` turns codes back into words for display.
    """

    name: str
    kind: FeatureKind = "numeric"
    categories: tuple[str, ...] = ()
    label: str = ""
    unit: str = ""
    # The unit of one, where it differs ("year" of "years"): a weight is "per year".
    unit_one: str = ""
    integer: bool = False
    immutable: bool = False
    direction: Direction = "any"
    lower: float | None = None
    upper: float | None = None

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @property
    def per_unit(self) -> str:
        """The unit a weight or rate is given per: the singular where there is one."""
        return self.unit_one or self.unit

    def display_value(self, value: float) -> str:
        """The value as a participant should read it (category word, integer, or rounded)."""
        if self.kind == "categorical":
            code = round(float(value))
            if 0 <= code < len(self.categories):
                return self.categories[code]
            return str(code)
        text = f"{round(float(value)):,}" if self.integer else _three_digits(float(value))
        return f"{text} {self.unit}".strip()


def _three_digits(value: float) -> str:
    """About three significant digits, never in exponent notation: ``:.3g`` writes 1001.5 as
    "1e+03", which a participant cannot read."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


@dataclass(frozen=True)
class TabularDataset:
    """Feature descriptions plus a background sample (usually the training data).

    ``X`` is the numeric matrix the model is trained on; ``y`` the labels (class indices) when
    known. Explainers draw their perturbations, discretisation and MAD scales from ``X``.
    """

    X: np.ndarray
    features: tuple[Feature, ...]
    class_names: tuple[str, ...] = ()
    y: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.X.shape[1] != len(self.features):
            raise ValueError(
                f"X has shape {self.X.shape} but {len(self.features)} features are described"
            )

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, f in enumerate(self.features) if f.kind == "categorical"]

    def describe_row(self, x: np.ndarray) -> dict[str, str]:
        """Feature name -> display value, for showing an input to a participant."""
        return {f.display_name: f.display_value(v) for f, v in zip(self.features, x, strict=True)}


@dataclass(frozen=True)
class Provenance:
    """Everything needed to say exactly how an explanation was made (and to make it again)."""

    method: str
    params: dict[str, Any]
    random_state: int | None
    model_fingerprint: str
    library_versions: dict[str, str]


@dataclass
class Explanation:
    """One explanation of one prediction, JSON-serialisable.

    ``content`` holds the kind-specific payload (documented per kind in ``explainers.payloads``);
    ``metrics`` the quality measures computed for it (deletion AUC, stability, ...).
    """

    kind: ExplanationKind
    method: str
    target: int | None
    prediction: dict[str, Any]
    content: dict[str, Any]
    provenance: Provenance
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        fields = dict(data)
        fields["provenance"] = Provenance(**fields["provenance"])
        return cls(**fields)

    @property
    def fingerprint(self) -> str:
        """Content hash: same inputs and seed give the same fingerprint."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


def _json_safe(value: Any) -> Any:
    """Turn numpy scalars/arrays and tuples into plain JSON types, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        if not np.isfinite(number):
            raise ValueError("explanations must not contain NaN or infinite numbers")
        return number
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def model_fingerprint(model: Any) -> str:
    """A stable hash of a fitted scikit-learn model's class, parameters and learned state.

    Used in provenance so that an explanation can be tied to the exact model that made the
    prediction shown. Learned attributes (ending in ``_``) are hashed through their bytes.
    """
    digest = hashlib.sha256(type(model).__qualname__.encode())
    for name in sorted(vars(model)):
        _update_digest(digest, name, getattr(model, name))
    return digest.hexdigest()[:16]


def _update_digest(digest: Any, name: str, value: Any) -> None:
    digest.update(name.encode())
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            for item in value.ravel():
                _update_digest(digest, name, item)
        else:
            digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, list | tuple):
        for item in value:
            _update_digest(digest, name, item)
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            _update_digest(digest, str(key), value[key])
    elif hasattr(value, "get_params") or hasattr(value, "__sklearn_tags__"):
        digest.update(model_fingerprint(value).encode())
    elif hasattr(value, "__dict__") and not callable(value):
        for key in sorted(vars(value)):
            _update_digest(digest, key, getattr(value, key))
    else:
        digest.update(repr(value).encode())


def library_versions() -> dict[str, str]:
    """Versions of the libraries that can change an explanation's numbers."""
    import scipy
    import sklearn

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
    try:
        import shap

        versions["shap"] = shap.__version__
    except ImportError:  # shap is optional for methods that do not use it
        pass
    return versions


def predicted_class(model: Classifier, x: np.ndarray) -> tuple[int, np.ndarray]:
    """The class index the model predicts for one row, and its probability vector."""
    proba = np.asarray(model.predict_proba(np.asarray(x, dtype=float).reshape(1, -1)))[0]
    return int(np.argmax(proba)), proba
