"""Example-based explanations as cards: the example, its true label and the AI's prediction."""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render.saliency import image_svg
from explainers.render.words import Words, gettext_noop

ROLE_TITLES = {
    "nearest": gettext_noop("Similar case"),
    "prototype": gettext_noop("Typical case"),
    "supports": gettext_noop("Helped this prediction"),
    "opposes": gettext_noop("Worked against this prediction"),
}
SCORE_NAMES = {"distance": gettext_noop("distance"), "weight": gettext_noop("weight"),
               "influence": gettext_noop("influence")}


def render(explanation: Explanation, *, max_examples: int = 10, max_features: int = 12,
           language: str = "en") -> str:
    """A list of example cards; each names its role, its score, the label and the prediction."""
    words = Words(language)
    content = explanation.content
    # The sentence each method stores in English (explainers.methods.examples) is a message.
    help_text = escape(words.gettext(str(content.get("score_help", ""))))
    cards = [_card(ex, n, content, max_features, words)
             for n, ex in enumerate(content.get("examples", [])[:max_examples], start=1)]
    if not cards:
        none = escape(words.gettext("No examples to show."))
        return f'<div class="xl-examples"><p>{none}</p></div>'
    return (
        f'<div class="xl-examples"><p class="xl-help">{help_text}</p>'
        f'<ul class="xl-cards">{"".join(cards)}</ul></div>'
    )


def _body(example: dict[str, Any], title: str, label: str, max_features: int,
          words: Words) -> str:
    """The example itself: its picture, its text, or its profile in the participant's words."""
    if "image" in example:
        return image_svg(example["image"], cell=8, words=words,
                         title=words.gettext("{title}: labelled {label}").format(
                             title=title, label=label))
    if "text" in example:
        return f'<blockquote class="xl-example-text">{escape(str(example["text"]))}</blockquote>'
    items = list(example.get("features", {}).items())[:max_features]
    return ('<dl class="xl-values">'
            + "".join(f"<dt>{escape(words.gettext(str(k)))}</dt><dd>{escape(words.value(v))}</dd>"
                      for k, v in items)
            + "</dl>")


def _card(example: dict[str, Any], number: int, content: dict[str, Any],
          max_features: int, words: Words) -> str:
    title = words.gettext(ROLE_TITLES.get(str(example.get("role", "")), gettext_noop("Example")))
    label = words.gettext(str(example.get("label_name") or gettext_noop("unknown")))
    predicted = words.gettext(str(example.get("prediction_name", "")))
    wrong = escape(words.gettext("(the AI is wrong here)"))
    verdict = (
        ""
        if example.get("label") is None or example.get("label") == example.get("prediction")
        else f' <em class="xl-wrong">{wrong}</em>'
    )
    score_name = words.gettext(SCORE_NAMES.get(str(content.get("score_name")),
                                               gettext_noop("score")))
    recorded = escape(words.gettext("Recorded label: {label}")).format(
        label=f"<strong>{escape(label)}</strong>")
    prediction = escape(words.gettext("AI's prediction: {prediction}")).format(
        prediction=f"<strong>{escape(predicted)}</strong>")
    return (
        f'<li class="xl-card xl-{escape(str(example.get("role", "example")))}">'
        # Numbered in the list, never by the training row (a dataset row id would let anyone
        # with the public data look the case up).
        f"<h4>{escape(title)} <small>#{number}</small></h4>"
        f"{_body(example, title, label, max_features, words)}"
        # The label the training data records (in a label-noise scenario it may be wrong).
        f"<p>{recorded}<br>{prediction}{verdict}<br>"
        f"<small>{escape(score_name)}: "
        f"{escape(words.general(float(example.get('score', 0.0))))}</small></p></li>"
    )
