"""A researcher's own material brought through the web: checked, stored and shown before a
study names it. A table (with, optionally, the researcher's fitted model as skops or ONNX),
texts (a table with a column of texts), or pictures (one .zip of a table and the pictures it
names, unpacked by :mod:`studyapp.services.material_archive`).

The upload goes through the very checks a spec naming the files gets
(:func:`experiments.scenarios.own.check_material`), and is stored the same way, by content hash
in :func:`~studyapp.services.studies.material_store`. What comes back is what the researcher
needs to decide whether the material is fit for a study: the schema as inferred (or as the
codebook gives it) with a draft codebook to edit, the model's test metrics (the model card of
``python -m experiments check``), one test item with an explanation as participants will see
them, and the ``scenario:`` block to paste into the study's YAML. That block carries the
stored files' hashes, which is how a spec without files beside it (the admin's editor) finds
its material.

Training runs in the request, so uploads are capped well below the spec path's limits (see
:data:`UPLOAD_MAX_BYTES`); larger material goes beside a spec and through ``load_study``.
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
    MODEL_SPECIFIC_METHODS,
    MODEL_SUFFIXES,
    SUPPLIED,
    MaterialError,
    Plan,
    check_material,
    codebook_yaml,
    default_model,
    draft_codebook,
    material_from_spec,
    own_source,
    section_material,
)
from experiments.scenarios.own_images import IMAGE_MODELS
from experiments.scenarios.own_media import refuse_model_file
from experiments.scenarios.own_texts import TEXT_MODELS
from experiments.scenarios.sources import LOADERS
from explainers.render import render_html
from studyapp.services.errors import MaterialRefused, StudyConfigError
from studyapp.services.gallery import GalleryEntry
from studyapp.services.material_archive import ARCHIVE_SUFFIX, unpack_pictures
from studyapp.services.preparation import explanation_compute
from studyapp.services.studies import material_store

# 8 MiB for the files of one upload together: the model is trained while the researcher
# waits (a few seconds for a table this size), and the request stays under the server's limit
# (MAX_REQUEST_BYTES, 10 MiB) so that the page, not the server, can say which file is too
# large.
UPLOAD_MAX_BYTES = 8 * 2**20
CODEBOOK_SUFFIXES = (".yaml", ".yml")
# The kinds of material the page takes (the spec's modality), and the models trained on each.
KINDS = {"table": "tabular", "texts": "text", "pictures": "image"}
KIND_MODELS: dict[str, tuple[str, ...]] = {
    "table": tuple(dict.fromkeys(m for models in FAMILIES.values() for m in models)),
    "texts": TEXT_MODELS, "pictures": IMAGE_MODELS}
MODEL_FAMILIES = tuple(dict.fromkeys(m for models in KIND_MODELS.values() for m in models))
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
    explanation: GalleryEntry | None
    snippet: str

    modality: str = "tabular"

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.model_card["test_metrics"])

    @property
    def display(self) -> dict[str, Any]:
        """The item as the trial page's partial takes it (``item.display``)."""
        return self.item

    @property
    def display_kind(self) -> str:
        """How the trial page shows such an item: a profile table, a picture or a text."""
        return {"tabular": "table", "text": "text", "image": "image"}[self.modality]


