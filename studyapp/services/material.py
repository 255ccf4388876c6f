"""A researcher's own table brought through the web: checked, stored and shown before a study
names it.

The upload goes through the very checks a spec naming the files gets
(:func:`experiments.scenarios.own.check_material`), and is stored the same way, by content hash
in :func:`~studyapp.services.studies.material_store`. What comes back is what the researcher
needs to decide whether the material is fit for a study: the schema as inferred (or as the
codebook gives it) with a draft codebook to edit, the trained model's test metrics (the model
card of ``python -m experiments check``), one test item as participants will see it, and the
``scenario:`` block to paste into the study's YAML. That block carries the stored files'
hashes, which is how a spec without files beside it (the admin's editor) finds its material.

Training runs in the request, so uploads are capped well below the spec path's limits (see
:data:`UPLOAD_MAX_BYTES`); larger tables go beside a spec and through ``load_study``.
"""

from __future__ import annotations

import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import yaml
from django.core.files import File

from experiments.scenarios import load_scenario
from experiments.scenarios.model_card import reliability_bins
from experiments.scenarios.own import (
    DATA_SUFFIXES,
    FAMILIES,
    MAX_CODEBOOK_BYTES,
    MaterialError,
    Plan,
    check_material,
    codebook_yaml,
    draft_codebook,
    load_plan,
    material_from_spec,
)
from experiments.scenarios.sources import LOADERS
from studyapp.services.errors import MaterialRefused, StudyConfigError
from studyapp.services.studies import material_store

# 8 MiB: the model is trained while the researcher waits (a few seconds for a table this
# size), and it stays under the server's request limit (MAX_REQUEST_BYTES, 10 MiB) so that
# the page, not the server, can say which file is too large.
UPLOAD_MAX_BYTES = 8 * 2**20
CODEBOOK_SUFFIXES = (".yaml", ".yml")
MODEL_FAMILIES = tuple(dict.fromkeys(m for models in FAMILIES.values() for m in models))
PREVIEW_ITEM = 0  # the first test item: one the model never saw
_NAME_LENGTH = 100


@dataclass(frozen=True)
class ColumnRow:
    """One column of the material as the study will read it."""

    column: str
    role: str  # "target", "feature" or "excluded"
    label: str
    kind: str
    unit: str
    categories: dict[str, str]


@dataclass(frozen=True)
class MaterialReport:
    """What an upload became: its schema, its model's quality, one item, and the spec block."""

    name: str
    data_name: str
    codebook_name: str
    task: str
    model: str
    seed: int
    sha256: dict[str, str]
    description: str
    columns: list[ColumnRow]
    codebook_yaml: str
    model_card: dict[str, Any]
    reliability: list[dict[str, float]]
    item: dict[str, Any]
    ai_prediction: str
    ai_confidence: float | None
    snippet: str

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.model_card["test_metrics"])


