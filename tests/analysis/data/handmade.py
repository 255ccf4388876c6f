"""Small hand-made trial tables for formula tests: every column of the export, typed as
``analysis.io`` types them, with only the cells a test cares about filled in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from analysis.io import parse_table
from analysis.schema import TRIAL_COLUMNS

DEFAULTS: dict[str, Any] = {
    "condition": "explained",
    "trial_index": 0,
    "item_id": "item",
    "task": "decision",
    "phase": "main",
    "trial_kind": "main",
    "is_bot": "false",
}


# The hand-made export in tests/analysis/data/tiny (six participants; see its README/comments).
TINY = Path(__file__).parent / "tiny"


def by_participant(table: pd.DataFrame) -> dict[str, float]:
    """Participant -> estimate, from a ``by="participant"`` metric table."""
    return dict(zip(table["participant"], table["estimate"], strict=True))


def trials_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A typed trials table from ``rows`` (dicts of column -> value; text as in the CSV)."""
    filled = []
    for index, row in enumerate(rows):
        full: dict[str, Any] = {column.name: None for column in TRIAL_COLUMNS}
        full.update(DEFAULTS)
        full["trial_index"] = index
        full["item_id"] = f"item{index}"
        full.update(row)
        filled.append({k: (None if v is None else str(v)) for k, v in full.items()})
    raw = pd.DataFrame(filled, dtype=object)
    return parse_table(raw, TRIAL_COLUMNS, source="handmade")


def advice_rows(participant: str, condition: str, answers: list[tuple[str | None, ...]],
                **extra: Any) -> list[dict[str, Any]]:
    """Rows from ``(y, m, h0, h)`` tuples: truth, AI output, first and final answer."""
    return [
        {"participant": participant, "condition": condition, "truth": y, "ai_prediction": m,
         "initial_response": h0, "final_response": h, **extra}
        for y, m, h0, h in answers
    ]
