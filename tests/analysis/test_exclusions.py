"""Exclusions and the CONSORT-style record. Oracle: the tiny export's participants, whose
fates are planted by hand: p5 a bot, p6 returned, p3 failed the attention check, p4 a speeder
(120 s against a median of 570 s among completed humans; threshold 0.3 * 570 = 171 s)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.exclusions import apply_exclusions, exclusion_flags
from analysis.io import StudyExport, load_export
from tests.analysis.data.handmade import TINY


@pytest.fixture(scope="module")
def export() -> StudyExport:
    return load_export(TINY)


def test_each_participant_is_excluded_for_the_first_rule_that_applies(
    export: StudyExport,
) -> None:
    result = apply_exclusions(export.trials, export.participants)
    reasons = dict(zip(result.excluded["participant"], result.excluded["reason"], strict=True))
    assert reasons == {"p3": "attention", "p4": "speeder", "p5": "bot", "p6": "incomplete"}
    # The bot was also fast; both reasons are kept for the record.
    bot = result.excluded.set_index("participant").loc["p5", "all_reasons"]
    assert bot == "bot;speeder"
    assert sorted(result.participants["participant"]) == ["p1", "p2"]
    assert set(result.trials["participant"]) == {"p1", "p2"}


def test_the_flow_table_adds_up_like_a_consort_diagram(export: StudyExport) -> None:
    flow = apply_exclusions(export.trials, export.participants).flow
    assert flow["reason"].tolist() == [
        "enrolled", "bot", "preview", "incomplete", "attention", "speeder"
    ]
    assert flow["excluded"].tolist() == [0, 1, 0, 1, 1, 1]
    assert flow["remaining"].tolist() == [6, 5, 5, 4, 3, 2]
    assert flow["remaining_shap"].tolist() == [3, 3, 3, 2, 2, 2]
    assert flow["remaining_prediction"].iloc[-1] == 0


def test_bots_can_be_kept_in_on_request(export: StudyExport) -> None:
    result = apply_exclusions(export.trials, export.participants, include_bots=True,
                              speeder_fraction=None)
    assert "p5" in set(result.participants["participant"])
    assert "bot" not in set(result.flow["reason"])
    assert "speeder" not in set(result.flow["reason"])


def test_incomplete_participants_and_attention_failures_can_be_kept(
    export: StudyExport,
) -> None:
    result = apply_exclusions(export.trials, export.participants, include_incomplete=True,
                              exclude_failed_attention=False, speeder_fraction=None)
    assert sorted(result.participants["participant"]) == ["p1", "p2", "p3", "p4", "p6"]


def test_a_failed_attention_trial_excludes_even_without_the_summary_flag(
    export: StudyExport,
) -> None:
    participants = export.participants.drop(columns=["attention_passed"])
    flags = exclusion_flags(export.trials, participants)
    assert flags.loc[participants["participant"] == "p3", "attention"].all()
    assert flags["attention"].sum() == 1


def test_preview_sessions_are_kept_out_by_default() -> None:
    participants = pd.DataFrame({
        "participant": ["a", "b"], "condition": ["c", "c"], "status": ["completed"] * 2,
        "source": ["prolific", "preview"], "is_bot": [False, False],
    })
    trials = pd.DataFrame({"participant": ["a", "b"], "trial_kind": ["main", "main"]})
    result = apply_exclusions(trials, participants)
    assert result.excluded["reason"].tolist() == ["preview"]
    kept = apply_exclusions(trials, participants, include_previews=True)
    assert kept.excluded.empty
