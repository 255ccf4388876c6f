"""What a condition's explanation looks like and which model it explains, as a spec says it:
the wording level (plain for participants by default, technical on request) and the
scaffolding attack (Slack et al. 2020) as a condition. Oracle: the rules stated in
experiments/spec.py and experiments/scenarios/attacks.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.spec import SpecError, parse_spec, validate_spec
from tests.factories import demo_spec

SLACK = (Path(__file__).resolve().parents[2] / "examples" / "studies"
         / "slack_scaffolding_compas.yaml")


def slack() -> dict:
    import yaml

    return yaml.safe_load(SLACK.read_text(encoding="utf-8"))


def test_explanations_are_worded_plainly_unless_the_spec_asks_for_the_technical_wording():
    spec = validate_spec(demo_spec())
    shown = [c["explanation"] for c in spec["conditions"] if "explanation" in c]
    assert shown and all(e["wording"] == "plain" for e in shown)
    data = demo_spec()
    data["conditions"][2]["explanation"]["wording"] = "technical"
    assert validate_spec(data)["conditions"][2]["explanation"]["wording"] == "technical"


def test_an_unknown_wording_is_refused_with_the_field_named():
    data = demo_spec()
    data["conditions"][2]["explanation"]["wording"] = "jargon"
    with pytest.raises(SpecError, match=r"conditions\[2\]\.explanation\.wording"):
        validate_spec(data)


def test_the_scaffolding_example_names_a_scaffolded_condition_and_is_valid():
    spec = parse_spec(SLACK.read_text(encoding="utf-8"))
    assert spec["scenario"]["scaffolding"] == {"biased_feature": "race",
                                               "innocuous_feature": "c_charge_degree"}
    assert [c.get("model_variant") for c in spec["conditions"]] == [None, "scaffolded"]


def _broken(change) -> dict:
    data = slack()
    change(data)
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["scenario"].pop("scaffolding"), r"conditions\[1\]\.model_variant: .*needs "
                                                 r"scenario\.scaffolding"),
    (lambda d: d["scenario"]["scaffolding"].update(biased_feature="colour"),
     r"scenario\.scaffolding\.biased_feature: unknown column 'colour'"),
    (lambda d: d["scenario"]["scaffolding"].update(innocuous_feature="race"),
     r"innocuous_feature: must differ"),
    (lambda d: d["conditions"][1]["explanation"].update(method="anchors"),
     r"conditions\[1\]\.explanation\.method: 'anchors' cannot explain this scaffolded model"),
    (lambda d: d["conditions"][0]["explanation"].update(method="tree_shap"),
     r"conditions\[0\]\.explanation\.method: 'tree_shap' cannot explain this biased model"),
    (lambda d: d["conditions"][1].pop("explanation"), r"conditions\[1\]\.model_variant: a "
                                                       r"scaffolded condition shows"),
    (lambda d: d["conditions"][1].update(model_variant="honest"), r"conditions\[1\]\."
                                                                  r"model_variant"),
    (lambda d: d["scenario"].update(name="digits", model="mlp"), r"scenario\.scaffolding: the "
                                                                 r"attack needs a table"),
    (lambda d: d["scenario"].update(bug="label_noise"), r"scenario\.scaffolding: not available"),
])
def test_a_bad_scaffolding_condition_is_refused_at_load_naming_the_field(change, message):
    with pytest.raises(SpecError, match=message):
        validate_spec(_broken(change))
