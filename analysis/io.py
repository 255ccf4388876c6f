"""Load a study export directory into typed pandas DataFrames.

The platform writes ``trials.csv``, ``participants.csv``, ``events.csv`` and ``datapackage.json``
with the columns declared in :mod:`analysis.schema`. Everything arrives as text; this module turns
each column into the type the schema declares (booleans written ``true``/``false``, empty cells
missing, datetimes in UTC) and refuses files that lack a required column, so that every metric
downstream can trust the dtypes it is handed.

Questionnaire columns in ``participants.csv`` follow naming conventions rather than the schema:
``q_<questionnaire>_<item>`` are integer item answers, ``score_<scale>`` numeric scale scores and
``text_<name>`` free text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.schema import (
    EVENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    TRIAL_COLUMNS,
    Column,
    ColumnType,
)

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass
class StudyExport:
    """The tables of one study export, typed.

    ``datapackage`` is the parsed ``datapackage.json`` (empty when the file is absent).
    """

    trials: pd.DataFrame
    participants: pd.DataFrame
    events: pd.DataFrame
    datapackage: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def load_export(path: str | Path) -> StudyExport:
    """Read every table of the export directory ``path``.

    ``events.csv`` and ``datapackage.json`` are optional (an empty events table is returned);
    ``trials.csv`` and ``participants.csv`` must exist.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ValueError(f"export directory not found: {directory}")
    events_path = directory / "events.csv"
    events = (
        read_events(events_path)
        if events_path.exists()
        else _empty_table(EVENT_COLUMNS)
    )
    package_path = directory / "datapackage.json"
    datapackage = json.loads(package_path.read_text("utf-8")) if package_path.exists() else {}
    return StudyExport(
        trials=read_trials(directory / "trials.csv"),
        participants=read_participants(directory / "participants.csv"),
        events=events,
        datapackage=datapackage,
        path=directory,
    )


def read_trials(path: str | Path) -> pd.DataFrame:
    """Read ``trials.csv`` with the types of :data:`analysis.schema.TRIAL_COLUMNS`."""
    return _read_table(path, TRIAL_COLUMNS)


def read_participants(path: str | Path) -> pd.DataFrame:
    """Read ``participants.csv``: schema columns plus ``q_*``, ``score_*`` and ``text_*``."""
    table = _read_table(path, PARTICIPANT_COLUMNS)
    for name in table.columns:
        if name.startswith("q_"):
            table[name] = _parse(table[name], "integer", name, Path(path).name)
        elif name.startswith("score_"):
            table[name] = _parse(table[name], "number", name, Path(path).name)
    return table


def read_events(path: str | Path) -> pd.DataFrame:
    """Read ``events.csv`` with the types of :data:`analysis.schema.EVENT_COLUMNS`."""
    return _read_table(path, EVENT_COLUMNS)


def parse_table(raw: pd.DataFrame, columns: Iterable[Column], *, source: str) -> pd.DataFrame:
    """Type the text columns of ``raw`` according to ``columns``; unknown columns stay text.

    Raises ``ValueError`` naming ``source`` and the columns when required ones are missing.
    """
    columns = tuple(columns)
    missing = [c.name for c in columns if c.required and c.name not in raw.columns]
    if missing:
        raise ValueError(f"{source} lacks required column(s): {', '.join(missing)}")
    table = raw.copy()
    for column in columns:
        if column.name in table.columns:
            table[column.name] = _parse(table[column.name], column.type, column.name, source)
    return table


def _read_table(path: str | Path, columns: tuple[Column, ...]) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise ValueError(f"export file not found: {path}")
    # Read everything as text first: pandas' own type guessing would turn "1" answers into
    # numbers in one study and keep them as labels in another.
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return parse_table(raw, columns, source=path.name)


def _empty_table(columns: tuple[Column, ...]) -> pd.DataFrame:
    raw = pd.DataFrame({c.name: pd.Series([], dtype=object) for c in columns})
    return parse_table(raw, columns, source="(empty)")


def _parse(values: pd.Series, kind: ColumnType, name: str, source: str) -> pd.Series:
    """Convert one text column to ``kind``; bad cells raise naming the column and row."""
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    if kind == "string":
        return text
    if kind == "boolean":
        lowered = text.str.lower()
        bad = lowered.notna() & ~lowered.isin(_TRUE | _FALSE)
        _raise_on_bad(values, bad, name, source, "true/false")
        return lowered.map(lambda v: pd.NA if pd.isna(v) else v in _TRUE).astype("boolean")
    if kind in ("integer", "number"):
        numbers = pd.to_numeric(text, errors="coerce")
        _raise_on_bad(values, text.notna() & numbers.isna(), name, source, "a number")
        if kind == "integer":
            fractional = numbers.notna() & (numbers % 1 != 0)
            _raise_on_bad(values, fractional, name, source, "an integer")
            return numbers.astype("Int64")
        return numbers.astype("float64")
    if kind == "datetime":
        stamps = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        _raise_on_bad(values, text.notna() & stamps.isna(), name, source, "an ISO 8601 time")
        return stamps
    raise ValueError(f"unknown column type {kind!r} for {name}")


def _raise_on_bad(values: pd.Series, bad: pd.Series, name: str, source: str, expected: str) -> None:
    if bool(bad.fillna(False).any()):
        first = bad[bad.fillna(False)].index[0]
        # +2: one for the header line, one because CSV rows are counted from 1.
        raise ValueError(
            f"{source}, column {name!r}, line {int(first) + 2}: expected {expected}, "
            f"got {values.loc[first]!r}"
        )
