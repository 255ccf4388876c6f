"""The JSON payloads (``Explanation.content``) of every explanation kind, and the
``Explanation.prediction`` record they are shown with.

Templates in ``templates/explanations/``, the renderers in ``explainers.render`` and the export
code rely on these shapes; change them only together. Every number is a plain float, every
index an int, and every value shown to a participant has a ready-made display string next to it.
The helpers that fill them in (prediction, provenance) are in ``explainers._common``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# --- the prediction shown, and the attribution and rule kinds ---------------------------------

OutputSpace = Literal["probability", "log-odds"]


class Prediction(TypedDict):
    """``Explanation.prediction``: the class the model predicts for the input (the target)."""

    class_index: int
    class_name: str
    probability: float


class FeatureAttribution(TypedDict):
    """One feature's contribution to the predicted class's output."""

    name: str  # column name in the data set
    label: str  # the name shown to people (Feature.display_name)
    value: float  # raw value in the model's numeric matrix (category code for categoricals)
    display_value: str  # the value as shown ("Married", "45", "3.2 kg")
    attribution: float  # signed contribution in ``output_space`` units


class AttributionContent(TypedDict):
    """kind ``attribution`` (lime, kernel_shap, tree_shap, linear_shap, random_attribution).

    ``features`` follow the data set's column order; the renderer sorts by |attribution|.
    For SHAP methods ``base_value + sum(attribution) == output_value`` (efficiency); for LIME
    ``base_value`` is the surrogate's intercept and ``output_value`` its prediction at ``x``.
    """

    features: list[FeatureAttribution]
    base_value: float
    output_value: float
    output_space: OutputSpace


RuleOp = Literal["<=", ">", "<", ">=", "==", "in"]


class RuleCondition(TypedDict):
    """One predicate of a rule, e.g. ``age > 37`` or ``marital-status == Married``."""

    feature: str  # column name
    label: str  # the name shown to people
    op: RuleOp
    value: float | list[float]  # threshold, category code, or list of codes for "in"
    display: str  # the whole condition in words: "Age is more than 37"


class RuleContent(TypedDict):
    """kind ``rule`` (anchors).

    ``precision`` is the share of fresh samples satisfying the rule that get the predicted
    class (estimated after the search, not the bandit's own estimate); ``coverage`` the share of
    background rows that satisfy the rule. An empty ``conditions`` list means the prediction
    holds with the required precision whatever the features are. ``found`` is False when no
    rule reached the precision threshold while matching at least one background row; the
    conditions are then the closest rule the search saw, and renderers say none was found.
    """

    conditions: list[RuleCondition]
    rule_text: str  # "IF Age is more than 37 AND … THEN the AI predicts >50K"
    precision: float
    coverage: float
    found: bool
    predicted_class_name: str


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
    unit_one: NotRequired[str]  # the unit of one ("year"); absent from payloads before it
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
