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


def signed(value: float) -> str:
    """A value with its sign written out: +0.12, -0.05 (true minus sign), 0.00."""
    digits = 2 if abs(value) >= 0.01 or value == 0 else 3
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def signed_points(share: float) -> str:
    """A probability change as signed percentage points: +12.3, -0.4, 0.0."""
    text = f"{abs(100 * share):.1f}"
    if float(text) == 0:
        return text
    return f"+{text}" if share > 0 else f"{MINUS}{text}"


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


def rows_to_show(features: list[dict[str, Any]], top_k: int) -> list[dict[str, Any]]:
    """The ``top_k`` largest |attributions|, then one row summing the others (if any)."""
    ranked = sorted(features, key=lambda f: -abs(float(f["attribution"])))
    shown, rest = ranked[:top_k], ranked[top_k:]
    if rest:
        shown = [
            *shown,
            {
                "label": f"{len(rest)} other feature{'s' if len(rest) > 1 else ''}",
                "display_value": "",
                "attribution": math.fsum(float(f["attribution"]) for f in rest),
            },
        ]
    return shown


def _row_text(row: dict[str, Any]) -> str:
    value = f" = {row['display_value']}" if row["display_value"] != "" else ""
    return f"{row['label']}{value}"


def _bar(row: dict[str, Any], span: float, value_text: str) -> str:
    value = float(row["attribution"])
    width = abs(value) / span * 48 if span > 0 else 0.0  # % of the track; half is one side
    positive = value >= 0
    side = "left:50%" if positive else "right:50%"
    paint = (f"background:{POSITIVE_COLOUR};border:1px solid {POSITIVE_COLOUR}" if positive
             else f"background:{HATCH};border:1px solid {NEGATIVE_COLOUR}")
    marker = "\u25b6 " if positive else "\u25c0 "  # ▶ / ◀: direction as a shape, too
    if float(value_text.replace(MINUS, "-")) == 0:
        # Rounds to nothing: no direction to show, and a border alone would draw a sliver.
        marker, width, paint = "", 0.0, "border:0"
    return (
        f'<div class="xl-bar {"xl-positive" if positive else "xl-negative"}" '
        'style="display:grid;grid-template-columns:minmax(0,1fr) 6.5em;gap:2px .5em;'
        'align-items:center;margin:0 0 .45em">'
        f'<span class="xl-label" style="grid-column:1/-1;overflow-wrap:anywhere">'
        f"{escape(_row_text(row))}</span>"
        '<span class="xl-track" style="position:relative;display:block;height:18px">'
        '<span class="xl-zero" style="position:absolute;left:50%;top:0;bottom:0;'
        f'border-left:1px solid {NEUTRAL_COLOUR}"></span>'
        f'<span class="xl-fill" style="position:absolute;{side};top:2px;bottom:2px;'
        f'width:{width:.1f}%;box-sizing:border-box;{paint}"></span></span>'
        f'<span class="xl-value" style="color:#444;white-space:nowrap">{marker}'
        f"{escape(value_text)}</span></div>"
    )


def _sentences(explanation: Explanation, wording: str) -> tuple[str, str]:
    """(where the output starts and ends, how to read the bars)."""
    content, prediction = explanation.content, explanation.prediction
    name = prediction["class_name"]
    model_p = float(prediction["probability"])
    surrogate = explanation.method in SURROGATE_METHODS
    if wording == "plain":
        base, output, values = probability_scale(content)
        change = signed_points(math.fsum(values))
        if surrogate:
            start = (f"A simple model that imitates the AI near this case gives \u201c{name}\u201d "
                     f"a probability of {percent(base)} to start with and {percent(output)} for "
                     f"this case (the AI itself gives {percent(model_p)}).")
        else:
            start = (f"For an average case the AI gives \u201c{name}\u201d a probability of "
                     f"{percent(base)}; for this case, {percent(output)}.")
        how = (f"Each bar shows how many percentage points one fact added (\u25b6, right) or "
               f"took away (\u25c0, left); together they make the change of {change} points.")
        return start, how
    units = "probability" if content["output_space"] == "probability" else "log-odds"
    base, output = float(content["base_value"]), float(content["output_value"])
    who = "the local surrogate's" if surrogate else "the model's"
    start = (f"Base value {base:.2f} and {who} output for this case {output:.2f}, in {units} "
             f"of {name} (the model's probability of {name}: {percent(model_p)}).")
    how = (f"Each bar is a feature's attribution in {units}, towards {name} (+, right) or away "
           f"from it ({MINUS}, left); they sum to {signed(output - base)}.")
    return start, how


def _direction(value_text: str, name: str) -> str:
    """ "towards X", "away from X", or "no change" for a value that rounds to nothing."""
    if float(value_text.replace(MINUS, "-")) == 0:
        return "no change"
    return f"away from {name}" if value_text.startswith(MINUS) else f"towards {name}"


def render(explanation: Explanation, *, top_k: int = 8, wording: str = "plain") -> str:
    """The explanation as an HTML fragment (a bar chart with a text alternative)."""
    if wording not in WORDINGS:
        raise ValueError(f"wording must be one of {', '.join(WORDINGS)}, not {wording!r}")
    content = explanation.content
    features = [dict(f) for f in content["features"]]
    if wording == "plain":
        for feature, value in zip(features, probability_scale(content)[2], strict=True):
            feature["attribution"] = value
    rows = rows_to_show(features, top_k)
    number = signed_points if wording == "plain" else signed
    uid = element_id(explanation)
    span = max((abs(float(r["attribution"])) for r in rows), default=0.0)
    start, how = _sentences(explanation, wording)
    name = escape(explanation.prediction["class_name"])
    bars = "".join(_bar(r, span, number(float(r["attribution"]))) for r in rows)
    unit = " points" if wording == "plain" else ""
    items = "".join(
        f"<li>{escape(_row_text(r))}: {escape(number(float(r['attribution'])))}{unit} "
        f"({_direction(number(float(r['attribution'])), name)})</li>"
        for r in rows
    )
    return (
        f'<div class="xl-explanation xl-attribution xl-wording-{wording}" '
        'style="position:relative">'
        f'<p class="xl-start">{escape(start)}</p>'
        f'<div class="xl-chart" role="img" aria-labelledby="{uid}-title {uid}-desc">'
        f'<span id="{uid}-title" hidden>Feature contributions to the AI\'s output for {name}'
        f'</span><span id="{uid}-desc" hidden>{escape(start)} {escape(how)}</span>'
        f"{bars}</div>"
        f'<p class="xl-how-to-read">{escape(how)}</p>'
        f'<ul class="xl-visually-hidden" style="{VISUALLY_HIDDEN}">{items}</ul>'
        "</div>"
    )
