"""Properties of randomisation that must hold for every input, not just the worked examples.

The example-based tests (test_randomisation.py, test_randomisation_sampling.py) pin small
cases; here Hypothesis draws pools, sizes, condition counts and seeds. Each oracle is stated
where it is checked: counting (balance, disjointness, Latin rows and columns), the Williams
design's defining property (ordered adjacent pairs), and replay (same seed, same plan).

Example counts come from the Hypothesis profile (``suite`` by default, ``fuzz`` for
``make fuzz``; see tests/conftest.py).
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from experiments.randomisation import (
    Phase,
    PlannedTrial,
    TrialPlan,
    condition_order,
    insert_attention_checks,
    latin_square,
    make_trial_plan,
    plan_balanced_trials,
)
from experiments.sampling import balanced_items, disjoint_sets, item_cells, participant_rng

seeds = st.integers(0, 2**32 - 1)


@st.composite
def pools(draw: st.DrawFn, max_classes: int = 4, max_cell: int = 25) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """A shuffled item pool: AI correct x predicted class cells of random sizes (>= 1)."""
    n_classes = draw(st.integers(1, max_classes))
    sizes = draw(st.lists(st.integers(1, max_cell), min_size=2 * n_classes,
                          max_size=2 * n_classes))
    correct = np.repeat([cell < n_classes for cell in range(len(sizes))], sizes)
    predicted = np.repeat([cell % n_classes for cell in range(len(sizes))], sizes)
    order = draw(st.permutations(range(len(correct))))
    return correct[list(order)], predicted[list(order)]


def _per_cell(items: list[int], correct: np.ndarray, predicted: np.ndarray) -> list[int]:
    counts = Counter((bool(correct[i]), int(predicted[i])) for i in items)
    return [counts[cell] for cell in item_cells(correct, predicted)]


# ----- item sampling ----------------------------------------------------------------------

@given(pool=pools(), seed=seeds, data=st.data())
def test_balanced_items_are_within_one_per_cell_even_after_exclusions(pool, seed, data):
    """Oracle: counting items per cell of the pool that remains after ``exclude``."""
    correct, predicted = pool
    excluded = data.draw(st.sets(st.integers(0, len(correct) - 1)), label="exclude")
    remaining = [i for i in range(len(correct)) if i not in excluded]
    per_cell_left = _per_cell(remaining, correct, predicted)
    n = data.draw(st.integers(0, len(per_cell_left) * min(per_cell_left)), label="n")
    items = balanced_items(correct, predicted, n, rng=participant_rng(seed), exclude=excluded)
    assert len(items) == n == len(set(items))
    assert not set(items) & excluded
    counts = _per_cell(items, correct, predicted)
    assert max(counts) - min(counts) <= 1


@given(pool=pools(max_cell=30), seed=seeds, data=st.data())
def test_disjoint_sets_never_share_an_item_and_each_is_balanced(pool, seed, data):
    """Three named sets drawn one after the other; oracle: set intersection and counting."""
    correct, predicted = pool
    per_cell = min(_per_cell(list(range(len(correct))), correct, predicted))
    n_cells = len(item_cells(correct, predicted))
    budget = per_cell // 3  # every cell can serve all three sets in full
    sizes = {name: data.draw(st.integers(0, budget * n_cells), label=name)
             for name in ("learning", "test", "practice")}
    sets = disjoint_sets(correct, predicted, sizes, rng=participant_rng(seed))
    drawn = [i for items in sets.values() for i in items]
    assert len(drawn) == len(set(drawn)) == sum(sizes.values())
    for name, items in sets.items():
        counts = _per_cell(items, correct, predicted)
        assert len(items) == sizes[name] and max(counts) - min(counts) <= 1


# ----- Latin squares and condition orders -------------------------------------------------

@given(n=st.integers(1, 40))
def test_latin_square_has_each_condition_once_per_row_and_equally_often_per_column(n):
    """Oracle: the definition of a Latin square (and of its mirrored pair for odd n)."""
    rows = latin_square(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    assert all(sorted(row) == list(range(n)) for row in rows)
    for column in zip(*rows, strict=True):
        assert Counter(column) == {c: len(rows) // n for c in range(n)}


@given(n=st.integers(2, 40))
def test_williams_design_puts_each_ordered_pair_side_by_side_equally_often(n):
    """Oracle: Williams (1949): every ordered pair adjacent once (even n), twice (odd n)."""
    adjacent = Counter(pair for row in latin_square(n) for pair in pairwise(row))
    expected = 1 if n % 2 == 0 else 2
    assert adjacent == {(a, b): expected for a in range(n) for b in range(n) if a != b}


@given(n=st.integers(1, 12), start=st.integers(0, 10_000))
def test_any_run_of_participants_as_long_as_the_square_balances_positions(n, start):
    """A window of len(rows) consecutive participants uses every row once, so each condition
    is first, second, ... equally often. Oracle: counting positions."""
    conditions = [f"c{k}" for k in range(n)]
    window = len(latin_square(n))
    orders = [condition_order(conditions, p) for p in range(start, start + window)]
    for position in range(n):
        assert Counter(order[position] for order in orders) == {
            c: window // n for c in conditions}
    assert condition_order(conditions, start) == condition_order(conditions, start + window)


# ----- attention checks -------------------------------------------------------------------

@st.composite
def main_trials(draw: st.DrawFn) -> list[PlannedTrial]:
    phases = draw(st.lists(st.sampled_from(["learning", "pre", "post"]), min_size=1,
                           max_size=30))
    return [PlannedTrial(index=i, item_index=1000 + i, phase=phase, kind="main",
                         condition=f"c{i % 3}") for i, phase in enumerate(phases)]


@given(trials=main_trials(), seed=seeds, data=st.data())
def test_attention_checks_keep_the_main_order_and_the_count_and_follow_eligible_phases(
        trials, seed, data):
    """Oracle: removing the checks gives back the main trials unchanged; each check copies
    the phase and condition of the trial before it, which is in an eligible phase."""
    phases = data.draw(st.sets(st.sampled_from(["learning", "pre", "post"]), min_size=1),
                       label="phases")
    eligible = sum(t.phase in phases for t in trials)
    count = data.draw(st.integers(0, eligible), label="count")
    plan = insert_attention_checks(trials, count=count, rng=participant_rng(seed),
                                   phases=phases)
    checks = [k for k, t in enumerate(plan) if t.kind == "attention"]
    assert len(checks) == count and len(plan) == len(trials) + count
    assert [(t.item_index, t.phase, t.condition) for t in plan if t.kind == "main"] == [
        (t.item_index, t.phase, t.condition) for t in trials]
    assert [t.index for t in plan] == list(range(len(plan)))
    for k in checks:
        before = plan[k - 1]
        assert k > 0 and before.kind == "main" and before.phase in phases
        assert (plan[k].phase, plan[k].condition) == (before.phase, before.condition)


@given(n_main=st.integers(1, 30), data=st.data())
def test_attention_checks_at_given_positions_land_exactly_there(n_main, data):
    """Oracle: the positions asked for, when they are legal (not first, not adjacent)."""
    n_checks = data.draw(st.integers(0, n_main), label="n_checks")
    # Legal positions: choose the main trial each check follows (distinct), as the service
    # would; the position of the k-th check is then after + k.
    after = sorted(data.draw(st.sets(st.integers(1, n_main), min_size=n_checks,
                                     max_size=n_checks), label="after"))
    positions = [a + k for k, a in enumerate(after)]
    trials = [PlannedTrial(index=i, item_index=i, phase="main", kind="main", condition="c")
              for i in range(n_main)]
    plan = insert_attention_checks(trials, positions=positions)
    assert [k for k, t in enumerate(plan) if t.kind == "attention"] == positions


# ----- whole plans ------------------------------------------------------------------------

@given(seed=seeds, n_conditions=st.integers(1, 5), per_block=st.integers(1, 6),
       participant=st.integers(0, 1000), checks=st.integers(0, 3))
def test_the_same_seed_rebuilds_the_same_within_subject_plan(seed, n_conditions, per_block,
                                                              participant, checks):
    """Replay is what lets a participant's plan be audited from their stored seed. Oracle:
    a second build, and the JSON round trip of the stored form."""
    conditions = tuple(f"c{k}" for k in range(n_conditions))
    items = list(range(100, 100 + per_block * n_conditions))
    strata = {i: i % 4 for i in items}
    build = {"items": items, "seed": seed, "conditions": conditions, "strata": strata,
             "participant_number": participant, "attention_checks": min(checks, len(items))}
    plan = make_trial_plan(**build)
    assert make_trial_plan(**build) == plan
    assert TrialPlan.from_dict(plan.to_dict()) == plan
    assert sorted(plan.item_indices) == items  # every item exactly once
    blocks = [c for c, _ in Counter(t.condition for t in plan.main_trials).items()]
    assert blocks == condition_order(conditions, participant)[:len(blocks)]
    # Each block holds its share of every stratum, rounded down or up (dealt round-robin).
    in_stratum = Counter(strata.values())
    for condition in conditions:
        shown = Counter(strata[t.item_index] for t in plan.main_trials
                        if t.condition == condition and t.item_index is not None)
        assert sum(shown.values()) == per_block
        for stratum, m in in_stratum.items():
            assert shown[stratum] in {m // n_conditions, -(-m // n_conditions)}


@given(seed=seeds, checks=st.integers(0, 4))
def test_attention_checks_never_change_which_items_are_shown_or_their_order(seed, checks):
    """Checks draw from their own random stream. Oracle: the plan without checks."""
    phases = (Phase("learning", items="learning"), Phase("test", items="test"))
    sets = {"learning": list(range(8)), "test": list(range(8, 16))}
    plain = make_trial_plan(items=sets, seed=seed, phases=phases)
    checked = make_trial_plan(items=sets, seed=seed, phases=phases, attention_checks=checks)
    assert checked.item_indices == plain.item_indices


@given(pool=pools(max_classes=2, max_cell=12), seed=seeds, data=st.data())
def test_a_balanced_plan_replays_from_its_seed(pool, seed, data):
    """Oracle: a second draw with the same seed; and balance per cell within one."""
    correct, predicted = pool
    n = data.draw(st.integers(1, len(item_cells(correct, predicted)) * min(
        _per_cell(list(range(len(correct))), correct, predicted))), label="n")
    plan = plan_balanced_trials(correct, predicted, n_trials=n, seed=seed, attention_checks=1)
    assert plan == plan_balanced_trials(correct, predicted, n_trials=n, seed=seed,
                                        attention_checks=1)
    counts = _per_cell(plan.item_indices, correct, predicted)
    assert len(plan.main_trials) == n and max(counts) - min(counts) <= 1
