"""Example-based explanations as cards: the example, its true label and the AI's prediction."""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render.saliency import image_svg

ROLE_TITLES = {
    "nearest": "Similar case",
    "prototype": "Typical case",
    "supports": "Helped this prediction",
    "opposes": "Worked against this prediction",
}


def render(explanation: Explanation, *, max_examples: int = 10, max_features: int = 12) -> str:
    """A list of example cards; each names its role, its score, the label and the prediction."""
    content = explanation.content
    help_text = escape(str(content.get("score_help", "")))
    cards = [_card(ex, n, content, max_features)
             for n, ex in enumerate(content.get("examples", [])[:max_examples], start=1)]
    if not cards:
        return '<div class="xl-examples"><p>No examples to show.</p></div>'
    return (
        f'<div class="xl-examples"><p class="xl-help">{help_text}</p>'
        f'<ul class="xl-cards">{"".join(cards)}</ul></div>'
    )


def _card(example: dict[str, Any], number: int, content: dict[str, Any],
          max_features: int) -> str:
    title = ROLE_TITLES.get(str(example.get("role", "")), "Example")
    label = example.get("label_name") or "unknown"
    predicted = str(example.get("prediction_name", ""))
    verdict = (
        ""
        if example.get("label") is None or example.get("label") == example.get("prediction")
        else ' <em class="xl-wrong">(the AI is wrong here)</em>'
    )
    if "image" in example:
        body = image_svg(example["image"], cell=8, title=f"{title}: labelled {label}")
    elif "text" in example:
        body = f'<blockquote class="xl-example-text">{escape(str(example["text"]))}</blockquote>'
    else:
        items = list(example.get("features", {}).items())[:max_features]
        body = (
            '<dl class="xl-values">'
            + "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in items)
            + "</dl>"
        )
    score_name = escape(str(content.get("score_name", "score")))
    return (
        f'<li class="xl-card xl-{escape(str(example.get("role", "example")))}">'
        # Numbered in the list, never by the training row (a dataset row id would let anyone
        # with the public data look the case up).
        f"<h4>{escape(title)} <small>#{number}</small></h4>{body}"
        # The label the training data records (in a label-noise scenario it may be wrong).
        f"<p>Recorded label: <strong>{escape(str(label))}</strong><br>"
        f"AI's prediction: <strong>{escape(predicted)}</strong>{verdict}<br>"
        f"<small>{score_name}: {float(example.get('score', 0.0)):.3g}</small></p></li>"
    )
