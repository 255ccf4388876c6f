"""Task designs: the steps each one asks for and its scoring rule (hand-worked cases)."""

from __future__ import annotations

import itertools

import pytest

from experiments.designs import AGREEMENT_SCALE, DESIGNS, LABEL_RIGHT, LABEL_WRONG, design


def _steps(name: str, phase: str, **kwargs):  # type: ignore[no-untyped-def]
    task = design(name)
    options = {"show_ai": True, "explained": True, "question": "Q?", **kwargs}
    return task.steps(task.phase(phase), **options)


def test_a_decision_asks_once_with_confidence_and_shows_advice_where_the_condition_does():
    (step,) = _steps("decision", "main")
    assert step.name == "final" and step.question.asks_confidence
    assert step.shows_ai and step.shows_explanation
    (alone,) = _steps("decision", "main", show_ai=False, explained=False)
    assert not alone.shows_ai and not alone.shows_explanation


def test_the_judge_advisor_asks_first_without_advice_then_with_it():
    first, final = _steps("judge_advisor", "main")
    assert (first.name, first.shows_ai, first.shows_explanation) == ("initial", False, False)
    assert (final.name, final.shows_ai, final.shows_explanation) == ("final", True, True)
    assert len(_steps("judge_advisor", "main", show_ai=False)) == 1


def test_an_attention_check_never_shows_the_ai_or_an_explanation():
    for name in DESIGNS:
        task = design(name)
        for phase in task.phases:
            if not phase.attention_checks:
                continue
            steps = task.steps(phase, show_ai=True, explained=True, question="Q?",
                               attention=True)
            assert not any(s.shows_ai or s.shows_explanation for s in steps), name


def test_forward_simulation_runs_learn_pre_learn_with_explanations_post():
    task = design("forward_simulation")
    assert [p.name for p in task.phases] == ["learning", "pre", "learning_explained", "post"]
    (learn,) = _steps("forward_simulation", "learning")
    assert learn.question.kind == "continue" and learn.shows_ai and not learn.shows_explanation
    (learn_again,) = _steps("forward_simulation", "learning_explained")
    assert learn_again.shows_ai and learn_again.shows_explanation
    for phase in ("pre", "post"):
        (test,) = _steps("forward_simulation", phase)
        assert test.question.kind == "choice" and not test.shows_ai
        assert not test.shows_explanation


@pytest.mark.parametrize(("name", "answer", "phase", "expected"), [
    ("decision", "yes", "main", True),           # answer == truth
    ("decision", "no", "main", False),
    ("judge_advisor", "yes", "main", True),
    ("forward_simulation", "no", "pre", True),   # answer == the AI's output, not the truth
    ("forward_simulation", "yes", "post", False),
    ("forward_simulation", "seen", "learning", None),  # learning pages are not scored
    ("decision", None, "main", None),            # unanswered
])
def test_each_design_scores_against_its_own_target(name, answer, phase, expected):
    task = design(name)
    assert task.score(answer, truth="yes", ai_prediction="no", ai_correct=False,
                      phase=phase) is expected


@pytest.mark.parametrize(("answer", "ai_correct", "expected"), [
    ("4", True, True), ("3", True, True), ("2", True, False), ("1", True, False),
    ("1", False, True), ("2", False, True), ("3", False, False), ("4", False, False),
])
def test_verification_is_right_when_confidence_points_the_way_the_ai_actually_went(
        answer, ai_correct, expected):
    task = design("agreement")
    assert task.score(answer, truth="7", ai_prediction="1", ai_correct=ai_correct,
                      phase="main") is expected
    assert len(AGREEMENT_SCALE) == 4


def test_an_unknown_design_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown task design 'telepathy'"):
        design("telepathy")


@pytest.mark.parametrize("name", sorted(name for name, task in DESIGNS.items()
                                        if not task.numeric))
@pytest.mark.parametrize(("truth", "ai_correct"), [("clean", True), ("yes", False)])
def test_the_right_answer_bots_give_is_what_the_design_scores_right(name, truth, ai_correct):
    task = design(name)
    scored = next(phase.name for phase in task.phases if phase.scored)
    facts = {"truth": task.truth(item_truth=truth, model_variant=truth),
             "ai_prediction": truth if ai_correct else "no", "ai_correct": ai_correct,
             "ai_prediction_edited": "maybe"}
    assert task.score(task.right_answer(**facts), phase=scored, **facts) is True


def test_distinction_asks_one_choice_among_the_panels_without_showing_the_ai():
    (step,) = _steps("distinction", "main")
    assert step.question.from_panels and not step.shows_ai and step.shows_explanation
    assert design("distinction").score("7", truth="7", ai_prediction="1", ai_correct=False,
                                       phase="main") is True


def test_simulate_then_decide_guesses_the_ai_before_seeing_it_and_is_not_scored_as_right():
    simulate, final = _steps("simulate_then_decide", "main")
    assert (simulate.name, simulate.shows_ai, simulate.shows_explanation) == ("simulate", False,
                                                                              True)
    assert (final.name, final.shows_ai, final.question.kind) == ("final", True, "number")
    assert design("simulate_then_decide").score("100", truth="100", ai_prediction="100",
                                                ai_correct=True, phase="main") is None
    (check,) = _steps("simulate_then_decide", "main", attention=True)
    assert check.question.kind == "number" and not check.shows_ai


def test_model_comparison_asks_which_model_and_why():
    pick, reason = _steps("model_comparison", "main")
    assert pick.question.from_panels and reason.question.options


@pytest.mark.parametrize(("answer", "truth"), list(itertools.product([LABEL_RIGHT, LABEL_WRONG],
                                                                      repeat=2)))
def test_mislabelled_scores_a_flag_exactly_when_the_label_was_flipped(answer, truth):
    # Oracle: the truth table, enumerated.
    expected = answer == truth
    assert design("mislabelled").score(answer, truth=truth, ai_prediction="x", ai_correct=True,
                                       phase="main") is expected
