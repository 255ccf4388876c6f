"""Which trials show their outcome: the spec's rule per condition, counted per block.

Oracle: plans worked out by hand in each case.
"""

from __future__ import annotations

import pytest

from experiments.designs import DESIGNS, FEEDBACK
from experiments.feedback import FeedbackRule, feedback_flags
from experiments.spec import validate_spec
from experiments.spec_yaml import SpecError
from tests.factories import small_spec

MAIN, LEARN = "main", "learning"


def test_feedback_true_shows_every_scored_trial_and_never_an_attention_check():
    rule = FeedbackRule.from_condition({"feedback": True})
    plan = [(0, MAIN, True), (0, MAIN, False), (0, MAIN, True)]  # the middle one: a check
    assert feedback_flags(plan, {0: rule}) == [True, False, True]


def test_a_training_stretch_counts_scored_trials_of_each_block():
    rule = FeedbackRule.from_condition({"feedback": {"first": 2}})
    plan = [(0, MAIN, True), (0, MAIN, False), (0, MAIN, True), (0, MAIN, True),
            (1, MAIN, True), (1, MAIN, True), (1, MAIN, True)]
    # Block 0: the 1st and 2nd scored trials (the check between them does not count).
    # Block 1 has no rule (its condition gives no feedback).
    assert feedback_flags(plan, {0: rule, 1: None}) == [True, False, True, False,
                                                        False, False, False]
    # Within subjects, each block with the rule starts its own stretch.
    assert feedback_flags(plan, {0: rule, 1: rule}) == [True, False, True, False,
                                                        True, True, False]


def test_phases_limit_feedback_to_the_named_phases():
    rule = FeedbackRule.from_condition({"feedback": {"phases": ["pre"]}})
    plan = [(0, LEARN, False), (0, "pre", True), (0, "post", True)]
    assert feedback_flags(plan, {0: rule}) == [False, True, False]


def test_no_feedback_key_or_false_gives_none():
    assert FeedbackRule.from_condition({}) is None
    assert FeedbackRule.from_condition({"feedback": False}) is None


def test_the_feedback_step_comes_last_and_only_on_scored_trials():
    decision = DESIGNS["decision"]
    main = decision.phase("main")
    steps = decision.steps(main, show_ai=True, explained=False, question="q", feedback=True)
    assert steps[-1] == FEEDBACK and steps[-1].panels == {"outcome"}
    check = decision.steps(main, show_ai=True, explained=False, question="q", attention=True,
                           feedback=True)
    assert FEEDBACK not in check
    learning = DESIGNS["forward_simulation"].phase("learning")
    assert FEEDBACK not in DESIGNS["forward_simulation"].steps(
        learning, show_ai=True, explained=False, question="q", feedback=True)


@pytest.mark.parametrize("feedback, message", [
    ({"phases": ["nope"]}, "not a scored phase"),
    ({"first": 0}, "feedback"),
    ({}, "feedback"),
])
def test_bad_feedback_is_refused_with_the_field_named(feedback, message):
    spec = small_spec()
    spec["conditions"][1]["feedback"] = feedback
    with pytest.raises(SpecError, match=message):
        validate_spec(spec)


def test_a_design_without_a_right_answer_to_show_refuses_feedback():
    import yaml

    from tests.factories import DEMO_SPEC
    spec = yaml.safe_load((DEMO_SPEC.parent / "adebayo_debugging.yaml").read_text())
    spec["conditions"][0]["feedback"] = True
    with pytest.raises(SpecError, match="no right answer to show"):
        validate_spec(spec)
