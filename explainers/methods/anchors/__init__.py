"""Anchors (Ribeiro, Singh & Guestrin 2018): a rule that "anchors" the prediction locally.

Predicates come from x's quartile bin of each numeric feature, at two levels (its lower and
upper bounds, and those of x's quartile bin within that bin; each bound a separate predicate),
and x's category of each categorical feature. A beam search grows rules one predicate at a
time; at each size the KL-LUCB bandit picks the ``beam_width`` candidates with the highest
precision, sampling D(·|A): background rows whose anchored features are redrawn from
background values that satisfy the rule (``epsilon`` is the bandit's tolerance).
A rule is valid when the lower confidence bound of its precision is above ``threshold``; among
valid rules the one with the largest coverage wins (Algorithm 2 of the paper). A rule that no
background row satisfies is never a candidate: D(·|A) redraws each feature on its own, so
such a rule can look precise on combinations nobody has, and it explains nothing. When no
valid rule is found, ``content["found"]`` is False and the most precise rule seen is shown
as the closest one, flagged.

The precision reported is re-estimated on fresh samples after the search (the bandit's own
estimates are biased upwards by selection), and the coverage is the share of background rows
that satisfy the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explainers._common import as_row, build_explanation, make_rng, prediction_dict
from explainers.base import Classifier, Explanation, TabularDataset, predicted_class
from explainers.methods.anchors.bandit import PrecisionCheck, confirm_precision, kl_lucb
from explainers.methods.anchors.rules import Predicate, build_predicates, rule_content, satisfies
from explainers.registry import register

Anchor = tuple[int, ...]  # sorted indices into the predicate list


@dataclass
class SearchResult:
    """The chosen rule and the search's own (selection-biased) precision estimate."""

    anchor: Anchor
    bandit_precision: float
    valid: bool


class AnchorSampler:
    """Draws D(·|A), asks the model, and keeps (pulls, successes) per anchor."""

    def __init__(
        self,
        model: Classifier,
        X: np.ndarray,
        predicates: list[Predicate],
        target: int,
        rng: np.random.Generator,
    ) -> None:
        self.model = model
        self.X = X
        self.predicates = predicates
        self.target = target
        self.rng = rng
        self.stats: dict[Anchor, tuple[int, int]] = {}
        self.samples_used = 0
        self._masks = [satisfies(X, [p]) for p in predicates]
        self._pools: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}

    def draw(self, anchor: Anchor, n: int) -> np.ndarray:
        """``n`` background rows with each anchored feature redrawn from values obeying A."""
        rows = self.X[self.rng.integers(0, len(self.X), n)]
        for feature in sorted({self.predicates[i].feature for i in anchor}):
            pool = self._pool(feature, tuple(i for i in anchor
                                             if self.predicates[i].feature == feature))
            rows[:, feature] = pool[self.rng.integers(0, len(pool), n)]
        return rows

    def _pool(self, feature: int, on_feature: tuple[int, ...]) -> np.ndarray:
        """Background values of ``feature`` obeying the given predicates (cached)."""
        key = (feature, on_feature)
        if key not in self._pools:
            mask = np.logical_and.reduce([self._masks[i] for i in on_feature])
            self._pools[key] = self.X[mask, feature]
        return self._pools[key]

    def _keeps(self, anchors: list[Anchor], n: int) -> np.ndarray:
        """Per anchor, how many of ``n`` fresh samples keep the prediction (one model call)."""
        rows = np.vstack([self.draw(a, n) for a in anchors])
        keep = np.asarray(self.model.predict_proba(rows)).argmax(axis=1) == self.target
        self.samples_used += len(rows)
        return keep.reshape(len(anchors), n).sum(axis=1)

    def pull(self, anchors: list[Anchor], n: int) -> None:
        """Draw ``n`` samples for each anchor and add them to the bandit's counts."""
        if not anchors:
            return
        for anchor, wins in zip(anchors, self._keeps(anchors, n), strict=True):
            pulls, total = self.stats.get(anchor, (0, 0))
            self.stats[anchor] = (pulls + n, total + int(wins))

    def successes(self, anchor: Anchor, n: int) -> int:
        """Successes among ``n`` new samples of ``anchor``, kept out of the bandit's counts."""
        return int(self._keeps([anchor], n)[0])

    def coverage(self, anchor: Anchor) -> float:
        """Share of background rows that satisfy every predicate of ``anchor``."""
        mask = np.ones(len(self.X), dtype=bool)
        for i in anchor:
            mask &= self._masks[i]
        return float(mask.mean())


def _extend(beam: list[Anchor], predicates: list[Predicate]) -> list[Anchor]:
    """Every anchor of the beam plus one predicate on a feature (and side) it does not bound."""
    grown = set()
    for anchor in beam:
        taken = {predicates[i].slot for i in anchor}
        for i, p in enumerate(predicates):
            if p.slot not in taken:
                grown.add(tuple(sorted((*anchor, i))))
    return sorted(grown)


