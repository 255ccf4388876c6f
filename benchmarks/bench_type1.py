"""Type I error of fixed-effect tests in a crossed participant x item study with a true null.

An XAI study: 60 participants, half in each explanation condition (between participants),
each rating the same 12 items; items differ in difficulty and in how much the condition
matters to them (a random condition slope by item). The condition has no effect on average.
A test at 5% should reject the null about 5% of the time. The Wald z test reads t against
the normal and ignores that the condition's SE is estimated from only 12 items' slopes and 60
participants; Satterthwaite and Kenward-Roger degrees of freedom account for it.

    .venv/bin/python benchmarks/bench_type1.py [--simulations 300] [--participants 60]
        [--items 12] [--seed 1]

Prints the rejection rate of each test with its Monte Carlo standard error. A benchmark, not
a test: it asserts nothing. 300 simulations take a few minutes on one core.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.mixed import lmer
from analysis.mixed.inference import fixed_effects_table

FORMULA = "rating ~ condition + (1 | participant) + (1 + condition | item)"
TERM = "condition[T.xai]"


def simulate_study(rng: np.random.Generator, n_participants: int, n_items: int) -> pd.DataFrame:
    """One null study: condition has no average effect, but its effect varies by item."""
    participant = np.repeat(np.arange(n_participants), n_items)
    item = np.tile(np.arange(n_items), n_participants)
    xai = (participant % 2 == 1).astype(float)
    rating = (4.0 + rng.normal(0, 0.5, n_participants)[participant]
              + rng.normal(0, 0.5, n_items)[item]
              + rng.normal(0, 1.0, n_items)[item] * xai
              + rng.normal(0, 1.0, len(participant)))
    return pd.DataFrame({"rating": rating,
                         "condition": np.where(xai == 1, "xai", "control"),
                         "participant": [f"p{k:03d}" for k in participant],
                         "item": [f"i{k:02d}" for k in item]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=300)
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    methods = ("wald", "satterthwaite", "kenward-roger")
    rejections = dict.fromkeys(methods, 0)
    df_sum = dict.fromkeys(methods, 0.0)
    started = time.perf_counter()
    for _ in range(args.simulations):
        data = simulate_study(rng, args.participants, args.items)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = lmer(FORMULA, data)
            for method in methods:
                row = fixed_effects_table(fit, ddf=method).loc[TERM]
                rejections[method] += bool(row["p_value"] < 0.05)
                df_sum[method] += float(row["df"])
    elapsed = time.perf_counter() - started
    n = args.simulations
    print(f"Type I error at alpha = 0.05: {args.participants} participants x {args.items} "
          f"items, {n} simulations, seed {args.seed} ({elapsed:.0f} s)")
    print(f"model: {FORMULA}; test of {TERM} (true value 0)")
    print(f"{'test':<16}{'rejection rate':>16}{'MC s.e.':>10}{'mean df':>10}")
    for method in methods:
        rate = rejections[method] / n
        print(f"{method:<16}{rate:>16.3f}{np.sqrt(rate * (1 - rate) / n):>10.3f}"
              f"{df_sum[method] / n:>10.1f}")


if __name__ == "__main__":
    main()
