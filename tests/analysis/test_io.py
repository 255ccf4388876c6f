"""Loading an export: typed columns, missing cells, and clear errors for broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.io import load_export, read_trials
from tests.analysis.data.handmade import TINY


def test_it_types_every_schema_column_of_the_tiny_export() -> None:
    export = load_export(TINY)
    trials = export.trials
    assert trials["ai_correct"].dtype == "boolean"
    assert trials["is_bot"].dtype == "boolean"
    assert trials["rt_ms"].dtype == "Int64"
    assert trials["ai_confidence"].dtype == "float64"
    assert str(trials["shown_at"].dt.tz) == "UTC"
    # Responses stay text: ">50K" and "3" alike are labels until a metric says otherwise.
    assert pd.api.types.is_string_dtype(trials["final_response"])
    assert trials.loc[0, "rt_ms"] == 2000
    assert not trials.loc[1, "ai_correct"]


def test_empty_cells_are_missing_values_not_empty_strings() -> None:
    trials = load_export(TINY).trials
    control = trials[trials["condition"] == "prediction"]
    assert control["explanation_id"].isna().all()
    assert control["explanation_visible_ms"].isna().all()


def test_participants_get_integer_items_and_keep_free_text() -> None:
    participants = load_export(TINY).participants
    assert participants["q_jian_1"].dtype == "Int64"
    assert participants.loc[0, "text_feedback"] == "fine, thanks"
    assert participants["duration_s"].dtype == "float64"
    assert pd.isna(participants.loc[5, "completed_at"])


def test_events_and_datapackage_are_read_when_present() -> None:
    export = load_export(TINY)
    assert len(export.events) == 2
    assert pd.isna(export.events.loc[1, "trial_index"])
    assert export.datapackage["name"] == "tiny"


def test_events_and_datapackage_are_optional(tmp_path: Path) -> None:
    for name in ("trials.csv", "participants.csv"):
        shutil.copy(TINY / name, tmp_path / name)
    export = load_export(tmp_path)
    assert export.events.empty
    assert "kind" in export.events.columns
    assert export.datapackage == {}


def test_it_names_the_file_and_the_missing_required_column(tmp_path: Path) -> None:
    table = pd.read_csv(TINY / "trials.csv", dtype=str).drop(columns=["item_id"])
    table.to_csv(tmp_path / "trials.csv", index=False)
    with pytest.raises(ValueError, match=r"trials\.csv lacks required column\(s\): item_id"):
        read_trials(tmp_path / "trials.csv")


def test_it_rejects_a_boolean_that_is_not_true_or_false_naming_the_line(tmp_path: Path) -> None:
    table = pd.read_csv(TINY / "trials.csv", dtype=str, keep_default_na=False)
    table.loc[2, "ai_correct"] = "maybe"
    table.to_csv(tmp_path / "trials.csv", index=False)
    with pytest.raises(ValueError, match=r"'ai_correct', line 4: expected true/false"):
        read_trials(tmp_path / "trials.csv")


def test_it_rejects_a_fractional_value_in_an_integer_column(tmp_path: Path) -> None:
    table = pd.read_csv(TINY / "trials.csv", dtype=str, keep_default_na=False)
    table.loc[0, "rt_ms"] = "12.5"
    table.to_csv(tmp_path / "trials.csv", index=False)
    with pytest.raises(ValueError, match="'rt_ms', line 2: expected an integer"):
        read_trials(tmp_path / "trials.csv")


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="export directory not found"):
        load_export(tmp_path / "nowhere")
