"""A researcher's own texts: a CSV (or Parquet) table with a text column and a label column,
read into the same :class:`Source` the bundled ``sentiment`` scenario produces, so the model it
trains (a bag-of-words logistic regression), LIME for texts and the text pages serve it
unchanged.

The table is read and limited by :func:`experiments.scenarios.own.read_table` and the label is
checked by the same rules as a table's target; what is particular to texts is checked here
(the text column exists, no text is empty or longer than a participant can read on a page).
Every error names the file, and where it can the row and the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from experiments.scenarios.own import (
    MIN_ROWS,
    TEST_SIZE,
    Material,
    MaterialError,
    Plan,
    _row,
    plan_target,
    read_codebook,
    read_table,
)
from experiments.scenarios.sources import MODELS, Source

# About two pages of a phone screen; a longer text is a document, not one item of a study.
MAX_TEXT_CHARS = 5000
# The model the bundled sentiment scenario trains (binary bag of words + logistic regression).
TEXT_MODELS = MODELS["sentiment"]
# The explanation methods that read a text (word weights, similar training texts).
TEXT_METHODS = frozenset({"lime_text", "nearest_examples"})


def plan_texts(frame: pd.DataFrame, text: str, target: str, codebook: Mapping[str, Any] | None,
               *, name: str, codebook_name: str = "codebook") -> Plan:
    """Check the text and label columns; raise :class:`MaterialError` on the first problem.

    Columns other than the text and the label are kept out of the model (listed as excluded).
    """
    book = dict((codebook or {}).get("columns") or {})
    unknown = [c for c in book if c not in frame.columns]
    if unknown:
        raise MaterialError(f"{codebook_name}: columns {unknown} are not in {name} (its "
                            f"columns: {', '.join(frame.columns[:30])})")
    for role, column in (("text", text), ("target", target)):
        if column not in frame.columns:
            raise MaterialError(f"{name}: no {role} column {column!r}; its columns are "
                                f"{', '.join(frame.columns[:30])}")
    if text == target:
        raise MaterialError(f"{name}: column {text!r} cannot be both the text and the target")
    if len(frame) < MIN_ROWS:
        raise MaterialError(f"{name}: {len(frame)} rows; at least {MIN_ROWS} are needed for a "
                            "training and a test split")
    entry = dict(book.get(target, {}))
    if entry.get("kind") == "numeric":
        raise MaterialError(f"{codebook_name}: column {target!r}: a model of texts predicts a "
                            "class, not a number")
    # A label of numbers (1-5 stars) is a class here, however many values it has.
    entry["kind"] = entry.get("kind") or "categorical"
    _, y, class_values, class_names, target_entry = plan_target(
        frame[target], entry, name=name, target=target, codebook_name=codebook_name)
    _check_texts(frame[text], name=name, column=text)
    label = entry.get("label") or target
    description = str((codebook or {}).get("description") or
                      f"Each item is a short text. The AI predicts {label!r}.")
    excluded = tuple(c for c in frame.columns if c not in (text, target))
    text_entry = {"label": book.get(text, {}).get("label") or text, "kind": "text"}
    return Plan(frame=frame[[text]], specs=(), task="classification", y=y,
                class_names=class_names, class_values=class_values, target_label=label,
                target_unit="", description=description, key_features=(), excluded=excluded,
                inferred={text: text_entry, target: target_entry})


def _check_texts(values: pd.Series, *, name: str, column: str) -> None:
    empty = (values == "").to_numpy().nonzero()[0]
    if len(empty):
        raise MaterialError(f"{name}: {_row(int(empty[0]))}, column {column!r}: empty text "
                            f"({len(empty)} in the column); every row needs its text")
    lengths = values.str.len().to_numpy()
    long = (lengths > MAX_TEXT_CHARS).nonzero()[0]
    if len(long):
        raise MaterialError(f"{name}: {_row(int(long[0]))}, column {column!r}: "
                            f"{int(lengths[long[0]]):,} characters, more than the limit of "
                            f"{MAX_TEXT_CHARS:,} a participant reads on one page "
                            f"({len(long)} such texts)")


def load_text_plan(material: Material) -> Plan:
    label = material.data_label or material.data.name
    frame = read_table(material.data, label=label)
    book_label = material.codebook_label or (material.codebook.name if material.codebook else "")
    codebook = read_codebook(material.codebook, label=book_label) if material.codebook else None
    return plan_texts(frame, material.text, material.target, codebook, name=label,
                      codebook_name=book_label)


def text_source(material: Material, *, random_state: int) -> tuple[Source, Plan]:
    """The researcher's texts split (stratified by label) like the bundled sentiment scenario."""
    if material.model_file is not None:
        raise MaterialError(f"{material.model_file.name}: a model brought as a file takes a "
                            "table's columns; texts are modelled by the platform")
    plan = load_text_plan(material)
    texts = plan.frame[material.text].to_numpy(dtype=object)
    X_train, X_test, y_train, y_test = train_test_split(
        texts, plan.y, test_size=TEST_SIZE, random_state=random_state, stratify=plan.y)
    source = Source(
        name=material.name, task="classification", modality="text",
        X_train=np.asarray(X_train, dtype=object), y_train=np.asarray(y_train),
        X_test=np.asarray(X_test, dtype=object), y_test=np.asarray(y_test),
        description=plan.description, models=TEXT_MODELS, class_names=plan.class_names,
        positive_class=1 if len(plan.class_names) == 2 else None,
        target_label=plan.target_label)
    return source, plan


def try_text_model(source: Source, model: Any, *, label: str, column: str,
                   random_state: int) -> None:
    """The model is one the platform trains on texts, and it can learn from these: a
    vocabulary of words that occur in at least two texts."""
    from experiments.scenarios.models import fit_model

    if model not in TEXT_MODELS:
        raise MaterialError(f"scenario.model: unknown {model!r} for texts; expected one of "
                            f"{', '.join(TEXT_MODELS)} (a bag-of-words logistic regression)")
    try:
        fit_model(source, str(model), random_state=random_state)
    except ValueError as exc:
        raise MaterialError(f"{label}: column {column!r}: the model cannot learn from these "
                            f"texts ({str(exc)[:200]}); no word occurs in two training texts"
                            ) from None
