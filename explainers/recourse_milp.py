"""Exact counterfactuals and recourse for linear classifiers, as linear / integer programs.

A model qualifies when its class scores are additive over features and linear in each numeric
feature: a ``LogisticRegression``, alone or after scalers and one-hot encoders (e.g. a
``ColumnTransformer``). :func:`linear_model_of` reads that structure off the model by probing
its ``decision_function`` and checks it on data rows, so no preprocessing step is special-cased.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from explainers.base import TabularDataset
from explainers.recourse import CATEGORY_CHANGE_COST, ActionSpace, CostName, change_cost


@dataclass(frozen=True)
class LinearModel:
    """Class scores s(x) = b + W x + sum_j tables[j][:, code_j]; the class is argmax s(x).

    ``W`` is (n_classes, d) with zero columns for categorical features, whose effect per code
    is in ``tables`` (n_classes, n_codes) instead, so one-hot encodings are represented exactly.
    """

    W: np.ndarray
    tables: dict[int, np.ndarray]
    b: np.ndarray

    def scores(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        s = X @ self.W.T + self.b
        for j, table in self.tables.items():
            s += table[:, X[:, j].round().astype(int)].T
        return s

    def effect(self, j: int, values: np.ndarray, x: np.ndarray, target: int) -> np.ndarray:
        """Change in s_target - s_k (rows: every k != target) when x_j becomes each value."""
        others = [k for k in range(len(self.b)) if k != target]
        if j in self.tables:
            diff = self.tables[j][target] - self.tables[j][others]
            codes = np.asarray(values).round().astype(int)
            return diff[:, codes] - diff[:, [round(x[j])]]
        slope = self.W[target, j] - self.W[others, j]
        return slope[:, None] * (np.asarray(values, dtype=float) - x[j])[None, :]

    def margins(self, x: np.ndarray, target: int) -> np.ndarray:
        """s_target(x) - s_k(x) for every k != target (all positive: x is in class target)."""
        s = self.scores(x)[0]
        return s[target] - np.delete(s, target)


def _decision(model: Any, X: np.ndarray) -> np.ndarray:
    d = np.asarray(model.decision_function(X), dtype=float)
    return np.column_stack([np.zeros(len(d)), d]) if d.ndim == 1 else d


def linear_model_of(
    model: Any, dataset: TabularDataset, *, check_rows: int = 50
) -> LinearModel | None:
    """The model's additive linear structure, or None if it has none (checked on data rows)."""
    steps = [s for _, s in model.steps] if hasattr(model, "steps") else [model]
    if type(steps[-1]).__name__ != "LogisticRegression":
        return None
    X = np.asarray(dataset.X, dtype=float)
    reference = np.median(X, axis=0).round()  # whole values: valid codes and integers
    categorical = {
        j: len(f.categories) or int(X[:, j].max()) + 1
        for j, f in enumerate(dataset.features)
        if f.kind == "categorical"
    }
    step = np.maximum(X.std(axis=0), 1.0)  # a probe step on the feature's own scale
    probes = [reference]
    for j in range(X.shape[1]):
        values = range(categorical[j]) if j in categorical else [reference[j] + step[j]]
        for v in values:
            probe = reference.copy()
            probe[j] = v
            probes.append(probe)
    s = _decision(model, np.array(probes))
    W, tables, at = np.zeros((s.shape[1], X.shape[1])), {}, 1
    for j in range(X.shape[1]):
        if j in categorical:
            tables[j] = (s[at : at + categorical[j]] - s[0]).T
            at += categorical[j]
        else:
            W[:, j] = (s[at] - s[0]) / step[j]
            at += 1
    linear = LinearModel(W, tables, s[0] - W @ reference)
    rows = X[:: max(1, len(X) // check_rows)]
    actual = _decision(model, rows)
    if not np.allclose(linear.scores(rows), actual, rtol=1e-6, atol=1e-6):
        return None
    return linear


def _solve(
    cost: np.ndarray,
    rows: list[np.ndarray],
    low: list[float],
    high: list[float],
    integrality: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray | None:
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), low, high),
        integrality=integrality,
        bounds=Bounds(lower, upper),
    )
    return None if result.x is None else np.asarray(result.x)


