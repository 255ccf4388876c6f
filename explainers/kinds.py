"""The JSON payloads (``Explanation.content``) per explanation kind.

Templates in ``templates/explanations/``, the renderers in ``explainers.render`` and the export
code rely on these shapes; change them only together. Every number is a plain float, every
value shown to a participant has a ready-made display string next to it.
"""

from __future__ import annotations

from typing import Literal, TypedDict

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

