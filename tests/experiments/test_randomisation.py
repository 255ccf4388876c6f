"""Condition orders, attention checks and whole trial plans, reproducible from a seed."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.randomisation import (
    Phase,
    PlannedTrial,
    TrialPlan,
    block_orders,
    condition_order,
    forward_simulation_phases,
    insert_attention_checks,
    latin_square,
    make_trial_plan,
    plan_balanced_trials,
)
from experiments.sampling import disjoint_sets, participant_rng
from experiments.study_spec import AssignmentSpec


@pytest.mark.parametrize("n", range(1, 11))
def test_each_condition_appears_once_per_row_and_equally_often_per_column(n: int) -> None:
    rows = latin_square(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    for row in rows:
        assert sorted(row) == list(range(n))
    for column in zip(*rows, strict=True):
        assert set(Counter(column).values()) == {len(rows) // n}


@pytest.mark.parametrize("n", range(2, 11))
def test_williams_design_puts_every_ordered_pair_next_to_each_other_equally_often(n: int) -> None:
    adjacent = Counter(pair for row in latin_square(n) for pair in pairwise(row))
    # Oracle: n(n-1) ordered pairs; once each for even n, twice each for odd n (two squares).
    assert len(adjacent) == n * (n - 1)
    assert set(adjacent.values()) == {1 if n % 2 == 0 else 2}


def test_condition_order_cycles_through_the_rows_by_participant_number() -> None:
    conditions = ["none", "shap", "lime", "anchors"]
    orders = [condition_order(conditions, p) for p in range(8)]
    assert orders[0] == ["none", "shap", "anchors", "lime"]
    assert orders[4] == orders[0] and len({tuple(o) for o in orders[:4]}) == 4


def _main_plan(n: int) -> list[PlannedTrial]:
    return [
        PlannedTrial(index=i, item_index=100 + i, phase="main", kind="main", condition="c")
        for i in range(n)
    ]


@settings(max_examples=80, deadline=None)
@given(n_main=st.integers(1, 30), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_attention_checks_are_never_first_never_adjacent_and_keep_the_main_order(
    n_main: int, seed: int, data: st.DataObject
) -> None:
    count = data.draw(st.integers(0, n_main), label="count")
    plan = insert_attention_checks(_main_plan(n_main), count=count, rng=participant_rng(seed))
    kinds = [t.kind for t in plan]
    assert kinds.count("attention") == count and len(plan) == n_main + count
    assert kinds[0] == "main"
    assert ("attention", "attention") not in set(pairwise(kinds))
    assert [t.item_index for t in plan if t.kind == "main"] == [100 + i for i in range(n_main)]
    assert [t.index for t in plan] == list(range(len(plan)))
    assert all(t.item_index is None for t in plan if t.kind == "attention")


def test_attention_checks_at_a_rate_or_at_given_positions() -> None:
    by_rate = insert_attention_checks(_main_plan(20), rate=0.1, rng=participant_rng(0))
    assert sum(t.kind == "attention" for t in by_rate) == 2
    placed = insert_attention_checks(_main_plan(6), positions=[2, 5])
    assert [t.kind for t in placed] == [
        "main",
        "main",
        "attention",
        "main",
        "main",
        "attention",
        "main",
        "main",
    ]
    for bad, message in (([0], "first"), ([2, 3], "adjacent"), ([9], "past the end")):
        with pytest.raises(ValueError, match=message):
            insert_attention_checks(_main_plan(6), positions=bad)
    with pytest.raises(ValueError, match="exactly one"):
        insert_attention_checks(_main_plan(6), count=1, rate=0.1, rng=participant_rng(0))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_items=st.integers(2, 24))
def test_the_same_seed_rebuilds_the_same_plan(seed: int, n_items: int) -> None:
    items = list(range(50, 50 + n_items))
    first = make_trial_plan(items=items, seed=seed, conditions=("shap",), attention_checks=1)
    assert (
        make_trial_plan(items=items, seed=seed, conditions=("shap",), attention_checks=1) == first
    )
    assert sorted(first.item_indices) == items
    assert TrialPlan.from_dict(json.loads(json.dumps(first.to_dict()))) == first


def test_different_seeds_give_different_orders_of_the_same_items() -> None:
    items = list(range(12))
    orders = {tuple(make_trial_plan(items=items, seed=s).item_indices) for s in range(30)}
    assert len(orders) == 30


def test_adding_attention_checks_does_not_change_the_item_order() -> None:
    items = list(range(12))
    plain = make_trial_plan(items=items, seed=7)
    checked = make_trial_plan(items=items, seed=7, attention_checks=2)
    assert checked.item_indices == plain.item_indices
    assert len(checked) == 14


def test_within_subject_blocks_follow_the_williams_order_and_are_balanced_by_stratum() -> None:
    items = list(range(12))
    strata = {i: (i % 2 == 0, i % 4 < 2) for i in items}  # four cells of three items
    conditions = ("none", "shap", "lime")
    plan = make_trial_plan(
        items=items, seed=3, conditions=conditions, participant_number=4, strata=strata
    )
    expected = condition_order(conditions, 4)
    assert list(plan.condition_order) == expected
    blocks = [c for c, _ in Counter(t.condition for t in plan).items()]
    assert blocks == expected
    for condition in conditions:
        shown = [t.item_index for t in plan if t.condition == condition]
        assert len(shown) == 4
        per_cell = Counter(strata[i] for i in shown if i is not None)
        assert max(per_cell.values()) - min(per_cell.values(), default=0) <= 1


def test_forward_simulation_repeats_disjoint_learning_and_test_items_in_four_phases() -> None:
    rng = np.random.default_rng(0)
    correct = rng.random(400) < 0.8
    predicted = rng.integers(0, 2, 400)
    sets = disjoint_sets(correct, predicted, {"learning": 8, "test": 8}, rng=participant_rng(5))
    plan = make_trial_plan(
        items=sets,
        seed=11,
        phases=forward_simulation_phases(),
        conditions=("lime",),
        attention_checks=2,
    )
    by_phase: dict[str, list[int]] = {}
    for trial in plan.main_trials:
        by_phase.setdefault(trial.phase, []).append(trial.item_index or 0)
    assert list(by_phase) == ["learning", "pre", "learning_explained", "post"]
    assert sorted(by_phase["learning"]) == sorted(by_phase["learning_explained"])
    assert sorted(by_phase["pre"]) == sorted(by_phase["post"])
    assert not set(by_phase["learning"]) & set(by_phase["pre"])
    explained = {t.condition for t in plan.main_trials if t.phase == "learning_explained"}
    assert explained == {"lime"}
    assert {t.condition for t in plan.main_trials if t.phase != "learning_explained"} == {"none"}


def test_a_phase_that_names_an_unknown_item_set_is_refused() -> None:
    with pytest.raises(ValueError, match="known sets"):
        make_trial_plan(items={"main": [1, 2]}, seed=0, phases=(Phase("p", items="learning"),))


def test_the_demo_plan_has_twelve_balanced_trials_and_one_attention_check() -> None:
    rng = np.random.default_rng(1)
    predicted = rng.integers(0, 2, 5000)
    correct = rng.random(5000) < 0.85
    plan = plan_balanced_trials(
        correct, predicted, n_trials=12, seed=12345, conditions=("shap",), attention_checks=1
    )
    assert len(plan) == 13 and len(plan.main_trials) == 12
    cells = Counter((bool(correct[i]), int(predicted[i])) for i in plan.item_indices)
    assert set(cells.values()) == {3} and len(cells) == 4
    assert plan[0].kind == "main"
    assert plan == plan_balanced_trials(
        correct, predicted, n_trials=12, seed=12345, conditions=("shap",), attention_checks=1
    )


def test_within_block_orders_are_the_williams_rows():
    names = ["a", "b", "c", "d"]
    orders = block_orders(AssignmentSpec.from_dict({"type": "within"}), names)
    assert [list(o.conditions) for o in orders] == [[names[i] for i in row]
                                                    for row in latin_square(4)]


def test_mixed_block_orders_give_each_group_its_own_latin_square():
    spec = {"type": "mixed", "groups": [{"name": "g1", "conditions": ["a", "b"]},
                                        {"name": "g2", "conditions": ["a", "c", "d"]}]}
    orders = block_orders(AssignmentSpec.from_dict(spec), ["a", "b", "c", "d"])
    assert [o.group for o in orders] == ["g1"] * 2 + ["g2"] * 6
    for order in orders:
        group = next(g for g in spec["groups"] if g["name"] == order.group)
        assert sorted(order.conditions) == sorted(group["conditions"])  # each once
    # Each condition of g2 opens exactly two of its six rows (balanced first position).
    firsts = [o.conditions[0] for o in orders if o.group == "g2"]
    assert sorted(firsts) == ["a", "a", "c", "c", "d", "d"]
