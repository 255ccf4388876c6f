"""Power of a crossed participants x items logistic design, by simulation.

Draw data from the binomial GLMM with the planned fixed effects and variance components,
refit it with :func:`analysis.mixed.glmer`, test the effect of interest with its Wald z,
and count rejections (DeBruine & Barr 2021; R's ``simr``). Every simulation gets its own
generator spawned from one seed, so results do not depend on the number of workers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from analysis.mixed import ConvergenceWarning, glmer

__all__ = ["LogisticDesign", "PowerResult", "power_curve", "sample_size_for",
           "simulate_power"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LogisticDesign:
    """A planned study: participants answer items; outcome 0/1 on the log-odds scale.

    ``effects`` maps each non-reference condition to its log-odds difference from
    ``reference``; ``effect`` is a shortcut for a single ``treatment`` condition. Between
    designs assign participants to conditions in turn; within designs counterbalance
    conditions over items (condition = (participant + item) mod k).
    """

    n_participants: int
    n_items: int
    effect: float | None = None
    effects: Mapping[str, float] = field(default_factory=dict)
    intercept: float = 0.0
    within: bool = False
    participant_sd: float = 1.0
    item_sd: float = 0.5
    slope_sd: float = 0.0  # within designs: SD of participants' condition effects
    reference: str = "control"
    test: str | None = None  # condition whose effect is tested; default the first

    def condition_effects(self) -> dict[str, float]:
        """Log-odds of each condition relative to the reference (reference first, 0)."""
        effects = dict(self.effects)
        if self.effect is not None:
            effects.setdefault("treatment", self.effect)
        if not effects:
            raise ValueError("a design needs at least one effect (effect= or effects=)")
        return {self.reference: 0.0, **effects}

    @property
    def tested(self) -> str:
        """The condition whose effect is tested."""
        return self.test or next(iter(list(self.condition_effects())[1:]))

    @property
    def term(self) -> str:
        """Fixed-effect name of the tested contrast."""
        return f"condition[T.{self.tested}]"

    def formula(self) -> str:
        """The model refitted to each simulated data set."""
        slopes = self.within and self.slope_sd > 0
        participant = "(1 + condition | participant)" if slopes else "(1 | participant)"
        return f"correct ~ condition + {participant} + (1 | item)"

    def simulate(self, rng: np.random.Generator) -> pd.DataFrame:
        """One data set drawn from the design's GLMM."""
        effects = self.condition_effects()
        names = list(effects)
        participant = np.repeat(np.arange(self.n_participants), self.n_items)
        item = np.tile(np.arange(self.n_items), self.n_participants)
        shift = item if self.within else 0
        condition = (participant + shift) % len(names)
        slope = rng.normal(0.0, self.slope_sd, (self.n_participants, len(names)))
        slope[:, 0] = 0.0
        eta = (self.intercept + np.array(list(effects.values()))[condition]
               + rng.normal(0.0, self.participant_sd, self.n_participants)[participant]
               + rng.normal(0.0, self.item_sd, self.n_items)[item])
        if self.within:
            eta += slope[participant, condition]
        correct = (rng.random(len(eta)) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
        # Category order fixes the reference level: treatment coding against `reference`.
        labels = pd.Categorical(np.array(names, dtype=object)[condition], categories=names)
        return pd.DataFrame({"correct": correct, "condition": labels,
                             "participant": participant.astype(str),
                             "item": item.astype(str)})


@dataclass
class PowerResult:
    """Estimated power with its Monte-Carlo uncertainty."""

    power: float
    mc_se: float
    ci: tuple[float, float]  # Clopper-Pearson 95% interval
    n_sims: int
    n_rejected: int
    n_failed: int  # fits that raised or did not converge
    alpha: float
    design: LogisticDesign
    estimates: np.ndarray  # estimated effect of every completed fit

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        design = asdict(self.design)
        design["effects"] = dict(self.design.effects)
        return {"power": self.power, "mc_se": self.mc_se, "ci": list(self.ci),
                "n_sims": self.n_sims, "n_rejected": self.n_rejected,
                "n_failed": self.n_failed, "alpha": self.alpha, "design": design,
                "mean_estimate": float(np.mean(self.estimates)) if len(self.estimates) else None}


def _one_simulation(design: LogisticDesign, seed: np.random.SeedSequence,
                    alpha: float) -> tuple[bool, bool, float]:
    """(rejected, failed, estimate) for one simulated data set; estimate NaN if it raised."""
    data = design.simulate(np.random.default_rng(seed))
    try:
        with warnings.catch_warnings():
            # Counted below through fit.converged; thousands of singular-fit warnings from
            # worker processes would bury the result.
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = glmer(design.formula(), data)
    except (ValueError, np.linalg.LinAlgError):
        return False, True, math.nan
    estimate, p_value = float(fit.params[design.term]), float(fit.pvalues[design.term])
    return bool(p_value < alpha), not fit.converged, estimate


def _run_chunk(design: LogisticDesign, seeds: list[np.random.SeedSequence],
               alpha: float) -> list[tuple[bool, bool, float]]:
    """Several simulations in one worker call (amortises inter-process overhead)."""
    return [_one_simulation(design, seed, alpha) for seed in seeds]


def _summarise(outcomes: list[tuple[bool, bool, float]], design: LogisticDesign,
               alpha: float) -> PowerResult:
    """Power, its Monte-Carlo SE and an exact binomial interval."""
    completed = [o for o in outcomes if not math.isnan(o[2])]
    n, rejected = len(completed), sum(o[0] for o in completed)
    power = rejected / n if n else math.nan
    ci = scipy.stats.binomtest(rejected, n).proportion_ci(method="exact") if n else None
    return PowerResult(
        power=power, mc_se=math.sqrt(power * (1 - power) / n) if n else math.nan,
        ci=(float(ci.low), float(ci.high)) if ci else (math.nan, math.nan),
        n_sims=len(outcomes), n_rejected=rejected, n_failed=sum(o[1] for o in outcomes),
        alpha=alpha, design=design, estimates=np.array([o[2] for o in completed]),
    )


def simulate_power(design: LogisticDesign, *, n_sims: int = 200, alpha: float = 0.05,
                   seed: int | np.random.SeedSequence = 0, workers: int = 1,
                   progress: Progress | None = None) -> PowerResult:
    """Estimate power by ``n_sims`` simulate-and-refit rounds (``workers`` processes).

    Power counts rejections among completed fits; fits that raise are excluded and, with
    those that did not converge, counted in ``n_failed``.
    """
    if n_sims < 1:
        raise ValueError("n_sims must be at least 1")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seeds = root.spawn(n_sims)
    chunks = [seeds[i : i + 5] for i in range(0, n_sims, 5)]
    outcomes: list[tuple[bool, bool, float]] = []
    if workers <= 1:
        for chunk in chunks:
            outcomes += _run_chunk(design, chunk, alpha)
            if progress:
                progress(len(outcomes), n_sims)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run_chunk, design, chunk, alpha) for chunk in chunks]
            for future in futures:
                outcomes += future.result()
                if progress:
                    progress(len(outcomes), n_sims)
    return _summarise(outcomes, design, alpha)


