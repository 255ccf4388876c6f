"""Counterfactual explanations and recourse for tabular models.

* ``counterfactual_mad``: the closest row (MAD-weighted L1, Wachter et al. 2017) that the model
  classifies differently; exact LP/MILP for logistic regression, greedy search otherwise.
* ``recourse``: the least-cost *actionable* change (Ustun et al. 2019): immutables, directions,
  bounds, whole numbers and category codes respected; an integer program for logistic
  regression, greedy search otherwise. Cost: percentile shift (default) or MAD-weighted L1.
* ``diverse_counterfactuals``: k counterfactuals trading proximity against diversity
  (a DiCE-style determinant objective, Mothilal et al. 2020), from seeded sampling.

Every counterfactual returned has been re-checked with ``model.predict``; any that fails is
dropped, so ``counterfactuals`` may be empty (``metrics["n_found"] == 0``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from explainers._common import build_explanation, prediction_dict
from explainers.base import Classifier, Explanation, TabularDataset
from explainers.payloads import Change, Counterfactual, CounterfactualContent
from explainers.recourse import (
    ActionSpace,
    CostName,
    action_space,
    greedy_search,
    sparsify,
    total_cost,
)
from explainers.recourse_milp import (
    LinearModel,
    linear_counterfactual,
    linear_model_of,
    linear_recourse,
)
from explainers.registry import register


def predicted_index(model: Classifier, rows: np.ndarray) -> np.ndarray:
    """The class *index* ``model.predict`` gives each row (labels mapped through classes_)."""
    labels = np.asarray(model.predict(np.atleast_2d(rows)))
    classes = getattr(model, "classes_", None)
    if classes is None:
        return labels.astype(int)
    return np.searchsorted(np.asarray(classes), labels)


def flip_test(model: Classifier, original: int, target: int | None) -> Any:
    """rows -> bool array: the model predicts ``target`` (if None: anything but ``original``)."""

    def flips(rows: np.ndarray) -> np.ndarray:
        got = predicted_index(model, rows)
        return got == target if target is not None else got != original

    return flips


def flip_score(model: Classifier, original: int, target: int | None) -> Any:
    def score(rows: np.ndarray) -> np.ndarray:
        proba = np.asarray(model.predict_proba(np.atleast_2d(rows)))
        return proba[:, target] if target is not None else 1.0 - proba[:, original]

    return score


def find_counterfactual(
    model: Classifier,
    space: ActionSpace,
    original: int,
    *,
    target: int | None,
    cost: CostName,
    linear: LinearModel | None,
    program: Literal["lp", "milp"],
) -> tuple[np.ndarray | None, str]:
    """The cheapest flip found and the solver that found it ("lp", "milp" or "search").

    With ``linear`` (see :func:`linear_model_of`) the answer is exact: ``program="lp"`` for the
    continuous MAD-L1 counterfactual, ``"milp"`` for grid recourse; without it, greedy search.
    """
    if linear is None:
        flips, score = flip_test(model, original, target), flip_score(model, original, target)
        # Plain counterfactuals may leave the action grid (bisection); recourse stays on it.
        row = greedy_search(space, flips, score, cost=cost, refine=program == "lp")
        return row, "search"
    n_classes = len(linear.b)
    targets = [target] if target is not None else [k for k in range(n_classes) if k != original]
    solved = [
        linear_counterfactual(linear, space, t)
        if program == "lp"
        else linear_recourse(linear, space, t, cost=cost)
        for t in targets
    ]
    found = [row for row in solved if row is not None]
    integer = bool(np.any(space.integer & space.mutable))
    solver = "milp" if program == "milp" or integer else "lp"
    if not found:
        return None, solver
    return min(found, key=lambda row: total_cost(space, row, cost)), solver


def _record(
    dataset: TabularDataset, model: Classifier, space: ActionSpace, row: np.ndarray, cost: CostName
) -> Counterfactual:
    changes: list[Change] = [
        {
            "feature": f.name,
            "label": f.display_name,
            "from": float(space.x[j]),
            "to": float(row[j]),
            "from_display": f.display_value(space.x[j]),
            "to_display": f.display_value(row[j]),
        }
        for j, f in enumerate(dataset.features)
        if row[j] != space.x[j]
    ]
    proba = np.asarray(model.predict_proba(row[None, :]))[0]
    return {
        "changes": changes,
        "values": row.tolist(),
        "cost": total_cost(space, row, cost),
        "distance": total_cost(space, row, "mad_l1"),
        "prediction": prediction_dict(proba, dataset.class_names),
        "valid": True,
    }


def _explain(
    method: str,
    model: Classifier,
    x: Any,
    dataset: TabularDataset,
    rows: list[np.ndarray],
    space: ActionSpace,
    *,
    cost: CostName,
    solver: str,
    target: int | None,
    params: dict[str, Any],
    random_state: int | None,
) -> Explanation:
    """Verify every row with model.predict, drop failures, and assemble the explanation."""
    proba = np.asarray(model.predict_proba(space.x[None, :]))[0]
    flips = flip_test(model, int(np.argmax(proba)), target)
    kept = [row for row in rows if flips(row[None, :])[0]]
    records = sorted(
        (_record(dataset, model, space, row, cost) for row in kept), key=lambda r: r["cost"]
    )
    content: CounterfactualContent = {
        "cost_name": cost,
        "solver": solver,  # type: ignore[typeddict-item]
        "target_class": target,
        "counterfactuals": records,
        "query": dataset.describe_row(space.x),
    }
    metrics = {"n_found": float(len(records)), "n_dropped": float(len(rows) - len(kept))}
    if len(kept) > 1:  # mean pairwise MAD-L1 distance between the counterfactuals
        rows_kept = np.array(kept)
        pairwise = (np.abs(rows_kept[:, None] - rows_kept[None]) / space.mad).sum(axis=2)
        metrics["diversity"] = float(pairwise[np.triu_indices(len(kept), 1)].mean())
    if records:
        metrics["min_cost"] = records[0]["cost"]
        metrics["mean_changes"] = float(np.mean([len(r["changes"]) for r in records]))
    return build_explanation(
        kind="counterfactual",
        method=method,
        model=model,
        prediction=prediction_dict(proba, dataset.class_names),
        content=content,
        params=params,
        random_state=random_state,
        metrics=metrics,
    )


def _start(
    model: Classifier, x: Any, dataset: TabularDataset, actionable: bool, grid_size: int
) -> tuple[ActionSpace, int]:
    if not isinstance(dataset, TabularDataset):
        raise TypeError("counterfactuals need a TabularDataset")
    space = action_space(
        dataset, np.asarray(x, dtype=float).reshape(-1), actionable=actionable, grid_size=grid_size
    )
    return space, int(predicted_index(model, space.x)[0])


@register("counterfactual_mad")
def explain_counterfactual_mad(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    target_class: int | None = None,
    grid_size: int = 25,
) -> Explanation:
    """The nearest differently-classified row in MAD-weighted L1 distance.

    Immutables, bounds, whole numbers and category codes are respected; ``direction`` is not
    (this describes the model's boundary, not what a person can do: see ``recourse``).
    """
    space, original = _start(model, x, dataset, False, grid_size)
    row, solver = find_counterfactual(
        model,
        space,
        original,
        target=target_class,
        cost="mad_l1",
        linear=linear_model_of(model, dataset),
        program="lp",
    )
    return _explain(
        "counterfactual_mad",
        model,
        x,
        dataset,
        [row] if row is not None else [],
        space,
        cost="mad_l1",
        solver=solver,
        target=target_class,
        params={"target_class": target_class, "grid_size": grid_size},
        random_state=random_state,
    )


@register("recourse")
def explain_recourse(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    cost: CostName = "percentile_shift",
    target_class: int | None = None,
    solver: Literal["auto", "search"] = "auto",
    grid_size: int = 25,
) -> Explanation:
    """The least-cost feasible action set that changes the prediction (actionable recourse)."""
    space, original = _start(model, x, dataset, True, grid_size)
    row, used = find_counterfactual(
        model,
        space,
        original,
        target=target_class,
        cost=cost,
        linear=linear_model_of(model, dataset) if solver == "auto" else None,
        program="milp",
    )
    return _explain(
        "recourse",
        model,
        x,
        dataset,
        [row] if row is not None else [],
        space,
        cost=cost,
        solver=used,
        target=target_class,
        params={
            "cost": cost,
            "target_class": target_class,
            "solver": solver,
            "grid_size": grid_size,
        },
        random_state=random_state,
    )


@register("diverse_counterfactuals")
def explain_diverse_counterfactuals(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    k: int = 4,
    n_samples: int = 2000,
    proximity_weight: float = 1.0,
    diversity_weight: float = 1.0,
    actionable: bool = True,
    grid_size: int = 25,
) -> Explanation:
    """``k`` counterfactuals chosen greedily for proximity and diversity (DiCE-style).

    Candidates change a random subset of features to random grid values (seeded by
    ``random_state``); the valid ones are chosen one at a time to maximise
    -proximity_weight * mean distance + diversity_weight * det(K), K_ij = 1 / (1 + d_ij) in
    MAD-weighted L1, and each chosen one is pruned of changes the flip does not need.
    """
    space, original = _start(model, x, dataset, actionable, grid_size)
    rng = np.random.default_rng(random_state)
    flips = flip_test(model, original, None)
    pool = _sample_candidates(space, rng, n_samples)
    pool = pool[flips(pool)] if len(pool) else pool
    chosen = _choose_diverse(space, pool, k, proximity_weight, diversity_weight, flips)
    return _explain(
        "diverse_counterfactuals",
        model,
        x,
        dataset,
        chosen,
        space,
        cost="mad_l1",
        solver="sampling",
        target=None,
        params={
            "k": k,
            "n_samples": n_samples,
            "proximity_weight": proximity_weight,
            "diversity_weight": diversity_weight,
            "actionable": actionable,
            "grid_size": grid_size,
        },
        random_state=random_state,
    )


def _sample_candidates(space: ActionSpace, rng: np.random.Generator, n: int) -> np.ndarray:
    movable = [j for j in np.flatnonzero(space.mutable) if len(space.grids[j])]
    if not movable:
        return np.zeros((0, len(space.x)))
    rows = np.repeat(space.x[None, :], n, axis=0)
    for row in rows:
        size = rng.integers(1, len(movable) + 1)
        for j in rng.choice(movable, size=size, replace=False):
            row[j] = rng.choice(space.grids[j])
    return np.unique(rows, axis=0)


def _mad_distance(space: ActionSpace, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return (np.abs(A[:, None, :] - B[None, :, :]) / space.mad).sum(axis=2)


def _choose_diverse(
    space: ActionSpace,
    pool: np.ndarray,
    k: int,
    proximity_weight: float,
    diversity_weight: float,
    flips: Any,
) -> list[np.ndarray]:
    """Greedy DiCE-style selection; chosen rows are pruned and duplicates skipped."""
    chosen: list[np.ndarray] = []
    remaining = list(range(len(pool)))
    attempts = 5 * k  # pruning can collapse candidates into duplicates; do not scan forever
    while remaining and len(chosen) < k and attempts > 0:
        attempts -= 1
        best, best_value = -1, -np.inf
        for i in remaining:
            trial = np.vstack([*chosen, pool[i]])
            closeness = _mad_distance(space, trial, space.x[None, :]).mean()
            kernel = 1.0 / (1.0 + _mad_distance(space, trial, trial))
            value = -proximity_weight * closeness + diversity_weight * np.linalg.det(kernel)
            if value > best_value:
                best, best_value = i, value
        remaining.remove(best)
        row = sparsify(space, pool[best], flips, cost="mad_l1", refine=True)
        if not any(np.array_equal(row, other) for other in chosen):
            chosen.append(row)
    return chosen
