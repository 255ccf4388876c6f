"""Quality measures of explanations, stored in ``Explanation.metrics`` by
:func:`score_explanation` and usable one by one.

=================================  ==========================================================
metric                             meaning (better is)
=================================  ==========================================================
``deletion_auc``                   probability of the explained class as the most important
                                   features are removed first (lower)
``insertion_auc``                  ... as they are put back into the background row (higher)
``faithfulness_correlation``       Bhatt et al. 2020: attributions of random feature subsets
                                   vs the output drop when removing them (higher)
``max_sensitivity``                Yeh et al. 2019: largest relative change of the explanation
                                   under small input perturbations (lower)
``seed_rank_correlation``          mean Spearman correlation between runs with 5 other seeds;
``seed_topk_jaccard``              and overlap of their top-k features (higher; sampling
``seed_rule_jaccard``              methods only; rules: overlap of conditions)
``randomisation_rank_correlation`` Adebayo et al. 2018: |attributions| for the model vs a copy
                                   with random weights (lower; high = fails the sanity check)
=================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import numpy as np

from explainers._common import as_row, attribution_vector, make_rng
from explainers.base import Explanation, TabularDataset
from explainers.quality.faithfulness import (
    DeletionCurves,
    baseline_row,
    deletion_insertion,
    faithfulness_correlation,
)
from explainers.quality.robustness import (
    max_sensitivity,
    randomisation_check,
    rank_correlation,
    seed_variation,
)

ALL_CHECKS = ("deletion", "faithfulness", "stability", "seeds", "randomisation")
# What a study stores by default: each costs at most one extra run of the method. "stability"
# (``stability_samples`` runs) and "seeds" (``seeds`` runs) are opt-in, e.g. on a subsample.
DEFAULT_CHECKS = ("deletion", "faithfulness", "randomisation")
# Methods whose output changes with the seed beyond a background sample; others skip "seeds".
SAMPLING_METHODS = frozenset({"lime", "kernel_shap", "anchors", "random_attribution"})

__all__ = [
    "ALL_CHECKS",
    "DEFAULT_CHECKS",
    "SAMPLING_METHODS",
    "DeletionCurves",
    "baseline_row",
    "deletion_insertion",
    "faithfulness_correlation",
    "max_sensitivity",
    "randomisation_check",
    "rank_correlation",
    "score_explanation",
    "seed_variation",
]


def score_explanation(
    explanation: Explanation,
    model: Any,
    x: Any,
    dataset: TabularDataset,
    *,
    random_state: int | None,
    checks: Sequence[str] = DEFAULT_CHECKS,
    stability_samples: int = 10,
    stability_radius: float = 0.05,
    seeds: int = 5,
    top_k: int = 5,
    faithfulness_subsets: int = 50,
    randomisation_seed: int = 0,
) -> dict[str, float]:
    """Compute the requested ``checks``, add them to ``explanation.metrics`` and return them.

    The default checks cost one extra run of the method at most; pass ``checks=ALL_CHECKS``
    for max-sensitivity and seed agreement too (``stability_samples`` + ``seeds`` more runs).

    ``random_state`` seeds the random draws of the checks; ``randomisation_seed`` seeds the
    randomised-weights model copy, the same for every item of a study (so it is made once).

    Attribution explanations support every check; rule explanations only "seeds" (their
    precision and coverage are already in their metrics). Unknown checks raise ValueError.
    """
    unknown = set(checks) - set(ALL_CHECKS)
    if unknown:
        raise ValueError(f"unknown quality checks {sorted(unknown)}; known: {ALL_CHECKS}")
    x = as_row(x)
    rng = make_rng(random_state)
    scores: dict[str, float] = {}
    if "seeds" in checks and explanation.method in SAMPLING_METHODS:
        scores |= seed_variation(explanation, model, x, dataset, seeds=seeds, top=top_k)
    if explanation.kind == "attribution":
        scores |= _attribution_scores(
            explanation, model, x, dataset, checks=checks, rng=rng,
            randomisation_seed=randomisation_seed,
            stability_samples=stability_samples, stability_radius=stability_radius,
            faithfulness_subsets=faithfulness_subsets,
        )
    explanation.metrics.update(scores)
    return scores


def _attribution_scores(
    explanation: Explanation,
    model: Any,
    x: np.ndarray,
    dataset: TabularDataset,
    *,
    checks: Sequence[str],
    rng: np.random.Generator,
    randomisation_seed: int,
    stability_samples: int,
    stability_radius: float,
    faithfulness_subsets: int,
) -> dict[str, float]:
    phi = attribution_vector(explanation)
    target = int(explanation.target or 0)
    scores: dict[str, float] = {}
    if "deletion" in checks:
        curves = deletion_insertion(model, x, phi, dataset, target=target)
        scores["deletion_auc"] = curves.deletion_auc
        scores["insertion_auc"] = curves.insertion_auc
    if "faithfulness" in checks:
        scores["faithfulness_correlation"] = faithfulness_correlation(
            model, x, phi, dataset, target=target, rng=rng, n_subsets=faithfulness_subsets,
            output_space=explanation.content["output_space"],
        )
    if "stability" in checks:
        scores["max_sensitivity"] = max_sensitivity(
            explanation, model, x, dataset, rng=rng, radius=stability_radius,
            n_samples=stability_samples,
        )
    if "randomisation" in checks:
        # A model randomise_weights cannot scramble: the check does not apply to it.
        with suppress(NotImplementedError):
            scores["randomisation_rank_correlation"] = randomisation_check(
                explanation, model, x, dataset, random_state=randomisation_seed
            )
    return scores
