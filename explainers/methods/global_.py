"""Global explanations: what the model does overall, shown next to one prediction.

* ``distilled_tree``: a small decision tree fitted to the model's own predictions on the
  background sample; fidelity = agreement with the model on held-out rows.
* ``mean_abs_shap``: mean |SHAP value| per feature for the predicted class over a sample:
  exact interventional TreeSHAP in the trees' own output space (log-odds for binary boosting,
  probability for forests) where ``tree_shap`` applies, else KernelSHAP (``l1_reg=False``) of
  the probability. ``content["output_space"]`` says which.
* ``counterfactual_summary``: over the rows that share the explained row's prediction, how
  often each feature must change to flip it and by how much (in the spirit of AReS, Rawal &
  Lakkaraju 2020).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from explainers._common import (
    build_explanation,
    class_name,
    prediction_dict,
    seeded_global_numpy,
)
from explainers.base import Classifier, Explanation, Feature, TabularDataset
from explainers.methods.counterfactuals import find_counterfactual, predicted_index
from explainers.methods.shap_methods import TreeSpace, native_space, tree_shap_values
from explainers.payloads import Condition, FeatureChange, GlobalContent, Importance, Rule
from explainers.recourse import CostName, action_space, total_cost
from explainers.recourse_milp import linear_model_of
from explainers.registry import register


def _start(
    model: Classifier, x: Any, dataset: TabularDataset
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(dataset, TabularDataset):
        raise TypeError("global explanations need a TabularDataset")
    row = np.asarray(x, dtype=float).reshape(-1)
    return row, np.asarray(model.predict_proba(row[None, :]))[0], np.asarray(dataset.X, float)


@register("distilled_tree")
def explain_distilled_tree(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    max_depth: int = 3,
    min_samples_leaf: int = 10,
    held_out: float = 0.3,
) -> Explanation:
    """Rules of a depth-``max_depth`` tree that imitates the model (fitted on its predictions)."""
    row, proba, X = _start(model, x, dataset)
    labels = predicted_index(model, X)
    order = np.random.default_rng(random_state).permutation(len(X))
    n_test = max(1, round(held_out * len(X)))
    test, train = order[:n_test], order[n_test:]
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=random_state
    ).fit(X[train], labels[train])
    fidelity = float(np.mean(tree.predict(X[test]) == labels[test]))
    leaf_of_x = int(tree.apply(row[None, :])[0])
    rules = sorted(_rules(tree, dataset, leaf_of_x), key=lambda r: -r["support"])
    content: GlobalContent = {"summary": "rules", "rules": rules, "depth": int(tree.get_depth())}
    return build_explanation(
        kind="global",
        method="distilled_tree",
        model=model,
        prediction=prediction_dict(proba, dataset.class_names),
        content=content,
        params={"max_depth": max_depth, "min_samples_leaf": min_samples_leaf, "held_out": held_out},
        random_state=random_state,
        metrics={
            "fidelity": fidelity,
            "n_rules": float(len(rules)),
            "depth": float(tree.get_depth()),
        },
    )


def _rules(tree: DecisionTreeClassifier, dataset: TabularDataset, leaf_of_x: int) -> list[Rule]:
    """One rule per leaf: the path's conditions (tightest per feature and side)."""
    t = tree.tree_
    rules: list[Rule] = []
    stack: list[tuple[int, dict[tuple[int, str], float]]] = [(0, {})]
    while stack:
        node, path = stack.pop()
        if t.children_left[node] == -1:
            counts = t.value[node][0]
            k = int(np.argmax(counts))
            index = int(tree.classes_[k])
            conditions = [
                _condition(dataset.features[j], op, v) for (j, op), v in sorted(path.items())
            ]
            verdict = class_name(dataset.class_names, index)
            clauses = [
                _clause(dataset.features[j], path.get((j, ">")), path.get((j, "<=")))
                for j in sorted({j for j, _ in path})
            ]
            text = " AND ".join(clauses) or "always"
            rules.append(
                {
                    "conditions": conditions,
                    "text": f"IF {text} THEN {verdict}",
                    "class_index": index,
                    "class_name": verdict,
                    "support": int(t.n_node_samples[node]),
                    "confidence": float(counts[k] / counts.sum()),
                    "covers_input": node == leaf_of_x,
                }
            )
            continue
        j, threshold = int(t.feature[node]), float(t.threshold[node])
        left = dict(path)
        left[(j, "<=")] = min(threshold, path.get((j, "<="), np.inf))
        right = dict(path)
        right[(j, ">")] = max(threshold, path.get((j, ">"), -np.inf))
        stack += [(int(t.children_right[node]), right), (int(t.children_left[node]), left)]
    return rules


