"""A saliency map as an inline SVG heatmap over the image, with a legend and a text alternative.

Colour is never the only carrier of sign: cells with strong evidence also carry a plus or minus
glyph, and the text alternative names the regions with the strongest evidence for and against.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from explainers.base import Explanation
from explainers.render import NEGATIVE_COLOUR, POSITIVE_COLOUR, element_id

ROWS = ("top", "middle", "bottom")
COLUMNS = ("left", "centre", "right")
MINUS = "\u2212"  # a real minus sign, wider than a hyphen and read as "minus"


def image_svg(
    image: Any,
    *,
    value_range: tuple[float, float] | None = None,
    cell: int = 8,
    title: str = "Input image",
) -> str:
    """A grey-scale image as SVG rects (high values dark, as digits are usually drawn)."""
    pixels = np.asarray(image, dtype=float)
    h, w = pixels.shape
    low, high = value_range or (float(pixels.min()), float(pixels.max()))
    span = (high - low) or 1.0
    rects = "".join(
        f'<rect x="{c * cell}" y="{r * cell}" width="{cell}" height="{cell}" '
        f'fill="{_grey(1 - (pixels[r, c] - low) / span)}"/>'
        for r in range(h)
        for c in range(w)
    )
    return (
        f'<svg role="img" width="{w * cell}" height="{h * cell}" '
        f'viewBox="0 0 {w * cell} {h * cell}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>A {h} by {w} grey-scale image; darker squares "
        f"are higher pixel values.</desc>{rects}</svg>"
    )


def _grey(level: float) -> str:
    value = round(255 * min(max(level, 0.0), 1.0))
    return f"#{value:02x}{value:02x}{value:02x}"


def describe(attributions: np.ndarray, class_name: str) -> str:
    """Where the strongest evidence for and against the class lies, in words (3 x 3 regions)."""
    h, w = attributions.shape
    sums: dict[str, tuple[float, float]] = {}
    for r, row_name in enumerate(ROWS):
        for c, column_name in enumerate(COLUMNS):
            block = attributions[r * h // 3 : (r + 1) * h // 3, c * w // 3 : (c + 1) * w // 3]
            name = (
                "centre"
                if (row_name, column_name) == ("middle", "centre")
                else (f"{row_name} {column_name}")
            )
            sums[name] = (float(block[block > 0].sum()), float(-block[block < 0].sum()))
    quoted = f"“{class_name}”"
    parts = []
    for index, (word, fallback) in enumerate((("for", "nothing"), ("against", "nothing"))):
        region = max(sums, key=lambda name: sums[name][index])
        where = f"the {region}" if sums[region][index] > 0 else fallback
        parts.append(f"The strongest evidence {word} {quoted} is in {where}.")
    return " ".join(parts)


def render(explanation: Explanation, *, cell: int = 24, strong: float = 0.5) -> str:
    """The heatmap SVG, its legend and a text alternative, as an HTML fragment.

    ``cell`` is the size of one pixel in CSS pixels; cells whose |attribution| is at least
    ``strong`` x the largest get a sign glyph.
    """
    content = explanation.content
    attributions = np.asarray(content["attributions"], dtype=float)
    image = np.asarray(content["image"], dtype=float)
    h, w = attributions.shape
    # A map for a chosen class (HIVE distinction) names that class, never the prediction.
    class_name = str(explanation.content.get("explained_class")
                     or explanation.prediction.get("class_name", ""))
    scale = float(np.abs(attributions).max()) or 1.0
    low, high = content.get("value_range", [float(image.min()), float(image.max())])
    span = (high - low) or 1.0
    cells = []
    for r in range(h):
        for c in range(w):
            value = attributions[r, c] / scale
            colour = POSITIVE_COLOUR if value > 0 else NEGATIVE_COLOUR
            x, y = c * cell, r * cell
            cells.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                f'fill="{_grey(1 - (image[r, c] - low) / span)}"/>'
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{colour}" '
                f'fill-opacity="{0.85 * abs(value):.3f}"/>'
            )
            if abs(value) >= strong:
                glyph = "+" if value > 0 else MINUS
                cells.append(
                    f'<text x="{x + cell / 2}" y="{y + cell * 0.7}" text-anchor="middle" '
                    f'font-size="{cell * 0.6:.0f}" fill="#fff" aria-hidden="true">{glyph}</text>'
                )
    text = describe(attributions, class_name)
    method = escape(explanation.method.replace("_", " "))
    svg = (
        f'<svg role="img" class="xl-saliency-map" width="{w * cell}" height="{h * cell}" '
        f'viewBox="0 0 {w * cell} {h * cell}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{method} saliency map for “{escape(class_name)}”</title>"
        f"<desc>{escape(text)}</desc>{''.join(cells)}</svg>"
    )
    return (
        f'<figure class="xl-saliency">{svg}{_legend(class_name, element_id(explanation))}'
        f'<figcaption class="xl-alt">{escape(text)}</figcaption></figure>'
    )


def _legend(class_name: str, key: str) -> str:
    name = escape(class_name)
    return (
        '<svg role="img" class="xl-legend" width="240" height="36" viewBox="0 0 240 36" '
        'xmlns="http://www.w3.org/2000/svg"><title>Legend</title>'
        f"<desc>Orange with {MINUS} marks evidence against “{name}”; blue with + marks evidence "
        f"for it; stronger colour means stronger evidence.</desc>"
        f'<defs><linearGradient id="{key}-diverging">'
        f'<stop offset="0" stop-color="{NEGATIVE_COLOUR}"/>'
        '<stop offset="0.5" stop-color="#ffffff"/>'
        f'<stop offset="1" stop-color="{POSITIVE_COLOUR}"/></linearGradient></defs>'
        f'<rect x="20" y="4" width="200" height="12" fill="url(#{key}-diverging)" '
        'stroke="#999"/>'
        f'<text x="20" y="32" font-size="11">{MINUS} against</text>'
        '<text x="220" y="32" font-size="11" text-anchor="end">for +</text></svg>'
    )
