"""Mixed-model timing and agreement: ``python -m analysis fit`` against R, whole process.

Each case is written to one CSV; then ``python -m analysis fit ... --json`` and ``Rscript``
with lme4 (lmer, glmer) or ordinal::clmm (the Likert row) each run from start-up to printed
result on it, alternately, ``--repeats`` times; the fastest run of each counts. Start-up and
import time are included because that is what a researcher waits for. Columns: wall and CPU
seconds, R/ours ratios, our log-likelihood minus R's (>= 0 up to R's tolerances means we
reached the optimum), and the largest differences in estimates, SEs and SDs from R's.
A second table times the fit alone in-process against statsmodels MixedLM.

    .venv/bin/python benchmarks/bench_mixed.py [--quick] [--no-r] [--repeats 3] [--no-power]

A benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.mixed import MixedResults, clmm, glmer, lmer
from analysis.power import LogisticDesign, simulate_power

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "analysis" / "fixtures"


# ----- data ---------------------------------------------------------------------------------
def insteval_like(seed: int = 1, n_students: int = 2972, n_instructors: int = 1128,
                  n_rows: int = 73421) -> pd.DataFrame:
    """Ratings of instructors by students, crossed, shaped like lme4's InstEval."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, n_students, n_rows)
    d = rng.integers(0, n_instructors, n_rows)
    dept = rng.integers(0, 14, n_instructors)[d]
    service = rng.integers(0, 2, n_rows)
    y = (3.2 + 0.1 * service + 0.05 * (dept % 5) + rng.normal(0, 0.32, n_students)[s]
         + rng.normal(0, 0.52, n_instructors)[d] + rng.normal(0, 1.18, n_rows))
    return pd.DataFrame({"y": y, "s": [f"s{k}" for k in s], "d": [f"d{k}" for k in d],
                         "dept": [f"t{k:02d}" for k in dept], "service": service.astype(str)})


def crossed_logistic(seed: int = 1, n_participants: int = 1000,
                     n_items: int = 40) -> pd.DataFrame:
    """Participants x items; a within 0/1 predictor x with a random slope; a between condition."""
    rng = np.random.default_rng(seed)
    p = np.repeat(np.arange(n_participants), n_items)
    i = np.tile(np.arange(n_items), n_participants)
    condition = np.where(p % 2 == 0, "ai", "control")
    x = rng.integers(0, 2, len(p)).astype(float)
    eta = (0.3 + 0.4 * (condition == "ai") + 0.5 * x + rng.normal(0, 0.8, n_participants)[p]
           + rng.normal(0, 0.5, n_participants)[p] * x + rng.normal(0, 0.6, n_items)[i])
    correct = (rng.random(len(p)) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"correct": correct, "participant": [f"p{k}" for k in p],
                         "item": [f"i{k}" for k in i], "condition": condition, "x": x})


def likert(seed: int = 1, n_participants: int = 200, n_items: int = 20) -> pd.DataFrame:
    """1-5 ratings of items by participants in two between conditions (cumulative logit)."""
    rng = np.random.default_rng(seed)
    p = np.repeat(np.arange(n_participants), n_items)
    i = np.tile(np.arange(n_items), n_participants)
    condition = np.where(p % 2 == 0, "ai", "control")
    latent = (0.5 * (condition == "ai") + rng.normal(0, 1, n_participants)[p]
              + rng.normal(0, 0.5, n_items)[i] + rng.logistic(size=len(p)))
    return pd.DataFrame({"rating": 1 + np.searchsorted([-1.5, -0.5, 0.5, 1.5], latent),
                         "condition": condition, "participant": [f"p{k}" for k in p],
                         "item": [f"i{k}" for k in i]})


# ----- fitting ------------------------------------------------------------------------------
@dataclass
class Case:
    """One model on one data set."""

    name: str
    data: pd.DataFrame
    formula: str
    family: str  # "gaussian", "binomial" or "ordinal"
    r_formula: str
    statsmodels: Callable[[pd.DataFrame], float] | None = None
    note: str = ""


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _fit_in_process(case: Case) -> MixedResults:
    if case.family == "binomial":
        return glmer(case.formula, case.data)
    if case.family == "ordinal":
        return clmm(case.formula, case.data)
    return lmer(case.formula, case.data)


