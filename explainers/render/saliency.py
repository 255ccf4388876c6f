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
from explainers.render.words import Words, gettext_noop

MINUS = "\u2212"  # a real minus sign, wider than a hyphen and read as "minus"
# The 3 x 3 regions of the picture, as a place in a sentence ("… is in the top left").
REGIONS = {
    ("top", "left"): gettext_noop("the top left"),
    ("top", "centre"): gettext_noop("the top centre"),
    ("top", "right"): gettext_noop("the top right"),
    ("middle", "left"): gettext_noop("the middle left"),
    ("middle", "centre"): gettext_noop("the centre"),
    ("middle", "right"): gettext_noop("the middle right"),
    ("bottom", "left"): gettext_noop("the bottom left"),
    ("bottom", "centre"): gettext_noop("the bottom centre"),
    ("bottom", "right"): gettext_noop("the bottom right"),
}
ROWS = ("top", "middle", "bottom")
COLUMNS = ("left", "centre", "right")
EVIDENCE = (
    (gettext_noop("The strongest evidence for “{name}” is in {region}."),
     gettext_noop("Nothing in the picture is evidence for “{name}”.")),
    (gettext_noop("The strongest evidence against “{name}” is in {region}."),
     gettext_noop("Nothing in the picture is evidence against “{name}”.")),
)


def image_svg(
    image: Any,
    *,
    value_range: tuple[float, float] | None = None,
    cell: int = 8,
    title: str = "Input image",
    words: Words | None = None,
) -> str:
    """A grey-scale image as SVG rects (high values dark, as digits are usually drawn)."""
    words = words or Words()
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
    desc = words.gettext("A {height} by {width} grey-scale image; darker squares are higher "
                         "pixel values.").format(height=h, width=w)
    return (
        f'<svg role="img" width="{w * cell}" height="{h * cell}" '
        f'viewBox="0 0 {w * cell} {h * cell}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{rects}</svg>"
    )


def _grey(level: float) -> str:
    value = round(255 * min(max(level, 0.0), 1.0))
    return f"#{value:02x}{value:02x}{value:02x}"


def describe(attributions: np.ndarray, class_name: str, words: Words | None = None) -> str:
    """Where the strongest evidence for and against the class lies, in words (3 x 3 regions)."""
    words = words or Words()
    h, w = attributions.shape
    sums: dict[tuple[str, str], tuple[float, float]] = {}
    for r, row_name in enumerate(ROWS):
        for c, column_name in enumerate(COLUMNS):
            block = attributions[r * h // 3 : (r + 1) * h // 3, c * w // 3 : (c + 1) * w // 3]
            sums[row_name, column_name] = (float(block[block > 0].sum()),
                                           float(-block[block < 0].sum()))
    parts = []
    for index, (somewhere, nowhere) in enumerate(EVIDENCE):
        region = max(sums, key=lambda name: sums[name][index])
        if sums[region][index] > 0:
            parts.append(words.gettext(somewhere).format(
                name=class_name, region=words.gettext(REGIONS[region])))
        else:
            parts.append(words.gettext(nowhere).format(name=class_name))
    return " ".join(parts)


def render(explanation: Explanation, *, cell: int = 24, strong: float = 0.5,
           language: str = "en") -> str:
    """The heatmap SVG, its legend and a text alternative, as an HTML fragment.

    ``cell`` is the size of one pixel in CSS pixels; cells whose |attribution| is at least
    ``strong`` x the largest get a sign glyph.
    """
    words = Words(language)
    content = explanation.content
    attributions = np.asarray(content["attributions"], dtype=float)
    image = np.asarray(content["image"], dtype=float)
    h, w = attributions.shape
    # A map for a chosen class (HIVE distinction) names that class, never the prediction.
    class_name = words.gettext(str(explanation.content.get("explained_class")
                                   or explanation.prediction.get("class_name", "")))
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
    text = describe(attributions, class_name, words)
    # The method's name is a name (shown as the method calls itself), not a word to translate.
    title = words.gettext("{method} saliency map for “{name}”").format(
        method=explanation.method.replace("_", " "), name=class_name)
    svg = (
        f'<svg role="img" class="xl-saliency-map" width="{w * cell}" height="{h * cell}" '
        f'viewBox="0 0 {w * cell} {h * cell}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f"<desc>{escape(text)}</desc>{''.join(cells)}</svg>"
    )
    return (
        f'<figure class="xl-saliency">{svg}{_legend(class_name, element_id(explanation), words)}'
        f'<figcaption class="xl-alt">{escape(text)}</figcaption></figure>'
    )


def _legend(class_name: str, key: str, words: Words) -> str:
    desc = words.gettext("Orange with {minus} marks evidence against “{name}”; blue "
                         "with + marks evidence for it; stronger colour means stronger "
                         "evidence.").format(minus=MINUS, name=class_name)
    against = words.gettext("{minus} against").format(minus=MINUS)
    towards = words.gettext("for +")
    title = words.gettext("Legend")
    return (
        '<svg role="img" class="xl-legend" width="240" height="36" viewBox="0 0 240 36" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>"
        f'<defs><linearGradient id="{key}-diverging">'
        f'<stop offset="0" stop-color="{NEGATIVE_COLOUR}"/>'
        '<stop offset="0.5" stop-color="#ffffff"/>'
        f'<stop offset="1" stop-color="{POSITIVE_COLOUR}"/></linearGradient></defs>'
        f'<rect x="20" y="4" width="200" height="12" fill="url(#{key}-diverging)" '
        'stroke="#999"/>'
        f'<text x="20" y="32" font-size="11">{escape(against)}</text>'
        f'<text x="220" y="32" font-size="11" text-anchor="end">{escape(towards)}</text></svg>'
    )
