"""An anchor rule as plain words: "IF … AND … THEN the AI predicts …", with its precision and
coverage said as sentences a participant can read ("In 96% of similar cases …"), in the
participant's language (:mod:`explainers.render.words`)."""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.methods.anchors.rules import OP_WORDS
from explainers.render.words import Words, gettext_noop

# A condition as a participant reads it; the rule's op as the payload's ``display`` says it
# (a bound at a feature's own limit is written as equality, anchors.rules).
CONDITION = {
    ">": gettext_noop("{feature} is more than {value}"),
    ">=": gettext_noop("{feature} is at least {value}"),
    "<=": gettext_noop("{feature} is at most {value}"),
    "==": gettext_noop("{feature} is {value}"),
}
# The second bound on the same feature, read as one range with the first.
SECOND_BOUND = {
    ">": gettext_noop("and more than {value}"),
    ">=": gettext_noop("and at least {value}"),
    "<=": gettext_noop("and at most {value}"),
    "==": gettext_noop("and {value}"),
}


def percent(share: float, words: Words | None = None) -> str:
    """A share as a whole percentage that never rounds to a misleading 0% or 100%."""
    words = words or Words()
    value = 100 * float(share)
    if 0 < value < 1:
        return words.gettext("less than {percent}").format(percent=words.percent("1"))
    if 99 < value < 100:
        return words.gettext("more than {percent}").format(percent=words.percent("99"))
    return words.percent(words.number(value))


def condition_parts(condition: dict[str, Any]) -> tuple[str, str]:
    """(op as the display says it, the value as displayed) of one stored condition.

    The payload keeps the whole condition in English words ("Age is at most 45 years"); its
    value is what follows the feature's label and the op's words.
    """
    for op in (condition["op"], "=="):
        words = f"{condition['label']} {OP_WORDS.get(op, '')} "
        if condition["display"].startswith(words):
            return op, condition["display"].removeprefix(words)
    return "", condition["display"]


def clauses(conditions: list[dict[str, Any]], words: Words | None = None) -> list[str]:
    """One clause per feature: two bounds on the same feature read as one range."""
    words = words or Words()
    out: list[str] = []
    previous = None
    for condition in conditions:
        op, value = condition_parts(condition)
        if not op:  # not in the words anchors writes: shown as it is
            out.append(condition["display"])
        elif previous is not None and condition["feature"] == previous["feature"]:
            bound = words.gettext(SECOND_BOUND[op]).format(value=words.value(value))
            out[-1] = f"{out[-1]} {bound}"
        else:
            out.append(words.gettext(CONDITION[op]).format(
                feature=words.gettext(condition["label"]), value=words.value(value)))
        previous = condition
    return out


def sentences(content: dict[str, Any], *, population: str = "people",
              words: Words | None = None) -> tuple[str, str]:
    """(precision sentence, coverage sentence)."""
    words = words or Words()
    people = words.gettext(population)
    precision = words.gettext("In {percent} of similar cases the AI predicts the same.").format(
        percent=percent(content["precision"], words))
    if content["coverage"] >= 1:
        coverage = words.gettext("The rule applies to all {population}.").format(
            population=people)
    elif content["coverage"] < 0.01:
        # "0%" would say that nobody fits, which is false: this case itself does.
        coverage = words.gettext("The rule applies to fewer than 1 in 100 {population}.").format(
            population=people)
    else:
        coverage = words.gettext("The rule applies to {percent} of {population}.").format(
            percent=percent(content["coverage"], words), population=people)
    return precision, coverage


POPULATION = gettext_noop("people")


def _rule(content: dict[str, Any], words: Words) -> str:
    """IF … AND … THEN the AI predicts …, as escaped HTML."""
    predicted = f"<strong>{escape(words.gettext(content['predicted_class_name']))}</strong>"
    parts = [escape(c) for c in clauses(list(content["conditions"]), words)]
    if not parts:
        return escape(words.gettext("Whatever the features, the AI predicts {prediction}.")
                      ).format(prediction=predicted)
    op = '<span class="xl-op">{}</span>'
    joined = (" " + op.format(escape(words.gettext("AND"))) + " ").join(
        f'<span class="xl-condition">{p}</span>' for p in parts)
    return escape(words.gettext("{if} {conditions} {then} the AI predicts {prediction}.")).format(
        **{"if": op.format(escape(words.gettext("IF"))), "conditions": joined,
           "then": op.format(escape(words.gettext("THEN"))), "prediction": predicted})


def render(explanation: Explanation, *, top_k: int = 8, population: str = POPULATION,
           language: str = "en") -> str:
    """The rule as an HTML fragment. ``top_k`` is accepted for a uniform renderer signature;
    a rule is always shown whole (dropping a condition would change what it claims)."""
    content = explanation.content
    words = Words(language)
    predicted = escape(words.gettext(content["predicted_class_name"]))
    rule = _rule(content, words)
    precision, coverage = sentences(content, population=population, words=words)
    quality = f'<p class="xl-rule-quality">{escape(precision)} {escape(coverage)}</p>'
    # Payloads stored before ``found`` existed were all shown as rules.
    if not content.get("found", True):
        none = escape(words.gettext("No simple rule was found that reliably leads to the "
                                    "prediction {prediction}.")).format(
            prediction=f"<strong>{predicted}</strong>")
        closest = escape(words.gettext("The closest rule: {rule}")).format(rule=rule)
        return (
            '<div class="xl-explanation xl-rule xl-rule-none">'
            f'<p class="xl-rule-text">{none}</p>'
            f'<p class="xl-help">{closest}</p>{quality}'
            "</div>"
        )
    return (
        '<div class="xl-explanation xl-rule">'
        f'<p class="xl-rule-text">{rule}</p>{quality}'
        "</div>"
    )
