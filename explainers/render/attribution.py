"""A signed horizontal bar chart of feature attributions, as escaped inline SVG + text.

Bars are sorted by |attribution|; positive bars point right in solid blue, negative bars point
left in hatched orange, and every bar carries its signed value as text (+0.12 / -0.05), so the
sign never rests on colour alone. The chart is ``<svg role="img">`` with ``<title>``/``<desc>``,
followed by a visually hidden list that says the same in words.
"""

from __future__ import annotations

from html import escape
from typing import Any

from explainers.base import Explanation
from explainers.render import NEGATIVE_COLOUR, NEUTRAL_COLOUR, POSITIVE_COLOUR, element_id

# Each row is a label line above its bar, so the chart stays narrow enough (about 370 px) to
# be read at full size on a phone instead of being scaled down to illegible text.
MAX_LABEL_CHARS = 44
BAR_AREA = 290
VALUE_WIDTH = 80
ROW_HEIGHT = 44
TOP = 4
VISUALLY_HIDDEN = (
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap;border:0"
)
MINUS = "\u2212"


def signed(value: float) -> str:
    """A value with its sign written out: +0.12, -0.05 (true minus sign), 0.00."""
    digits = 2 if abs(value) >= 0.01 or value == 0 else 3
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


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
                "attribution": sum(float(f["attribution"]) for f in rest),
            },
        ]
    return shown


def _row_text(row: dict[str, Any]) -> str:
    value = f" = {row['display_value']}" if row["display_value"] != "" else ""
    return f"{row['label']}{value}"


def _label(row: dict[str, Any]) -> str:
    """The row's label as SVG text, shortened with an ellipsis (full text as a tooltip)."""
    text = _row_text(row)
    if len(text) <= MAX_LABEL_CHARS:
        return escape(text)
    return f"<title>{escape(text)}</title>{escape(text[: MAX_LABEL_CHARS - 1])}\u2026"


def _bar(i: int, row: dict[str, Any], span: float, uid: str) -> str:
    value = float(row["attribution"])
    centre = BAR_AREA / 2
    length = abs(value) / span * (BAR_AREA / 2 - 4) if span > 0 else 0.0
    y = TOP + i * ROW_HEIGHT
    x = centre if value >= 0 else centre - length
    fill = POSITIVE_COLOUR if value >= 0 else f"url(#{uid}-hatch)"
    stroke = POSITIVE_COLOUR if value >= 0 else NEGATIVE_COLOUR
    marker = "\u25b6" if value >= 0 else "\u25c0"  # ▶ / ◀: direction as a shape, too
    return (
        f'<g class="xl-bar {"xl-positive" if value >= 0 else "xl-negative"}">'
        f'<text class="xl-label" x="0" y="{y + 14}" font-size="13">{_label(row)}</text>'
        f'<rect x="{x:.1f}" y="{y + 20}" width="{length:.1f}" height="16" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1"/>'
        f'<text x="{BAR_AREA + 6}" y="{y + 33}" font-size="13" fill="{NEUTRAL_COLOUR}">'
        f"{marker} {escape(signed(value))}</text></g>"
    )


def _hatch(uid: str) -> str:
    return (
        f'<defs><pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{NEGATIVE_COLOUR}" stroke-width="4"/>'
        "</pattern></defs>"
    )


def _summary(explanation: Explanation) -> tuple[str, str]:
    """(prediction sentence, how-to-read sentence) in plain words."""
    content = explanation.content
    prediction = explanation.prediction
    name = prediction["class_name"]
    units = "probability" if content["output_space"] == "probability" else "log-odds"
    said = f"The AI predicts {name} (probability {100 * prediction['probability']:.0f}%)."
    how = (
        f"Starting from a base value of {content['base_value']:.2f} ({units} of {name}), "
        f"each bar shows how much a feature pushed the output towards {name} (+, right) or "
        f"away from it ({MINUS}, left). The output for this case is "
        f"{content['output_value']:.2f}."
    )
    return said, how


def render(explanation: Explanation, *, top_k: int = 8) -> str:
    """The explanation as an HTML fragment (figure with inline SVG and a text alternative)."""
    rows = rows_to_show(list(explanation.content["features"]), top_k)
    uid = element_id(explanation)
    span = max((abs(float(r["attribution"])) for r in rows), default=0.0)
    height = TOP * 2 + ROW_HEIGHT * len(rows)
    width = BAR_AREA + VALUE_WIDTH
    said, how = _summary(explanation)
    centre = BAR_AREA / 2
    bars = "".join(_bar(i, r, span, uid) for i, r in enumerate(rows))
    items = "".join(
        f"<li>{escape(_row_text(r))}: {escape(signed(float(r['attribution'])))} "
        f"({'towards' if float(r['attribution']) >= 0 else 'away from'} "
        f"{escape(explanation.prediction['class_name'])})</li>"
        for r in rows
    )
    return (
        f'<figure class="xl-explanation xl-attribution">'
        f'<p class="xl-prediction">{escape(said)}</p>'
        f'<svg role="img" aria-labelledby="{uid}-title {uid}-desc" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{uid}-title">Feature contributions to the prediction '
        f"{escape(explanation.prediction['class_name'])}</title>"
        f'<desc id="{uid}-desc">{escape(how)}</desc>{_hatch(uid)}'
        f'<line x1="{centre}" y1="{TOP + 18}" x2="{centre}" y2="{height}" '
        f'stroke="{NEUTRAL_COLOUR}"/>'
        f"{bars}</svg>"
        f'<figcaption class="xl-how-to-read">{escape(how)}</figcaption>'
        f'<ul class="xl-visually-hidden" style="{VISUALLY_HIDDEN}">{items}</ul>'
        "</figure>"
    )
