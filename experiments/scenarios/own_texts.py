"""A researcher's own texts: a CSV (or Parquet) table with a text column and a label column,
read into the same :class:`Source` the bundled ``sentiment`` scenario produces, so the model it
trains (a bag-of-words logistic regression), LIME for texts and the text pages serve it
unchanged.

The table is read and limited by :func:`experiments.scenarios.own.read_table` and the label is
checked by the same rules as a table's target (:mod:`experiments.scenarios.own_media`); what
is particular to texts is checked here (no text is empty or longer than a participant can read
on a page, and the texts share words to learn from). Every error names the file, and where it
can the row and the column.
"""

from __future__ import annotations

import pandas as pd

from experiments.scenarios.own import Material, MaterialError, Plan, _row, read_material
from experiments.scenarios.own_media import media_source, plan_media, refuse_model_file
from experiments.scenarios.sources import MODELS, Source

# About two pages of a phone screen; a longer text is a document, not one item of a study.
MAX_TEXT_CHARS = 5000
# The model the bundled sentiment scenario trains (binary bag of words + logistic regression).
TEXT_MODELS = MODELS["sentiment"]
# The explanation methods that read a text (word weights, similar training texts).
TEXT_METHODS = frozenset({"lime_text", "nearest_examples"})


def load_text_plan(material: Material) -> Plan:
    """Check the text and label columns; raise :class:`MaterialError` on the first problem."""
    read = read_material(material)
    plan = plan_media(read, material.text, material.target, role="text", what="texts",
                      noun="a short text")
    _check_texts(plan.frame[material.text], name=read.name, column=material.text)
    return plan


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


def text_source(material: Material, *, random_state: int) -> tuple[Source, Plan]:
    """The researcher's texts split (stratified by label) like the bundled sentiment scenario."""
    refuse_model_file(material, "texts")
    plan = load_text_plan(material)
    texts = plan.frame[material.text].to_numpy(dtype=object)
    source = media_source(material, plan, texts, random_state=random_state, modality="text",
                          models=TEXT_MODELS)
    return source, plan


def try_text_vocabulary(source: Source, model: str, *, label: str, column: str,
                        random_state: int) -> None:
    """The model can learn from these texts: a vocabulary of words that occur in at least two
    of them (the bag of words drops rarer ones)."""
    from experiments.scenarios.model_training import fit_model

    try:
        fit_model(source, model, random_state=random_state)
    except ValueError as exc:
        raise MaterialError(f"{label}: column {column!r}: the model cannot learn from these "
                            f"texts ({str(exc)[:200]}); no word occurs in two training texts"
                            ) from None


