"""Global explanations: a numbered rule list, importance bars, or a counterfactual summary table.

(The module is named after the kind, "global", so ``render_html`` finds it with importlib.)
"""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render import NEUTRAL_COLOUR
from explainers.render.attribution import MINUS
from explainers.render.words import Words, gettext_noop


def render(explanation: Explanation, *, max_items: int = 12, language: str = "en") -> str:
    words = Words(language)
    content = explanation.content
    summary = content.get("summary")
    if summary == "rules":
        return _rules(content, explanation.metrics, max_items, words)
    if summary == "importance":
        return _importance(content, max_items, words)
    if summary == "counterfactual_summary":
        return _changes(content, explanation, max_items, words)
    if summary == "linear_model":
        return _equation(content, words)
    raise ValueError(f"unknown global summary {summary!r}")


def _rules(content: dict[str, Any], metrics: dict[str, float], max_items: int,
           words: Words) -> str:
    items = []
    applies = escape(words.gettext("← applies to this case"))
    for rule in content["rules"][:max_items]:
        here = f' <strong class="xl-here">{applies}</strong>' if rule["covers_input"] else ""
        support = words.gettext("{count} cases, AI agrees with the rule in {percent} of "
                                "them").format(count=words.number(rule["support"]),
                                               percent=_percent(rule["confidence"], words))
        items.append(f"<li><code>{escape(_rule_text(rule, words))}</code>{here}<br><small>"
                     f"{escape(support)}</small></li>")
    fidelity = metrics.get("fidelity")
    note = "" if fidelity is None else (
        '<p class="xl-help">' + escape(words.gettext(
            "These rules imitate the AI; they agree with it on {percent} of held-out "
            "cases.").format(percent=_percent(fidelity, words))) + "</p>")
    return f'<div class="xl-global xl-rules">{note}<ol>{"".join(items)}</ol></div>'


def _percent(share: float, words: Words) -> str:
    return words.percent(words.number(100 * share))


def _rule_text(rule: dict[str, Any], words: Words) -> str:
    """IF … AND … THEN class, from the rule's conditions, in the participant's words."""
    prediction = words.gettext(str(rule["class_name"]))
    by_feature: dict[str, dict[str, dict[str, Any]]] = {}
    for condition in rule["conditions"]:
        by_feature.setdefault(condition["feature"], {})[condition["op"]] = condition
    clauses = [_clause(bounds, words) for bounds in by_feature.values()]
    if not clauses:
        return words.gettext("Always {prediction}").format(prediction=prediction)
    join = " " + words.gettext("AND") + " "
    return words.gettext("IF {conditions} THEN {prediction}").format(
        conditions=join.join(clauses), prediction=prediction)


def _clause(bounds: dict[str, dict[str, Any]], words: Words) -> str:
    """One feature's bounds on a path: "a < X <= b", "X > a", or "X is “u” or “v”"."""
    low, high = bounds.get(">"), bounds.get("<=")
    label = words.gettext(str((low or high or {}).get("label", "")))
    shown = [c["threshold_display"] for c in (low, high) if c is not None]
    if all(text.startswith("“") for text in shown):  # categories, written “u” or “v”
        kept = [_categories(text) for text in shown]
        values = [v for v in kept[0] if all(v in k for k in kept)]
        quoted = [words.gettext("“{value}”").format(value=words.gettext(v))
                  for v in values]
        join = " " + words.gettext("or") + " "
        return words.gettext("{feature} is {values}").format(feature=label,
                                                             values=join.join(quoted))
    if low is not None and high is not None:
        return (f"{words.value(low['threshold_display'])} < {label} <= "
                f"{words.value(high['threshold_display'])}")
    if high is not None:
        return f"{label} <= {words.value(high['threshold_display'])}"
    assert low is not None
    return f"{label} > {words.value(low['threshold_display'])}"


def _categories(display: str) -> list[str]:
    """The categories a stored display names ("“a” or “b”" -> ["a", "b"])."""
    return [part.strip("“”") for part in display.split("” or “")]