def _condition(feature: Feature, op: str, threshold: float) -> Condition:
    """One split condition; for categories the threshold is shown as the last code kept."""
    if feature.kind == "categorical":
        codes = [c for c in range(len(feature.categories)) if (c <= threshold) == (op == "<=")]
        shown = " or ".join(f"“{feature.categories[c]}”" for c in codes)
    else:
        shown = feature.display_value(threshold)
    return {
        "feature": feature.name,
        "label": feature.display_name,
        "op": "<=" if op == "<=" else ">",
        "threshold": threshold,
        "threshold_display": shown,
    }


def _clause(feature: Feature, low: float | None, high: float | None) -> str:
    """A feature's bounds on one path as one phrase: "a < X <= b" or "X is “u” or “v”"."""
    name = feature.display_name
    if feature.kind == "categorical":
        codes = [
            c
            for c in range(len(feature.categories))
            if (low is None or c > low) and (high is None or c <= high)
        ]
        words = [f"“{feature.categories[c]}”" for c in codes]
        return f"{name} is {words[0]}" if len(words) == 1 else f"{name} is {' or '.join(words)}"
    if low is not None and high is not None:
        return f"{feature.display_value(low)} < {name} <= {feature.display_value(high)}"
    if high is not None:
        return f"{name} <= {feature.display_value(high)}"
    return f"{name} > {feature.display_value(low if low is not None else float('nan'))}"


@register("mean_abs_shap")
def explain_mean_abs_shap(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    n_rows: int | None = None,
    n_background: int = 50,
    nsamples: int = 500,
) -> Explanation:
    """Mean |SHAP| per feature for the predicted class over ``n_rows`` background rows.

    Tree models that ``tree_shap`` explains exactly get exact TreeSHAP values in the space their
    trees add up in (log-odds for binary boosting: shap's own probability output for boosting
    is an approximate rescaling); other models KernelSHAP values of the probability.
    ``content["output_space"]`` names the unit. ``n_rows`` defaults to 100 for tree models
    (exact TreeSHAP takes milliseconds) and 25 for others (KernelSHAP, ``nsamples`` model
    evaluations per row). The ``n_background`` rows that stand for "feature absent" are drawn
    first, then the rows summarised, both from the seed.
    """
    row, proba, X = _start(model, x, dataset)
    target = int(np.argmax(proba))
    rng = np.random.default_rng(random_state)
    background = X[rng.choice(len(X), size=min(n_background, len(X)), replace=False)]
    space = _tree_space(model, row, background, target, float(proba[target]))
    used: Literal["tree", "kernel"] = "kernel" if space is None else "tree"
    rows = n_rows if n_rows is not None else (100 if used == "tree" else 25)
    sample = X[rng.choice(len(X), size=min(rows, len(X)), replace=False)]
    if space is not None:
        values = np.asarray(tree_shap_values(model, sample, background)[0])
    else:
        space = "probability"  # what KernelSHAP explains here
        values = _kernel_values(model, sample, background, target, nsamples, random_state)
    if values.ndim == 3:  # (rows, features, classes)
        values = values[:, :, target]
    importance = np.abs(values).mean(axis=0)
    importances: list[Importance] = sorted(
        (
            {"feature": f.name, "label": f.display_name, "value": float(v)}
            for f, v in zip(dataset.features, importance, strict=True)
        ),
        key=lambda item: -item["value"],
    )
    content: GlobalContent = {
        "summary": "importance",
        "importances": importances,
        "shap_explainer": used,
        "output_space": space,
        "group_size": len(sample),
    }
    return build_explanation(
        kind="global",
        method="mean_abs_shap",
        model=model,
        prediction=prediction_dict(proba, dataset.class_names),
        content=content,
        params={"n_rows": rows, "n_background": n_background, "nsamples": nsamples},
        random_state=random_state,
        metrics={"n_rows": float(len(sample))},
    )


