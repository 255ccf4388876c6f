"""The feasible changes to one row, their costs, and a greedy search for the cheapest change
that flips any model's prediction (``explainers.recourse_milp`` solves linear models exactly).

Feasibility comes from each :class:`~explainers.base.Feature`: immutable features never change;
``lower``/``upper`` bound the new value (the data's range when unset); ``integer`` and
categorical features take whole values / valid codes; ``direction`` ("increase"/"decrease") is
respected when ``actionable=True`` (recourse), and ignored for plain counterfactuals, which
describe the model rather than what a person can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from explainers.base import TabularDataset

CostName = Literal["mad_l1", "percentile_shift"]
CATEGORY_CHANGE_COST = 1.0  # one category change costs as much as one MAD / the whole range


@dataclass(frozen=True)
class ActionSpace:
    """Everything the solvers need about one row: bounds, value types, grids and scales."""

    x: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    mutable: np.ndarray  # bool per feature
    integer: np.ndarray  # bool per feature
    n_categories: np.ndarray  # 0 for numeric features
    mad: np.ndarray
    grids: tuple[np.ndarray, ...]  # feasible new values per feature, excluding x_j
    sorted_columns: tuple[np.ndarray, ...]  # for percentile costs


def mad_scale(X: np.ndarray) -> np.ndarray:
    """Median absolute deviation per column (Wachter et al.); std, then 1, where it is 0."""
    mad = np.median(np.abs(X - np.median(X, axis=0)), axis=0)
    std = X.std(axis=0)
    return np.where(mad > 0, mad, np.where(std > 0, std, 1.0))


def action_space(
    dataset: TabularDataset, x: np.ndarray, *, actionable: bool, grid_size: int = 25
) -> ActionSpace:
    """The feasible values of every feature of ``x`` under ``dataset``'s feature constraints."""
    X = np.asarray(dataset.X, dtype=float)
    x = np.asarray(x, dtype=float)
    d = len(x)
    lower, upper = X.min(axis=0).copy(), X.max(axis=0).copy()
    mutable = np.ones(d, dtype=bool)
    integer = np.zeros(d, dtype=bool)
    n_categories = np.zeros(d, dtype=int)
    for j, f in enumerate(dataset.features):
        lower[j] = f.lower if f.lower is not None else lower[j]
        upper[j] = f.upper if f.upper is not None else upper[j]
        lower[j], upper[j] = min(lower[j], x[j]), max(upper[j], x[j])
        if f.kind == "categorical":
            n_categories[j] = len(f.categories) or int(X[:, j].max()) + 1
            lower[j], upper[j] = max(lower[j], 0), min(upper[j], n_categories[j] - 1)
        integer[j] = f.integer or f.kind == "categorical"
        mutable[j] = not f.immutable
        if actionable and f.direction == "increase":
            lower[j] = x[j]
        if actionable and f.direction == "decrease":
            upper[j] = x[j]
    grids = tuple(
        _grid(X[:, j], x[j], lower[j], upper[j], integer[j], n_categories[j] > 0, grid_size)
        if mutable[j]
        else np.zeros(0)
        for j in range(d)
    )
    return ActionSpace(
        x,
        lower,
        upper,
        mutable,
        integer,
        n_categories,
        mad_scale(X),
        grids,
        tuple(np.sort(X[:, j]) for j in range(d)),
    )


def _grid(
    column: np.ndarray,
    current: float,
    lo: float,
    hi: float,
    integer: bool,
    categorical: bool,
    size: int,
) -> np.ndarray:
    """Candidate new values: data quantiles within the bounds and the bounds, rounded if needed.

    Bounds wider than the data are clipped to the data's range: a percentile cost cannot price
    a move beyond the largest value ever seen, and no model was trained there either.
    """
    if categorical:
        values = np.arange(int(np.ceil(lo)), int(np.floor(hi)) + 1, dtype=float)
    else:
        inside = column[(column >= lo) & (column <= hi)]
        quantiles = np.quantile(inside, np.linspace(0, 1, size)) if len(inside) else np.zeros(0)
        ends = np.clip([lo, hi], min(column.min(), current), max(column.max(), current))
        values = np.concatenate([quantiles, ends])
        if integer:
            values = np.clip(np.round(values), np.ceil(lo), np.floor(hi))
    values = np.unique(values)
    return values[values != current]


def change_cost(space: ActionSpace, j: int, values: np.ndarray, cost: CostName) -> np.ndarray:
    """Cost of moving feature ``j`` from ``space.x[j]`` to each of ``values``."""
    values = np.asarray(values, dtype=float)
    if space.n_categories[j] > 0:
        return np.where(values != space.x[j], CATEGORY_CHANGE_COST, 0.0)
    if cost == "mad_l1":
        return np.abs(values - space.x[j]) / space.mad[j]
    column = space.sorted_columns[j]
    ranks = (np.arange(len(column)) + 0.5) / len(column)
    unique, first = np.unique(column, return_index=True)
    _, last = np.unique(column[::-1], return_index=True)
    cdf = (ranks[first] + ranks[len(column) - 1 - last]) / 2  # mid-rank of tied values
    at = (
        np.interp(np.append(values, space.x[j]), unique, cdf)
        if len(unique) > 1
        else np.zeros(len(values) + 1)
    )
    return np.abs(at[:-1] - at[-1])


