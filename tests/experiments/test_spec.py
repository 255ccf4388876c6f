"""The study specification: validation names the field, and the hash identifies a version."""

from __future__ import annotations

import copy

import pytest
import yaml

from experiments.spec import SpecError, dump_spec, parse_spec, spec_hash, validate_spec
from tests.factories import demo_spec, small_spec, to_yaml


def test_the_demo_spec_is_valid_and_gets_defaults():
    spec = parse_spec(to_yaml(demo_spec()), known_scenarios=["adult"],
                      known_methods=["tree_shap", "anchors"])
    assert spec["conditions"][0]["show_ai"] is False
    assert spec["conditions"][1]["show_ai"] is True
    assert spec["trials"]["attention_checks"] == 1


def test_dumping_and_parsing_again_gives_the_same_spec_and_hash():
    spec = validate_spec(demo_spec())
    again = parse_spec(dump_spec(spec))
    assert again == spec and spec_hash(again) == spec_hash(spec)


def test_the_hash_changes_when_anything_that_matters_changes():
    spec = validate_spec(demo_spec())
    changed = copy.deepcopy(spec)
    changed["trials"]["count"] = 10
    assert spec_hash(changed) != spec_hash(spec)


def test_the_hash_ignores_key_order_and_yaml_formatting():
    spec = demo_spec()
    reordered = dict(reversed(list(spec.items())))
    assert spec_hash(validate_spec(reordered)) == spec_hash(validate_spec(spec))


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda s: s.pop("slug"), "spec: 'slug' is a required property"),
    (lambda s: s.update(slug="Bad Slug!"), "slug:"),
    (lambda s: s.update(colour="blue"), "spec: Additional properties"),
    (lambda s: s["conditions"][2]["explanation"].update(method=""),
     "conditions[2].explanation.method"),
    (lambda s: s["conditions"].append({"name": "ai"}), "conditions[4].name: duplicate"),
    (lambda s: s["trials"].update(count=0), "trials.count"),
    (lambda s: s["trials"].update(count="twelve"), "trials.count"),
    (lambda s: s["task"].update(design="telepathy"), "task.design: unknown 'telepathy'"),
    (lambda s: s["recruitment"].update(screenout_code=s["recruitment"]["completion_code"]),
     "recruitment.screenout_code"),
    (lambda s: s["recruitment"].update(completion_url="javascript:alert(1)"),
     "recruitment.completion_url"),
    (lambda s: s["comprehension"]["questions"][0].update(answer="nope"),
     "comprehension.questions[0].answer"),
    (lambda s: s["conditions"][0].update(explanation={"method": "tree_shap"}),
     "conditions[0].explanation: an explanation needs show_ai"),
    (lambda s: s["trials"].update(pool_size=3), "trials.pool_size"),
])
def test_a_bad_spec_names_the_field_and_what_was_expected(mutate, field):
    spec = demo_spec()
    mutate(spec)
    with pytest.raises(SpecError) as raised:
        validate_spec(spec)
    assert field in str(raised.value)


def test_unknown_scenarios_and_methods_are_named_with_the_choices():
    with pytest.raises(SpecError, match=r"scenario.name: unknown 'atlantis'; expected one of"):
        validate_spec(demo_spec(scenario={"name": "atlantis"}), known_scenarios=["adult"])
    with pytest.raises(SpecError, match=r"conditions\[2\].explanation.method: unknown"):
        validate_spec(demo_spec(), known_methods=["anchors"])


@pytest.mark.parametrize("text", ["", "- a list\n- not a mapping", "slug: [unclosed",
                                  "x" * 300_000])
def test_garbage_is_refused_with_a_clear_message(text):
    with pytest.raises(SpecError, match="spec"):
        parse_spec(text)


def test_yaml_tags_that_would_run_code_are_refused():
    with pytest.raises(SpecError, match="not valid YAML"):
        parse_spec("slug: !!python/object/apply:os.system ['true']\n")


def test_every_example_spec_is_valid():
    from pathlib import Path

    for path in sorted(Path("examples/studies").glob("*.yaml")):
        parse_spec(path.read_text(encoding="utf-8"))
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["slug"]
    for path in sorted(Path("examples/studies/own_material").glob("*.yaml")):
        parse_spec(path.read_text(encoding="utf-8"), material_dir=path.parent)
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["slug"]


def test_the_exclusions_default_to_the_relative_rule_and_no_floor():
    spec = parse_spec(to_yaml(demo_spec()), known_scenarios=["adult"],
                      known_methods=["tree_shap", "anchors"])
    assert spec["exclusions"] == {"speeder_fraction": 0.3, "min_seconds_per_trial": None}