def beam_search(
    sampler: AnchorSampler,
    *,
    threshold: float,
    delta: float,
    epsilon: float,
    beam_width: int,
    batch_size: int,
    max_anchor_size: int,
    max_samples: int,
) -> SearchResult:
    """Grow rules, keep the ``beam_width`` most precise (KL-LUCB), return the widest valid one.

    When no rule reaches the threshold, the most precise rule seen is returned, marked invalid.
    """
    def check(anchor: Anchor) -> PrecisionCheck:
        return confirm_precision(sampler, anchor, threshold=threshold, delta=delta,
                                 batch_size=batch_size)

    empty = check(())
    if empty.valid:
        return SearchResult((), empty.mean, True)
    best: SearchResult | None = None
    fallback = SearchResult((), empty.mean, False)
    best_coverage = -1.0
    beam: list[Anchor] = [()]
    for _size in range(max_anchor_size):
        if sampler.samples_used >= max_samples:
            break  # budget spent: keep the best rule so far (flagged if none is valid)
        # Coverage only shrinks as a rule grows, so an uncovered rule is dropped for good.
        candidates = [a for a in _extend(beam, sampler.predicates)
                      if sampler.coverage(a) > max(best_coverage, 0.0)]
        if not candidates:
            break
        chosen = kl_lucb(sampler, candidates, top=min(beam_width, len(candidates)),
                         delta=delta, epsilon=epsilon, batch_size=batch_size)
        beam = [candidates[i] for i in chosen]
        for anchor in beam:
            outcome = check(anchor)
            if outcome.valid and sampler.coverage(anchor) > best_coverage:
                best = SearchResult(anchor, outcome.mean, True)
                best_coverage = sampler.coverage(anchor)
            elif outcome.mean > fallback.bandit_precision:
                fallback = SearchResult(anchor, outcome.mean, False)
    return best or fallback


@register("anchors")
def explain_anchors(
    model: Classifier,
    x: np.ndarray,
    *,
    dataset: TabularDataset,
    random_state: int | None,
    threshold: float = 0.95,
    delta: float = 0.1,
    epsilon: float = 0.15,
    beam_width: int = 4,
    batch_size: int = 100,
    max_anchor_size: int | None = 5,
    max_samples: int = 100_000,
    fresh_samples: int = 1000,
) -> Explanation:
    """An anchor rule for the predicted class, with honest precision and coverage.

    ``metrics``: ``anchors_precision`` (on fresh samples), ``anchors_coverage``,
    ``anchors_bandit_precision`` (the search's estimate), ``anchors_meets_threshold`` (1.0 when
    a rule was validated; 0.0 when none was and the most precise rule seen is shown) and
    ``anchors_samples`` (model evaluations the search spent). ``content["found"]`` says the
    same for renderers: False means no rule both reached the threshold and matched at least
    one background row.

    ``max_anchor_size`` (default 5; None = every feature) keeps rules readable; the search
    also stops growing rules once ``max_samples`` model evaluations are spent.
    """
    x = as_row(x)
    target, proba = predicted_class(model, x)
    prediction = prediction_dict(proba, dataset.class_names)
    rng = make_rng(random_state)
    X = np.asarray(dataset.X, dtype=float)
    predicates = build_predicates(x, dataset)
    sampler = AnchorSampler(model, X, predicates, target, rng)
    result = beam_search(
        sampler, threshold=threshold, delta=delta, epsilon=epsilon, beam_width=beam_width,
        batch_size=batch_size, max_anchor_size=max_anchor_size or len(predicates),
        max_samples=max_samples,
    )
    # An independent stream for the fresh estimate: the search's estimates are selection-biased.
    fresh = AnchorSampler(model, X, predicates, target, make_rng(int(rng.integers(2**32))))
    precision = fresh.successes(result.anchor, fresh_samples) / fresh_samples
    coverage = sampler.coverage(result.anchor)
    content = rule_content([predicates[i] for i in result.anchor], dataset,
                           precision=precision, coverage=coverage, found=result.valid,
                           predicted_class_name=prediction["class_name"])
    params = {"threshold": threshold, "delta": delta, "epsilon": epsilon,
              "beam_width": beam_width, "batch_size": batch_size,
              "max_anchor_size": max_anchor_size, "max_samples": max_samples,
              "fresh_samples": fresh_samples}
    metrics = {
        "anchors_precision": precision,
        "anchors_coverage": coverage,
        "anchors_bandit_precision": result.bandit_precision,
        "anchors_meets_threshold": float(result.valid),
        "anchors_samples": float(sampler.samples_used),
    }
    return build_explanation(
        kind="rule", method="anchors", model=model, content=content,
        params=params, random_state=random_state, metrics=metrics, prediction=prediction,
    )