def power_curve(design: LogisticDesign, sizes: Sequence[int], *, n_sims: int = 200,
                alpha: float = 0.05, seed: int = 0, workers: int = 1,
                progress: Progress | None = None) -> pd.DataFrame:
    """Power at each number of participants in ``sizes`` (same seed at every size)."""
    rows = []
    for n in sizes:
        result = simulate_power(replace(design, n_participants=int(n)), n_sims=n_sims,
                                alpha=alpha, seed=seed, workers=workers, progress=progress)
        rows.append({"n_participants": int(n), "power": result.power, "mc_se": result.mc_se,
                     "ci_low": result.ci[0], "ci_high": result.ci[1],
                     "n_failed": result.n_failed})
    return pd.DataFrame(rows)


def sample_size_for(design: LogisticDesign, target_power: float, *, low: int = 10,
                    high: int = 2000, n_sims: int = 200, alpha: float = 0.05, seed: int = 0,
                    workers: int = 1) -> tuple[int, pd.DataFrame]:
    """Smallest number of participants whose estimated power reaches ``target_power``.

    Doubles from ``low`` until the target is reached, then bisects; returns the size and
    every (size, power) evaluated. Power estimates carry Monte-Carlo error (see ``mc_se``),
    so use enough ``n_sims`` for the precision the plan needs.
    """
    if not 0 < target_power < 1:
        raise ValueError("target_power must be between 0 and 1")
    seen: dict[int, float] = {}

    def power_at(n: int) -> float:
        if n not in seen:
            seen[n] = simulate_power(replace(design, n_participants=n), n_sims=n_sims,
                                     alpha=alpha, seed=seed, workers=workers).power
        return seen[n]

    n = low
    while power_at(n) < target_power:
        if n >= high:
            raise ValueError(f"power stays below {target_power} up to {high} participants")
        n = min(2 * n, high)
    lo = max(low, n // 2) if n > low else low
    while lo < n:
        mid = (lo + n) // 2
        if power_at(mid) >= target_power:
            n = mid
        else:
            lo = mid + 1
    table = pd.DataFrame(sorted(seen.items()), columns=["n_participants", "power"])
    return n, table
