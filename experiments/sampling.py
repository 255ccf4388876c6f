"""Choosing which test items participants see: balanced on AI correctness and predicted class.

An item set that is not balanced on whether the AI is right makes reliance measures meaningless
(a trap OpenHEXAI fell into): with a 90%-accurate model, "always agree" looks like excellent
teamwork. Every sampler here draws equal numbers from each cell ``AI correct x predicted class``
and is reproducible from a ``np.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

Cell = tuple[bool, int]


def participant_rng(seed: int, stream: int = 0) -> np.random.Generator:
    """The generator for one participant's randomisation: PCG64 seeded from the stored seed.

    ``stream`` separates independent uses of one seed (item choice, order, attention checks), so
    that changing one (say, the number of attention checks) leaves the others as they were.
    """
    if seed < 0 or stream < 0:
        raise ValueError(f"seed and stream must be non-negative, got {seed}, {stream}")
    return np.random.Generator(np.random.PCG64([seed, stream]))


def item_cells(ai_correct: ArrayLike, predicted_class: ArrayLike) -> dict[Cell, np.ndarray]:
    """Item indices per cell ``(ai_correct, predicted_class)``, every class predicted at least once.

    Cells are ordered correct-first, then by class; empty cells (say, no errors on class 1) are
    kept so that they count when the share per cell is worked out.
    """
    correct = np.asarray(ai_correct, dtype=bool)
    predicted = np.asarray(predicted_class).astype(int)
    if correct.shape != predicted.shape or correct.ndim != 1:
        raise ValueError(
            f"ai_correct {correct.shape} and predicted_class {predicted.shape} must be "
            "1-d arrays of the same length"
        )
    return {
        (flag, int(k)): np.flatnonzero((correct == flag) & (predicted == k))
        for flag in (True, False)
        for k in np.unique(predicted)
    }


def allocate(capacity: Sequence[int], n: int, *, rng: np.random.Generator) -> list[int]:
    """How many items each cell gives: as equal as the cells' capacities allow.

    Water-filling: every cell gets ``n // k``; cells too short give what they have and the
    shortfall is spread over the others. The last few single items go to the cells with the
    fewest so far, ties broken by ``rng`` (fixed by the seed, evening out over participants).
    """
    if n < 0:
        raise ValueError(f"cannot sample a negative number of items ({n})")
    if sum(capacity) < n:
        raise ValueError(f"asked for {n} items but only {sum(capacity)} are available")
    quota = [0] * len(capacity)
    tie_break = rng.permutation(len(capacity))
    remaining = n
    while remaining > 0:
        open_cells = [i for i, cap in enumerate(capacity) if quota[i] < cap]
        share = remaining // len(open_cells)
        if share == 0:
            for i in sorted(open_cells, key=lambda i: (quota[i], tie_break[i]))[:remaining]:
                quota[i] += 1
            break
        for i in open_cells:
            extra = min(share, capacity[i] - quota[i])
            quota[i] += extra
            remaining -= extra
    return quota


def balanced_items(
    ai_correct: ArrayLike,
    predicted_class: ArrayLike,
    n: int,
    *,
    rng: np.random.Generator,
    exclude: Collection[int] = (),
    strict: bool = False,
    n_unusual: int = 0,
    model_error: ArrayLike | None = None,
) -> list[int]:
    """``n`` distinct test-item indices, balanced on AI correct x predicted class, in random order.

    Each cell gets ``n // cells`` items, the remainder one each to cells picked by ``rng``. If a
    cell has too few items, the others make up the shortfall; ``strict=True`` raises instead.
    A ``ValueError`` is raised when fewer than ``n`` items remain after ``exclude``.

    ``n_unusual`` of the ``n`` items are instead the ones with the largest ``model_error`` (the
    "unusual" items of simulate-then-decide, where the model errs badly); the rest are balanced.
    """
    unusual = unusual_items(model_error, n_unusual, exclude=exclude) if n_unusual else []
    cells = item_cells(ai_correct, predicted_class)
    banned = set(int(i) for i in exclude) | set(unusual)
    pools = [np.array([i for i in pool if i not in banned], dtype=int) for pool in cells.values()]
    capacity = [len(pool) for pool in pools]
    n_balanced = n - len(unusual)
    try:
        quota = allocate(capacity, n_balanced, rng=rng)
    except ValueError as error:
        raise ValueError(
            f"cannot draw {n_balanced} balanced items: {error} "
            f"(per cell {_describe(cells, capacity)})"
        ) from None
    if strict and n_balanced and max(quota) - min(quota) > 1:
        raise ValueError(
            f"cannot balance {n_balanced} items over {len(pools)} cells within one of equal: "
            f"available per cell {_describe(cells, capacity)}"
        )
    chosen = [
        int(i)
        for pool, k in zip(pools, quota, strict=True)
        for i in rng.choice(pool, size=k, replace=False)
    ]
    chosen.extend(unusual)
    return [int(i) for i in rng.permutation(chosen)]


def _describe(cells: Mapping[Cell, np.ndarray], capacity: Sequence[int]) -> str:
    return ", ".join(
        f"{'correct' if flag else 'wrong'}/class {k}: {cap}"
        for (flag, k), cap in zip(cells, capacity, strict=True)
    )


def unusual_items(
    model_error: ArrayLike | None, n: int, *, exclude: Collection[int] = ()
) -> list[int]:
    """The ``n`` items with the largest model error (ties: lower index first), largest first."""
    if model_error is None:
        raise ValueError("unusual items need model_error (e.g. scenario.model_error)")
    error = np.asarray(model_error, dtype=float)
    banned = set(int(i) for i in exclude)
    order = [int(i) for i in np.argsort(-error, kind="stable") if int(i) not in banned]
    if len(order) < n:
        raise ValueError(f"asked for {n} unusual items but only {len(order)} are available")
    return order[:n]


def disjoint_sets(
    ai_correct: ArrayLike,
    predicted_class: ArrayLike,
    sizes: Mapping[str, int],
    *,
    rng: np.random.Generator,
    exclude: Collection[int] = (),
    strict: bool = False,
) -> dict[str, list[int]]:
    """Disjoint item sets (e.g. ``{"learning": 16, "test": 16}``), each balanced on its own.

    Sets are drawn in the order given, each from what the earlier ones left, so each is balanced
    whenever every cell holds enough items for all of them together.
    """
    taken = set(int(i) for i in exclude)
    sets: dict[str, list[int]] = {}
    for name, size in sizes.items():
        sets[name] = balanced_items(
            ai_correct, predicted_class, size, rng=rng, exclude=taken, strict=strict
        )
        taken.update(sets[name])
    return sets


def candidate_classes(proba: ArrayLike, truth: int, k: int) -> list[int]:
    """The k classes a distinction trial offers (HIVE, Kim et al. 2022): the model's top k
    when the truth is among them; otherwise its top k-1 plus the true class, so that the
    right answer is always one of the candidates. Ties rank the lower class first."""
    scores = np.asarray(proba, dtype=float)
    if not 2 <= k <= len(scores):
        raise ValueError(f"k must be between 2 and the number of classes ({len(scores)}), got {k}")
    ranked = [int(c) for c in np.argsort(-scores, kind="stable")]
    top = ranked[:k]
    if truth not in top:
        top = [*ranked[: k - 1], int(truth)]
    return top
