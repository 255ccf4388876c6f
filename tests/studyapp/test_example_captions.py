"""The caption over example cards says what the cards are and why they were chosen.

Found walking a lab's own pictures on a phone: nearest pictures were introduced as "People from
the training data who are most like this person". Oracle: the role the method gave the examples
and the kind of material they hold, each with the words it must (and must not) produce.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string


def _caption(role: str, example: dict[str, object]) -> str:
    explanation = SimpleNamespace(fingerprint="f", html="",
                                  payload={"content": {"examples": [{"role": role, **example}]}})
    return render_to_string("explanations/examples.html", {"explanation": explanation})


@pytest.mark.parametrize("example, things", [
    ({"image": [[0, 1], [1, 0]]}, "pictures"),
    ({"text": "Lovely coffee."}, "texts"),
    ({"features": {"Age": "40"}}, "cases"),
])
def test_nearest_examples_are_named_for_their_material(example, things):
    caption = _caption("nearest", example)
    assert f"The {things} from the training data most like this one" in caption
    assert "person" not in caption


def test_prototypes_and_influential_cases_are_not_called_similar():
    assert "Typical cases" in _caption("prototype", {"image": [[0]]})
    influence = _caption("supports", {"features": {"Age": "40"}})
    assert "helped or worked against this prediction" in influence
    assert "Similar" not in influence
