"""The typed view of a spec: every section by name, the two "designs" told apart, the dict
(stored and hashed) left as it was."""

from __future__ import annotations

import copy
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest

from experiments.spec import parse_spec, spec_hash, validate_spec
from experiments.study_spec import FreeTextQuestion, StudySpec
from tests.factories import demo_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "studies"


def test_the_task_design_and_the_assignment_of_conditions_have_different_names():
    raw = demo_spec()
    raw["design"] = {"type": "within"}
    raw["trials"]["count"] = 12
    spec = StudySpec.from_dict(validate_spec(raw))
    assert spec.task.design == raw["task"]["design"]
    assert spec.assignment.kind == "within" and spec.assignment.in_blocks


def test_a_mixed_design_lists_its_groups_with_their_conditions():
    raw = demo_spec()
    names = [c["name"] for c in raw["conditions"]]
    raw["design"] = {"type": "mixed", "groups": [{"name": "g1", "conditions": names[:1]},
                                                 {"name": "g2", "conditions": names[1:]}]}
    raw["trials"]["count"] = 12
    spec = StudySpec.from_dict(validate_spec(raw))
    assert [(g.name, g.conditions) for g in spec.assignment.groups] == [
        ("g1", tuple(names[:1])), ("g2", tuple(names[1:]))]


def test_the_view_reads_the_normalised_defaults_and_does_not_change_the_dict():
    spec = validate_spec(demo_spec())
    before, digest = copy.deepcopy(spec), spec_hash(spec)
    typed = StudySpec.from_dict(spec)
    assert spec == before and spec_hash(spec) == digest
    assert typed.assignment.kind == "between" and not typed.assignment.in_blocks
    assert typed.trials.attention_checks == spec["trials"]["attention_checks"]
    assert typed.trials.pool_size == spec["trials"]["pool_size"]
    assert typed.exclusions.speeder_fraction == 0.3
    assert typed.exclusions.min_seconds_per_trial is None
    assert [c.name for c in typed.conditions] == [c["name"] for c in spec["conditions"]]
    assert typed.condition(spec["conditions"][1]["name"]).show_ai is True
    assert typed.incentives is None


def test_it_is_read_only():
    typed = StudySpec.from_dict(validate_spec(demo_spec()))
    with pytest.raises(FrozenInstanceError):
        typed.task.design = "agreement"  # type: ignore[misc]


def test_questionnaires_keep_their_order_and_scales_name_the_standard_ones():
    raw = demo_spec()
    raw["questionnaires"] = ["jian_trust", {"free_text": {"name": "why", "prompt": "Why?"}}]
    typed = StudySpec.from_dict(validate_spec(raw))
    assert typed.questionnaires == ("jian_trust", FreeTextQuestion(name="why", prompt="Why?"))
    assert typed.scales == ("jian_trust",)


def test_a_stored_spec_without_the_later_sections_reads_as_their_defaults():
    spec = validate_spec(demo_spec())
    for key in ("exclusions", "questionnaires", "incentives"):
        spec.pop(key, None)
    typed = StudySpec.from_dict(spec)
    assert typed.exclusions.speeder_fraction == 0.3
    assert typed.questionnaires == () and typed.incentives is None


def test_the_bonus_rule_is_the_incentives_section():
    raw = demo_spec()
    raw["incentives"] = {"currency": "GBP", "per_correct": 0.05}
    rule = StudySpec.from_dict(validate_spec(raw)).incentives
    assert rule is not None and rule.per_correct == Decimal("0.05")


def test_every_example_spec_has_a_typed_view():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        spec = parse_spec(path.read_text(encoding="utf-8"))
        typed = StudySpec.from_dict(spec)
        assert typed.slug == spec["slug"] and typed.task.design == spec["task"]["design"]
        assert typed.assignment.kind == spec["design"]["type"]
    for path in sorted((EXAMPLES / "own_material").glob("*.yaml")):
        spec = parse_spec(path.read_text(encoding="utf-8"), material_dir=path.parent)
        assert StudySpec.from_dict(spec).scenario.data == spec["scenario"]["data"]
