"""What a researcher's own texts (own_texts.py) and pictures (own_images.py) share: one column
holding the material, one label column checked by the table target's rules, a stratified split
into the :class:`Source` of the bundled scenario of that modality. (Other columns, such as an
id, are kept out of the model and listed as excluded.)"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from experiments.scenarios.own import (
    MIN_ROWS,
    TEST_SIZE,
    Material,
    MaterialError,
    Plan,
    Read,
    plan_target,
)
from experiments.scenarios.sources import Modality, Source


def plan_media(read: Read, column: str, target: str, *, role: str, what: str,
               noun: str) -> Plan:
    """Check the material's column (``role``: "text", "image") and the label column; the
    plan's frame holds the material's column as read. ``what`` names the material in errors
    ("texts"), ``noun`` one item in the default description ("a short text")."""
    frame, name, codebook_name = read.frame, read.name, read.codebook_name
    book = dict((read.codebook or {}).get("columns") or {})
    unknown = [c for c in book if c not in frame.columns]
    if unknown:
        raise MaterialError(f"{codebook_name}: columns {unknown} are not in {name} (its "
                            f"columns: {', '.join(frame.columns[:30])})")
    for kind, wanted in ((role, column), ("target", target)):
        if wanted not in frame.columns:
            raise MaterialError(f"{name}: no {kind} column {wanted!r}; its columns are "
                                f"{', '.join(frame.columns[:30])}")
    if column == target:
        raise MaterialError(f"{name}: column {column!r} cannot be both the {what} and the "
                            "target")
    if len(frame) < MIN_ROWS:
        raise MaterialError(f"{name}: {len(frame)} rows; at least {MIN_ROWS} are needed for a "
                            "training and a test split")
    entry: dict[str, Any] = dict(book.get(target, {}))
    if entry.get("kind") == "numeric":
        raise MaterialError(f"{codebook_name}: column {target!r}: a model of {what} predicts "
                            "a class, not a number")
    # A label of numbers (1-5 stars) is a class here, however many values it has.
    entry["kind"] = entry.get("kind") or "categorical"
    _, y, class_values, class_names, target_entry = plan_target(
        frame[target], entry, name=name, target=target, codebook_name=codebook_name)
    label = entry.get("label") or target
    description = str((read.codebook or {}).get("description") or
                      f"Each item is {noun}. The AI predicts {label!r}.")
    column_entry = {"label": book.get(column, {}).get("label") or column, "kind": role}
    return Plan(frame=frame[[column]], specs=(), task="classification", y=y,
                class_names=class_names, class_values=class_values, target_label=label,
                target_unit="", description=description, key_features=(),
                excluded=tuple(c for c in frame.columns if c not in (column, target)),
                inferred={column: column_entry, target: target_entry})


def media_source(material: Material, plan: Plan, X: np.ndarray, *, random_state: int,
                 modality: Modality, models: tuple[str, ...],
                 image_shape: tuple[int, int] = (0, 0)) -> Source:
    """The inputs ``X`` (one per row of the plan) split 75/25, stratified by label."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, plan.y, test_size=TEST_SIZE, random_state=random_state, stratify=plan.y)
    return Source(
        name=material.name, task="classification", modality=modality,
        X_train=X_train, y_train=np.asarray(y_train), X_test=X_test, y_test=np.asarray(y_test),
        description=plan.description, models=models, class_names=plan.class_names,
        positive_class=1 if len(plan.class_names) == 2 else None,
        target_label=plan.target_label, image_shape=image_shape)


def refuse_model_file(material: Material, what: str) -> None:
    """Texts and pictures are modelled here: a supplied model takes a table's columns."""
    if material.model_file is not None:
        raise MaterialError(f"{material.model_file.name}: a model brought as a file takes a "
                            f"table's columns; {what} are modelled by the platform")

