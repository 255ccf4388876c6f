"""Payload shapes (``Explanation.content``) for the example, counterfactual, saliency, text and
global kinds, plus the one constructor every method here uses to fill in provenance.

The Django partials in ``templates/explanations/`` and the renderers in ``explainers.render``
read these keys; change them only together. All numbers are plain floats, all indices ints.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import numpy as np

from explainers._common import make_provenance
from explainers.base import Explanation, ExplanationKind
from explainers.kinds import Prediction

# --- examples: "nearest_examples", "prototypes", "influence" ---------------------------------


class Example(TypedDict, total=False):
    index: int  # row of the dataset's background sample
    role: Literal["nearest", "prototype", "supports", "opposes"]
    score: float  # distance (nearest), weight (prototype) or influence (supports/opposes)
    features: dict[str, str]  # tabular: display name -> display value
    values: list[float]  # tabular: the raw row
    image: list[list[float]]  # images: h x w pixel values
    text: str  # texts
    label: int | None  # true label, when known
    label_name: str
    prediction: int  # the model's prediction for this example
    prediction_name: str


class ExamplesContent(TypedDict, total=False):
    score_name: Literal["distance", "weight", "influence"]
    score_help: str  # one sentence saying what the score means
    query: dict[str, str]  # tabular: the explained input, display name -> display value
    query_image: list[list[float]]
    query_text: str
    examples: list[Example]


# --- counterfactual: "counterfactual_mad", "recourse", "diverse_counterfactuals" --------------


# "from" is a Python keyword, hence the functional TypedDict syntax.
Change = TypedDict(
    "Change",
    {
        "feature": str,
        "label": str,
        "from": float,
        "to": float,
        "from_display": str,
        "to_display": str,
    },
)


class Counterfactual(TypedDict):
    changes: list[Change]  # only the features that change
    values: list[float]  # the whole counterfactual row
    cost: float  # in ``cost_name`` units
    distance: float  # MAD-weighted L1 distance to the input (always reported)
    prediction: Prediction  # the model's prediction for the counterfactual (verified)
    valid: bool  # True: the prediction differs from the input's (always True when returned)


class CounterfactualContent(TypedDict):
    cost_name: Literal["mad_l1", "percentile_shift"]
    solver: Literal["lp", "milp", "search", "sampling"]
    target_class: int | None  # None: any class other than the predicted one
    counterfactuals: list[Counterfactual]  # cheapest first; empty if none was found
    query: dict[str, str]


# --- saliency: "gradient", "gradient_x_input", "smoothgrad", "integrated_gradients" -----------


class SaliencyContent(TypedDict, total=False):
    shape: list[int]  # [h, w]
    attributions: list[list[float]]  # h x w, positive = evidence for the predicted class
    image: list[list[float]]  # h x w input pixel values
    value_range: list[float]  # [min, max] pixel value of the data set
    score: Literal["logit", "probability"]  # which output of the predicted class is explained
    baseline: Literal["black", "mean"]  # integrated gradients only
    steps: int  # integrated gradients only
    n_samples: int  # smoothgrad only
    noise: float  # smoothgrad only: sigma as a fraction of the data range
    explained_class: str  # set when a class other than the prediction was asked for (target)


# --- text: "lime_text" -------------------------------------------------------------------------


class Token(TypedDict):
    text: str
    start: int
    end: int
    weight: float | None  # None for tokens that are not words (punctuation, spaces)


class WordWeight(TypedDict):
    word: str
    weight: float  # change in the explained output when the word is present
    count: int


class TextContent(TypedDict):
    text: str
    tokens: list[Token]  # the whole text, in order, including the gaps between words
    words: list[WordWeight]  # by decreasing |weight|
    output: Literal["probability", "log_odds"]
    intercept: float


# --- global: "distilled_tree", "mean_abs_shap", "counterfactual_summary" -----------------------


class Condition(TypedDict):
    feature: str
    label: str
    op: Literal["<=", ">"]
    threshold: float
    threshold_display: str


class Rule(TypedDict):
    conditions: list[Condition]
    text: str  # "IF age > 40 AND ... THEN approved"
    class_index: int
    class_name: str
    support: int  # background rows reaching this leaf
    confidence: float  # share of them the model puts in class_index
    covers_input: bool  # the explained input falls in this leaf


class Importance(TypedDict):
    feature: str
    label: str
    value: float  # mean |SHAP| for the predicted class


class FeatureChange(TypedDict):
    feature: str
    label: str
    share_changed: float  # share of the group's counterfactuals that change this feature
    median_change: float  # median of (to - from) among those that change it
    median_change_display: str


class LinearTerm(TypedDict):
    """One term of a linear model's equation at the input (``linear_model``)."""

    feature: str
    label: str
    coefficient: float
    value: float
    display_value: str
    unit: str
    contribution: float  # coefficient x value


class GlobalContent(TypedDict, total=False):
    summary: Literal["rules", "importance", "counterfactual_summary", "linear_model"]
    rules: list[Rule]
    depth: int
    importances: list[Importance]
    shap_explainer: Literal["tree", "kernel"]
    output_space: Literal["probability", "log-odds"]  # mean_abs_shap: the values' unit
    feature_changes: list[FeatureChange]
    group_size: int  # rows summarised
    group_class: int  # the prediction they share
    intercept: float  # linear_model: the equation's constant
    terms: list[LinearTerm]  # linear_model: one per feature, in column order
    output_value: float  # linear_model: intercept + sum of contributions = the model's output


def make_explanation(
    *,
    kind: ExplanationKind,
    method: str,
    model: Any,
    proba: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    content: Any,
    params: dict[str, Any],
    random_state: int | None,
    metrics: dict[str, float] | None = None,
    target: int | None = None,
) -> Explanation:
    """An :class:`Explanation` of the predicted (argmax) class, or of class ``target`` when
    given, with provenance filled in. ``prediction`` always records the model's own choice.

    Unlike ``explainers._common.build_explanation`` it takes the probability vector, so it
    serves images and texts as well as feature rows; provenance is made the same way.
    """
    return Explanation(
        kind=kind,
        method=method,
        target=int(np.argmax(proba)) if target is None else int(target),
        prediction=dict(prediction_dict(proba, class_names)),
        content=dict(content),
        provenance=make_provenance(method, model, params=params, random_state=random_state),
        metrics={k: float(v) for k, v in (metrics or {}).items()},
    )


def prediction_dict(proba: np.ndarray, class_names: tuple[str, ...] | list[str]) -> Prediction:
    """The {"class_index", "class_name", "probability"} record of a probability vector."""
    index = int(np.argmax(proba))
    return {
        "class_index": index,
        "class_name": class_name(index, class_names),
        "probability": float(proba[index]),
    }


def class_name(index: int | None, class_names: tuple[str, ...] | list[str]) -> str:
    if index is None:
        return ""
    return str(class_names[index]) if 0 <= index < len(class_names) else str(index)
