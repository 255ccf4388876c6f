"""Small builders for app tests: researchers in their roles and a quickly prepared study."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from studyapp.models import Study

DEMO_SPEC = Path(__file__).resolve().parent.parent / "examples" / "studies" / "demo.yaml"


def demo_spec(**overrides: Any) -> dict[str, Any]:
    """The demo spec as a dict, optionally with top-level sections replaced."""
    spec = yaml.safe_load(DEMO_SPEC.read_text(encoding="utf-8"))
    spec.update(overrides)
    return spec


def small_spec(**overrides: Any) -> dict[str, Any]:
    """The demo study made small for fast tests: 4 trials from a 16-item pool, and the
    explanation condition uses exact TreeSHAP (milliseconds per item)."""
    spec = demo_spec()
    spec["slug"] = "small"
    spec["trials"] = {"count": 4, "pool_size": 16, "attention_checks": 1}
    spec["conditions"] = [
        {"name": "no_ai", "label": "No AI", "show_ai": False},
        {"name": "ai", "label": "AI prediction"},
        {"name": "ai_shap", "label": "AI + SHAP", "explanation": {"method": "tree_shap"}},
    ]
    spec.update(overrides)
    return spec


def to_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False)


def make_study(owner: Any, spec: dict[str, Any] | None = None, *,
               open_study: bool = True) -> Study:
    """A study loaded from ``spec`` (the small one by default), prepared, and open."""
    from studyapp.services import preparation, studies

    study, _ = studies.study_load_spec(text=to_yaml(spec or small_spec()), owner=owner)
    preparation.study_prepare(study=study)
    if open_study:
        studies.study_set_status(study=study, status="open")
    return study


def _set_path(spec: dict[str, Any], path: str, value: Any) -> None:
    """Set ``spec`` at a field path as validation errors name it (``a.b[2].c``)."""
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    target: Any = spec
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value


def multilingual_spec(languages: tuple[str, ...] = ("en", "de", "es"),
                      **overrides: Any) -> dict[str, Any]:
    """The small spec in several languages: every participant-facing text a mapping whose
    entry in language ``xx`` is the English text marked ``[xx] `` (English stays as is). The
    standard scale is left out: in German or Spanish it needs a validated translation."""
    from experiments.languages import localised_fields

    spec = small_spec(**overrides)
    spec["languages"] = list(languages)
    spec["questionnaires"] = [q for q in spec["questionnaires"] if not isinstance(q, str)]
    for path, value in list(localised_fields(spec)):
        _set_path(spec, path, {lang: value if lang == "en" else f"[{lang}] {value}"
                               for lang in languages})
    return spec
