"""A researcher's own table (CSV or Parquet), read into the same :class:`Source` the bundled
scenarios produce, so designs, explainers, pools and pages never know where the data came from.

The material is checked completely before anything is stored: every error names the file, and
where it can the row and the column (``loans.csv: row 17, column 'income': 'n/a' is not a
number``). Limits are stated in the errors and in the README.

Storage: :func:`store_material` copies the data, codebook and any model file into a
content-addressed folder (``<store>/<sha256>.<suffix>``) and the normalised spec keeps the
hashes, so a study is re-prepared from exactly the bytes that were checked, even after the
researcher moves or edits the original files (the spec's hash then also pins the data).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

from experiments.scenarios.columns import (
    ColumnSpec,
    categorical,
    encode_frame,
    numeric,
    select_specs,
)
from experiments.scenarios.sources import Source, Task

# 100 MiB: a table beyond this belongs in a database, not beside a spec.
MAX_DATA_BYTES = 100 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 200
MIN_ROWS = 40  # a test split of at least 10 rows
MAX_CATEGORIES = 50  # more levels than a participant can read on one item
MAX_CLASSES = 20
MAX_CODEBOOK_BYTES = 256 * 1024
MAX_MODEL_BYTES = 200 * 1024 * 1024
TEST_SIZE = 0.25
# A numeric target with more distinct values than this is a quantity (regression), unless the
# codebook says otherwise.
REGRESSION_MIN_VALUES = 20
# A column whose values are numbers in at least this share of rows is read as numeric, and any
# value that is not a number is reported as a typo rather than silently making it categorical.
NUMERIC_SHARE = 0.9

FAMILIES: dict[str, tuple[str, ...]] = {
    "classification": ("gbm", "logistic", "random_forest", "mlp"),
    "regression": ("gbm", "linear", "random_forest", "mlp"),
}
SUPPLIED = "supplied"  # the model name of a researcher's own fitted model
# Explanation methods that read a model's internals (gradients, coefficients, trees); a model
# brought as a file is a black box to them. (A test runs every method on a supplied model.)
MODEL_SPECIFIC_METHODS = frozenset({
    "gradient", "gradient_x_input", "integrated_gradients", "smoothgrad", "influence",
    "linear_model", "linear_shap", "tree_shap"})
DATA_SUFFIXES = (".csv", ".parquet")
MODEL_SUFFIXES = (".skops", ".onnx")


CODEBOOK_KINDS = ("numeric", "categorical", "ordinal")


class MaterialError(ValueError):
    """Bad material; the message names the file and, where it can, the row and the column."""


_CODEBOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "description": {"type": "string", "maxLength": 5000},
        "columns": {"type": "object", "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "label": {"type": "string", "maxLength": 200},
                "unit": {"type": "string", "maxLength": 50},
                "unit_one": {"type": "string", "maxLength": 50},  # "year" of "years"
                "kind": {"enum": list(CODEBOOK_KINDS)},
                # raw value -> the words participants read; for ordinal, from low to high
                "categories": {"type": "object", "minProperties": 1,
                               "additionalProperties": {"type": "string", "minLength": 1}},
                "immutable": {"type": "boolean"},
                "direction": {"enum": ["any", "increase", "decrease"]},
                "exclude": {"type": "boolean"},
                "key": {"type": "boolean"},
            },
        }},
    },
}


@dataclass(frozen=True)
class Material:
    """Where a researcher's scenario lives: the stored (content-addressed) files and the spec's
    choices. Hashable, so :func:`load_scenario` can cache on it."""

    name: str
    data: Path
    target: str
    codebook: Path | None = None
    model_file: Path | None = None
    data_label: str = ""  # the file names the researcher knows, for error messages
    codebook_label: str = ""
    modality: str = "tabular"  # or "text" (own_texts.py) or "image" (own_images.py)
    text: str = ""  # the column of texts
    image: str = ""  # the column of image file names
    pixels: Path | None = None  # the pictures as stored, normalised (own_images.py)


# ----- reading -------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: Path, *, label: str = "") -> pd.DataFrame:
    """The table with every cell as a stripped string ('' for missing), columns as written."""
    name = label or path.name
    if not path.is_file():
        raise MaterialError(f"{name}: no such file")
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise MaterialError(f"{name}: expected a .csv or .parquet file")
    size = path.stat().st_size
    if size > MAX_DATA_BYTES:
        raise MaterialError(f"{name}: {size / 1024**2:,.0f} MiB is larger than the limit of "
                            f"{MAX_DATA_BYTES // 1024**2} MiB; sample the rows you need")
    try:
        if path.suffix.lower() == ".parquet":
            _check_parquet_rows(path, name)
            frame = pd.read_parquet(path).astype(object).where(lambda f: f.notna(), "")
            frame = frame.map(lambda v: "" if v == "" else str(v))
        else:
            # utf-8-sig: spreadsheet programs start their CSVs with a byte-order mark, which
            # would otherwise become part of the first column's name.
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1,
                                encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MaterialError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise MaterialError(f"{name}: cannot be read as a table: {str(exc)[:300]}") from None
    if len(frame) > MAX_ROWS:
        raise MaterialError(f"{name}: more than {MAX_ROWS:,} rows (the limit); sample the rows "
                            "you need")
    if frame.shape[1] > MAX_COLUMNS:
        raise MaterialError(f"{name}: {frame.shape[1]} columns, more than the limit of "
                            f"{MAX_COLUMNS}")
    columns = [str(c).strip() for c in frame.columns]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated or any(c.startswith("Unnamed:") or not c for c in columns):
        raise MaterialError(f"{name}: every column needs a unique name in the header row "
                            f"(duplicated or empty: {duplicated or 'an empty name'})")
    frame.columns = columns
    return frame.apply(lambda col: col.astype(str).str.strip())


def _check_parquet_rows(path: Path, name: str) -> None:
    """Parquet compresses well: count rows from its footer before decompressing any."""
    import pyarrow.parquet

    rows = pyarrow.parquet.ParquetFile(path).metadata.num_rows
    if rows > MAX_ROWS:
        raise MaterialError(f"{name}: {rows:,} rows, more than the limit of {MAX_ROWS:,}; "
                            "sample the rows you need")


def read_codebook(path: Path, *, label: str = "") -> dict[str, Any]:
    name = label or path.name
    if not path.is_file():
        raise MaterialError(f"{name}: no such file")
    if path.stat().st_size > MAX_CODEBOOK_BYTES:
        raise MaterialError(f"{name}: larger than {MAX_CODEBOOK_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MaterialError(f"{name}: not valid YAML: {str(exc)[:300]}") from None
    data = {} if data is None else data
    # Category keys such as 0/1 are read by YAML as numbers; the table's cells are strings.
    for entry in (data.get("columns") or {}).values() if isinstance(data, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("categories"), dict):
            entry["categories"] = {_key(k): v for k, v in entry["categories"].items()}
    errors = sorted(jsonschema.Draft202012Validator(_CODEBOOK_SCHEMA).iter_errors(data),
                    key=lambda e: list(e.path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or "top level"
        raise MaterialError(f"{name}: {where}: {errors[0].message[:300]}")
    return dict(data)


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _row(i: int) -> str:
    """Data row i (0-based) as the researcher finds it: row 1 is the first line after the
    header."""
    return f"row {i + 1}"


# ----- the columns ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """What the material becomes: typed frame, column specs, target and its classes."""

    frame: pd.DataFrame  # numeric columns as floats, categoricals as raw strings
    specs: tuple[ColumnSpec, ...]
    task: Task
    y: np.ndarray
    class_names: tuple[str, ...]
    class_values: tuple[str, ...]  # raw target values, in the order of class_names
    target_label: str
    target_unit: str
    description: str
    key_features: tuple[str, ...]
    excluded: tuple[str, ...]
    inferred: dict[str, dict[str, Any]]  # the codebook as inferred + given, for the researcher


def plan_material(frame: pd.DataFrame, target: str, codebook: Mapping[str, Any] | None,
                  *, name: str, codebook_name: str = "codebook", draft: bool = False) -> Plan:
    """Check and type every column; raise :class:`MaterialError` on the first problem.

    ``draft``: a text column with too many levels to be a category (an id, free text) is
    marked excluded instead of refused, for the researcher to confirm in the draft codebook.
    """
    book = dict((codebook or {}).get("columns") or {})
    unknown = [c for c in book if c not in frame.columns]
    if unknown:
        raise MaterialError(f"{codebook_name}: columns {unknown} are not in {name} (its "
                            f"columns: {', '.join(frame.columns[:30])})")
    if target not in frame.columns:
        raise MaterialError(f"{name}: no target column {target!r}; its columns are "
                            f"{', '.join(frame.columns[:30])}")
    if book.get(target, {}).get("exclude"):
        raise MaterialError(f"{codebook_name}: the target {target!r} cannot be excluded")
    if len(frame) < MIN_ROWS:
        raise MaterialError(f"{name}: {len(frame)} rows; at least {MIN_ROWS} are needed for a "
                            "training and a test split")
    # The target first: without a usable label nothing else matters.
    task, y, class_values, class_names, target_entry = plan_target(
        frame[target], book.get(target, {}), name=name, target=target,
        codebook_name=codebook_name)
    typed = pd.DataFrame(index=frame.index)
    specs: list[ColumnSpec] = []
    inferred: dict[str, dict[str, Any]] = {}
    excluded: list[str] = []
    for column in frame.columns:
        entry = dict(book.get(column, {}))
        if entry.get("exclude"):
            excluded.append(column)
            inferred[column] = {"exclude": True}
            continue
        if column == target:
            continue
        kind = entry.get("kind") or _infer_kind(frame[column], name=name, column=column)
        if draft and kind == "categorical" and frame[column].nunique() > MAX_CATEGORIES:
            excluded.append(column)
            inferred[column] = {"exclude": True}
            continue
        _check_missing(frame[column], name=name, column=column)
        if kind == "numeric":
            typed[column] = _numbers(frame[column], name=name, column=column)
            spec = _numeric_spec(column, typed[column], entry)
        else:
            typed[column] = frame[column]
            spec = _categorical_spec(column, frame[column], entry, kind, name=name,
                                     codebook_name=codebook_name)
        specs.append(spec)
        inferred[column] = _describe(spec, kind, entry)
    if not specs:
        raise MaterialError(f"{name}: no feature columns besides the target {target!r}")
    inferred[target] = target_entry
    label = book.get(target, {}).get("label") or target
    # Participants read this: it names no file, only what the AI predicts.
    description = str((codebook or {}).get("description") or
                      f"Each profile describes one case. The AI predicts {label!r}.")
    keys = tuple(c for c, e in book.items() if e.get("key") and not e.get("exclude"))
    return Plan(frame=typed, specs=tuple(specs), task=task, y=y, class_names=class_names,
                class_values=class_values, target_label=label,
                target_unit=str(book.get(target, {}).get("unit", "")),
                description=description, key_features=keys, excluded=tuple(excluded),
                inferred=inferred)


def _infer_kind(values: pd.Series, *, name: str, column: str) -> str:
    present = values[values != ""]
    parsed = present.map(_number)
    share = float(parsed.notna().mean()) if len(present) else 0.0
    if share == 1.0:
        return "numeric"
    if share >= NUMERIC_SHARE:
        bad = parsed.isna().to_numpy().nonzero()[0][0]
        raise MaterialError(f"{name}: {_row(int(present.index[bad]))}, column {column!r}: "
                            f"{present.iloc[bad]!r} is not a number ({share:.0%} of the column "
                            "are numbers); fix the value, or give the column kind: categorical "
                            "in the codebook")
    return "categorical"


def _check_missing(values: pd.Series, *, name: str, column: str) -> None:
    missing = (values == "").to_numpy().nonzero()[0]
    if len(missing):
        raise MaterialError(f"{name}: {_row(int(missing[0]))}, column {column!r}: empty value "
                            f"({len(missing)} in the column); the platform does not impute, so "
                            "fill or drop these rows, or exclude the column in the codebook")


def _numbers(values: pd.Series, *, name: str, column: str) -> pd.Series:
    parsed = values.map(_number)
    bad = parsed.isna().to_numpy().nonzero()[0]
    if len(bad):
        raise MaterialError(f"{name}: {_row(int(bad[0]))}, column {column!r}: "
                            f"{values.iloc[bad[0]]!r} is not a number")
    return parsed.astype(float)


def _numeric_spec(column: str, values: pd.Series, entry: Mapping[str, Any]) -> ColumnSpec:
    integer = bool(np.all(np.mod(values.to_numpy(), 1) == 0))
    return numeric(column, entry.get("label") or column, unit=entry.get("unit", ""),
                   unit_one=entry.get("unit_one", ""), integer=integer,
                   immutable=bool(entry.get("immutable", False)),
                   direction=entry.get("direction", "any"), lower=float(values.min()),
                   upper=float(values.max()))


def _categorical_spec(column: str, values: pd.Series, entry: Mapping[str, Any], kind: str, *,
                      name: str, codebook_name: str) -> ColumnSpec:
    levels = _sorted_levels(values.unique())
    if len(levels) > MAX_CATEGORIES:
        raise MaterialError(f"{name}: column {column!r} has {len(levels):,} distinct values, "
                            f"more than the {MAX_CATEGORIES} a categorical column may have; if "
                            "it is an identifier or free text give it exclude: true in the "
                            "codebook, if it is a number fix the values that are not")
    given: dict[str, str] = dict(entry.get("categories") or {})
    if given:
        missing = [v for v in levels if v not in given]
        if missing:
            raise MaterialError(f"{codebook_name}: column {column!r}: values {missing[:5]} of "
                                f"{name} have no entry in categories")
        pairs = list(given.items())  # the codebook's order (low to high for ordinal)
    else:
        pairs = [(v, v) for v in levels]
    words = [w for _, w in pairs]
    if len(set(words)) != len(words):
        raise MaterialError(f"{codebook_name}: column {column!r}: two categories share a "
                            "display name")
    return categorical(column, entry.get("label") or column, pairs,
                       immutable=bool(entry.get("immutable", False)),
                       direction=entry.get("direction", "any"))


def _sorted_levels(values: Sequence[str]) -> list[str]:
    """Numbers in numeric order (1, 2, 10), words alphabetically."""
    numbers = [_number(v) for v in values]
    if all(n is not None for n in numbers):
        return [v for _, v in sorted(zip(numbers, values, strict=True))]
    return sorted(values)


def _describe(spec: ColumnSpec, kind: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    feature = spec.feature
    described: dict[str, Any] = {"label": feature.label, "kind": kind}
    if feature.unit:
        described["unit"] = feature.unit
    if feature.unit_one:
        described["unit_one"] = feature.unit_one
    if feature.kind == "categorical":
        described["categories"] = dict(spec.mapping)
    described["immutable"] = feature.immutable
    described["direction"] = feature.direction
    if entry.get("key"):
        described["key"] = True
    return described


def plan_target(values: pd.Series, entry: Mapping[str, Any], *, name: str, target: str,
                 codebook_name: str) -> tuple[Task, np.ndarray, tuple[str, ...],
                                              tuple[str, ...], dict[str, Any]]:
    missing = (values == "").to_numpy().nonzero()[0]
    if len(missing):
        raise MaterialError(f"{name}: {_row(int(missing[0]))}, column {target!r}: the target "
                            f"is empty ({len(missing)} rows); every row needs its label")
    levels = _sorted_levels(values.unique())
    if len(levels) < 2:
        raise MaterialError(f"{name}: column {target!r}: the target has one value "
                            f"({levels[0]!r}) in all {len(values)} rows; a model cannot learn "
                            "from a constant target")
    kind = entry.get("kind")
    numbers = values.map(_number)
    is_numeric = bool(numbers.notna().all())
    regression = kind == "numeric" or (kind is None and is_numeric
                                       and len(levels) > REGRESSION_MIN_VALUES)
    label = entry.get("label") or target
    if regression:
        y = _numbers(values, name=name, column=target).to_numpy()
        described = {"label": label, "kind": "numeric"}
        if entry.get("unit"):
            described["unit"] = entry["unit"]
        return "regression", y, (), (), described
    spec = _categorical_spec(target, values, entry, kind or "categorical", name=name,
                             codebook_name=codebook_name)
    if len(spec.feature.categories) > MAX_CLASSES:
        raise MaterialError(f"{name}: column {target!r}: {len(levels)} classes, more than "
                            f"{MAX_CLASSES}; for a quantity give the target kind: numeric")
    y = spec.encode(values).astype(int)
    counts = np.bincount(y, minlength=len(spec.feature.categories))
    rare = [spec.feature.categories[i] for i, n in enumerate(counts) if n < 2]
    if rare:
        raise MaterialError(f"{name}: column {target!r}: classes {rare} have fewer than two "
                            "rows; a class needs rows in both the training and the test split")
    values_in_order = tuple(dict.fromkeys(spec.mapping))
    return ("classification", y, values_in_order, spec.feature.categories,
            {"label": label, "kind": "categorical", "categories": dict(spec.mapping)})


# ----- the source ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Read:
    """The material's table and codebook as read, with the names the researcher knows."""

    frame: pd.DataFrame
    codebook: dict[str, Any] | None
    name: str
    codebook_name: str