R_FIT = """
suppressMessages({library(lme4); library(ordinal); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
f <- as.formula(args[2])
if (args[3] == "ordinal") d[[all.vars(f)[1]]] <- factor(d[[all.vars(f)[1]]], ordered = TRUE)
fit <- switch(args[3], binomial = glmer(f, d, family = binomial),
              ordinal = clmm(f, data = d), lmer(f, d))
if (args[3] == "ordinal") {
  k <- length(fit$beta)
  out <- list(fixed = unname(fit$beta), se = unname(sqrt(diag(vcov(fit))))[length(fit$Theta) + 1:k],
              sdcor = unname(sqrt(unlist(VarCorr(fit)))))
} else {
  out <- list(fixed = unname(fixef(fit)), se = unname(sqrt(diag(as.matrix(vcov(fit))))),
              sdcor = as.data.frame(VarCorr(fit))$sdcor)
}
out$loglik <- as.numeric(logLik(fit))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


@dataclass
class Run:
    """One whole process: wall and CPU seconds, and what it printed."""

    wall: float
    cpu: float
    out: dict[str, Any]


def _process(command: list[str]) -> Run:
    """Run a command to completion; CPU is user + system time of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, dict(json.loads(done.stdout.strip().splitlines()[-1]
                                          if command[0] == "Rscript" else done.stdout)))


def _ours_command(case: Case, csv: Path) -> list[str]:
    return [sys.executable, "-m", "analysis", "fit", "--data", str(csv), "--formula",
            case.formula, "--family", case.family, "--json"]


def _r_command(case: Case, csv: Path, script: Path) -> list[str]:
    return ["Rscript", str(script), str(csv), case.r_formula, case.family]


def _whole_process_row(case: Case, workdir: Path, use_r: bool, repeats: int) -> dict[str, Any]:
    """Both programs from start-up to printed result on the same CSV, alternately, ``repeats``
    times each; the fastest run of each counts (the least disturbed by other load)."""
    csv = workdir / f"{case.name.replace(' ', '_')}.csv"
    case.data.to_csv(csv, index=False)
    script = workdir / "fit.R"
    script.write_text(R_FIT)
    ours_runs, r_runs = [], []
    for _ in range(repeats):
        ours_runs.append(_process(_ours_command(case, csv)))
        if use_r:
            r_runs.append(_process(_r_command(case, csv, script)))
    ours = min(ours_runs, key=lambda run: run.wall)
    row: dict[str, Any] = {"model": case.name, "rows": len(case.data), "ours_s": ours.wall,
                           "ours_cpu_s": min(run.cpu for run in ours_runs),
                           "converged": ours.out["converged"], "singular": ours.out["singular"]}
    if not r_runs:
        return row
    r = min(r_runs, key=lambda run: run.wall)
    row.update({"R_s": r.wall, "R/ours": r.wall / ours.wall,
                "R_cpu_s": min(run.cpu for run in r_runs)})
    row["R/ours cpu"] = row["R_cpu_s"] / row["ours_cpu_s"]
    row["llf-R"] = ours.out["loglik"] - r.out["loglik"]
    fixed = ours.out["fixed"]
    estimates = np.array([v["estimate"] for v in fixed.values()])
    se = np.array([v["se"] for v in fixed.values()])
    row["max|dβ|"] = float(np.max(np.abs(estimates - np.array(r.out["fixed"]))))
    row["max rel dse"] = float(np.max(np.abs(se - np.array(r.out["se"])) / np.array(r.out["se"])))
    sds = np.array([entry["sd_or_cor"] for entry in ours.out["random"]], dtype=float)
    row["max|dsd|"] = float(np.nanmax(np.abs(sds - np.array(r.out["sdcor"], dtype=float))))
    return row


def _statsmodels_sleepstudy(data: pd.DataFrame) -> float:
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, _ = _timed(lambda: smf.mixedlm("Reaction ~ Days", data, groups="Subject",
                                                 re_formula="~Days").fit(reml=True))
    return seconds


