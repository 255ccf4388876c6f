"""Is the explanation stable, reproducible and about *this* model? Sensitivity, seeds, sanity.

Each check re-runs the explanation method through :func:`explainers.explain` with the method
and parameters recorded in the explanation's provenance.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from explainers._common import attribution_vector
from explainers.base import Explanation, TabularDataset
from explainers.control_models import randomise_weights
from explainers.registry import explain


def rerun(
    explanation: Explanation,
    model: Any,
    x: np.ndarray,
    dataset: TabularDataset,
    *,
    random_state: int | None,
) -> Explanation:
    """The same method with the same parameters on (possibly) another model, input or seed."""
    params = dict(explanation.provenance.params)
    return explain(explanation.method, model, x, dataset=dataset, random_state=random_state,
                   **params)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation; 0.0 when either vector is constant (undefined otherwise)."""
    if np.ptp(a) < 1e-12 or np.ptp(b) < 1e-12:
        return 0.0
    return float(spearmanr(a, b).statistic)


def top_k(attributions: np.ndarray, k: int) -> set[int]:
    """The indices of the ``k`` largest |attributions|."""
    return {int(i) for i in np.argsort(-np.abs(attributions), kind="stable")[:k]}


def max_sensitivity(
    explanation: Explanation,
    model: Any,
    x: np.ndarray,
    dataset: TabularDataset,
    *,
    rng: np.random.Generator,
    radius: float = 0.05,
    n_samples: int = 10,
) -> float:
    """Yeh et al. (2019): max over x' near x of ‖Φ(x') - Φ(x)‖ / ‖Φ(x)‖.

    x' moves each numeric feature uniformly within ±``radius`` of its background standard
    deviation (categories stay). Neighbours whose predicted class differs are skipped: their
    explanation is of another class. Uses the explanation's own seed, so sampling noise between
    seeds is not counted as instability (see :func:`seed_variation` for that).
    """
    phi = attribution_vector(explanation)
    scale = np.asarray(dataset.X, dtype=float).std(axis=0) * radius
    scale[dataset.categorical_indices] = 0.0
    norm = max(float(np.linalg.norm(phi)), 1e-12)
    worst = 0.0
    for _ in range(n_samples):
        neighbour = x + rng.uniform(-1.0, 1.0, len(x)) * scale
        other = rerun(explanation, model, neighbour, dataset,
                      random_state=explanation.provenance.random_state)
        if other.target != explanation.target:
            continue
        worst = max(worst, float(np.linalg.norm(attribution_vector(other) - phi)) / norm)
    return worst


def seed_variation(
    explanation: Explanation,
    model: Any,
    x: np.ndarray,
    dataset: TabularDataset,
    *,
    seeds: int = 5,
    top: int = 5,
) -> dict[str, float]:
    """Agreement between ``seeds`` runs with different seeds (1 = identical every time).

    Attributions: mean pairwise Spearman correlation and mean pairwise Jaccard overlap of the
    top-``top`` features. Rules: mean pairwise Jaccard overlap of the rules' conditions.
    """
    first = explanation.provenance.random_state or 0
    runs = [rerun(explanation, model, x, dataset, random_state=first + 1 + i)
            for i in range(seeds)]
    if explanation.kind == "rule":
        rules = [{(c["feature"], c["op"], c["value"]) for c in r.content["conditions"]}
                 for r in runs]
        return {"seed_rule_jaccard": _mean_pairwise(rules, _jaccard)}
    vectors = [attribution_vector(r) for r in runs]
    tops = [top_k(v, top) for v in vectors]
    return {
        "seed_rank_correlation": _mean_pairwise(vectors, rank_correlation),
        "seed_topk_jaccard": _mean_pairwise(tops, _jaccard),
    }


def randomised_copy(model: Any, dataset: TabularDataset, *, random_state: int) -> Any:
    """The randomised-weights copy of ``model`` for this seed, made once and reused.

    Copies are cached by the identity of the model and background (a few at a time): a study
    checks hundreds of items against the same copy, and making one costs a deep copy.
    """
    key = (id(model), id(dataset.X), random_state)
    cached = _RANDOMISED.get(key)
    if cached is not None and cached[0] is model and cached[1] is dataset.X:
        return cached[2]
    scrambled = randomise_weights(model, random_state=random_state,
                                  background=np.asarray(dataset.X, dtype=float))
    if len(_RANDOMISED) >= 4:
        _RANDOMISED.pop(next(iter(_RANDOMISED)))
    _RANDOMISED[key] = (model, dataset.X, scrambled)
    return scrambled


_RANDOMISED: dict[tuple[int, int, int], tuple[Any, Any, Any]] = {}


def randomisation_check(
    explanation: Explanation,
    model: Any,
    x: np.ndarray,
    dataset: TabularDataset,
    *,
    random_state: int = 0,
) -> float:
    """Adebayo et al. (2018): Spearman correlation of |attributions| for the real model and
    for a copy with randomised weights (same input, method and seed). Low passes: the
    explanation depends on what the model learned; high fails. Tree splits are redrawn too
    (see :func:`explainers.control_models.randomise_weights`). ``random_state`` seeds the copy.
    """
    scrambled = randomised_copy(model, dataset, random_state=random_state)
    other = rerun(explanation, scrambled, x, dataset,
                  random_state=explanation.provenance.random_state)
    return rank_correlation(np.abs(attribution_vector(explanation)),
                            np.abs(attribution_vector(other)))


def _jaccard(a: set[Any], b: set[Any]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _mean_pairwise(items: list[Any], similarity: Any) -> float:
    pairs = list(combinations(items, 2))
    return float(np.mean([similarity(a, b) for a, b in pairs])) if pairs else 1.0