def linear_counterfactual(
    linear: LinearModel, space: ActionSpace, target: int, *, margin: float = 1e-3
) -> np.ndarray | None:
    """The row of least MAD-weighted L1 distance that the model puts in class ``target``.

    An LP (a MILP when integer or categorical features can move). Numeric feature j gets a
    value variable v_j and a size variable t_j >= |v_j - x_j| costing 1/MAD_j; a categorical
    feature gets one binary per allowed code, and leaving its code costs CATEGORY_CHANGE_COST.
    """
    x = space.x
    variables: list[tuple[int, float]] = []  # (feature, code) for binaries, (j, nan) values
    cost, lower, upper, integer = [], [], [], []
    rows: list[dict[int, float]] = []
    low: list[float] = []
    high: list[float] = []

    def new(feature: int, code: float, c: float, lo: float, hi: float, whole: bool) -> int:
        variables.append((feature, code))
        cost.append(c)
        lower.append(lo)
        upper.append(hi)
        integer.append(int(whole))
        return len(variables) - 1

    for j in range(len(x)):
        if j in linear.tables:
            allowed = [
                c
                for c in range(linear.tables[j].shape[1])
                if space.lower[j] <= c <= space.upper[j] and (space.mutable[j] or c == x[j])
            ]
            ids = [
                new(j, c, 0.0 if c == x[j] else CATEGORY_CHANGE_COST, 0, 1, True) for c in allowed
            ]
            rows.append(dict.fromkeys(ids, 1.0))  # exactly one code
            low.append(1.0)
            high.append(1.0)
            continue
        lo, hi = (space.lower[j], space.upper[j]) if space.mutable[j] else (x[j], x[j])
        value = new(j, np.nan, 0.0, lo, hi, bool(space.integer[j]))
        size = new(-1, np.nan, 1.0 / space.mad[j], 0.0, np.inf, False)
        rows += [{value: 1.0, size: -1.0}, {value: 1.0, size: 1.0}]  # t >= |v - x|
        low += [-np.inf, x[j]]
        high += [x[j], np.inf]
    others = [k for k in range(len(linear.b)) if k != target]
    for k in others:
        row: dict[int, float] = {}
        for i, (j, code) in enumerate(variables):
            if j < 0:
                continue
            if j in linear.tables:
                row[i] = linear.tables[j][target, int(code)] - linear.tables[j][k, int(code)]
            else:
                row[i] = linear.W[target, j] - linear.W[k, j]
        rows.append(row)
        low.append(margin - (linear.b[target] - linear.b[k]))
        high.append(np.inf)
    dense = [np.array([r.get(i, 0.0) for i in range(len(variables))]) for r in rows]
    solution = _solve(
        np.array(cost), dense, low, high, np.array(integer), np.array(lower), np.array(upper)
    )
    if solution is None:
        return None
    out = x.copy()
    for (j, code), v in zip(variables, solution, strict=True):
        if j >= 0 and j in linear.tables and v > 0.5:
            out[j] = code
        elif j >= 0 and j not in linear.tables:
            out[j] = round(v) if space.integer[j] else v
    return out


def linear_recourse(
    linear: LinearModel, space: ActionSpace, target: int, *, cost: CostName, margin: float = 1e-3
) -> np.ndarray | None:
    """Least-cost recourse on the action grid as an integer program (Ustun et al. 2019).

    One binary per (feature, grid value); at most one value per feature; the score of
    ``target`` must beat every other class by ``margin``; minimise the summed change costs.
    """
    movable = [j for j in range(len(space.x)) if len(space.grids[j])]
    options = [(j, v) for j in movable for v in space.grids[j]]
    if not options:
        return None
    costs = np.concatenate([change_cost(space, j, space.grids[j], cost) for j in movable])
    one_each = [np.array([1.0 if f == j else 0.0 for f, _ in options]) for j in movable]
    gains = np.hstack([linear.effect(j, space.grids[j], space.x, target) for j in movable])
    needed = margin - linear.margins(space.x, target)
    rows = one_each + list(gains)
    low = [-np.inf] * len(one_each) + list(needed)
    high = [1.0] * len(one_each) + [np.inf] * len(gains)
    solution = _solve(
        costs, rows, low, high, np.ones(len(options)), np.zeros(len(options)), np.ones(len(options))
    )
    if solution is None:
        return None
    out = space.x.copy()
    for (j, v), chosen in zip(options, solution, strict=True):
        if chosen > 0.5:
            out[j] = v
    return out