def upload_name(raw: str | None) -> str:
    """The uploaded file's name for messages and the spec: its last part only, printable,
    and short. It never becomes a path; the files are saved under fixed names."""
    name = PurePosixPath(str(raw or "").replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ")
    return name.strip()[:_NAME_LENGTH] or "upload"


def material_upload(*, name: str, target: str, model: str, seed: int, data: File,
                    kind: str = "table", text: str = "", image: str = "",
                    codebook: File | None = None,
                    model_file: File | None = None) -> MaterialReport:
    """Check uploaded material (and codebook, and fitted model), store it by content hash,
    train the model (unless one was brought).

    ``kind`` is a key of :data:`KINDS`: a table, texts (``text`` names their column) or
    pictures (``data`` is a .zip of the table and the pictures; ``image`` names the column of
    file names). An empty ``model`` is the usual one for the material; with ``model_file``
    the model is the researcher's own and ``model`` is ignored.

    Bad material raises :class:`StudyConfigError` naming the file, and where it can the row
    and the column (:class:`MaterialRefused`, with the inferred codebook when a table came
    without one); nothing is stored then.
    """
    _check_name(name)
    modality = _modality(kind)
    if model and model not in MODEL_FAMILIES:
        raise StudyConfigError(f"model: unknown {model!r}; expected one of "
                               f"{', '.join(MODEL_FAMILIES)}")
    uploads = {"data": data, "codebook": codebook, "model_file": model_file}
    labels = _check_sizes({key: up for key, up in uploads.items() if up is not None})
    section: dict[str, Any] = {"name": name, "data": labels["data"], "target": target,
                               "model": SUPPLIED if model_file is not None else (
                                   model or default_model(modality=modality,
                                                          model_file=False)),
                               "seed": seed}
    if modality != "tabular":
        section.update({"modality": modality, modality: text if modality == "text" else image})
        if model_file is not None:
            _refuse_model_file(section, labels, kind)
    with tempfile.TemporaryDirectory(prefix="explainlab-upload-") as folder:
        files = _saved(uploads, labels, section, Path(folder))
        try:
            section.update(check_material(section, base_dir=None, store=material_store(),
                                          files=files))
        except MaterialError as exc:
            draft = "" if codebook is not None or modality != "tabular" else _draft(
                files["data"], section)
            message = _without_folder(str(exc), Path(folder))
            if modality == "image":  # the table and pictures are known by the zip's name
                message = f"{labels['data']}: {message}"
            raise MaterialRefused(message, draft=draft) from None
    return _report(section)


def _modality(kind: str) -> str:
    if kind not in KINDS:
        raise StudyConfigError(f"kind: unknown {kind!r}; expected one of {', '.join(KINDS)}")
    return KINDS[kind]


def _refuse_model_file(section: dict[str, Any], labels: dict[str, str], kind: str) -> None:
    """Texts and pictures are modelled here; said with the model file's name as uploaded,
    before it is saved under a fixed one."""
    try:
        refuse_model_file(section_material(section, {
            "data": Path(labels["data"]), "model_file": Path(labels["model_file"])}), kind)
    except MaterialError as exc:
        raise MaterialRefused(str(exc)) from None


def _check_sizes(uploads: dict[str, File]) -> dict[str, str]:
    """Each file's name for messages, once every declared size is within its limit and
    the files together are within :data:`UPLOAD_MAX_BYTES` (the request's own limit is a
    little above it, so the page, not the server, says which file is too large)."""
    labels = {key: upload_name(upload.name) for key, upload in uploads.items()}
    for key, upload in uploads.items():
        _check_size(upload, labels[key], MAX_CODEBOOK_BYTES if key == "codebook"
                    else UPLOAD_MAX_BYTES)
    total = sum(int(upload.size or 0) for upload in uploads.values())
    if total > UPLOAD_MAX_BYTES:
        raise StudyConfigError(f"{', '.join(labels.values())}: {total / 2**20:.1f} MiB "
                               f"together, more than the limit of {_size(UPLOAD_MAX_BYTES)} "
                               "for one upload")
    return labels


def _saved(uploads: dict[str, File | None], labels: dict[str, str], section: dict[str, Any],
           folder: Path) -> dict[str, Path]:
    """The uploads saved under fixed names in ``folder`` (only a known suffix is taken from
    an upload's name), the pictures' zip unpacked; the section names what was saved."""
    files: dict[str, Path] = {}
    data, codebook, model_file = (uploads[k] for k in ("data", "codebook", "model_file"))
    assert data is not None
    if section.get("modality") == "image":
        files["data"] = _unpacked(data, labels["data"], folder)
        # The table as named inside the zip: the name the spec and the messages give.
        section["data"] = files["data"].relative_to(folder / "unpacked").as_posix()
    else:
        suffix = _known(Path(labels["data"]).suffix.lower(), DATA_SUFFIXES)
        files["data"] = _save(data, folder / f"data{suffix}")
    if codebook is not None:
        book_suffix = Path(labels["codebook"]).suffix.lower()
        if book_suffix not in CODEBOOK_SUFFIXES:
            raise StudyConfigError(f"{labels['codebook']}: expected a codebook in YAML "
                                   "(a .yaml or .yml file)")
        section["codebook"] = labels["codebook"]
        files["codebook"] = _save(codebook, folder / f"codebook{book_suffix}")
    if model_file is not None:
        section["model_file"] = labels["model_file"]
        suffix = _known(Path(labels["model_file"]).suffix.lower(), MODEL_SUFFIXES)
        files["model_file"] = _save(model_file, folder / f"model{suffix}")
    return files


def _unpacked(data: File, label: str, folder: Path) -> Path:
    """The pictures' zip unpacked into ``folder/unpacked``; returns the table's path."""
    if Path(label).suffix.lower() != ARCHIVE_SUFFIX:
        raise StudyConfigError(f"{label}: pictures come as one .zip holding the table and the "
                               "pictures it names")
    archive = _save(data, folder / f"pictures{ARCHIVE_SUFFIX}")
    try:
        return unpack_pictures(archive, folder / "unpacked", label=label)
    except MaterialError as exc:
        raise MaterialRefused(str(exc)) from None


def _without_folder(message: str, folder: Path) -> str:
    """A message naming no server folder: a missing picture is "looked for" in the zip."""
    return message.replace(f"{folder.resolve() / 'unpacked'}/", "").replace(
        f"{folder / 'unpacked'}/", "")


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

# How the preview explains its item, as a condition of a study on such material would: for a
# table a method that applies to every model, a fitted one brought as a file too (kernel SHAP);
# for texts the word weights of the text pages (LIME); for pictures a pixel map, which reads
# the gradients that the platform's picture models have. At the study's cheaper quality level.
PREVIEW_METHODS = {"tabular": "kernel_shap", "text": "lime_text", "image": "smoothgrad"}
PREVIEW_PARAMS: dict[str, dict[str, Any]] = {"lime_text": {"num_samples": 500}}
# A model without the internals a pixel map reads is explained by similar training items.
PREVIEW_BLACK_BOX = "nearest_examples"
PREVIEW_QUALITY = "basic"
# A regression is explained by its linear model's terms only (spec.REGRESSION_METHODS).
REGRESSION_PREVIEW = "linear_model"


def _report(section: dict[str, Any]) -> MaterialReport:
    """Everything is read back from the stored copies, as a study's preparation will."""
    material = material_from_spec(section, material_store())
    _, plan = own_source(material, random_state=section["seed"], features=None)
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
        ai_confidence=confidence, explanation=preview_explanation(scenario, section),
        snippet=spec_snippet(section), modality=material.modality)