def _statsmodels_crossed(data: pd.DataFrame) -> float:
    """Crossed intercepts in MixedLM: one all-encompassing group, variance components."""
    import statsmodels.formula.api as smf

    frame = data.assign(one=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, _ = _timed(lambda: smf.mixedlm(
            "y ~ service * dept", frame, groups="one", re_formula="0",
            vc_formula={"s": "0 + C(s)", "d": "0 + C(d)"}).fit(reml=True))
    return seconds


# ----- report -------------------------------------------------------------------------------
def _statsmodels_row(case: Case) -> dict[str, Any]:
    """In-process fit times, ours against statsmodels MixedLM (where it has the model)."""
    assert case.statsmodels is not None
    seconds = min(_timed(lambda: _fit_in_process(case))[0] for _ in range(3))
    theirs = case.statsmodels(case.data)
    return {"model": case.name, "ours_fit_s": seconds, "statsmodels_s": theirs,
            "sm/ours": theirs / seconds}


def _cases(quick: bool) -> list[Case]:
    sleep = pd.read_csv(FIXTURES / "sleepstudy.csv")
    n_p = 300 if quick else 1000
    logistic = crossed_logistic(n_participants=n_p)
    inst = insteval_like(n_rows=20000, n_students=800, n_instructors=300) if quick \
        else insteval_like()
    small = insteval_like(seed=2, n_students=100, n_instructors=40, n_rows=2000)
    n_likert = 60 if quick else 200
    return [
        Case("sleepstudy LMM", sleep, "Reaction ~ Days + (Days | Subject)", "gaussian",
             "Reaction ~ Days + (Days | Subject)", _statsmodels_sleepstudy),
        Case(f"{n_p}x40 logistic (1|p)+(1|i)", logistic,
             "correct ~ condition + x + (1 | participant) + (1 | item)", "binomial",
             "correct ~ condition + x + (1 | participant) + (1 | item)",
             note="statsmodels has no Laplace binomial GLMM (BinomialBayesMixedGLM is "
                  "variational Bayes), so no statsmodels column"),
        Case(f"{n_p}x40 logistic (1+x|p)+(1|i)", logistic,
             "correct ~ condition + x + (1 + x | participant) + (1 | item)", "binomial",
             "correct ~ condition + x + (1 + x | participant) + (1 | item)"),
        Case("InstEval-like LMM", inst, "y ~ service * dept + (1 | s) + (1 | d)", "gaussian",
             "y ~ service * dept + (1 | s) + (1 | d)",
             note="statsmodels MixedLM is timed on the small crossed set only (next row)"),
        Case(f"{n_likert}x20 Likert CLMM (1|p)+(1|i)", likert(n_participants=n_likert),
             "rating ~ condition + (1 | participant) + (1 | item)", "ordinal",
             "rating ~ condition + (1 | participant) + (1 | item)",
             note="ordinal::clmm vs ours; statsmodels has no mixed ordinal model"),
        Case("small crossed LMM 100x40", small, "y ~ service * dept + (1 | s) + (1 | d)",
             "gaussian", "y ~ service * dept + (1 | s) + (1 | d)", _statsmodels_crossed),
    ]


def _power_benchmark(workers: int, quick: bool) -> None:
    design = LogisticDesign(n_participants=200, n_items=20, effect=0.4)
    n_sims = 40 if quick else 200
    seconds, result = _timed(lambda: simulate_power(design, n_sims=n_sims, seed=1,
                                                    workers=workers))
    print(f"\nPower: {n_sims} simulations of a 200-participant x 20-item logistic GLMM "
          f"(effect 0.4 log-odds, between) on {workers} worker(s): {seconds:.1f} s "
          f"({seconds / n_sims:.2f} s per simulation); power {result.power:.3f} "
          f"(MC SE {result.mc_se:.3f}), {result.n_failed} failed fits")


def _print(rows: list[dict[str, Any]]) -> None:
    table = pd.DataFrame(rows).set_index("model")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(float_format=lambda v: f"{v:.3g}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer sims")
    parser.add_argument("--no-r", action="store_true", help="skip the lme4 column")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each whole process (the fastest counts)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-power", action="store_true", help="skip the power simulation")
    args = parser.parse_args()
    use_r = not args.no_r and shutil.which("Rscript") is not None
    if not use_r:
        print("R column skipped: Rscript not found (or --no-r)")
    cases = _cases(args.quick)
    print("Whole process, start-up to printed result (python -m analysis fit --json vs "
          f"Rscript + lme4/ordinal), fastest of {args.repeats}; seconds:")
    with tempfile.TemporaryDirectory() as tmp:
        _print([_whole_process_row(case, Path(tmp), use_r, args.repeats) for case in cases])
    for case in cases:
        if case.note:
            print(f"  note ({case.name}): {case.note}")
    print("\nIn-process fit only, ours vs statsmodels MixedLM:")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_in_process(cases[0])  # first-call costs are not the fit's
        _print([_statsmodels_row(case) for case in cases if case.statsmodels is not None])
    if not args.no_power:
        _power_benchmark(args.workers, args.quick)


if __name__ == "__main__":
    main()