def read_material(material: Material) -> Read:
    label = material.data_label or material.data.name
    frame = read_table(material.data, label=label)
    book_label = material.codebook_label or (material.codebook.name if material.codebook else "")
    codebook = read_codebook(material.codebook, label=book_label) if material.codebook else None
    return Read(frame, codebook, label, book_label)


def load_plan(material: Material) -> Plan:
    read = read_material(material)
    return plan_material(read.frame, material.target, read.codebook, name=read.name,
                         codebook_name=read.codebook_name)


def own_source(material: Material, *, random_state: int,
               features: Sequence[str] | None) -> tuple[Source, Plan]:
    """The researcher's table split (stratified for classes) and encoded like a bundled one;
    texts and pictures split like the bundled sentiment and digits scenarios."""
    if material.modality != "tabular" and features is not None:
        raise ValueError(f"{material.modality} material has no named features to select")
    if material.modality == "text":
        from experiments.scenarios.own_texts import text_source

        return text_source(material, random_state=random_state)
    if material.modality == "image":
        from experiments.scenarios.own_images import image_source

        return image_source(material, random_state=random_state)
    plan = load_plan(material)
    specs = select_specs(plan.specs, features)
    X = encode_frame(plan.frame, specs)
    stratify = plan.y if plan.task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, plan.y, test_size=TEST_SIZE, random_state=random_state, stratify=stratify)
    models = (*FAMILIES[plan.task], *((SUPPLIED,) if material.model_file else ()))
    source = Source(
        name=material.name, task=plan.task, modality="tabular",
        X_train=np.ascontiguousarray(X_train, dtype=float), y_train=np.asarray(y_train),
        X_test=np.ascontiguousarray(X_test, dtype=float), y_test=np.asarray(y_test),
        description=plan.description, models=models,
        features=tuple(s.feature for s in specs), class_names=plan.class_names,
        positive_class=1 if len(plan.class_names) == 2 else None,
        key_features=plan.key_features, target_label=plan.target_label,
        target_unit=plan.target_unit)
    return source, plan


