"""Small presentation filters for participant and researcher pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def public_id(context: template.Context, row: Any) -> str:
    """An item's or explanation's opaque token for the page's study (studyapp.tokens). The
    researchers' gallery shows explanations that are no database rows: their fingerprint."""
    from django.db.models import Model

    from studyapp.tokens import public_id as token

    if isinstance(row, Model):
        return token(context.get("study"), row)
    return str(getattr(row, "fingerprint", ""))


@register.filter
def percent(value: float | None) -> str:
    """0.834 -> '83%'."""
    if value is None:
        return ""
    from explainers.render.words import percent_text

    # German and Spanish put a (no-break) space before the sign: "83 %".
    return percent_text(f"{round(float(value) * 100):d}", get_language() or "")


@register.filter
def in_page_language(explanation: Any) -> str:
    """An explanation's HTML fragment in the page's language: a stored explanation was
    rendered at preparation in each of the study's languages (Explanation.html_in); the
    researcher's gallery shows ones rendered for it. Escaped by explainers.render."""
    from django.utils.safestring import mark_safe

    html_in = getattr(explanation, "html_in", None)
    html = html_in(get_language() or "") if html_in is not None else explanation.html
    return mark_safe(html)  # the renderers escape every value they write


@register.filter
def language_name(code: str) -> str:
    """A language's name in itself ("Deutsch"), as a language switcher shows it."""
    from experiments.languages import LANGUAGES

    return LANGUAGES.get(code, code)


@register.filter
def digit_svg(pixels: list[list[float]], what: str = "handwritten digit") -> str:
    """A grey-level image (0-16, as in scikit-learn's digits; 8x8, or a researcher's own
    pictures at 16x16) as an inline SVG about 192 pixels wide, whatever its pixel count."""
    from django.utils.html import format_html, format_html_join

    rows = len(pixels)
    cols = len(pixels[0]) if rows else 0
    size = max(4, 192 // max(rows, cols, 1))  # 24 for the digits, as before
    cells = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="rgb({},{},{})"/>',
        ((c * size, r * size, size, size, *([255 - int(255 * min(max(v, 0), 16) / 16)] * 3))
         for r, row in enumerate(pixels) for c, v in enumerate(row)))
    return format_html(
        '<svg role="img" aria-label="{}, {} by {} pixels" width="{}" '
        'height="{}" viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        what, cols, rows, cols * size, rows * size, cols * size, rows * size, cells)


@register.filter
def translated(value: Any) -> str:
    """A platform word stored in English (a scenario's feature, category or class name) in
    the page's language (studyapp.translation)."""
    from studyapp.translation import translated as in_language

    return in_language(str(value)) if value is not None else ""