def preview_explanation(scenario: Any, section: dict[str, Any]) -> GalleryEntry | None:
    """The preview item's explanation, computed as preparation computes a condition's and
    drawn by the trial pages' partials (a gallery entry is what those take outside a study).
    None for a regression the one regression method cannot explain (a model not linear)."""
    # A classifier gives probabilities (asked of the model, not of the task's name).
    method = _preview_method(section, classifier=hasattr(scenario.model, "predict_proba"))
    if method is None:
        return None
    result = explanation_compute(method, scenario, scenario.X_test[PREVIEW_ITEM],
                                 params=PREVIEW_PARAMS.get(method, {}), seed=section["seed"],
                                 quality=PREVIEW_QUALITY)
    return GalleryEntry(method=method, kind=result.kind, fingerprint=result.fingerprint,
                        html=render_html(result), metrics=result.metrics)


def _preview_method(section: dict[str, Any], *, classifier: bool) -> str | None:
    if not classifier:  # a regressor: only the methods that explain one (the spec's)
        return REGRESSION_PREVIEW if section["model"] == "linear" else None
    method = PREVIEW_METHODS[section.get("modality", "tabular")]
    if section["model"] == SUPPLIED and method in MODEL_SPECIFIC_METHODS:
        return PREVIEW_BLACK_BOX
    return method


def _columns(plan: Plan, target: str) -> list[ColumnRow]:
    rows = []
    # Texts and pictures list the columns kept out of the model apart from what they infer.
    entries = {**plan.inferred, **{c: {"exclude": True} for c in plan.excluded
                                   if c not in plan.inferred}}
    for column, entry in entries.items():
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
    keys = ("name", "data", "modality", "text", "image", "target", "codebook", "model_file",
            "model", "seed", "task", "sha256")
    block = {key: section[key] for key in keys if key in section}
    return yaml.safe_dump({"scenario": block}, sort_keys=False, allow_unicode=True)
