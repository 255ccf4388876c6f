"""The study specification: validation names the field, and the hash identifies a version."""

from __future__ import annotations

import copy

import pytest
import yaml

from experiments.spec import SpecError, dump_spec, parse_spec, spec_hash, validate_spec
from tests.factories import demo_spec, to_yaml


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