@pytest.mark.parametrize("exclusions", [{"min_seconds_per_trial": -1},
                                        {"min_seconds_per_trial": 0},
                                        {"min_seconds_per_trial": "fast"},
                                        {"speeder_fraction": 1.5},
                                        {"minimum": 2}])
def test_a_bad_exclusion_setting_is_refused_naming_the_field(exclusions):
    with pytest.raises(SpecError, match="exclusions"):
        parse_spec(to_yaml(demo_spec(exclusions=exclusions)), known_scenarios=["adult"],
                   known_methods=["tree_shap", "anchors"])


_DIGITS = {"name": "digits", "model": "mlp", "seed": 0}
_HOUSES = {"name": "house_prices", "model": "linear", "seed": 0}
_TASK = {"question": "Q?"}
BAD_SPECS = [
    ("distinction with a method that cannot target a class",
     dict(scenario=_DIGITS, task={**_TASK, "design": "distinction"},
          conditions=[{"name": "lime", "explanation": {"method": "lime"}}]),
     "conditions[0].explanation.method"),
    ("distinction on a regression scenario",
     dict(scenario=_HOUSES, task={**_TASK, "design": "distinction"}, conditions=[{"name": "a"}]),
     "scenario.name"),
    ("simulate then decide on a classification scenario",
     dict(task={**_TASK, "design": "simulate_then_decide"}, conditions=[{"name": "a"}]),
     "scenario.name"),
    ("a regression scenario with a classification design",
     dict(scenario=_HOUSES, task={**_TASK, "design": "decision"}, conditions=[{"name": "a"}]),
     "scenario.name"),
    ("simulate then decide with a classifier's explanation",
     dict(scenario=_HOUSES, task={**_TASK, "design": "simulate_then_decide"},
          conditions=[{"name": "a", "explanation": {"method": "tree_shap"}}]),
     "conditions[0].explanation.method"),
    ("more unusual items than trials",
     dict(scenario=_HOUSES, task={**_TASK, "design": "simulate_then_decide"},
          trials={"count": 2, "unusual": 3, "pool_size": 16}, conditions=[{"name": "a"}]),
     "trials.unusual"),
    ("model comparison of two bugs",
     dict(scenario={**_DIGITS, "bugs": ["spurious", "ood"]},
          task={**_TASK, "design": "model_comparison"}, conditions=[{"name": "a"}]),
     "scenario.bugs"),
    ("model comparison of a table with an extra spurious column",
     dict(scenario={"name": "adult", "bugs": ["spurious"]},
          task={**_TASK, "design": "model_comparison"}, conditions=[{"name": "a"}]),
     "scenario.bugs"),
    ("mislabelled without label noise",
     dict(task={**_TASK, "design": "mislabelled"}, conditions=[{"name": "a"}]),
     "scenario.bug"),
    ("a mixed design without groups",
     dict(design={"type": "mixed"}), "design.groups"),
    ("a mixed group naming an unknown condition",
     dict(design={"type": "mixed", "groups": [{"name": "g", "conditions": ["no_ai", "ai"]},
                                              {"name": "h", "conditions": ["nope"]}]}),
     "design.groups[1].conditions"),
    ("a condition in no group",
     dict(design={"type": "mixed", "groups": [{"name": "g", "conditions": ["no_ai"]},
                                              {"name": "h", "conditions": ["ai"]}]}),
     "design.groups"),
    ("groups on a between design",
     dict(design={"type": "between", "groups": [{"name": "g", "conditions": ["ai"]},
                                                {"name": "h", "conditions": ["ai"]}]}),
     "design.groups"),
    ("feature sets in a within design",
     dict(design={"type": "within"}, trials={"count": 3, "pool_size": 16},
          conditions=[{"name": "a", "features": "key"}, {"name": "b"}, {"name": "c"}]),
     "conditions[0].features"),
    ("feature sets on images",
     dict(scenario=_DIGITS, conditions=[{"name": "a", "features": "key"}]),
     "conditions[0].features"),
]


@pytest.mark.parametrize(("mutation", "field"), [(m, f) for _, m, f in BAD_SPECS],
                         ids=[name for name, _, _ in BAD_SPECS])
def test_a_spec_its_design_cannot_run_names_the_field(mutation, field):
    with pytest.raises(SpecError) as error:
        validate_spec(small_spec(**mutation))
    assert str(error.value).startswith(field), str(error.value)