def _tree_space(
    model: Classifier, row: np.ndarray, background: np.ndarray, target: int, probability: float
) -> TreeSpace | None:
    """The space exact TreeSHAP values of this model add up in, or None if it has none."""
    try:
        values, expected = tree_shap_values(model, row[None, :], background)
        return native_space(values, expected, target, probability)
    except Exception:  # shap raises bare Exceptions for models it cannot treat as trees
        return None


def _kernel_values(
    model: Classifier, sample: np.ndarray, background: np.ndarray, target: int, nsamples: int,
    random_state: int | None,
) -> np.ndarray:
    """KernelSHAP (l1_reg=False) values of the target class's probability, one row per sample."""
    import shap  # heavy (numba); only this method needs it

    def predict_target(rows: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_proba(rows))[:, target]

    explainer = shap.KernelExplainer(predict_target, background)
    with seeded_global_numpy(0 if random_state is None else random_state):
        return np.asarray(
            explainer.shap_values(sample, nsamples=nsamples, l1_reg=False, silent=True)
        )


@register("counterfactual_summary")
def explain_counterfactual_summary(
    model: Classifier,
    x: Any,
    *,
    dataset: TabularDataset,
    random_state: int | None = None,
    n_rows: int = 25,
    cost: CostName = "percentile_shift",
    grid_size: int = 15,
) -> Explanation:
    """Recourse for up to ``n_rows`` rows sharing x's prediction, summarised per feature."""
    _row, proba, X = _start(model, x, dataset)
    target = int(np.argmax(proba))
    group = np.flatnonzero(predicted_index(model, X) == target)
    rng = np.random.default_rng(random_state)
    group = np.sort(rng.choice(group, size=min(n_rows, len(group)), replace=False))
    linear = linear_model_of(model, dataset)
    found, costs = [], []
    for i in group:
        space = action_space(dataset, X[i], actionable=True, grid_size=grid_size)
        cf, _ = find_counterfactual(
            model, space, target, target=None, cost=cost, linear=linear, program="milp"
        )
        if cf is not None and predicted_index(model, cf)[0] != target:
            found.append((X[i], cf))
            costs.append(total_cost(space, cf, cost))
    content: GlobalContent = {
        "summary": "counterfactual_summary",
        "feature_changes": _summarise(dataset, found),
        "group_size": len(group),
        "group_class": target,
    }
    metrics = {
        "recourse_rate": len(found) / max(len(group), 1),
        "median_cost": float(np.median(costs)) if costs else 0.0,
    }
    return build_explanation(
        kind="global",
        method="counterfactual_summary",
        model=model,
        prediction=prediction_dict(proba, dataset.class_names),
        content=content,
        params={"n_rows": n_rows, "cost": cost, "grid_size": grid_size},
        random_state=random_state,
        metrics=metrics,
    )


def _summarise(
    dataset: TabularDataset, pairs: list[tuple[np.ndarray, np.ndarray]]
) -> list[FeatureChange]:
    summary: list[FeatureChange] = []
    for j, f in enumerate(dataset.features):
        moves = [(a[j], b[j]) for a, b in pairs if a[j] != b[j]]
        if not moves:
            continue
        if f.kind == "categorical":
            common = Counter(f.display_value(b) for _, b in moves).most_common(1)[0][0]
            median, shown = 0.0, f"to {common}"
        else:
            median = float(np.median([b - a for a, b in moves]))
            shown = ("+" if median >= 0 else "-") + f.display_value(abs(median))
        summary.append(
            {
                "feature": f.name,
                "label": f.display_name,
                "share_changed": len(moves) / len(pairs),
                "median_change": median,
                "median_change_display": shown,
            }
        )
    return sorted(summary, key=lambda item: -item["share_changed"])
