"""Counterfactuals as "what would need to change" tables: feature, now, would need to be."""

from __future__ import annotations

from html import escape

from explainers.base import Explanation

COST_NAMES = {"mad_l1": "distance", "percentile_shift": "effort (percentile shift)"}


def render(explanation: Explanation, *, max_counterfactuals: int = 3) -> str:
    """One table per counterfactual (cheapest first), under a sentence naming the classes."""
    content = explanation.content
    now = escape(str(explanation.prediction.get("class_name", "")))
    options = content.get("counterfactuals", [])[:max_counterfactuals]
    if not options:
        return (
            f'<div class="xl-counterfactual"><p>The AI predicts <strong>{now}</strong>. '
            "No change within the allowed ranges would change this prediction.</p></div>"
        )
    parts = [f'<div class="xl-counterfactual"><p>The AI predicts <strong>{now}</strong>.</p>']
    cost_name = COST_NAMES.get(str(content.get("cost_name", "")), "cost")
    for number, option in enumerate(options, start=1):
        new = escape(str(option["prediction"]["class_name"]))
        heading = f"Option {number}: it" if len(options) > 1 else "It"
        rows = "".join(
            f'<tr><th scope="row">{escape(str(c["label"]))}</th>'
            f"<td>{escape(str(c['from_display']))}</td>"
            f"<td>{escape(str(c['to_display']))}</td></tr>"
            for c in option["changes"]
        )
        parts.append(
            '<table class="xl-changes">'
            f"<caption>{heading} would predict <strong>{new}</strong> if "
            f"{'this changed' if len(option['changes']) == 1 else 'these changed'} "
            f'<span class="xl-cost">({escape(cost_name)} {option["cost"]:.2f})</span></caption>'
            '<thead><tr><th scope="col">Feature</th><th scope="col">Now</th>'
            f'<th scope="col">Would need to be</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    parts.append("</div>")
    return "".join(parts)
