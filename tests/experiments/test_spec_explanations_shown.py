"""What a condition's explanation looks like, as a spec says it: the wording level (plain for
participants by default, technical on request). Oracle: the rules stated in experiments/spec.py."""

from __future__ import annotations

import pytest

from experiments.spec import SpecError, validate_spec
from tests.factories import demo_spec


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
