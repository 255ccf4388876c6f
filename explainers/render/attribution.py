"""A signed horizontal bar chart of feature attributions, as escaped HTML + text.

Two wordings (``wording=``):

- ``"plain"`` (what participants read by default): every number is on the probability scale,
  in percentage points, with one sentence saying where the AI starts and where it ends for this
  case; the bars add up to that change.
- ``"technical"`` (the researcher's gallery): the explanation's own units (log-odds or
  probability), its base value and output value as the method reports them.

Log-odds attributions (TreeSHAP of a boosted model) are put on the probability scale by
:func:`probability_scale`, which keeps them additive: each attribution is multiplied by the same
factor ``(sigmoid(b + S) - sigmoid(b)) / S`` (``b`` the base value, ``S`` the sum of the
attributions), so the bars sum exactly to ``p(x) - p(base)`` and keep their order and signs.

Each row is the feature's label (HTML text, so long labels wrap instead of being cut) above a
bar that grows right (solid blue, ▶) or left (hatched orange, ◀) from a zero line drawn only
through the bar track; every bar also carries its signed value as text, so the sign never rests
on colour alone. The chart is ``role="img"`` labelled by a title and a description, followed by a
visually hidden list that says the same in words.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render import NEGATIVE_COLOUR, NEUTRAL_COLOUR, POSITIVE_COLOUR, element_id
from explainers.render.rule import percent
from explainers.render.words import Words, gettext_noop

WORDINGS = ("plain", "technical")
# Methods whose base and output are a local surrogate's, not the model's (LIME's intercept and
# its prediction at x): the sentence says so and gives the AI's own probability beside it.
SURROGATE_METHODS = frozenset({"lime"})
VISUALLY_HIDDEN = (
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap;border:0"
)
MINUS = "\u2212"
HATCH = f"repeating-linear-gradient(135deg,{NEGATIVE_COLOUR} 0 3px,#fff 3px 6px)"


def signed(value: float, words: Words | None = None) -> str:
    """A value with its sign written out: +0.12, -0.05 (true minus sign), 0.00."""
    digits = 2 if abs(value) >= 0.01 or value == 0 else 3
    return _with_sign(value, (words or Words()).number(abs(value), digits))


def signed_points(share: float, words: Words | None = None) -> str:
    """A probability change as signed percentage points: +12.3, -0.4, 0.0."""
    return _with_sign(share, (words or Words()).number(abs(100 * share), 1))


def _with_sign(value: float, text: str) -> str:
    if is_zero(text):
        return text
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def is_zero(text: str) -> bool:
    """Whether a written number ("0.00", "-0,0") says nothing but zero, in any language."""
    return not any(digit in text for digit in "123456789")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def probability_scale(content: dict[str, Any]) -> tuple[float, float, list[float]]:
    """(base probability, output probability, attributions in probability units).

    Probability-space content is returned as it is. Log-odds content is mapped with one common
    factor so that the attributions still add up: sum = sigmoid(b + S) - sigmoid(b).
    """
    values = [float(f["attribution"]) for f in content["features"]]
    base = float(content["base_value"])
    if content["output_space"] == "probability":
        return base, float(content["output_value"]), values
    total = math.fsum(values)
    start, end = _sigmoid(base), _sigmoid(base + total)
    # As S -> 0 the factor tends to the slope of the sigmoid at the base value.
    factor = (end - start) / total if abs(total) > 1e-12 else start * (1.0 - start)
    return start, end, [v * factor for v in values]


def rows_to_show(features: list[dict[str, Any]], top_k: int,
                 words: Words | None = None) -> list[dict[str, Any]]:
    """The ``top_k`` largest |attributions|, then one row summing the others (if any); each
    row's ``text`` is the feature and its value in the participant's words."""
    words = words or Words()
    ranked = sorted(features, key=lambda f: -abs(float(f["attribution"])))
    shown = [{**f, "text": _row_text(f, words)} for f in ranked[:top_k]]
    rest = ranked[top_k:]
    if rest:
        others = (words.gettext("1 other feature") if len(rest) == 1 else
                  words.gettext("{count} other features").format(count=len(rest)))
        shown.append({"text": others,
                      "attribution": math.fsum(float(f["attribution"]) for f in rest)})
    return shown


def _row_text(row: dict[str, Any], words: Words) -> str:
    label = words.gettext(str(row["label"]))
    if row["display_value"] == "":
        return label
    return f"{label} = {words.value(row['display_value'])}"


def _bar(row: dict[str, Any], span: float, value_text: str) -> str:
    value = float(row["attribution"])
    width = abs(value) / span * 48 if span > 0 else 0.0  # % of the track; half is one side
    positive = value >= 0
    side = "left:50%" if positive else "right:50%"
    paint = (f"background:{POSITIVE_COLOUR};border:1px solid {POSITIVE_COLOUR}" if positive
             else f"background:{HATCH};border:1px solid {NEGATIVE_COLOUR}")
    marker = "▶ " if positive else "◀ "  # ▶ / ◀: direction as a shape, too
    if is_zero(value_text):
        # Rounds to nothing: no direction to show, and a border alone would draw a sliver.
        marker, width, paint = "", 0.0, "border:0"
    return (
        f'<div class="xl-bar {"xl-positive" if positive else "xl-negative"}" '
        'style="display:grid;grid-template-columns:minmax(0,1fr) 6.5em;gap:2px .5em;'
        'align-items:center;margin:0 0 .45em">'
        f'<span class="xl-label" style="grid-column:1/-1;overflow-wrap:anywhere">'
        f"{escape(row['text'])}</span>"
        '<span class="xl-track" style="position:relative;display:block;height:18px">'
        '<span class="xl-zero" style="position:absolute;left:50%;top:0;bottom:0;'
        f'border-left:1px solid {NEUTRAL_COLOUR}"></span>'
        f'<span class="xl-fill" style="position:absolute;{side};top:2px;bottom:2px;'
        f'width:{width:.1f}%;box-sizing:border-box;{paint}"></span></span>'
        f'<span class="xl-value" style="color:#444;white-space:nowrap">{marker}'
        f"{escape(value_text)}</span></div>"
    )


def _plain_sentences(explanation: Explanation, words: Words) -> tuple[str, str]:
    """(where the AI starts and ends, how to read the bars) on the probability scale."""
    name = words.gettext(explanation.prediction["class_name"])
    base, output, values = probability_scale(explanation.content)
    shares = {"name": name, "start": percent(base, words), "end": percent(output, words),
              "model": percent(float(explanation.prediction["probability"]), words)}
    if explanation.method in SURROGATE_METHODS:
        start = words.gettext(
            "A simple model that imitates the AI near this case gives “{name}” a "
            "probability of {start} to start with and {end} for this case (the AI itself "
            "gives {model}).").format(**shares)
    else:
        start = words.gettext("For an average case the AI gives “{name}” a "
                              "probability of {start}; for this case, {end}.").format(**shares)
    how = words.gettext(
        "Each bar shows how many percentage points one fact added (▶, right) or took "
        "away (◀, left); together they make the change of {change} points.").format(
        change=signed_points(math.fsum(values), words))
    return start, how


def _technical_sentences(explanation: Explanation, words: Words) -> tuple[str, str]:
    """(base and output in the explanation's own units, how to read the bars)."""
    content = explanation.content
    base, output = float(content["base_value"]), float(content["output_value"])
    fields = {
        "name": words.gettext(explanation.prediction["class_name"]),
        "units": words.gettext(gettext_noop("probability")
                               if content["output_space"] == "probability"
                               else gettext_noop("log-odds")),
        "base": words.number(base, 2), "output": words.number(output, 2),
        "model": percent(float(explanation.prediction["probability"]), words),
        "total": signed(output - base, words), "minus": MINUS}
    if explanation.method in SURROGATE_METHODS:
        start = words.gettext(
            "Base value {base} and the local surrogate's output for this case {output}, in "
            "{units} of {name} (the model's probability of {name}: {model}).")
    else:
        start = words.gettext(
            "Base value {base} and the model's output for this case {output}, in {units} of "
            "{name} (the model's probability of {name}: {model}).")
    how = words.gettext("Each bar is a feature's attribution in {units}, towards {name} (+, "
                        "right) or away from it ({minus}, left); they sum to {total}.")
    return start.format(**fields), how.format(**fields)


def _direction(value_text: str, name: str, words: Words) -> str:
    """ "towards X", "away from X", or "no change" for a value that rounds to nothing."""
    if is_zero(value_text):
        return words.gettext("no change")
    message = (gettext_noop("away from {name}") if value_text.startswith(MINUS)
               else gettext_noop("towards {name}"))
    return words.gettext(message).format(name=name)


def render(explanation: Explanation, *, top_k: int = 8, wording: str = "plain",
           language: str = "en") -> str:
    """The explanation as an HTML fragment (a bar chart with a text alternative)."""
    if wording not in WORDINGS:
        raise ValueError(f"wording must be one of {', '.join(WORDINGS)}, not {wording!r}")
    words = Words(language)
    content = explanation.content
    features = [dict(f) for f in content["features"]]
    if wording == "plain":
        for feature, value in zip(features, probability_scale(content)[2], strict=True):
            feature["attribution"] = value
    rows = rows_to_show(features, top_k, words)
    uid = element_id(explanation)
    span = max((abs(float(r["attribution"])) for r in rows), default=0.0)
    sentences = _plain_sentences if wording == "plain" else _technical_sentences
    start, how = sentences(explanation, words)
    name = words.gettext(explanation.prediction["class_name"])
    values = [(signed_points if wording == "plain" else signed)(float(r["attribution"]), words)
              for r in rows]
    bars = "".join(_bar(r, span, value) for r, value in zip(rows, values, strict=True))
    amount = words.gettext("{value} points") if wording == "plain" else "{value}"
    items = "".join(
        f"<li>{escape(r['text'])}: {escape(amount.format(value=value))} "
        f"({escape(_direction(value, name, words))})</li>"
        for r, value in zip(rows, values, strict=True)
    )
    title = words.gettext("Feature contributions to the AI's output for {name}").format(
        name=name)
    return (
        f'<div class="xl-explanation xl-attribution xl-wording-{wording}" '
        'style="position:relative">'
        f'<p class="xl-start">{escape(start)}</p>'
        f'<div class="xl-chart" role="img" aria-labelledby="{uid}-title {uid}-desc">'
        f'<span id="{uid}-title" hidden>{escape(title)}'
        f'</span><span id="{uid}-desc" hidden>{escape(start)} {escape(how)}</span>'
        f"{bars}</div>"
        f'<p class="xl-how-to-read">{escape(how)}</p>'
        f'<ul class="xl-visually-hidden" style="{VISUALLY_HIDDEN}">{items}</ul>'
        "</div>"
    )
