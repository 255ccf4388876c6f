"""Word importance as highlighted text plus a list. The sign is written as an underline style
and a plus/minus marker (solid underline and plus for, wavy underline and minus against), never
by colour alone; the list repeats the strongest words in words and numbers."""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render import NEGATIVE_COLOUR, POSITIVE_COLOUR
from explainers.render.words import Words, gettext_noop

MINUS = "\u2212"


def render(explanation: Explanation, *, top_k: int = 5, threshold: float = 0.1,
           language: str = "en") -> str:
    """Words with |weight| >= ``threshold`` x the largest are marked; the ``top_k`` are listed."""
    words = Words(language)
    content = explanation.content
    name = words.gettext(str(explanation.prediction.get("class_name", "")))
    weights = content.get("words", [])
    scale = max((abs(w["weight"]) for w in weights), default=0.0) or 1.0
    spans = [_token(token, scale, threshold, name, words) for token in content.get("tokens", [])]
    towards = [w for w in weights if w["weight"] > 0][:top_k]
    against = [w for w in weights if w["weight"] < 0][:top_k]
    key = escape(words.gettext(
        "Marked words: {for_style} = evidence for {name}; {against_style} = evidence "
        "against.")).format(
        for_style="<span>" + escape(words.gettext("+ solid underline")) + "</span>",
        against_style=("<span>" + escape(words.gettext("{minus} wavy underline").format(
            minus=MINUS)) + "</span>"),
        name=f"<strong>{escape(name)}</strong>")
    return (
        f'<div class="xl-text"><p class="xl-highlighted">{"".join(spans)}</p>'
        f'<p class="xl-key">{key}</p>'
        + _list(words.gettext("Words pointing to {name}").format(name=name), towards, words)
        + _list(words.gettext("Words pointing away from {name}").format(name=name), against,
                words)
        + "</div>"
    )


def _token(token: dict[str, Any], scale: float, threshold: float, name: str,
           words: Words) -> str:
    """One token of the text: marked with its sign's underline when its weight counts."""
    weight = token.get("weight")
    text = escape(token["text"])
    if weight is None or abs(weight) < threshold * scale:
        return text
    positive = weight > 0
    colour = POSITIVE_COLOUR if positive else NEGATIVE_COLOUR
    style = (
        f"text-decoration: underline {'solid' if positive else 'wavy'} {colour}; "
        f"text-decoration-thickness: {1 + 3 * abs(weight) / scale:.1f}px; "
        f"text-underline-offset: 3px"
    )
    side = (gettext_noop("for {name}: {weight}") if positive
            else gettext_noop("against {name}: {weight}"))
    title = words.gettext(side).format(name=name, weight=_signed(weight, words))
    return (f'<mark class="xl-word xl-{"pos" if positive else "neg"}" style="{style}" '
            f'title="{escape(title)}">{text}<sup>{"+" if positive else MINUS}</sup></mark>')


def _list(title: str, weights: list[dict[str, Any]], words: Words) -> str:
    if not weights:
        return ""
    items = "".join(
        f"<li>{escape(str(w['word']))} ({_signed(float(w['weight']), words)})</li>"
        for w in weights
    )
    return f'<h4>{escape(title)}</h4><ul class="xl-words">{items}</ul>'


def _signed(value: float, words: Words) -> str:
    """The value with its sign; negatives get a true minus sign (read aloud as "minus")."""
    return f"{'+' if value >= 0 else MINUS}{words.number(abs(value), 3)}"
