"""Global explanations: a numbered rule list, importance bars, or a counterfactual summary table.

(The module is named after the kind, "global", so ``render_html`` finds it with importlib.)
"""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render import NEUTRAL_COLOUR
from explainers.render.attribution import MINUS


def render(explanation: Explanation, *, max_items: int = 12) -> str:
    content = explanation.content
    summary = content.get("summary")
    if summary == "rules":
        return _rules(content, explanation.metrics, max_items)
    if summary == "importance":
        return _importance(content, max_items)
    if summary == "counterfactual_summary":
        return _changes(content, explanation, max_items)
    if summary == "linear_model":
        return _equation(content)
    raise ValueError(f"unknown global summary {summary!r}")


def _rules(content: dict[str, Any], metrics: dict[str, float], max_items: int) -> str:
    items = []
    for rule in content["rules"][:max_items]:
        here = (
            ' <strong class="xl-here">← applies to this case</strong>'
            if rule["covers_input"]
            else ""
        )
        items.append(
            f"<li><code>{escape(rule['text'])}</code>{here}<br><small>{rule['support']} cases, "
            f"AI agrees with the rule in {100 * rule['confidence']:.0f}% of them</small></li>"
        )
    fidelity = metrics.get("fidelity")
    note = (
        (
            f'<p class="xl-help">These rules imitate the AI; they agree with it on '
            f"{100 * fidelity:.0f}% of held-out cases.</p>"
        )
        if fidelity is not None
        else ""
    )
    return f'<div class="xl-global xl-rules">{note}<ol>{"".join(items)}</ol></div>'


def _importance(content: dict[str, Any], max_items: int) -> str:
    items = content["importances"][:max_items]
    top = max((i["value"] for i in items), default=0.0) or 1.0
    longest = max((len(str(i["label"])) for i in items), default=10)
    # About 7 px per character at 12 px: wide enough for the longest label, within reason.
    row, label_width, bar_width = 22, min(360, 7 * longest + 12), 220
    height = row * len(items) + 4
    bars, words = [], []
    for n, item in enumerate(items):
        y = n * row + 2
        width = bar_width * item["value"] / top
        label = escape(str(item["label"]))
        bars.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12">{label}'
            f'</text><rect x="{label_width}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{NEUTRAL_COLOUR}"/><text x="{label_width + width + 4:.1f}" y="{y + 15}" '
            f'font-size="11">{item["value"]:.3g}</text>'
        )
        words.append(f"{label} {item['value']:.3g}")
    total = label_width + bar_width + 60
    return (
        f'<div class="xl-global xl-importance"><svg role="img" width="{total}" '
        f'height="{height}" viewBox="0 0 {total} {height}" xmlns="http://www.w3.org/2000/svg">'
        "<title>How much each feature moves the AI's predictions on average</title>"
        f"<desc>Mean absolute SHAP value, largest first: {'; '.join(words)}.</desc>"
        f"{''.join(bars)}</svg></div>"
    )


def _changes(content: dict[str, Any], explanation: Explanation, max_items: int) -> str:
    name = escape(str(explanation.prediction.get("class_name", "")))
    rows = "".join(
        f'<tr><th scope="row">{escape(str(c["label"]))}</th>'
        f"<td>{100 * c['share_changed']:.0f}%</td>"
        f"<td>{escape(str(c['median_change_display']))}</td></tr>"
        for c in content["feature_changes"][:max_items]
    )
    rate = explanation.metrics.get("recourse_rate", 0.0)
    return (
        '<div class="xl-global xl-summary"><table class="xl-changes"><caption>'
        f"For {int(content['group_size'])} cases the AI puts in <strong>{name}</strong>: what "
        f"would need to change ({100 * rate:.0f}% can change the outcome)</caption>"
        '<thead><tr><th scope="col">Feature</th><th scope="col">Share of cases that must '
        'change it</th><th scope="col">Typical change</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _equation(content: dict[str, Any]) -> str:
    """The model as a recipe: a starting value and one weight per fact. The total is left
    out on purpose: in a simulation step the participant works the prediction out."""
    rows = [f'<tr><th scope="row">Starting value</th><td></td>'
            f'<td class="xl-num">{_signed(content["intercept"])}</td></tr>']
    for term in content["terms"]:
        unit = f" per {escape(term['unit'])}" if term["unit"] else " per point"
        rows.append(
            f'<tr><th scope="row">{escape(term["label"])}</th>'
            f'<td class="xl-num">{escape(term["display_value"])}</td>'
            f'<td class="xl-num">{_signed(term["coefficient"], digits=2)}{unit}</td></tr>')
    return (
        '<table class="xl-equation"><caption>How the AI computes its prediction: the starting '
        'value, plus each fact\'s value times its weight.</caption>'
        '<thead><tr><th scope="col">Fact</th><th scope="col">This case</th>'
        '<th scope="col">Weight</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def _signed(value: float, *, digits: int = 0) -> str:
    """A number with its sign written out (+ or a true minus), thousands separated."""
    sign = MINUS if value < 0 else "+"
    return f"{sign}{abs(value):,.{digits}f}"
