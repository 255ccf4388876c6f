"""Questionnaire items are asked only of participants who saw what they rate.

Oracle: the design's own declaration of each step (``experiments.designs``: what every step
shows) and each scale's ``about`` — a participant is asked about the AI only if a step showed
them the AI or its explanation, about explanations only if a step showed one — in every block
of a within-subjects design. The export's ``asked_<scale>`` says who was asked.
"""

from __future__ import annotations

import csv
import io

import pytest

from experiments.designs import Exposure, design
from studyapp.models import QuestionnaireAnswer
from studyapp.services.exports import study_export_files
from studyapp.services.questionnaires import SCALES, scale_applies
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db
QUESTIONNAIRES = ["jian_trust", "hoffman_satisfaction",
                  {"free_text": {"name": "comments", "prompt": "Anything else?"}}]


def test_the_hive_candidates_only_group_is_asked_about_no_explanation():
    """The reported case: distinction without explanations shows neither the AI's answer
    nor an explanation, so neither the satisfaction nor a trust scale applies."""
    task = design("distinction")
    control = task.steps(task.phase("main"), show_ai=True, explained=False, question="?")
    explained = task.steps(task.phase("main"), show_ai=True, explained=True, question="?")
    assert Exposure.of_steps(control) == Exposure(ai=False, explanation=False)
    assert not scale_applies(SCALES["hoffman_satisfaction"], Exposure.of_steps(control))
    # With maps per candidate the participant read the AI's evidence: both scales apply.
    assert Exposure.of_steps(explained) == Exposure(ai=True, explanation=True)
    assert scale_applies(SCALES["hoffman_satisfaction"], Exposure.of_steps(explained))
    assert scale_applies(SCALES["hoffman_trust"], Exposure.of_steps(explained))


def _walk_in(study, condition: str, pid: str) -> Walker:  # type: ignore[no-untyped-def]
    study.conditions.exclude(name=condition).update(is_open=False)
    study.conditions.filter(name=condition).update(is_open=True)
    walker = Walker(study, pid=pid)
    walker.to_trials()
    walker.finish_trials()
    return walker


def _fields(page) -> set[str]:  # type: ignore[no-untyped-def]
    html = page.content.decode()
    return {name for name in ("q_jian_1", "q_hoffman_satisfaction_1", "q_text_comments")
            if f'name="{name}"' in html}


@pytest.mark.parametrize(("condition", "expected"), [
    ("no_ai", {"q_text_comments"}),
    ("ai", {"q_jian_1", "q_text_comments"}),
    ("ai_shap", {"q_jian_1", "q_hoffman_satisfaction_1", "q_text_comments"}),
])
def test_each_group_is_asked_only_about_what_it_saw(owner, condition, expected):
    study = make_study(owner, small_spec(questionnaires=QUESTIONNAIRES))
    walker = _walk_in(study, condition, pid=f"P{condition}")
    assert _fields(walker.page()) == expected


def test_answers_forged_for_items_not_asked_are_not_stored(owner):
    study = make_study(owner, small_spec(questionnaires=QUESTIONNAIRES))
    walker = _walk_in(study, "ai", pid="FORGER")
    data = {f"q_jian_{n}": "4" for n in range(1, 13)}
    data.update({f"q_hoffman_satisfaction_{n}": "5" for n in range(1, 9)})
    assert walker.post("questionnaire", **data).status_code == 303
    stored = set(QuestionnaireAnswer.objects.values_list("questionnaire", flat=True))
    assert stored == {"jian"}


def test_a_questionnaire_that_rates_only_what_nobody_saw_is_skipped(owner):
    study = make_study(owner, small_spec(questionnaires=["hoffman_satisfaction"]))
    walker = _walk_in(study, "no_ai", pid="CONTROL")
    assert walker.participant.status == "completed"


def test_the_export_says_which_scales_were_asked_of_whom(owner):
    study = make_study(owner, small_spec(questionnaires=QUESTIONNAIRES))
    for condition in ("no_ai", "ai", "ai_shap"):
        walker = _walk_in(study, condition, pid=f"X{condition}")
        walker.finish_questionnaire()
    files = study_export_files(study=study, raw_ids=True)
    rows = {r["condition"]: r for r in csv.DictReader(io.StringIO(files["participants.csv"]))}
    assert {c: (r["asked_jian"], r["asked_hoffman_satisfaction"]) for c, r in rows.items()} == {
        "no_ai": ("false", "false"), "ai": ("true", "false"), "ai_shap": ("true", "true")}
    # Not asked leaves the items empty; asked and answered fills them.
    assert rows["ai"]["q_hoffman_satisfaction_1"] == ""
    assert rows["ai_shap"]["q_hoffman_satisfaction_1"] == "4"
    codebook = files["datapackage.json"]
    assert "asked_hoffman_satisfaction" in codebook and "not because an answer is missing" \
        in codebook


def test_within_subjects_one_explained_block_is_enough_to_be_asked(owner):
    """Every participant of a within-subjects study passes through every block, including the
    explained one: the block with SHAP makes them eligible, whatever their block order."""
    spec = small_spec(slug="within-q", design={"type": "within"}, questionnaires=QUESTIONNAIRES,
                      trials={"count": 6, "pool_size": 24, "attention_checks": 1})
    study = make_study(owner, spec)
    walker = Walker(study, pid="WITHIN1")
    walker.to_trials()
    walker.finish_trials()
    blocks = set(walker.participant.trials.values_list("condition__name", flat=True))
    assert blocks == {"no_ai", "ai", "ai_shap"}
    assert _fields(walker.page()) == {"q_jian_1", "q_hoffman_satisfaction_1", "q_text_comments"}


def test_within_subjects_without_an_explained_block_is_not_asked_about_explanations(owner):
    spec = small_spec(slug="within-q2", design={"type": "within"},
                      questionnaires=QUESTIONNAIRES,
                      trials={"count": 4, "pool_size": 24, "attention_checks": 1},
                      conditions=[{"name": "no_ai", "label": "No AI", "show_ai": False},
                                  {"name": "ai", "label": "AI prediction"}])
    study = make_study(owner, spec)
    walker = Walker(study, pid="WITHIN2")
    walker.to_trials()
    walker.finish_trials()
    assert _fields(walker.page()) == {"q_jian_1", "q_text_comments"}
