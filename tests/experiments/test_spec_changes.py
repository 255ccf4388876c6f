"""Which changes a study with participants may take (experiments.spec_changes).

Oracle: the module docstring's two lists, read section by section: wording, recruitment and
exclusions may change; what fixes a participant's pool, plan, condition, scoring or bonus
may not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from experiments.spec import parse_spec, validate_spec
from experiments.spec_changes import fixed_changes

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "studies"
           / "feedback_and_bonus_adult.yaml")
Spec = dict[str, Any]


def _example() -> Spec:
    return parse_spec(EXAMPLE.read_text(encoding="utf-8"))


def _changed(edit: Callable[[Spec], None]) -> tuple[Spec, Spec]:
    old = _example()
    new = copy.deepcopy(old)
    edit(new)
    return old, validate_spec(new)


def _condition(spec: Spec, name: str) -> Spec:
    return next(c for c in spec["conditions"] if c["name"] == name)


def _reword_first_option(spec: Spec) -> None:
    question = spec["comprehension"]["questions"][0]
    index = question["options"].index(question["answer"])
    question["options"][index] = question["answer"] = "Reworded right answer"


def _within(spec: Spec) -> None:
    spec.update(design={"type": "within"})
    spec["trials"].update(count=9)  # three equal blocks


WORDING_AND_RECRUITMENT: dict[str, Callable[[Spec], None]] = {
    "title": lambda s: s.update(title="A clearer title"),
    "description": lambda s: s.update(description="Shorter."),
    "task question": lambda s: s["task"].update(question="Over $50K a year?"),
    "task prompt": lambda s: s["task"].update(prompt="Take your time."),
    "consent text": lambda s: s["consent"].update(text="Reworded consent."),
    "instructions, even one more paragraph": lambda s: s["instructions"].append("One more."),
    "comprehension question text": lambda s: s["comprehension"]["questions"][0].update(
        text="Reworded question?"),
    "comprehension option wording, the answer reworded with it": _reword_first_option,
    "condition label": lambda s: s["conditions"][0].update(label="Renamed for the report"),
    "condition cap": lambda s: s["conditions"][0].update(cap=40),
    "tutorial text": lambda s: _condition(s, "ai_training")["tutorial"].update(
        text=["Reworded tutorial."]),
    "completion code": lambda s: s["recruitment"].update(completion_code="NEWCODE1"),
    "exclusions": lambda s: s.update(exclusions={"speeder_fraction": 0.25}),
}

WHAT_PARTICIPANTS_GET: dict[str, tuple[Callable[[Spec], None], str]] = {
    "pool size": (lambda s: s["trials"].update(pool_size=60), "trials.pool_size"),
    "scenario seed": (lambda s: s["scenario"].update(seed=7), "scenario.seed"),
    "trial count": (lambda s: s["trials"].update(count=6), "trials.count"),
    "a condition's explanation": (
        lambda s: s["conditions"][0].update(explanation={"method": "tree_shap"}),
        "conditions[0].explanation"),
    "a condition added": (lambda s: s["conditions"].append({"name": "extra"}), "conditions"),
    "feedback": (lambda s: s["conditions"][0].update(feedback=True),
                 "conditions[0].feedback"),
    "tutorial practice count": (
        lambda s: _condition(s, "ai_training")["tutorial"].update(practice=2),
        "conditions[2].tutorial.practice"),
    "assignment design": (_within, "design.type"),
    "assignment seed": (lambda s: s.update(assignment_seed=99), "assignment_seed"),
    "questionnaire list": (lambda s: s.update(questionnaires=[]), "questionnaires"),
    "bonus amount": (lambda s: s["incentives"].update(per_correct=0.10),
                     "incentives.per_correct"),
    "comprehension answer": (
        lambda s: s["comprehension"]["questions"][0].update(
            answer=next(o for o in s["comprehension"]["questions"][0]["options"]
                        if o != s["comprehension"]["questions"][0]["answer"])),
        "comprehension.questions[0].answer"),
    "comprehension attempts": (lambda s: s["comprehension"].update(max_attempts=5),
                               "comprehension.max_attempts"),
    "confidence scale": (lambda s: s["task"].update(confidence_scale=7),
                         "task.confidence_scale"),
    "what declining consent does": (
        lambda s: s["consent"].update(screen_out_on_decline=False),
        "consent.screen_out_on_decline"),
}


@pytest.mark.parametrize("edit", WORDING_AND_RECRUITMENT.values(),
                         ids=WORDING_AND_RECRUITMENT.keys())
def test_wording_recruitment_and_exclusions_may_change_while_participants_exist(edit):
    old, new = _changed(edit)
    assert new != old  # a real change: it makes a new version
    assert fixed_changes(old, new) == []


@pytest.mark.parametrize(("edit", "field"), WHAT_PARTICIPANTS_GET.values(),
                         ids=WHAT_PARTICIPANTS_GET.keys())
def test_a_change_to_what_participants_get_is_named_by_its_field(edit, field):
    old, new = _changed(edit)
    assert fixed_changes(old, new)[0] == field


def test_the_same_spec_is_no_change():
    assert fixed_changes(_example(), _example()) == []


def test_a_section_older_specs_lack_is_not_a_change_when_it_is_empty():
    new = _example()
    old = {k: v for k, v in new.items() if k != "exclusions"}
    new["questionnaires"], old["questionnaires"] = [], []
    del old["questionnaires"]
    assert fixed_changes(old, new) == []
