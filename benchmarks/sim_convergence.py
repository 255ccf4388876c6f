"""Do our fits reach lme4's optimum? Many small simulated crossed designs, fitted by both.

    .venv/bin/python benchmarks/sim_convergence.py [--lmm 150] [--glmm 150] [--clmm 60]

For each family it simulates data sets (seeded), fits each with analysis.mixed and with R
(lme4's lmer / glmer, ordinal's clmm) in one Rscript run, and counts the fits whose
log-likelihood is below R's by more than 1e-4 ("short of R"), the fits called singular by
each, and the fits that warned. A benchmark, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.mixed import MixedResults, clmm, glmer, lmer
from tests.analysis.data.crossed import simulate_clmm, simulate_glmm, simulate_lmm

FORMULA = "y ~ 1 + (1 | participant) + (1 | item)"
GLMM_FORMULA = "y ~ condition + (1 | participant) + (1 | item)"

R_SCRIPT = """
suppressMessages({library(lme4); library(ordinal); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
family <- args[2]
fit_one <- function(s) {
  if (family == "ordinal") {
    s$y <- factor(s$y, ordered = TRUE)
    f <- clmm(y ~ condition + (1 | participant) + (1 | item), data = s)
    return(list(loglik = as.numeric(logLik(f)), singular = any(unlist(VarCorr(f)) < 1e-8)))
  }
  f <- if (family == "binomial") {
    glmer(y ~ condition + (1 | participant) + (1 | item), s, family = binomial)
  } else {
    lmer(y ~ 1 + (1 | participant) + (1 | item), s)
  }
  list(loglik = as.numeric(logLik(f)), singular = isSingular(f))
}
out <- lapply(split(d, d$sim), function(s) suppressWarnings(suppressMessages(fit_one(s))))
cat(toJSON(unname(out), digits = NA, auto_unbox = TRUE))
"""


Simulator = Callable[[int], pd.DataFrame]
FAMILIES: dict[str, tuple[Simulator, Callable[[pd.DataFrame], MixedResults]]] = {
    "gaussian": (simulate_lmm, lambda d: lmer(FORMULA, d)),
    "binomial": (simulate_glmm, lambda d: glmer(GLMM_FORMULA, d)),
    "ordinal": (simulate_clmm, lambda d: clmm(GLMM_FORMULA, d)),
}


def _r_fits(frames: list[pd.DataFrame], family: str, workdir: Path) -> list[dict[str, float]]:
    csv = workdir / f"{family}.csv"
    pd.concat([f.assign(sim=k) for k, f in enumerate(frames)]).to_csv(csv, index=False)
    script = workdir / "fit.R"
    script.write_text(R_SCRIPT)
    run = subprocess.run(["Rscript", str(script), str(csv), family], capture_output=True,
                         text=True, check=True)
    # split() orders the sims as factor levels of an integer column: numerically.
    return list(json.loads(run.stdout))


def compare(family: str, n: int, seed0: int, workdir: Path) -> dict[str, object]:
    """Counts for one family over ``n`` simulated data sets."""
    simulate, fit = FAMILIES[family]
    frames = [simulate(seed0 + k) for k in range(n)]
    ours = []
    for frame in frames:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours.append(fit(frame))
    ref = _r_fits(frames, family, workdir)
    gap = np.array([r["loglik"] - o.llf for o, r in zip(ours, ref, strict=True)])
    short = [seed0 + k for k in np.flatnonzero(gap > 1e-4)]
    return {
        "family": family, "fits": n,
        "short of R (>1e-4)": len(short), "worst gap": float(gap.max()),
        "ours above R (>1e-4)": int(np.sum(gap < -1e-4)),
        "singular ours": sum(o.singular for o in ours),
        "singular R": sum(bool(r["singular"]) for r in ref),
        "not converged ours": sum(not o.converged for o in ours),
        "short seeds": short[:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lmm", type=int, default=150)
    parser.add_argument("--glmm", type=int, default=150)
    parser.add_argument("--clmm", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family, n in [("gaussian", args.lmm), ("binomial", args.glmm),
                          ("ordinal", args.clmm)]:
            if n > 0:
                rows.append(compare(family, n, args.seed, Path(tmp)))
                print(rows[-1], flush=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(rows).set_index("family").to_string())


if __name__ == "__main__":
    main()