def upload_name(raw: str | None) -> str:
    """The uploaded file's name for messages and the spec: its last part only, printable,
    and short. It never becomes a path; the files are saved under fixed names."""
    name = PurePosixPath(str(raw or "").replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ")
    return name.strip()[:_NAME_LENGTH] or "upload"


def material_upload(*, name: str, target: str, model: str, seed: int, data: File,
                    codebook: File | None = None) -> MaterialReport:
    """Check an uploaded table (and codebook), store it by content hash, train the model.

    Bad material raises :class:`StudyConfigError` naming the file, and where it can the row
    and the column (:class:`MaterialRefused`, with the inferred codebook when none was
    given); nothing is stored then.
    """
    _check_name(name)
    if model not in MODEL_FAMILIES:
        raise StudyConfigError(f"model: unknown {model!r}; expected one of "
                               f"{', '.join(MODEL_FAMILIES)}")
    data_name = upload_name(data.name)
    _check_size(data, data_name, UPLOAD_MAX_BYTES)
    section: dict[str, Any] = {"name": name, "data": data_name, "target": target,
                               "model": model, "seed": seed}
    with tempfile.TemporaryDirectory(prefix="explainlab-upload-") as folder:
        # Fixed names: only the suffix is taken from the upload, and only a known one.
        suffix = Path(data_name).suffix.lower()
        files = {"data": _save(data, Path(folder) / f"data{_known(suffix, DATA_SUFFIXES)}")}
        if codebook is not None:
            book_name = upload_name(codebook.name)
            book_suffix = Path(book_name).suffix.lower()
            if book_suffix not in CODEBOOK_SUFFIXES:
                raise StudyConfigError(f"{book_name}: expected a codebook in YAML "
                                       "(a .yaml or .yml file)")
            _check_size(codebook, book_name, MAX_CODEBOOK_BYTES)
            section["codebook"] = book_name
            files["codebook"] = _save(codebook, Path(folder) / f"codebook{book_suffix}")
        try:
            section.update(check_material(section, base_dir=None, store=material_store(),
                                          files=files))
        except MaterialError as exc:
            draft = "" if codebook is not None else _draft(files["data"], section)
            raise MaterialRefused(str(exc), draft=draft) from None
    return _report(section)


def _draft(path: Path, section: dict[str, Any]) -> str:
    """The inferred codebook of refused data, when the data can be read at all: a first
    upload with an identifier column is refused without a codebook, and this one excludes
    it."""
    try:
        return draft_codebook(path, section["target"], label=section["data"])
    except MaterialError:
        return ""


def _check_name(name: str) -> None:
    if name in LOADERS:
        raise StudyConfigError(f"name: {name!r} is a bundled scenario; give your own data "
                               "another name")


def _check_size(upload: File, label: str, limit: int) -> None:
    """Refused from the size the upload declares, before a byte of it is read."""
    if upload.size is None or upload.size > limit:
        raise StudyConfigError(f"{label}: larger than the limit of {_size(limit)} for an "
                               "upload; sample the rows you need, or put the file beside a "
                               "spec and load it with load_study (up to 100 MiB)")
    if upload.size == 0:
        raise StudyConfigError(f"{label}: the file is empty")


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"


def _known(suffix: str, known: tuple[str, ...]) -> str:
    """A suffix the readers know, or one they refuse with their own message."""
    return suffix if suffix in known else ".unknown"


def _save(upload: File, path: Path) -> Path:
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


# ----- the report ----------------------------------------------------------------------------

def _report(section: dict[str, Any]) -> MaterialReport:
    """Everything is read back from the stored copies, as a study's preparation will."""
    material = material_from_spec(section, material_store())
    plan = load_plan(material)
    scenario = load_scenario(section["name"], model=section["model"],
                             random_state=section["seed"], material=material)
    item = scenario.item(PREVIEW_ITEM)
    confidence = None
    reliability: list[dict[str, float]] = []
    if hasattr(scenario.model, "predict_proba"):  # a classifier: calibration applies
        proba = np.asarray(scenario.model.predict_proba(scenario.X_test), dtype=float)
        reliability = reliability_bins(proba, np.asarray(scenario.y_test, dtype=int))
        confidence = float(proba[PREVIEW_ITEM].max())
    return MaterialReport(
        name=section["name"], data_name=section["data"],
        codebook_name=section.get("codebook", ""), task=section["task"],
        model=section["model"], seed=section["seed"], sha256=dict(section["sha256"]),
        description=plan.description, columns=_columns(plan, section["target"]),
        codebook_yaml=codebook_yaml(plan, data_name=section["data"],
                                    target=section["target"]),
        model_card=scenario.model_card, reliability=reliability, item=item,
        ai_prediction=scenario.label_text(scenario.predict(PREVIEW_ITEM)),
        ai_confidence=confidence, snippet=spec_snippet(section))


def _columns(plan: Plan, target: str) -> list[ColumnRow]:
    rows = []
    for column, entry in plan.inferred.items():
        role = ("target" if column == target else
                "excluded" if entry.get("exclude") else "feature")
        rows.append(ColumnRow(column=column, role=role, label=str(entry.get("label", "")),
                              kind=str(entry.get("kind", "")), unit=str(entry.get("unit", "")),
                              categories=dict(entry.get("categories") or {})))
    # The target first, the excluded last: the order a researcher checks them in.
    order = {"target": 0, "feature": 1, "excluded": 2}
    return sorted(rows, key=lambda r: order[r.role])


def spec_snippet(section: dict[str, Any]) -> str:
    """The ``scenario:`` block naming the stored material: its hashes and task let a spec
    without the files beside it (pasted into the admin) find the stored copies."""
    keys = ("name", "data", "target", "codebook", "model", "seed", "task", "sha256")
    block = {key: section[key] for key in keys if key in section}
    return yaml.safe_dump({"scenario": block}, sort_keys=False, allow_unicode=True)
