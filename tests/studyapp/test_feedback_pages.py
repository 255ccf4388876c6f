"""Outcome feedback on the participant's pages: after the answer is stored, never before.

Oracle: the item's stored truth and the design's scoring rule (experiments.designs), against
what the pages say; the plan's flags against the condition's rule.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from studyapp.models import Trial
from studyapp.services.exports import study_export_files
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def _study(owner: Any, **feedback: Any) -> Any:
    spec = small_spec()
    for condition in spec["conditions"]:
        if condition["name"] in feedback:
            condition["feedback"] = feedback[condition["name"]]
    study = make_study(owner, spec)
    return study


def _only(study: Any, name: str) -> None:
    study.conditions.exclude(name=name).update(is_open=False)


def _current(walker: Walker) -> Trial:
    participant = walker.participant
    return participant.trials.get(index=participant.trial_pointer)


def _to_main_trial(walker: Walker) -> Trial:
    while (trial := _current(walker)).kind == Trial.Kind.ATTENTION:
        walker.answer_current(trial.item.expected_answer)
    return trial


def _wrong(study: Any, truth: str) -> str:
    return next(o["value"] for o in study.answer_options if o["value"] != truth)


def _label(study: Any, value: str) -> str:
    return next(o["label"] for o in study.answer_options if o["value"] == value)


def test_a_wrong_answer_is_told_with_the_right_answer_and_the_ais(owner):
    study = _study(owner, ai=True)
    _only(study, "ai")
    walker = Walker(study)
    walker.to_trials()
    trial = _to_main_trial(walker)
    before = walker.page().content.decode()
    assert 'data-panel="outcome"' not in before and "The right answer" not in before
    walker.answer_current(_wrong(study, trial.item.truth))
    page = walker.page().content.decode()
    assert 'data-step="feedback"' in page and "Not right" in page
    assert f"The right answer: <strong>{_label(study, trial.item.truth)}</strong>" in page
    ai_verdict = "right" if trial.item.ai_correct else "wrong"
    assert (f"The AI said <strong>{_label(study, trial.item.ai_prediction)}</strong>, which "
            f"was {ai_verdict}") in page
    walker.answer_current("seen", step="feedback")
    assert walker.participant.trial_pointer == trial.index + 1


def test_a_right_answer_is_told_right_and_a_control_group_hears_nothing_of_the_ai(owner):
    study = _study(owner, no_ai=True)
    _only(study, "no_ai")
    walker = Walker(study)
    walker.to_trials()
    trial = _to_main_trial(walker)
    walker.answer_current(trial.item.truth)
    page = walker.page().content.decode()
    assert "<h2 id=\"outcome-heading\">Right</h2>" in page
    assert "The AI said" not in page and "The right answer" not in page


def test_a_training_stretch_gives_feedback_on_the_first_scored_trials_only(owner):
    study = _study(owner, ai={"first": 2})
    _only(study, "ai")
    walker = Walker(study)
    walker.to_trials()
    trials = list(walker.participant.trials.order_by("index"))
    flags = [t.feedback for t in trials if t.kind == Trial.Kind.MAIN]
    assert flags == [True, True, False, False]
    assert not any(t.feedback for t in trials if t.kind == Trial.Kind.ATTENTION)


def test_the_export_says_which_trials_showed_feedback_and_for_how_long(owner):
    study = _study(owner, ai=True)
    _only(study, "ai")
    walker = Walker(study)
    walker.to_trials()
    trial = _to_main_trial(walker)
    walker.answer_current(trial.item.truth)
    walker.post("answer", trial_index=trial.index, step="feedback", answer="seen",
                rt_ms=2500, idempotency_key="fb")
    rows = list(csv.DictReader(io.StringIO(study_export_files(study=study)["trials.csv"])))
    row = next(r for r in rows if r["trial_index"] == str(trial.index))
    assert (row["feedback_shown"], row["feedback_ms"], row["correct"]) == ("true", "2500",
                                                                           "true")


def test_bots_complete_a_study_with_feedback(owner, live_server):
    from studyapp.bots.runner import run_bots, summarise
    from studyapp.management.commands.runbots import bot_config

    study = _study(owner, ai=True, no_ai={"first": 1})
    config = bot_config(study, base_url=live_server.url, behaviour="planted", seed=1)
    summary = summarise(run_bots(config, 6, concurrency=1))
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] == 6
