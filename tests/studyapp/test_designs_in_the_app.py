"""Task designs run through the real participant pages and the export: phases, what is
shown, scoring; mixed designs' groups and block orders."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import Any

import numpy as np
import pytest

from experiments.designs import LABEL_RIGHT, LABEL_WRONG
from experiments.scenarios import load_scenario
from studyapp.models import Item, Participant, Trial
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


def _rows(study: Any) -> list[dict[str, str]]:
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


_COMMON = {"attention_checks": 1}


def _current(walker: Walker) -> Trial:
    participant = walker.participant
    return Trial.objects.select_related("item").get(participant=participant,
                                                    index=participant.trial_pointer)


def _distinction_spec() -> dict[str, Any]:
    return small_spec(
        slug="distinct", scenario={"name": "digits", "model": "mlp", "seed": 0},
        task={"design": "distinction", "question": "Which digit is it?", "candidates": 4},
        trials={"count": 4, "pool_size": 8, "balance": ["ai_correct"], **_COMMON},
        conditions=[{"name": "gradient", "explanation": {"method": "gradient",
                                                         "quality": "basic"}}])


def test_distinction_offers_four_candidates_each_with_its_own_map_and_scores_the_truth(owner):
    study = make_study(owner, _distinction_spec())
    pool = list(study.items.filter(role=Item.Role.POOL))
    for item in pool:
        # Oracle: the HIVE rule. Four distinct candidates; the true class always among them.
        values = [p["value"] for p in item.panels]
        assert len(values) == 4 == len(set(values)) and item.truth in values
        if item.ai_correct:
            assert item.ai_prediction in values
    walker = Walker(study)
    walker.to_trials()
    while walker.participant.stage == "trials":
        trial = _current(walker)
        if trial.kind == Trial.Kind.MAIN:
            html = walker.page().content.decode()
            # One map per candidate, each naming its own class; the AI's choice is not shown.
            assert html.count("explanation-saliency") == 4
            for panel in trial.item.panels:
                assert f"saliency map for “{panel['label']}”" in html
            assert 'class="ai-prediction"' not in html
            refused = walker.answer_current(_not_a_candidate(trial.item))
            assert refused.status_code == 400  # a clear error page, nothing stored
            assert not trial.responses.exists()
            walker.answer_current(trial.item.truth)
        else:
            walker.answer_current()
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert {r["n_options"] for r in rows} == {"4"}
    assert all(r["correct"] == "true" for r in rows)


def _not_a_candidate(item: Item) -> str:
    values = {p["value"] for p in item.panels}
    return next(str(d) for d in range(10) if str(d) not in values)


def _houses_spec() -> dict[str, Any]:
    return small_spec(
        slug="houses", scenario={"name": "house_prices", "model": "linear", "seed": 0},
        task={"design": "simulate_then_decide", "question": "What did it sell for?",
              "confidence_scale": 5},
        trials={"count": 4, "unusual": 1, "pool_size": 8, "balance": [], **_COMMON},
        conditions=[{"name": "transparent_2", "features": "key",
                     "explanation": {"method": "linear_model"}},
                    {"name": "black_box_8", "features": "all"}])


def test_simulate_then_decide_asks_numbers_and_exports_the_three_errors(owner):
    study = make_study(owner, _houses_spec())
    walker = Walker(study)
    walker.to_trials()
    participant = walker.participant
    # The 2-feature condition sees only the scenario's two key features, on every item.
    labels = {"transparent_2": 2, "black_box_8": 8}[participant.condition.name]
    main = participant.trials.filter(kind="main").select_related("item")
    assert {len(t.item.display) for t in main} == {labels}
    assert sum(not t.item.ai_correct for t in main) == 1  # exactly one unusual house
    answers: dict[int, tuple[int, int]] = {}
    while walker.participant.stage == "trials":
        trial = _current(walker)
        if trial.kind == Trial.Kind.ATTENTION:
            walker.answer_current(trial.item.expected_answer)
            continue
        simulate_page = walker.page().content.decode()
        assert 'type="number"' in simulate_page
        assert 'class="ai-prediction"' not in simulate_page  # not before the guess
        for bad in ("abc", "-5", "1e99", "nan"):
            walker.answer_current(bad, step="simulate")
            assert not trial.responses.exists(), bad
        guess, final = 150000 + trial.index, 160000 + trial.index
        walker.answer_current(str(guess), step="simulate")
        final_page = walker.page().content.decode()
        shown = f"{float(trial.item.ai_prediction):,.0f} dollars"
        assert shown in final_page, final_page[final_page.find("<section"):][:1500]
        walker.answer_current(f"{final:,}", step="final")  # thousands separators accepted
        answers[trial.index] = (guess, final)
    for row in _rows(study):
        if row["trial_kind"] != "main":
            continue
        guess, final = answers[int(row["trial_index"])]
        ai, truth = float(row["ai_prediction"]), float(row["truth"])
        # Oracle: the closed forms of Poursabzi-Sangdeh et al.'s three measures.
        assert float(row["simulation_response"]) == guess
        assert float(row["simulation_error"]) == pytest.approx(abs(guess - ai))
        assert float(row["deviation_from_ai"]) == pytest.approx(abs(final - ai))
        assert float(row["absolute_error"]) == pytest.approx(abs(final - truth))
        assert row["final_response"] == str(final) and row["correct"] == ""


def test_the_transparent_condition_shows_the_formula_that_gives_the_prediction(owner):
    study = make_study(owner, _houses_spec())
    item = study.items.filter(role="pool", model_variant="key").first()
    explanation = item.explanations.get(method="linear_model")
    content = explanation.payload["content"]
    # Oracle: intercept + sum of coefficient x value is the model's own prediction.
    total = content["intercept"] + sum(t["contribution"] for t in content["terms"])
    assert total == pytest.approx(float(item.ai_prediction), abs=0.5)
    assert len(content["terms"]) == 2
    # A unit is one word to the line breaker: its spaces are no-break spaces.
    assert "Living area" in explanation.html and "per sq\u00a0ft" in explanation.html


def _comparison_spec() -> dict[str, Any]:
    return small_spec(
        slug="compare",
        scenario={"name": "sentiment", "model": "bow_logistic", "seed": 0, "bugs": ["spurious"]},
        task={"design": "model_comparison", "question": "Which model?"},
        trials={"count": 4, "pool_size": 8, **_COMMON},
        conditions=[{"name": "lime", "explanation": {"method": "lime_text",
                                                     "params": {"num_samples": 200},
                                                     "quality": "basic"}}])


def test_model_comparison_shows_both_models_on_one_input_and_the_clean_one_is_right(owner):
    study = make_study(owner, _comparison_spec())
    for item in study.items.filter(role=Item.Role.POOL):
        paired = Item.objects.get(pk=next(p["item"] for p in item.panels if p["item"] != item.pk))
        assert paired.role == Item.Role.PAIRED and paired.display == item.display
        clean_letter = next(p["label"] for p in item.panels if p["item"] == item.pk)
        assert item.truth == clean_letter
    walker = Walker(study)
    walker.to_trials()
    letters: Counter[str] = Counter()
    while walker.participant.stage == "trials":
        trial = _current(walker)
        if trial.kind == Trial.Kind.ATTENTION:
            walker.answer_current()
            continue
        html = walker.page().content.decode()
        assert html.count("explanation-text") == 2 and "Model A" in html and "Model B" in html
        # Each model explains its own prediction: two different explanations.
        assert len(set(re.findall(r'data-explanation="(\w+)"', html))) == 2
        walker.answer_current(trial.item.truth)
        walker.answer_current("I could not tell them apart", step="reason")
        letters[trial.item.truth] += 1
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert all(r["correct"] == "true" and r["n_options"] == "2" for r in rows)
    assert {r["reason"] for r in rows} == {"I could not tell them apart"}


def _mislabelled_spec() -> dict[str, Any]:
    return small_spec(
        slug="mislabelled",
        scenario={"name": "adult", "model": "logistic", "seed": 0, "bug": "label_noise"},
        task={"design": "mislabelled", "question": "Is the label right?"},
        trials={"count": 4, "pool_size": 8, **_COMMON},
        conditions=[{"name": "similar", "explanation": {"method": "nearest_examples",
                                                        "quality": "basic"}}])


def test_mislabelled_items_are_training_rows_scored_against_the_known_flips(owner):
    study = make_study(owner, _mislabelled_spec())
    scenario = load_scenario("adult", model="logistic", bug="label_noise", random_state=0)
    flipped = set(scenario.bug_details["flipped_indices"])
    pool = list(study.items.filter(role=Item.Role.POOL))
    # Oracle: the scenario's own record of which training labels it flipped.
    assert all(i.source_split == "train" for i in pool)
    assert all((i.truth == LABEL_WRONG) == (i.source_index in flipped) for i in pool)
    assert Counter(i.truth for i in pool) == {LABEL_WRONG: 4, LABEL_RIGHT: 4}
    walker = Walker(study)
    walker.to_trials()
    while walker.participant.stage == "trials":
        trial = _current(walker)
        if trial.kind == Trial.Kind.MAIN:
            assert "Label in the training data" in walker.page().content.decode()
        walker.answer_current(trial.item.truth if trial.kind == Trial.Kind.MAIN else None)
    rows = [r for r in _rows(study) if r["trial_kind"] == "main"]
    assert rows and all(r["correct"] == "true" for r in rows)


def _mixed_spec() -> dict[str, Any]:
    return small_spec(
        slug="mixed", design={"type": "mixed", "groups": [
            {"name": "shap_group", "conditions": ["ai", "ai_shap"]},
            {"name": "three", "conditions": ["no_ai", "ai", "ai_shap"]}]},
        trials={"count": 6, "pool_size": 24, **_COMMON})


def test_a_mixed_design_balances_groups_then_orders_within_each(owner):
    study = make_study(owner, _mixed_spec())
    for n in range(12):
        Walker(study, pid=f"5f0c0ffee00000000000{n:04d}").enter()
    participants = list(Participant.objects.filter(study=study))
    rows = list(csv.DictReader(io.StringIO(study_export_files(study=study)["participants.csv"])))
    groups = Counter(r["design_group"] for r in rows)
    # Groups balance even though one has 2 orders and the other 6 (odd n: 2n Williams rows).
    assert groups == {"shap_group": 6, "three": 6}
    for participant in participants:
        blocks = [t.condition.name for t in participant.trials.filter(kind="main")
                  .order_by("index")]
        order = list(dict.fromkeys(blocks))
        size = len(blocks) // len(order)
        assert blocks == [name for name in order for _ in range(size)]
        assert len(order) in (2, 3)
    orders = Counter(r["block_order"] for r in rows if r["design_group"] == "three")
    assert len(orders) == 6  # every Williams row of the 3-condition group used once


def test_numeric_answers_are_canonical_and_bounded() -> None:
    from studyapp.services.errors import ParticipantError
    from studyapp.services.flow import number_answer_clean

    class _Study:
        answer_options = [{"value": "number", "min": 0, "max": 1000000}]

    assert number_answer_clean(_Study, " 183,000 ") == "183000"
    assert number_answer_clean(_Study, "2.5") == "2.5"
    for bad in ("", "1e7", "-1", "inf", "nan", "12abc"):
        with pytest.raises(ParticipantError):
            number_answer_clean(_Study, bad)
    assert re.fullmatch(r"\d+", number_answer_clean(_Study, "1000000"))
    assert np.isfinite(float(number_answer_clean(_Study, "0")))


def test_a_number_box_allows_exactly_the_numbers_the_service_accepts(owner):
    """Oracle: one rule for the page and the service. With no maximum set at preparation,
    the largest number the page's box allows is stored and the next one is refused."""
    study = make_study(owner, _houses_spec())
    study.answer_options = [{k: v for k, v in study.answer_options[0].items() if k != "max"}]
    study.save(update_fields=["answer_options"])
    walker = Walker(study)
    walker.to_trials()
    while (trial := _current(walker)).kind == Trial.Kind.ATTENTION:
        walker.answer_current(trial.item.expected_answer)
    box = re.search(r'<input id="answer-number"[^>]*>', walker.page().content.decode())
    assert box is not None
    high = re.search(r'max="([^"]*)"', box.group(0))
    assert high is not None and high.group(1), f"the box sets no maximum: {box.group(0)}"
    walker.answer_current(str(int(float(high.group(1))) + 1), step="simulate")
    assert not trial.responses.exists()
    walker.answer_current(high.group(1), step="simulate")
    assert trial.responses.filter(step="simulate").exists()
