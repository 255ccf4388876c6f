"""Item sampling: balanced on AI correct x predicted class, disjoint, reproducible."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.sampling import (
    allocate,
    balanced_items,
    candidate_classes,
    disjoint_sets,
    item_cells,
    participant_rng,
    unusual_items,
)


def _pool(cell_sizes: list[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A shuffled item pool with the given number of items per cell (correct, class)."""
    n_classes = len(cell_sizes) // 2
    correct, predicted = [], []
    for cell, size in enumerate(cell_sizes):
        correct += [cell < n_classes] * size
        predicted += [cell % n_classes] * size
    order = np.random.default_rng(seed).permutation(len(correct))
    return np.array(correct)[order], np.array(predicted)[order]


def _cell_counts(items: list[int], correct: np.ndarray, predicted: np.ndarray) -> Counter:
    return Counter((bool(correct[i]), int(predicted[i])) for i in items)


pools = st.integers(1, 4).flatmap(
    lambda k: st.lists(st.integers(1, 30), min_size=2 * k, max_size=2 * k)
)


@settings(max_examples=60, deadline=None)
@given(sizes=pools, seed=st.integers(0, 2**32 - 1), data=st.data())
def test_any_feasible_draw_is_balanced_within_one_and_has_no_duplicates(
    sizes: list[int], seed: int, data: st.DataObject
) -> None:
    correct, predicted = _pool(sizes, seed)
    n = data.draw(st.integers(0, len(sizes) * min(sizes)), label="n")
    items = balanced_items(correct, predicted, n, rng=participant_rng(seed))
    assert len(items) == n == len(set(items))
    counts = [
        _cell_counts(items, correct, predicted)[cell] for cell in item_cells(correct, predicted)
    ]
    assert max(counts) - min(counts) <= 1
    # Reproducible: the same seed draws the same items in the same order.
    assert balanced_items(correct, predicted, n, rng=participant_rng(seed)) == items


@settings(max_examples=60, deadline=None)
@given(sizes=pools, seed=st.integers(0, 2**32 - 1), data=st.data())
def test_short_cells_give_all_they_have_and_the_others_make_up_the_rest(
    sizes: list[int], seed: int, data: st.DataObject
) -> None:
    correct, predicted = _pool(sizes, seed)
    n = data.draw(st.integers(0, sum(sizes)), label="n")
    items = balanced_items(correct, predicted, n, rng=participant_rng(seed))
    assert len(set(items)) == n
    counts = _cell_counts(items, correct, predicted)
    capacity = {cell: len(pool) for cell, pool in item_cells(correct, predicted).items()}
    # Oracle (water-filling): a cell that is not exhausted has at least as many items as any
    # other cell, minus one.
    open_counts = [counts[c] for c in capacity if counts[c] < capacity[c]]
    if open_counts:
        assert min(open_counts) >= max(counts[c] for c in capacity) - 1


def test_strict_sampling_refuses_a_pool_that_cannot_be_balanced() -> None:
    correct, predicted = _pool([10, 10, 1, 10], seed=0)  # only one error on class 0
    with pytest.raises(ValueError, match="wrong/class 0: 1"):
        balanced_items(correct, predicted, 12, rng=participant_rng(0), strict=True)
    assert len(balanced_items(correct, predicted, 12, rng=participant_rng(0))) == 12


def test_asking_for_more_items_than_remain_is_an_error_that_says_so() -> None:
    correct, predicted = _pool([3, 3, 3, 3], seed=0)
    with pytest.raises(ValueError, match="asked for 12 items but only 9"):
        balanced_items(correct, predicted, 12, rng=participant_rng(0), exclude=[0, 1, 2])


def test_excluded_items_are_never_drawn() -> None:
    correct, predicted = _pool([5, 5, 5, 5], seed=1)
    items = balanced_items(correct, predicted, 12, rng=participant_rng(1), exclude=range(8))
    assert not set(items) & set(range(8))


def test_the_demo_draw_of_twelve_gives_three_per_cell_and_differs_between_seeds() -> None:
    correct, predicted = _pool([400, 300, 60, 50], seed=2)
    first = balanced_items(correct, predicted, 12, rng=participant_rng(1))
    assert set(_cell_counts(first, correct, predicted).values()) == {3}
    assert balanced_items(correct, predicted, 12, rng=participant_rng(2)) != first


def test_the_remainder_goes_to_different_cells_for_different_seeds() -> None:
    firsts = {tuple(allocate([9, 9, 9, 9], 5, rng=participant_rng(s))) for s in range(20)}
    assert all(sorted(q) == [1, 1, 1, 2] for q in firsts)
    assert len(firsts) > 1


@settings(max_examples=40, deadline=None)
@given(sizes=pools, seed=st.integers(0, 2**32 - 1), data=st.data())
def test_disjoint_sets_share_no_item_and_each_is_balanced(
    sizes: list[int], seed: int, data: st.DataObject
) -> None:
    correct, predicted = _pool(sizes, seed)
    per_cell = min(sizes)
    learning = data.draw(st.integers(0, per_cell // 2 * len(sizes)), label="learning")
    test = data.draw(st.integers(0, per_cell // 2 * len(sizes)), label="test")
    sets = disjoint_sets(
        correct, predicted, {"learning": learning, "test": test}, rng=participant_rng(seed)
    )
    assert not set(sets["learning"]) & set(sets["test"])
    for name, size in (("learning", learning), ("test", test)):
        assert len(sets[name]) == size
        counts = [
            _cell_counts(sets[name], correct, predicted)[c] for c in item_cells(correct, predicted)
        ]
        assert max(counts) - min(counts) <= 1


def test_unusual_items_are_the_largest_errors_and_can_be_mixed_into_a_balanced_draw() -> None:
    error = np.array([0.1, 5.0, 0.3, 9.0, 0.2, 9.0, 0.0, 0.4])
    assert unusual_items(error, 3) == [3, 5, 1]
    assert unusual_items(error, 2, exclude=[3]) == [5, 1]
    correct = np.array([True, False] * 4)
    predicted = np.zeros(8, dtype=int)
    items = balanced_items(
        correct, predicted, 4, rng=participant_rng(0), n_unusual=2, model_error=error
    )
    assert {3, 5} <= set(items) and len(set(items)) == 4
    with pytest.raises(ValueError, match="model_error"):
        balanced_items(correct, predicted, 4, rng=participant_rng(0), n_unusual=1)


def test_mismatched_inputs_and_negative_seeds_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        balanced_items([True, False], [0], 1, rng=participant_rng(0))
    with pytest.raises(ValueError, match="non-negative"):
        participant_rng(-1)


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
