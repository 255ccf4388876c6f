"""Task designs run through the real participant pages: phases, what is shown, scoring."""

from __future__ import annotations

import csv
import io

import pytest

from studyapp.models import Trial
from studyapp.services.exports import study_export_files
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def _forward_simulation_spec():  # type: ignore[no-untyped-def]
    return small_spec(
        slug="fwd", task={"design": "forward_simulation", "question": "Over $50K?",
                          "confidence_scale": 5},
        trials={"learning": 4, "count": 4, "pool_size": 16, "attention_checks": 1},
        conditions=[{"name": "shap", "explanation": {"method": "tree_shap"}}])


def _agreement_spec():  # type: ignore[no-untyped-def]
    return small_spec(
        slug="agree", task={"design": "agreement", "question": "Over $50K?"},
        trials={"count": 4, "pool_size": 16, "attention_checks": 1},
        conditions=[{"name": "shap", "explanation": {"method": "tree_shap"}}])


def _rows(study) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(study_export_files(study=study)["trials.csv"])))


def test_forward_simulation_learns_then_tests_then_learns_with_explanations(owner):
    study = make_study(owner, _forward_simulation_spec())
    walker = Walker(study)
    walker.to_trials()
    participant = walker.participant
    phases = [t.phase for t in participant.trials.filter(kind="main")]
    assert phases == ["learning"] * 4 + ["pre"] * 4 + ["learning_explained"] * 4 + ["post"] * 4
    main = participant.trials.filter(kind="main")
    learning = {t.item_id for t in main.filter(phase="learning")}
    tested = {t.item_id for t in main.filter(phase="pre")}
    assert learning == {t.item_id for t in main.filter(phase="learning_explained")}
    assert tested == {t.item_id for t in main.filter(phase="post")}
    assert not learning & tested  # disjoint learning and test items
    seen: dict[str, bytes] = {}
    while walker.participant.stage == "trials":
        trial = Trial.objects.get(participant=participant, index=walker.participant.trial_pointer)
        page = walker.page().content
        seen.setdefault(f"{trial.phase}-{trial.kind}", page)
        answer = "seen" if trial.phase.startswith("learning") else (
            trial.item.expected_answer or trial.item.ai_prediction)
        assert walker.answer_current(answer).status_code == 303
    assert b"The AI&#x27;s prediction" not in seen["pre-main"]
    assert b"Continue" in seen["learning-main"] and b"explanation-attribution" not in seen[
        "learning-main"]
    assert b"explanation-attribution" in seen["learning_explained-main"]
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    scored = [r for r in rows if r["phase"] in {"pre", "post"}]
    assert all(r["correct"] == "true" for r in scored)  # answered the AI's output each time
    assert all(r["correct"] == "" for r in rows if r["phase"].startswith("learning"))


def test_agreement_asks_a_four_point_verification_scored_against_ai_correctness(owner):
    study = make_study(owner, _agreement_spec())
    walker = Walker(study)
    walker.to_trials()
    page = walker.page().content
    assert b"How confident are you that the AI&#x27;s prediction is correct?" in page or \
        walker.participant.trials.get(index=0).kind == "attention"
    while walker.participant.stage == "trials":
        trial = Trial.objects.get(participant=walker.participant,
                                  index=walker.participant.trial_pointer)
        answer = trial.item.expected_answer or ("4" if trial.item.ai_correct else "2")
        assert walker.answer_current(answer).status_code == 303
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert {r["final_response"] for r in rows} <= {"2", "4"}
    assert all(r["correct"] == "true" for r in rows)
    assert all(r["agreed_with_ai"] == "" for r in rows)  # a rating is not a class label


def test_a_verification_rating_outside_the_scale_is_refused(owner):
    study = make_study(owner, _agreement_spec())
    walker = Walker(study)
    walker.to_trials()
    if walker.participant.trials.get(index=0).kind == "attention":
        walker.answer_current()
    index = walker.participant.trial_pointer
    response = walker.post("answer", trial_index=index, step="final", answer="5")
    assert response.status_code == 400
    assert walker.participant.trial_pointer == index


def _within_spec():  # type: ignore[no-untyped-def]
    return small_spec(slug="within", design={"type": "within"},
                      trials={"count": 6, "pool_size": 24, "attention_checks": 1})


def test_within_subjects_participants_see_every_condition_in_latin_square_blocks(owner):
    from collections import Counter

    from experiments.randomisation import latin_square
    from studyapp.services import enrolment

    study = make_study(owner, _within_spec())
    names = [c.name for c in study.conditions.all()]
    orders = []
    for n in range(6):
        participant, _ = enrolment.participant_enrol(
            study=study, recruitment=enrolment.Recruitment("prolific", f"W{n}"))
        main = list(participant.trials.filter(kind="main").order_by("index"))
        blocks = [t.condition.name for t in main]
        order = [names[i] for i in latin_square(3)[participant.sequence]]
        assert blocks == [c for c in order for _ in range(2)]  # 2 trials per block
        assert participant.condition.name == order[0]
        for trial in main:
            if trial.condition.explanation_method:
                assert trial.explanation.method == trial.condition.explanation_method
            else:
                assert trial.explanation is None
        assert len({t.item_id for t in main}) == 6  # no item seen twice
        orders.append(participant.sequence)
    # Williams design for 3 conditions has 6 rows; 6 arrivals take each row once.
    assert Counter(orders) == Counter(range(6))


