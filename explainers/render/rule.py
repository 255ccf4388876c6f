"""An anchor rule as plain words: "IF … AND … THEN the AI predicts …", with its precision and
coverage said as sentences a participant can read ("In 96% of similar cases …")."""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation


def percent(share: float) -> str:
    """A share as a whole percentage that never rounds to a misleading 0% or 100%."""
    value = 100 * float(share)
    if 0 < value < 1:
        return "less than 1%"
    if 99 < value < 100:
        return "more than 99%"
    return f"{value:.0f}%"


def clauses(conditions: list[dict[str, Any]]) -> list[str]:
    """One clause per feature: two bounds on the same feature read as one range."""
    out: list[str] = []
    previous = None
    for condition in conditions:
        if previous is not None and condition["feature"] == previous["feature"]:
            rest = condition["display"].removeprefix(f"{condition['label']} is ")
            out[-1] = f"{out[-1]} and {rest}"
        else:
            out.append(condition["display"])
        previous = condition
    return out


def sentences(content: dict[str, Any], *, population: str = "people") -> tuple[str, str]:
    """(precision sentence, coverage sentence)."""
    precision = f"In {percent(content['precision'])} of similar cases the AI predicts the same."
    if content["coverage"] >= 1:
        coverage = f"The rule applies to all {population}."
    elif content["coverage"] < 0.01:
        # "0%" would say that nobody fits, which is false: this case itself does.
        coverage = f"The rule applies to fewer than 1 in 100 {population}."
    else:
        coverage = f"The rule applies to {percent(content['coverage'])} of {population}."
    return precision, coverage


def render(explanation: Explanation, *, top_k: int = 8, population: str = "people") -> str:
    """The rule as an HTML fragment. ``top_k`` is accepted for a uniform renderer signature;
    a rule is always shown whole (dropping a condition would change what it claims)."""
    content = explanation.content
    predicted = escape(content["predicted_class_name"])
    parts = [escape(c) for c in clauses(list(content["conditions"]))]
    if parts:
        premise = '<span class="xl-op">IF</span> ' + ' <span class="xl-op">AND</span> '.join(
            f'<span class="xl-condition">{p}</span>' for p in parts
        )
        then = '<span class="xl-op">THEN</span> the AI predicts'
    else:
        premise, then = "Whatever the features,", "the AI predicts"
    precision, coverage = sentences(content, population=population)
    rule = f"{premise} {then} <strong>{predicted}</strong>."
    quality = f'<p class="xl-rule-quality">{escape(precision)} {escape(coverage)}</p>'
    # Payloads stored before ``found`` existed were all shown as rules.
    if not content.get("found", True):
        return (
            '<div class="xl-explanation xl-rule xl-rule-none">'
            '<p class="xl-rule-text">No simple rule was found that reliably leads to the '
            f"prediction <strong>{predicted}</strong>.</p>"
            f'<p class="xl-help">The closest rule: {rule}</p>{quality}'
            "</div>"
        )
    return (
        '<div class="xl-explanation xl-rule">'
        f'<p class="xl-rule-text">{rule}</p>{quality}'
        "</div>"
    )
