"""Control conditions a study needs: a placebo explanation that looks real but means nothing.

``random_attribution`` draws attributions at random (seeded) and gives them the form real ones
have, so that participants cannot tell it apart: like SHAP in probability space it states a base
value E[p] and the output p(x), and its bars add up exactly to p(x) - E[p] (a participant who
adds the bars finds the stated change, as with the real method). A draw is d standard normal
values (or, with ``reference``, a real explanation's attributions for the same item, shuffled
across features with random signs), redrawn until their net sum is at least a quarter of their
total size, then multiplied by one common factor to meet the stated sum; the total size is then
between |p(x) - E[p]| and four times that. The draw, and so the order of the bars by size, does
not depend on the model (only the common factor does), which is why a placebo fails the
model-randomisation sanity check.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explainers._common import (
    as_row,
    attribution_content,
    background_rows,
    build_explanation,
    class_probability,
    make_rng,
    prediction_dict,
)
from explainers.base import Classifier, Explanation, TabularDataset, predicted_class
from explainers.registry import register

# A draw whose bars mostly cancel would need a huge factor to reach the stated sum.
_MIN_NET_SHARE = 0.25
_MAX_DRAWS = 1000


def placebo_attributions(
    d: int, total: float, rng: np.random.Generator, reference: Sequence[float] | None = None
) -> np.ndarray:
    """``d`` random attributions that add up to ``total`` (see the module docstring)."""
    if reference is not None:
        values = np.asarray(reference, dtype=float)
        if values.shape != (d,):
            raise ValueError(f"reference must have {d} attributions, got shape {values.shape}")
    for _ in range(_MAX_DRAWS):
        draw = (rng.permutation(values) * rng.choice([-1.0, 1.0], size=d)
                if reference is not None else rng.standard_normal(d))
        net, size = float(draw.sum()), float(np.abs(draw).sum())
        if size > 0 and abs(net) >= _MIN_NET_SHARE * size:
            return draw * (total / net)
    return np.full(d, total / d)  # e.g. an all-zero reference: nothing to shuffle


@register("random_attribution")
def explain_random_attribution(
    model: Classifier,
    x: np.ndarray,
    *,
    dataset: TabularDataset,
    random_state: int | None,
    background_size: int = 100,
    reference: Sequence[float] | None = None,
) -> Explanation:
    """A placebo attribution explanation in probability units (see the module docstring)."""
    x = as_row(x)
    target, proba = predicted_class(model, x)
    prediction = prediction_dict(proba, dataset.class_names)
    rng = make_rng(random_state)
    background = background_rows(dataset, max_rows=background_size, rng=rng)
    base = float(class_probability(model, background, target).mean())
    output = float(prediction["probability"])
    values = placebo_attributions(len(x), output - base, rng, reference)
    content = attribution_content(dataset, x, values, base_value=base, output_value=output,
                                  output_space="probability")
    params = {"background_size": background_size,
              "reference": None if reference is None else [float(v) for v in reference]}
    return build_explanation(
        kind="attribution", method="random_attribution", model=model,
        content=content, params=params, random_state=random_state, prediction=prediction,
    )

# The real methods each placebo imitates in form (same renderer, same sentences, bars that add
# up to the stated change); a test renders each pair and compares them.
IMITATES: dict[str, tuple[str, ...]] = {
    "random_attribution": ("kernel_shap", "tree_shap", "linear_shap"),
}