def draft_codebook(path: Path, target: str, *, label: str = "") -> str:
    """The codebook as inferred from the data, as YAML for the researcher to check and edit.
    ``label`` names the data in messages and the header (default: the file's name)."""
    name = label or path.name
    frame = read_table(path, label=name)
    plan = plan_material(frame, target, None, name=name, draft=True)
    return codebook_yaml(plan, data_name=name, target=target)


def codebook_yaml(plan: Plan, *, data_name: str, target: str) -> str:
    """A plan's codebook (as inferred, with anything given) as YAML to edit and bring back."""
    header = (f"# Draft codebook inferred from {data_name} (target: {target}, task: {plan.task}).\n"
              "# Check every entry: labels are what participants read; set immutable and\n"
              "# direction for recourse; identifiers and free text are excluded\n"
              f"# (excluded here: {', '.join(plan.excluded) or 'none'}).\n")
    # A text's or picture's column has its role as its kind, which the spec gives instead
    # (text:, image:); the codebook takes only its label.
    columns = {column: {k: v for k, v in entry.items() if k != "kind" or v in CODEBOOK_KINDS}
               for column, entry in plan.inferred.items()}
    body = {"description": plan.description, "columns": columns}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


# ----- storing -------------------------------------------------------------------------------

def store_file(path: Path, store: Path) -> str:
    """Copy a file into the content-addressed store (atomically); returns its sha256."""
    digest = sha256_file(path)
    target = store / f"{digest}{path.suffix.lower()}"
    if target.exists():
        return digest
    store.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=store, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                out.write(block)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return digest


