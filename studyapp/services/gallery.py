"""The explanation gallery: every method on the bundled scenarios, shown as participants see it.

The explanations are computed by ``explainers.gallery`` (also ``python -m explainers gallery``)
into ``var/gallery/<method>.json``; the researcher page renders them with the same partials as
the trial pages, so a researcher picks a style from exactly what participants will get.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from explainers.base import Explanation
from explainers.gallery import build_gallery
from explainers.render import render_html


@dataclass(frozen=True)
class GalleryEntry:
    method: str
    kind: str
    fingerprint: str
    html: str
    metrics: dict[str, float]


def gallery_dir() -> Path:
    return Path(settings.VAR_DIR) / "gallery"


def gallery_build(*, methods: list[str] | None = None, random_state: int = 0) -> dict[str, str]:
    """Compute one explanation per method (method -> case used, or the error)."""
    return build_gallery(gallery_dir(), methods=methods, random_state=random_state)


def gallery_entries() -> list[GalleryEntry]:
    """What the last build produced, rendered for display (empty before the first build)."""
    entries = []
    for path in sorted(gallery_dir().glob("*.json")):
        explanation = Explanation.from_dict(json.loads(path.read_text(encoding="utf-8")))
        entries.append(GalleryEntry(method=explanation.method, kind=explanation.kind,
                                    fingerprint=explanation.fingerprint,
                                    html=render_html(explanation),
                                    metrics=explanation.metrics))
    return entries
