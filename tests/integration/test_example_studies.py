"""Every example study loads, is prepared, and is completed by 50 bots on PostgreSQL; its
export has one row per trial with the design's phases and scores."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from experiments.designs import design
from studyapp.bots.reconcile import reconcile
from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.services import preparation, studies
from studyapp.services.exports import participant_pseudonym, study_export_files
from studyapp.services.reports import study_reports_write
from tests.studyapp.test_security_no_item_ids import assert_no_response_names_an_item

pytestmark = pytest.mark.integration
_STUDIES = Path(__file__).resolve().parents[2] / "examples" / "studies"
# own_material/: specs on researchers' own files, which sit in folders beside each spec.
EXAMPLES = sorted([*_STUDIES.glob("*.yaml"), *_STUDIES.glob("own_material/*.yaml")])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_an_example_study_is_completed_by_50_bots(path, live_server, transactional_db, owner,
                                                   settings, tmp_path, monkeypatch):
    settings.ENROL_RATE_PER_MINUTE = 0
    settings.VAR_DIR = tmp_path / "var"  # where own material is stored by content hash
    study, _ = studies.study_load_spec(text=path.read_text(encoding="utf-8"), owner=owner,
                                       base_dir=path.parent)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    config = bot_config(study, base_url=live_server.url, behaviour="planted", seed=3,
                        dropout=0.1, mischief=True)
    results = run_bots(config, 50, concurrency=8)
    summary = summarise(results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] + summary["dropped_out"] == 50
    trials_csv = study_export_files(study=study)["trials.csv"]
    assert reconcile(results, trials_csv, lambda pid: participant_pseudonym(study, pid)) == []
    rows = list(csv.DictReader(io.StringIO(trials_csv)))
    task = design(study.task)
    assert {r["phase"] for r in rows} == {p.name for p in task.phases}
    keys = Counter((r["participant"], r["trial_index"]) for r in rows)
    assert set(keys.values()) == {1}  # one row per trial
    for row in rows:
        scored = row["trial_kind"] == "main" and task.phase(row["phase"]).scored
        if scored and row["final_response"] and task.numeric:
            float(row["absolute_error"])  # numbers are scored by their error, in the unit
            assert row["correct"] == "", row
        elif scored and row["final_response"]:
            assert row["correct"] in {"true", "false"}, row
    # The analysis reads every design's export: the HTML report names the design's metrics.
    study_reports_write(study=study, out_dir=tmp_path, execute_notebook=False)
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert study.task in report
    # The same prepared study, played once more in every condition with the responses kept:
    # none names an item or explanation outside the study (issue 11, finding 1).
    assert_no_response_names_an_item(study, live_server.url, monkeypatch)