def test_the_export_names_each_trials_own_condition_within_subjects(owner):
    study = make_study(owner, _within_spec())
    walker = Walker(study)
    walker.to_trials()
    walker.finish_trials()
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert {r["trial_condition"] for r in rows} == {"no_ai", "ai", "ai_shap"}
    assert len({r["condition"] for r in rows}) == 1


def test_a_within_spec_whose_trials_do_not_split_evenly_is_refused():
    from experiments.spec import SpecError, validate_spec

    with pytest.raises(SpecError, match="cannot be split into 3 equal condition blocks"):
        validate_spec(small_spec(design={"type": "within"},
                                 trials={"count": 4, "pool_size": 16}))


def test_counterfactual_simulation_shows_one_change_and_scores_the_ai_on_the_edit(owner):
    spec = small_spec(
        slug="cfsim", task={"design": "counterfactual_simulation", "question": "Over $50K?",
                            "confidence_scale": 5},
        trials={"count": 4, "pool_size": 16, "attention_checks": 1},
        conditions=[{"name": "shap", "explanation": {"method": "tree_shap"}}])
    study = make_study(owner, spec)
    walker = Walker(study)
    walker.to_trials()
    pages: dict[str, bytes] = {}
    while walker.participant.stage == "trials":
        trial = Trial.objects.get(participant=walker.participant,
                                  index=walker.participant.trial_pointer)
        pages.setdefault(f"{trial.phase}-{trial.kind}", walker.page().content)
        answer = trial.item.expected_answer or trial.item.edit["ai_prediction"]
        assert walker.answer_current(answer).status_code == 303
        if trial.phase == "post" and trial.kind == "main":
            assert b"How helpful was the explanation" in walker.page().content
            walker.post("answer", trial_index=trial.index, step="rating", answer="4")
    for phase in ("pre", "post"):
        assert b"Now suppose one thing were different" in pages[f"{phase}-main"]
    assert b"explanation-attribution" not in pages["pre-main"]
    assert b"explanation-attribution" in pages["post-main"]
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert {r["phase"] for r in rows} == {"pre", "post"}
    assert all(r["correct"] == "true" and r["edited_feature"] and r["truth"] == ""
               for r in rows)
    assert {r["explanation_rating"] for r in rows if r["phase"] == "post"} == {"4"}
    assert {r["explanation_rating"] for r in rows if r["phase"] == "pre"} == {""}
    item = Trial.objects.filter(participant=walker.participant, kind="main").first().item
    changed = [a != b for a, b in zip(item.features, item.edit["features"], strict=True)]
    assert sum(changed) == 1


def test_debugging_mixes_clean_and_bugged_models_and_scores_readiness(owner):
    spec = small_spec(
        slug="debug", task={"design": "debugging", "question": "Ready to deploy?"},
        scenario={"name": "adult", "model": "gbm", "seed": 0,
                  "bugs": ["spurious", "randomised_weights"]},
        trials={"count": 6, "pool_size": 18, "attention_checks": 1},
        conditions=[{"name": "shap", "explanation": {"method": "tree_shap"}}])
    study = make_study(owner, spec)
    variants = sorted(set(study.items.filter(role="pool").values_list("model_variant",
                                                                      flat=True)))
    assert variants == ["clean", "randomised_weights", "spurious"]
    spurious = study.items.filter(model_variant="spurious").first()
    assert len(spurious.display) == len(study.items.filter(model_variant="clean")
                                        .first().display) + 1  # the planted feature is shown
    walker = Walker(study)
    walker.to_trials()
    shown = [t.item.model_variant for t in walker.participant.trials.filter(kind="main")]
    assert sorted(shown) == sorted(["clean", "spurious", "randomised_weights"] * 2)
    while walker.participant.stage == "trials":
        trial = Trial.objects.get(participant=walker.participant,
                                  index=walker.participant.trial_pointer)
        if trial.kind == "attention":
            walker.answer_current()
            continue
        ready = "5" if trial.item.model_variant == "clean" else "2"
        assert walker.answer_current(ready).status_code == 303
        page = walker.page().content
        assert b"What is the main reason for your answer?" in page
        walker.post("answer", trial_index=trial.index, step="reason",
                    answer="I saw no problem" if ready == "5" else
                    "It relies on something that should not matter")
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert {r["truth"] for r in rows} == {"clean", "spurious", "randomised_weights"}
    assert all(r["correct"] == "true" and r["reason"] for r in rows)

    from analysis.metrics import debugging_detection

    table = debugging_detection(_frame(rows), ready_threshold=4)
    assert set(table["metric"]) >= {"sensitivity", "specificity"}


def _frame(rows):  # type: ignore[no-untyped-def]
    import pandas as pd

    from analysis.io import parse_table
    from analysis.schema import TRIAL_COLUMNS

    return parse_table(pd.DataFrame(rows), TRIAL_COLUMNS, source="trials.csv")
