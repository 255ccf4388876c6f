"""The anchor rule in words: IF ... AND ... THEN, precision and coverage as sentences."""

from __future__ import annotations

from explainers.base import Explanation, Provenance
from explainers.render.rule import percent, render


def make_rule(conditions, precision=0.96, coverage=0.12, predicted="<b>high</b>", found=True):
    return Explanation(
        kind="rule", method="anchors", target=1,
        prediction={"class_index": 1, "class_name": predicted, "probability": 0.9},
        content={"conditions": conditions, "rule_text": "", "precision": precision,
                 "coverage": coverage, "found": found, "predicted_class_name": predicted},
        provenance=Provenance("anchors", {}, 0, "abc", {}),
    )


AGE_RANGE = [
    {"feature": "age", "label": "Age", "op": ">=", "value": 38.0,
     "display": "Age is at least 38 years"},
    {"feature": "age", "label": "Age", "op": "<=", "value": 45.0,
     "display": "Age is at most 45 years"},
    {"feature": "job", "label": "Job <i>", "op": "==", "value": 2.0,
     "display": "Job <i> is Nurse & carer"},
]


def test_the_rule_reads_if_and_then_with_ranges_merged():
    html = render(make_rule(AGE_RANGE))
    # A number and its unit are joined by a no-break space: they never part at a line's end.
    assert html.index(">IF<") < html.index("Age is at least 38\u00a0years and at most "
                                           "45\u00a0years")
    assert html.index("45\u00a0years") < html.index(">AND<") < html.index("Job")
    assert ">THEN</span> the AI predicts <strong>" in html


def test_precision_and_coverage_are_plain_sentences():
    html = render(make_rule(AGE_RANGE))
    assert "In 96% of similar cases the AI predicts the same." in html
    assert "The rule applies to 12% of people." in html
    assert "applies to 12% of applicants" in render(make_rule(AGE_RANGE), population="applicants")


def test_everything_is_escaped():
    html = render(make_rule(AGE_RANGE))
    assert "<i>" not in html and "<b>" not in html
    assert "Job &lt;i&gt; is Nurse &amp; carer" in html
    assert "&lt;b&gt;high&lt;/b&gt;" in html


def test_an_empty_rule_says_the_prediction_holds_whatever_the_features():
    html = render(make_rule([], precision=0.97, coverage=1.0))
    assert "Whatever the features, the AI predicts" in html
    assert "The rule applies to all people." in html


def test_a_rule_not_found_is_said_so_and_shown_only_as_the_closest_rule():
    html = render(make_rule([], precision=0.61, coverage=1.0, found=False))
    assert "No simple rule was found that reliably leads to the prediction" in html
    assert "The closest rule: Whatever the features, the AI predicts" in html
    assert "In 61% of similar cases" in html
    found = render(make_rule(AGE_RANGE))
    assert "No simple rule" not in found and "closest" not in found


def test_percentages_never_round_to_a_misleading_extreme():
    assert percent(0.004) == "less than 1%"
    assert percent(0.996) == "more than 99%"
    assert percent(1.0) == "100%"
    assert percent(0.0) == "0%"


def test_a_rule_that_covers_almost_nobody_never_says_0_percent():
    # Before: "The rule applies to 0% of people" (the explained case itself fits the rule).
    for coverage in (0.0, 0.004):
        html = render(make_rule(AGE_RANGE, coverage=coverage))
        assert "The rule applies to fewer than 1 in 100 people." in html
        assert "0%" not in html


def test_a_bound_at_a_features_own_limit_reads_as_equality():
    # Before: "Capital gains last year is at most 0 dollars" for a feature that is never < 0.
    from explainers.base import Feature
    from explainers.methods.anchors.rules import Predicate, _clause, describe

    gains = Feature("capital_gain", label="Capital gains last year", unit="dollars",
                    integer=True, lower=0, upper=99999)
    assert describe(Predicate(0, "<=", 0.0), gains) == "Capital gains last year is 0 dollars"
    assert describe(Predicate(0, ">=", 99999.0), gains) == ("Capital gains last year is "
                                                            "99,999 dollars")
    assert describe(Predicate(0, "<=", 5000.0), gains) == ("Capital gains last year is at "
                                                           "most 5,000 dollars")
    signed = Feature("balance", label="Balance", integer=True)  # may be negative: no limit
    assert describe(Predicate(0, "<=", 0.0), signed) == "Balance is at most 0"
    assert _clause(gains, [Predicate(0, ">", 10.0), Predicate(0, "<=", 500.0)]) == (
        "Capital gains last year is more than 10 and at most 500 dollars")
