"""Word importance as highlighted text plus a list. The sign is written as an underline style
and a plus/minus marker (solid underline and plus for, wavy underline and minus against), never
by colour alone; the list repeats the strongest words in words and numbers."""

from __future__ import annotations

from html import escape

from explainers.base import Explanation
from explainers.render import NEGATIVE_COLOUR, POSITIVE_COLOUR

MINUS = "\u2212"


def render(explanation: Explanation, *, top_k: int = 5, threshold: float = 0.1) -> str:
    """Words with |weight| >= ``threshold`` x the largest are marked; the ``top_k`` are listed."""
    content = explanation.content
    name = escape(str(explanation.prediction.get("class_name", "")))
    words = content.get("words", [])
    scale = max((abs(w["weight"]) for w in words), default=0.0) or 1.0
    spans = []
    for token in content.get("tokens", []):
        weight = token.get("weight")
        text = escape(token["text"])
        if weight is None or abs(weight) < threshold * scale:
            spans.append(text)
            continue
        positive = weight > 0
        colour = POSITIVE_COLOUR if positive else NEGATIVE_COLOUR
        style = (
            f"text-decoration: underline {'solid' if positive else 'wavy'} {colour}; "
            f"text-decoration-thickness: {1 + 3 * abs(weight) / scale:.1f}px; "
            f"text-underline-offset: 3px"
        )
        marker = "+" if positive else MINUS
        side = "for" if positive else "against"
        spans.append(
            f'<mark class="xl-word xl-{"pos" if positive else "neg"}" style="{style}" '
            f'title="{side} {name}: {_signed(weight)}">{text}<sup>{marker}</sup></mark>'
        )
    towards = [w for w in words if w["weight"] > 0][:top_k]
    against = [w for w in words if w["weight"] < 0][:top_k]
    return (
        f'<div class="xl-text"><p class="xl-highlighted">{"".join(spans)}</p>'
        f'<p class="xl-key">Marked words: <span>+ solid underline</span> = evidence for '
        f"<strong>{name}</strong>; <span>{MINUS} wavy underline</span> = evidence against.</p>"
        f"{_list(f'Words pointing to {name}', towards)}"
        f"{_list(f'Words pointing away from {name}', against)}</div>"
    )


def _list(title: str, words: list[dict[str, float | str]]) -> str:
    if not words:
        return ""
    items = "".join(
        f"<li>{escape(str(w['word']))} ({_signed(float(w['weight']))})</li>" for w in words
    )
    return f'<h4>{title}</h4><ul class="xl-words">{items}</ul>'


def _signed(value: float) -> str:
    """The value with its sign; negatives get a true minus sign (read aloud as "minus")."""
    return f"{'+' if value >= 0 else MINUS}{abs(value):.3f}"
