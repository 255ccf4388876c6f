"""The designs added for the rest of the literature's list: distinction, simulate then
decide, model comparison, mislabelled points; mixed designs; their spec rules."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from experiments.designs import LABEL_RIGHT, LABEL_WRONG, design
from experiments.randomisation import block_orders, latin_square
from experiments.sampling import candidate_classes
from experiments.spec import SpecError, validate_spec
from tests.factories import small_spec


def _steps(name: str, *, explained: bool = True, attention: bool = False) -> list[Any]:
    task = design(name)
    return list(task.steps(task.phases[0], show_ai=True, explained=explained, question="Q?",
                           attention=attention))


def test_distinction_asks_one_choice_among_the_panels_without_showing_the_ai():
    (step,) = _steps("distinction")
    assert step.question.from_panels and not step.shows_ai and step.shows_explanation
    assert design("distinction").score("7", truth="7", ai_prediction="1", ai_correct=False,
                                       phase="main") is True


def test_simulate_then_decide_guesses_the_ai_before_seeing_it_and_is_not_scored_as_right():
    simulate, final = _steps("simulate_then_decide")
    assert (simulate.name, simulate.shows_ai, simulate.shows_explanation) == ("simulate", False,
                                                                              True)
    assert (final.name, final.shows_ai, final.question.kind) == ("final", True, "number")
    assert design("simulate_then_decide").score("100", truth="100", ai_prediction="100",
                                                ai_correct=True, phase="main") is None
    (check,) = _steps("simulate_then_decide", attention=True)
    assert check.question.kind == "number" and not check.shows_ai


def test_model_comparison_asks_which_model_and_why():
    pick, reason = _steps("model_comparison")
    assert pick.question.from_panels and reason.question.options


@pytest.mark.parametrize(("answer", "truth"), list(itertools.product([LABEL_RIGHT, LABEL_WRONG],
                                                                      repeat=2)))
def test_mislabelled_scores_a_flag_exactly_when_the_label_was_flipped(answer, truth):
    # Oracle: the truth table, enumerated.
    expected = answer == truth
    assert design("mislabelled").score(answer, truth=truth, ai_prediction="x", ai_correct=True,
                                       phase="main") is expected


def test_candidate_classes_follow_the_hive_rule_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(2, 11))
        k = int(rng.integers(2, n + 1))
        proba = rng.dirichlet(np.ones(n))
        truth = int(rng.integers(n))
        chosen = candidate_classes(proba, truth, k)
        # Oracle: sort by hand; the top k, or the top k-1 and the truth.
        ranked = sorted(range(n), key=lambda c: (-proba[c], c))
        assert len(chosen) == k == len(set(chosen)) and truth in chosen
        if truth in ranked[:k]:
            assert chosen == ranked[:k]
        else:
            assert chosen == [*ranked[: k - 1], truth]
    with pytest.raises(ValueError):
        candidate_classes([0.5, 0.5], 0, 3)


def test_within_block_orders_are_the_williams_rows():
    names = ["a", "b", "c", "d"]
    orders = block_orders({"type": "within"}, names)
    assert [list(o.conditions) for o in orders] == [[names[i] for i in row]
                                                    for row in latin_square(4)]


def test_mixed_block_orders_give_each_group_its_own_latin_square():
    spec = {"type": "mixed", "groups": [{"name": "g1", "conditions": ["a", "b"]},
                                        {"name": "g2", "conditions": ["a", "c", "d"]}]}
    orders = block_orders(spec, ["a", "b", "c", "d"])
    assert [o.group for o in orders] == ["g1"] * 2 + ["g2"] * 6
    for order in orders:
        group = next(g for g in spec["groups"] if g["name"] == order.group)
        assert sorted(order.conditions) == sorted(group["conditions"])  # each once
    # Each condition of g2 opens exactly two of its six rows (balanced first position).
    firsts = [o.conditions[0] for o in orders if o.group == "g2"]
    assert sorted(firsts) == ["a", "a", "c", "c", "d", "d"]


def _spec(**overrides: Any) -> dict[str, Any]:
    return small_spec(**overrides)


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
def test_a_spec_the_new_designs_cannot_run_names_the_field(mutation, field):
    with pytest.raises(SpecError) as error:
        validate_spec(_spec(**mutation))
    assert str(error.value).startswith(field), str(error.value)
