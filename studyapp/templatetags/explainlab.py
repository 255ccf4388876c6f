"""Small presentation filters for participant and researcher pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.834 -> '83%'."""
    if value is None:
        return ""
    return f"{round(float(value) * 100):d}%"