def stored_path(store: Path, digest: str, original: str) -> Path:
    return store / f"{digest}{Path(original).suffix.lower()}"


# ----- from the spec -------------------------------------------------------------------------

def raw_categories(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Categorical column -> its raw values in code order (what a supplied model was fed)."""
    return {s.column: tuple(s.mapping) for s in plan.specs if s.feature.kind == "categorical"}


def material_files(section: Mapping[str, Any], base_dir: Path) -> dict[str, Path]:
    """The spec's files, resolved relative to the spec file's folder."""
    return {key: (base_dir / str(section[key])).resolve()
            for key in ("data", "codebook", "model_file") if section.get(key)}


def check_material(section: Mapping[str, Any], *, base_dir: Path | None,
                   store: Path | None,
                   files: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """Check a spec's own material completely; then (if ``store``) copy it into the store.

    Returns the fields the normalised spec gains: ``task`` and the files' ``sha256``. Nothing
    is stored unless every check passed. The files are the section's names resolved in
    ``base_dir``, or, for material not beside a spec (a web upload), given as ``files``
    (key -> path, the section's names then only name them in messages).
    """
    from experiments.scenarios.supplied import load_supplied

    if files is None:
        if base_dir is None:
            raise ValueError("check_material needs the spec's folder or the files")
        files = material_files(section, base_dir)
    files = dict(files)
    for key, path in files.items():
        if not path.is_file():
            raise MaterialError(f"{section[key]}: no such file (looked for {path})")
    material = section_material(section, files)
    seed = int(section.get("seed", 0))
    source, plan = own_source(material, random_state=seed, features=None)
    if section.get("task") not in (None, plan.task):
        raise MaterialError(f"{section['data']}: column {section['target']!r} gives a "
                            f"{plan.task} task, but the spec says task: {section['task']}")
    model = section.get("model")
    if material.model_file is not None:
        if section.get("bug") or section.get("bugs"):
            raise MaterialError(f"{section['model_file']}: planted bugs retrain the model, so "
                                "they need a model the platform trains (scenario.model)")
        supplied = load_supplied(material.model_file, label=str(section["model_file"]),
                                 features=source.features, raw_categories=raw_categories(plan),
                                 class_values=plan.class_values, data_label=str(section["data"]))
        _try_model(supplied, source, str(section["model_file"]))
    elif model not in source.models:
        what = {"text": "texts", "image": "pictures"}.get(material.modality,
                                                         f"a {plan.task} task")
        raise MaterialError(f"scenario.model: unknown {model!r} for {what}; expected "
                            f"one of {', '.join(source.models)}"
                            + (" (or bring a fitted model with model_file)"
                               if material.modality == "tabular" else ""))
    if material.modality == "text":
        from experiments.scenarios.own_texts import try_text_vocabulary

        try_text_vocabulary(source, str(model), label=str(section["data"]),
                            column=material.text, random_state=seed)
    if material.modality == "image":
        from experiments.scenarios.own_images import pixels_file

        files = {**files, "pixels": pixels_file(plan)}  # what the model and the pages use
    try:
        hashes = {key: sha256_file(path) for key, path in files.items()}
        if store is not None:
            for path in files.values():
                store_file(path, store)
    finally:
        if "pixels" in files:
            files["pixels"].unlink()
    return {"task": plan.task, "sha256": hashes}


def _try_model(model: Any, source: Source, label: str) -> None:
    """Run a supplied model on a few rows: wrong shapes or types fail here, not mid-study."""
    rows = source.X_test[:8]
    try:
        if source.task == "classification":
            proba = model.predict_proba(rows)
            if proba.shape != (len(rows), len(source.class_names)):
                raise ValueError(f"probabilities of shape {proba.shape}, expected "
                                 f"{(len(rows), len(source.class_names))}")
        else:
            values = model.predict(rows)
            if values.shape != (len(rows),):
                raise ValueError(f"predictions of shape {values.shape}")
    except MaterialError:
        raise
    except Exception as exc:
        raise MaterialError(f"{label}: fails on the data's rows: {str(exc)[:300]}") from None


def material_from_spec(section: Mapping[str, Any], store: Path) -> Material:
    """The stored material a normalised spec names (by content hash)."""
    hashes = section["sha256"]
    # The pixels are derived from the pictures, not a file of the spec's: no name to show.
    names = {key: str(section.get(key, f"{key}.npy")) for key in hashes}
    paths = {key: stored_path(store, hashes[key], names[key]) for key in hashes}
    for key, path in paths.items():
        if not path.is_file():
            raise MaterialError(f"{names[key]}: the stored copy ({path.name}) is missing from "
                                f"{store}; load the spec again from its file")
    return section_material(section, paths)


def section_material(section: Mapping[str, Any], files: Mapping[str, Path]) -> Material:
    """The spec's scenario section with its files found (as given, or stored by hash)."""
    return Material(name=section["name"], data=files["data"], target=section["target"],
                    codebook=files.get("codebook"), model_file=files.get("model_file"),
                    data_label=str(section["data"]),
                    codebook_label=str(section.get("codebook", "")),
                    modality=str(section.get("modality", "tabular")),
                    text=str(section.get("text", "")), image=str(section.get("image", "")),
                    pixels=files.get("pixels"))


def default_model(*, modality: str, model_file: bool) -> str:
    """The model of own material when the spec names none: the supplied file, else the first
    the platform trains on such material."""
    if model_file:
        return SUPPLIED
    if modality == "text":
        from experiments.scenarios.own_texts import TEXT_MODELS

        return TEXT_MODELS[0]
    if modality == "image":
        from experiments.scenarios.own_images import IMAGE_MODELS

        return IMAGE_MODELS[0]
    return "gbm"
