"""The export: tidy CSVs with a codebook, pseudonymised, reconciled with what was answered."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from analysis.schema import PARTICIPANT_COLUMNS, TRIAL_COLUMNS
from studyapp.models import Response
from studyapp.services.exports import participant_pseudonym, study_export_files
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _complete(study, pid: str, likert: int = 4) -> Walker:
    walker = Walker(study, pid=pid)
    walker.to_trials()
    walker.finish_trials()
    walker.finish_questionnaire(likert)
    return walker


def test_trials_csv_has_one_row_per_answered_trial_with_the_contract_columns(study):
    _complete(study, "P1")
    files = study_export_files(study=study)
    rows = _rows(files["trials.csv"])
    assert list(rows[0]) == [c.name for c in TRIAL_COLUMNS]
    assert len(rows) == 5  # 4 main trials + 1 attention check
    assert {r["trial_kind"] for r in rows} == {"main", "attention"}
    assert [int(r["trial_index"]) for r in rows] == list(range(5))


def test_correct_and_agreement_are_scored_on_the_participants_answers(study):
    _complete(study, "P1")
    for row in _rows(study_export_files(study=study)["trials.csv"]):
        if row["trial_kind"] == "main":
            assert row["correct"] == str(row["final_response"] == row["truth"]).lower()
            assert row["agreed_with_ai"] == str(
                row["final_response"] == row["ai_prediction"]).lower()
            assert row["ai_correct"] == str(row["ai_prediction"] == row["truth"]).lower()


def test_every_stored_answer_is_exported_exactly_once(study):
    for n in range(3):
        _complete(study, f"P{n}")
    half = Walker(study, pid="HALF")
    half.to_trials()
    half.answer_current()
    rows = _rows(study_export_files(study=study)["trials.csv"])
    answered = [r for r in rows if r["final_response"]]
    assert len(answered) == Response.objects.filter(step="final").count() == 3 * 5 + 1
    keys = [(r["participant"], r["trial_index"]) for r in answered]
    assert len(keys) == len(set(keys))


def test_ids_are_pseudonymised_with_a_keyed_hash_unless_raw_ids_are_chosen(study):
    _complete(study, "5f0c0ffee0000000000000a1")
    text = study_export_files(study=study)["participants.csv"]
    assert "5f0c0ffee0000000000000a1" not in text
    pseudonym = participant_pseudonym(study, "5f0c0ffee0000000000000a1")
    assert _rows(text)[0]["participant"] == pseudonym
    raw = study_export_files(study=study, raw_ids=True)["participants.csv"]
    assert _rows(raw)[0]["participant"] == "5f0c0ffee0000000000000a1"


def test_the_same_person_gets_unlinkable_pseudonyms_in_two_studies(study, owner):
    from tests.factories import make_study, small_spec

    other = make_study(owner, small_spec(slug="other"))
    assert participant_pseudonym(study, "PID") != participant_pseudonym(other, "PID")


def test_jian_trust_is_scored_with_items_1_to_5_reversed(study):
    _complete(study, "P1", likert=7)
    row = _rows(study_export_files(study=study)["participants.csv"])[0]
    # Hand-worked: 5 distrust items at 7 reverse to 1, 7 trust items stay 7: (5*1 + 7*7)/12.
    assert float(row["score_jian"]) == pytest.approx((5 * 1 + 7 * 7) / 12, abs=1e-4)
    assert row["q_jian_1"] == "7" and row["text_comments"] == "fine"
    assert row["attention_passed"] == "true" and row["status"] == "completed"


def test_participants_csv_lists_every_participant_once_with_status(study):
    _complete(study, "DONE")
    Walker(study, pid="DROP").enter()
    rows = {r["status"]: r for r in _rows(study_export_files(study=study)["participants.csv"])}
    assert set(rows) == {"completed", "started"}
    assert [c.name for c in PARTICIPANT_COLUMNS] == list(rows["completed"])[:len(
        PARTICIPANT_COLUMNS)]


def test_the_codebook_describes_every_exported_column(study):
    _complete(study, "P1")
    files = study_export_files(study=study)
    package = json.loads(files["datapackage.json"])
    for resource in package["resources"]:
        header = next(csv.reader(io.StringIO(files[resource["path"]])))
        described = [f["name"] for f in resource["schema"]["fields"]]
        assert header == described
        assert all(f["description"] for f in resource["schema"]["fields"])
    assert package["explainlab"]["spec_hash"] == study.spec_hash


def test_events_record_enrolment_and_consent(study):
    _complete(study, "P1")
    kinds = [r["kind"] for r in _rows(study_export_files(study=study)["events.csv"])]
    assert kinds[:2] == ["enrolled", "consent"] and "completed" in kinds


def test_export_study_command_writes_the_files(study, tmp_path):
    _complete(study, "P1")
    call_command("export_study", study.slug, "--out", str(tmp_path), "--no-reports")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["datapackage.json", "events.csv", "free_text.jsonl", "participants.csv",
                     "study.yaml", "trials.csv", "versions"]
    assert [p.name for p in (tmp_path / "versions").iterdir()] == ["v1.yaml"]


def test_export_study_on_an_unknown_slug_is_a_clear_error(db, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no study 'nope'"):
        call_command("export_study", "nope", "--out", str(tmp_path))
    assert not list(tmp_path.iterdir())


def test_the_fairness_feature_is_exported_as_each_trials_group(owner):
    from tests.factories import make_study, small_spec

    study = make_study(owner, small_spec(slug="fair", task={
        "design": "decision", "question": "Over $50K?", "confidence_scale": 5,
        "fairness": {"feature": "Sex", "positive": "More than $50K"}}))
    for n in range(6):
        _complete(study, f"P{n}")
    rows = [r for r in _rows(study_export_files(study=study)["trials.csv"])
            if r["trial_kind"] == "main"]
    assert {r["group"] for r in rows} == {"Male", "Female"}

    import tempfile
    from pathlib import Path

    from analysis.report.pipeline import analyse_export
    from studyapp.services.exports import study_export
    from studyapp.services.reports import report_options

    with tempfile.TemporaryDirectory() as directory:
        study_export(study=study, out_dir=Path(directory))
        options = report_options(study)
        assert (options.fairness_group, options.positive_label) == ("group", "More than $50K")
        summary = analyse_export(directory, options).summary
    assert any("tpr" in metric.lower() for metric in summary["metric"]), set(summary["metric"])


def test_the_report_applies_the_spec_s_floor_on_seconds_per_trial(owner):
    """Oracle: the spec itself; the report's options carry its exclusions unchanged."""
    from studyapp.services.reports import report_options
    from tests.factories import make_study, small_spec

    study = make_study(owner, small_spec(exclusions={"min_seconds_per_trial": 2.5,
                                                     "speeder_fraction": None}))
    options = report_options(study)
    assert (options.min_seconds_per_trial, options.speeder_fraction) == (2.5, None)
