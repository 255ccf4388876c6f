"""The explanation gallery: every method on the bundled scenarios, shown as participants see it.

The explanations are computed by ``experiments.gallery`` (also ``python -m experiments gallery``)
into ``var/gallery/<method>.json``; the researcher page renders them with the same partials as
the trial pages, so a researcher picks a style from exactly what participants will get.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from experiments.gallery import build_gallery
from explainers.base import Explanation as ExplanationResult
from explainers.render import render_html


@dataclass(frozen=True)
class GalleryEntry:
    method: str
    kind: str
    fingerprint: str
    html: str  # the participants' plain wording
    metrics: dict[str, float]
    technical_html: str = ""  # the researcher's technical wording, when it differs
    label: str = ""


@dataclass(frozen=True)
class GalleryControl:
    """A control a spec can run, shown as explanations of the same input side by side."""

    name: str
    title: str
    note: str
    views: list[GalleryEntry]


def gallery_dir() -> Path:
    return Path(settings.VAR_DIR) / "gallery"


def gallery_build(*, methods: list[str] | None = None, random_state: int = 0,
                  controls: bool | None = None) -> dict[str, str]:
    """Compute one explanation per method (method -> case used, or the error), and with a
    full build the control pairs."""
    return build_gallery(gallery_dir(), methods=methods, random_state=random_state,
                         controls=controls)


def gallery_rebuild_queue() -> None:
    """Queue a rebuild of the gallery (``tasks.build_gallery``) once the caller commits."""
    from studyapp import tasks  # the tasks call these services

    transaction.on_commit(tasks.build_gallery.delay)


def gallery_entries() -> list[GalleryEntry]:
    """What the last build produced, rendered for display (empty before the first build)."""
    return [_entry(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(gallery_dir().glob("*.json"))]


def gallery_controls() -> list[GalleryControl]:
    """The control pairs of the last full build (scaffolding attack, randomised model)."""
    controls = []
    for path in sorted((gallery_dir() / "controls").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        controls.append(GalleryControl(
            name=data["name"], title=data["title"], note=data["note"],
            views=[_entry(view["explanation"], label=view["label"]) for view in data["views"]]))
    return controls


def _entry(payload: dict[str, Any], *, label: str = "") -> GalleryEntry:
    explanation = ExplanationResult.from_dict(payload)
    plain = render_html(explanation)
    technical = render_html(explanation, wording="technical")
    return GalleryEntry(method=explanation.method, kind=explanation.kind,
                        fingerprint=explanation.fingerprint, html=plain,
                        metrics=explanation.metrics,
                        technical_html="" if technical == plain else technical, label=label)
