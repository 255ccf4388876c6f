"""From a bot-run study to the executed notebook, R script and HTML report."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.models import AnalysisRun
from tests.factories import make_study

pytestmark = pytest.mark.slow


@pytest.fixture
def bot_study(transactional_db, owner, settings, live_server):  # type: ignore[no-untyped-def]
    """A study played by 30 bots with a planted effect: accuracy 60% without AI, 70% with the
    AI's prediction, 85% with its SHAP explanation."""
    settings.ENROL_RATE_PER_MINUTE = 0
    study = make_study(owner)
    config = bot_config(study, base_url=live_server.url, behaviour="planted", seed=11,
                        mischief=False)
    # One at a time: the test database is an in-memory SQLite shared by the live server.
    summary = summarise(run_bots(config, 30, concurrency=1))
    assert summary["completed"] == 30, summary
    return study


def _notebook_text(path) -> str:
    notebook = json.loads(path.read_text())
    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
            text = output.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
            parts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(parts)


def test_export_study_writes_an_executed_notebook_that_shows_the_planted_effect(bot_study,
                                                                                 tmp_path,
                                                                                 owner):
    call_command("export_study", bot_study.slug, "--out", str(tmp_path))
    for name in ["trials.csv", "participants.csv", "analysis.ipynb", "analysis.R",
                 "report.html", "requirements.txt"]:
        assert (tmp_path / name).stat().st_size > 0, name
    assert len(list(tmp_path.glob("explainlab-*-py3-none-any.whl"))) == 1
    from analysis.io import load_export
    from analysis.metrics import accuracy

    by_condition = accuracy(load_export(tmp_path).trials).set_index("condition")["estimate"]
    assert by_condition["ai_shap"] > by_condition["no_ai"]
    text = _notebook_text(tmp_path / "analysis.ipynb")
    assert "ai_shap" in text and "accuracy" in text.lower()
    assert "<svg" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "figure-accuracy.svg").exists()  # the figures travel with the report
    _the_study_page_builds_the_analysis_as_a_task_with_progress(bot_study, owner)


def _the_study_page_builds_the_analysis_as_a_task_with_progress(bot_study, owner):
    # Part of the test above: the 30-bot study is too slow to play twice.
    client = Client()
    client.force_login(owner)
    response = client.post(f"/r/{bot_study.slug}/analysis")
    assert response.status_code == 302
    run = AnalysisRun.objects.get()
    assert run.state == "done" and run.steps_done == run.steps_total == 5
    page = client.get(f"/r/{bot_study.slug}/")
    assert b"Notebook, R script and CSVs" in page.content
    report = client.get(f"/r/{bot_study.slug}/analysis/{run.pk}/report")
    assert report.status_code == 200 and b"ai_shap" in report.content
    archive = client.get(f"/r/{bot_study.slug}/analysis/{run.pk}.zip")
    assert archive["Content-Type"] == "application/zip"
