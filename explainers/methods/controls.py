"""Control conditions a study needs: a placebo explanation that looks real but means nothing.

``random_attribution`` draws attributions at random (seeded) and gives them the scale real ones
have, so that participants cannot tell it apart by size alone: by default the attributions'
total magnitude equals |p(x) - E[p]| (the gap a SHAP explanation in probability space spreads
over the features); with ``reference`` (a real explanation's attributions for the same item)
it shuffles those values across features and flips their signs at random, keeping exactly the
real distribution of sizes. The random draw does not depend on the model, which is why a
placebo fails the model-randomisation sanity check.
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
from explainers.base import Classifier, Explanation, TabularDataset
from explainers.registry import register

# A floor on the scale, so a prediction at the base rate still gets visible (random) bars.
_MIN_SCALE = 0.02


def placebo_attributions(
    d: int, scale: float, rng: np.random.Generator, reference: Sequence[float] | None = None
) -> np.ndarray:
    """``d`` random attributions with total magnitude ``scale`` (or a shuffled ``reference``)."""
    if reference is not None:
        values = np.asarray(reference, dtype=float)
        if values.shape != (d,):
            raise ValueError(f"reference must have {d} attributions, got shape {values.shape}")
        return rng.permutation(values) * rng.choice([-1.0, 1.0], size=d)
    draw = rng.standard_normal(d)
    return draw / np.abs(draw).sum() * scale


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
    target, prediction = prediction_dict(model, x, dataset)
    rng = make_rng(random_state)
    background = background_rows(dataset, max_rows=background_size, rng=rng)
    base = float(class_probability(model, background, target).mean())
    output = float(prediction["probability"])
    scale = max(abs(output - base), _MIN_SCALE)
    values = placebo_attributions(len(x), scale, rng, reference)
    content = attribution_content(dataset, x, values, base_value=base, output_value=output,
                                  output_space="probability")
    params = {"background_size": background_size,
              "reference": None if reference is None else [float(v) for v in reference]}
    return build_explanation(
        kind="attribution", method="random_attribution", model=model, x=x, dataset=dataset,
        content=content, params=params, random_state=random_state, prediction=prediction,
    )
