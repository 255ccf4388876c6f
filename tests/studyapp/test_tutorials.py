"""Tutorials per condition: their text at the block's start, on unscored practice trials.

Oracle: the plan and the pages against the spec's tutorial of each condition, and the
export's scoring (practice never scored, never in a metric or a bonus).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd
import pytest

from analysis.estimates import scored_trials
from experiments.spec import validate_spec
from experiments.spec_yaml import SpecError
from studyapp.models import Trial
from studyapp.services.exports import study_export_files
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

SHAP_TEXT = "Each bar shows how much one fact moved the prediction."
PLAIN_TEXT = "You decide on your own in this part."


def _spec(**changes: Any) -> dict[str, Any]:
    spec = small_spec(**changes)
    for condition in spec["conditions"]:
        if condition["name"] == "ai_shap":
            condition["tutorial"] = {"text": [SHAP_TEXT], "practice": 1}
        if condition["name"] == "no_ai":
            condition["tutorial"] = {"text": [PLAIN_TEXT]}
    return spec


def _walker(study: Any, condition: str) -> Walker:
    study.conditions.exclude(name=condition).update(is_open=False)
    walker = Walker(study, pid=f"tut-{condition}")
    walker.to_trials()
    return walker


def test_a_practice_trial_opens_the_condition_with_its_tutorial(owner):
    study = make_study(owner, _spec())
    walker = _walker(study, "ai_shap")
    trials = list(walker.participant.trials.order_by("index"))
    assert trials[0].kind == Trial.Kind.PRACTICE and trials[0].explanation is not None
    main_items = {t.item_id for t in trials if t.kind == Trial.Kind.MAIN}
    assert trials[0].item_id not in main_items  # practice items are spare pool items
    page = walker.page().content.decode()
    assert SHAP_TEXT in page and "Practice: this one does not count" in page
    walker.answer_current(trials[0].item.truth)
    after = walker.page().content.decode()
    assert SHAP_TEXT not in after and "Practice" not in after


def test_a_tutorial_without_practice_shows_on_the_first_trial_only(owner):
    study = make_study(owner, _spec())
    walker = _walker(study, "no_ai")
    assert PLAIN_TEXT in walker.page().content.decode()
    walker.answer_current()
    assert PLAIN_TEXT not in walker.page().content.decode()


def test_within_subjects_each_block_starts_with_its_own_practice(owner):
    spec = _spec(slug="within-tut", design={"type": "within"},
                 trials={"count": 6, "pool_size": 24, "attention_checks": 1})
    study = make_study(owner, spec)
    walker = Walker(study, pid="tut-within")
    walker.to_trials()
    trials = list(walker.participant.trials.order_by("index"))
    for position, trial in enumerate(trials):
        first_of_block = position == 0 or trials[position - 1].condition_id != trial.condition_id
        opens_with_practice = first_of_block and trial.condition.name == "ai_shap"
        assert (trial.kind == Trial.Kind.PRACTICE) == opens_with_practice, position


def test_practice_is_exported_unscored_and_left_out_of_metrics(owner):
    study = make_study(owner, _spec())
    walker = _walker(study, "ai_shap")
    walker.finish_trials()
    rows = list(csv.DictReader(io.StringIO(study_export_files(study=study)["trials.csv"])))
    practice = [r for r in rows if r["trial_kind"] == "practice"]
    assert len(practice) == 1 and practice[0]["correct"] == ""
    frame = pd.DataFrame(rows)
    assert "practice" not in set(scored_trials(frame)["trial_kind"])


def test_a_pool_too_small_for_the_practice_is_refused():
    spec = _spec(trials={"count": 4, "pool_size": 4, "attention_checks": 1})
    with pytest.raises(SpecError, match="practice trials"):
        validate_spec(spec)