def total_cost(space: ActionSpace, row: np.ndarray, cost: CostName) -> float:
    return float(
        sum(
            change_cost(space, int(j), np.array([row[j]]), cost)[0]
            for j in np.flatnonzero(row != space.x)
        )
    )


# --- any model ----------------------------------------------------------------------------------

Flips = Callable[[np.ndarray], np.ndarray]  # rows -> bool: does the model give the wanted class?
Score = Callable[[np.ndarray], np.ndarray]  # rows -> how close each row is to flipping (higher)


def greedy_search(
    space: ActionSpace,
    flips: Flips,
    score: Score,
    *,
    cost: CostName,
    max_steps: int = 10,
    refine: bool = False,
) -> np.ndarray | None:
    """Greedy coordinate search on the action grid, then pruning (for models without a program).

    Each step tries every single-feature move from the current row: if some flip the
    prediction, the cheapest of those wins; otherwise the move with the best score gain per
    unit of added cost is taken. The result is then pruned by :func:`sparsify`.
    """
    current = space.x.copy()
    for _ in range(max_steps):
        moves, added = _moves(space, current, cost)
        if not len(moves):
            return None
        flipped = flips(moves)
        totals = np.array([total_cost(space, m, cost) for m in moves])
        if flipped.any():
            best = moves[flipped][np.argmin(totals[flipped])]
            return sparsify(space, best, flips, cost=cost, refine=refine)
        gain = score(moves) - score(current[None, :])[0]
        current = moves[int(np.argmax(gain / np.maximum(added, 1e-9)))]
    return None


def _moves(
    space: ActionSpace, current: np.ndarray, cost: CostName
) -> tuple[np.ndarray, np.ndarray]:
    """Every row one grid move away from ``current``, and the cost each move adds."""
    rows, added = [], []
    for j in np.flatnonzero(space.mutable):
        values = space.grids[j][space.grids[j] != current[j]]
        if not len(values):
            continue
        block = np.repeat(current[None, :], len(values), axis=0)
        block[:, j] = values
        rows.append(block)
        now = change_cost(space, int(j), np.array([current[j]]), cost)[0]
        added.append(change_cost(space, int(j), values, cost) - now)
    if not rows:
        return np.zeros((0, len(current))), np.zeros(0)
    return np.vstack(rows), np.concatenate(added)


def sparsify(
    space: ActionSpace, row: np.ndarray, flips: Flips, *, cost: CostName, refine: bool = False
) -> np.ndarray:
    """Undo changes the flip does not need, then move each kept change as close as it can go.

    ``refine=True`` then bisects each numeric change between the original value and the kept
    one, leaving the grid: the closest flipping value to within 1/1024 of the step (or one
    whole unit). Recourse leaves it off so that its answers stay on the action grid.
    """
    row = row.copy()
    reverted = True
    while reverted:  # repeat: undoing one change can make another unnecessary
        reverted = False
        changed = sorted(
            np.flatnonzero(row != space.x),
            key=lambda j: -change_cost(space, int(j), np.array([row[j]]), cost)[0],
        )
        for j in changed:
            trial = row.copy()
            trial[j] = space.x[j]
            if flips(trial[None, :])[0]:
                row, reverted = trial, True
    for j in np.flatnonzero(row != space.x):
        values = np.append(space.grids[j], row[j])
        values = values[
            change_cost(space, int(j), values, cost)
            <= change_cost(space, int(j), np.array([row[j]]), cost)[0]
        ]
        trials = np.repeat(row[None, :], len(values), axis=0)
        trials[:, j] = values
        ok = flips(trials)
        if ok.any():
            row = trials[ok][np.argmin(change_cost(space, int(j), values[ok], cost))]
    if refine:
        for j in np.flatnonzero((row != space.x) & (space.n_categories == 0)):
            row = _bisect(space, row, int(j), flips)
    return row


def _bisect(space: ActionSpace, row: np.ndarray, j: int, flips: Flips) -> np.ndarray:
    """Move feature j from row[j] towards x[j] while the row still flips (bisection)."""
    inside, outside = float(row[j]), float(space.x[j])  # inside flips, outside does not
    for _ in range(10):
        middle = (inside + outside) / 2
        if space.integer[j]:
            middle = float(np.round(middle))
            if middle in (inside, outside):
                break
        trial = row.copy()
        trial[j] = middle
        if flips(trial[None, :])[0]:
            inside = middle
        else:
            outside = middle
    row = row.copy()
    row[j] = inside
    return row
