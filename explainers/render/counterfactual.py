"""Counterfactuals as "what would need to change" tables: feature, now, would need to be."""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render.words import Words, gettext_noop

COST_NAMES = {"mad_l1": gettext_noop("distance"),
              "percentile_shift": gettext_noop("effort (percentile shift)")}
# (numbered among several options, one change) -> the table's caption.
CAPTIONS = {
    (False, True): gettext_noop("It would predict {prediction} if this changed"),
    (False, False): gettext_noop("It would predict {prediction} if these changed"),
    (True, True): gettext_noop("Option {number}: it would predict {prediction} if this changed"),
    (True, False): gettext_noop(
        "Option {number}: it would predict {prediction} if these changed"),
}
HEADERS = (gettext_noop("Feature"), gettext_noop("Now"), gettext_noop("Would need to be"))


def render(explanation: Explanation, *, max_counterfactuals: int = 3,
           language: str = "en") -> str:
    """One table per counterfactual (cheapest first), under a sentence naming the classes."""
    words = Words(language)
    content = explanation.content
    now = escape(words.gettext("The AI predicts {prediction}.")).format(
        prediction=_strong(explanation.prediction.get("class_name", ""), words))
    options = content.get("counterfactuals", [])[:max_counterfactuals]
    if not options:
        none = escape(words.gettext("No change within the allowed ranges would change this "
                                    "prediction."))
        return f'<div class="xl-counterfactual"><p>{now} {none}</p></div>'
    parts = [f'<div class="xl-counterfactual"><p>{now}</p>']
    cost_name = words.gettext(COST_NAMES.get(str(content.get("cost_name", "")),
                                             gettext_noop("cost")))
    for number, option in enumerate(options, start=1):
        parts.append(_table(option, number if len(options) > 1 else None, cost_name, words))
    parts.append("</div>")
    return "".join(parts)


def _strong(class_name: object, words: Words) -> str:
    return f"<strong>{escape(words.gettext(str(class_name)))}</strong>"


def _table(option: dict[str, Any], number: int | None, cost_name: str, words: Words) -> str:
    """One counterfactual: its caption (option number, new prediction, cost) and its rows."""
    caption = CAPTIONS[number is not None, len(option["changes"]) == 1]
    cost = f"({escape(cost_name)} {escape(words.number(option['cost'], 2))})"
    headers = "".join(f'<th scope="col">{escape(words.gettext(h))}</th>' for h in HEADERS)
    rows = "".join(
        f'<tr><th scope="row">{escape(words.gettext(str(c["label"])))}</th>'
        f"<td>{escape(words.value(c['from_display']))}</td>"
        f"<td>{escape(words.value(c['to_display']))}</td></tr>"
        for c in option["changes"]
    )
    return (
        '<table class="xl-changes"><caption>'
        + escape(words.gettext(caption)).format(
            number=number, prediction=_strong(option["prediction"]["class_name"], words))
        + f' <span class="xl-cost">{cost}</span></caption>'
        f"<thead><tr>{headers}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