def _importance(content: dict[str, Any], max_items: int, words: Words) -> str:
    items = content["importances"][:max_items]
    top = max((i["value"] for i in items), default=0.0) or 1.0
    labels = [words.gettext(str(i["label"])) for i in items]
    longest = max((len(label) for label in labels), default=10)
    # About 7 px per character at 12 px: wide enough for the longest label, within reason.
    row, label_width, bar_width = 22, min(360, 7 * longest + 12), 220
    height = row * len(items) + 4
    bars, listed = [], []
    for n, (item, label) in enumerate(zip(items, labels, strict=True)):
        y = n * row + 2
        width = bar_width * item["value"] / top
        value = words.general(item["value"])
        bars.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f'{escape(label)}</text><rect x="{label_width}" y="{y + 3}" width="{width:.1f}" '
            f'height="{row - 6}" fill="{NEUTRAL_COLOUR}"/><text x="{label_width + width + 4:.1f}" '
            f'y="{y + 15}" font-size="11">{escape(value)}</text>'
        )
        listed.append(f"{label} {value}")
    total = label_width + bar_width + 60
    title = words.gettext("How much each feature moves the AI's predictions on average")
    desc = words.gettext("Mean absolute SHAP value, largest first: {values}.").format(
        values="; ".join(listed))
    return (
        f'<div class="xl-global xl-importance"><svg role="img" width="{total}" '
        f'height="{height}" viewBox="0 0 {total} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
        f"{''.join(bars)}</svg></div>"
    )


def _typical_change(display: str, words: Words) -> str:
    """A stored median change ("to Married", "+5 years") in the participant's words."""
    if display.startswith("to "):
        return words.gettext("to {value}").format(value=words.gettext(display.removeprefix("to ")))
    return f"{display[:1]}{words.value(display[1:])}"


def _changes(content: dict[str, Any], explanation: Explanation, max_items: int,
             words: Words) -> str:
    predicted = words.gettext(str(explanation.prediction.get("class_name", "")))
    name = f"<strong>{escape(predicted)}</strong>"
    rows = "".join(
        f'<tr><th scope="row">{escape(words.gettext(str(c["label"])))}</th>'
        f"<td>{escape(_percent(c['share_changed'], words))}</td>"
        f"<td>{escape(_typical_change(str(c['median_change_display']), words))}</td></tr>"
        for c in content["feature_changes"][:max_items]
    )
    caption = escape(words.gettext(
        "For {count} cases the AI puts in {prediction}: what would need to change ({percent} "
        "can change the outcome)")).format(
        count=escape(words.number(int(content["group_size"]))), prediction=name,
        percent=escape(_percent(explanation.metrics.get("recourse_rate", 0.0), words)))
    headers = "".join(f'<th scope="col">{escape(words.gettext(h))}</th>' for h in (
        gettext_noop("Feature"), gettext_noop("Share of cases that must change it"),
        gettext_noop("Typical change")))
    return (
        f'<div class="xl-global xl-summary"><table class="xl-changes"><caption>{caption}'
        f"</caption><thead><tr>{headers}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _equation(content: dict[str, Any], words: Words) -> str:
    """The model as a recipe: a starting value and one weight per fact. The total is left
    out on purpose: in a simulation step the participant works the prediction out."""
    start = escape(words.gettext("Starting value"))
    rows = [f'<tr><th scope="row">{start}</th><td></td>'
            f'<td class="xl-num">{_signed(content["intercept"], words)}</td></tr>']
    for term in content["terms"]:
        unit = term.get("unit_one") or term["unit"]  # "per year", not "per years"
        per = (words.gettext("per {unit}").format(unit=words.unit(unit))
               if unit else words.gettext("per point"))
        rows.append(
            f'<tr><th scope="row">{escape(words.gettext(term["label"]))}</th>'
            f'<td class="xl-num">{escape(words.value(term["display_value"]))}</td>'
            f'<td class="xl-num">{_signed(term["coefficient"], words, digits=2)} '
            f"{escape(per)}</td></tr>")
    caption = words.gettext("How the AI computes its prediction: the starting value, plus "
                            "each fact's value times its weight.")
    headers = "".join(f'<th scope="col">{escape(words.gettext(h))}</th>'
                      for h in (gettext_noop("Fact"), gettext_noop("This case"),
                                gettext_noop("Weight")))
    return (
        f'<table class="xl-equation"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{headers}</tr></thead>"
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def _signed(value: float, words: Words, *, digits: int = 0) -> str:
    """A number with its sign written out (+ or a true minus), thousands separated."""
    sign = MINUS if value < 0 else "+"
    return f"{sign}{words.number(abs(value), digits)}"
