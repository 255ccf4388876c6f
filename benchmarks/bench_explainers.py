"""Benchmark the tabular explainers. Prints figures; never asserts on time.

Part 1 precomputes a 200-item study the way the prepare task does: every tabular method
(lime, kernel_shap, tree_shap, anchors, random_attribution) for every item, with the quality
metrics a study stores (deletion/insertion, faithfulness, model randomisation), spread over
the machine's cores; seed agreement and max-sensitivity are measured on a 20-item subsample.
Part 2 compares our KernelSHAP and LIME with the ``shap`` and ``lime`` packages side by side
at equal accuracy and prints the time ratio.

    .venv/bin/python benchmarks/bench_explainers.py [--items 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explainers import Feature, TabularDataset, explain
from explainers._common import attribution_vector
from explainers.quality import score_explanation

# The study's method settings. kernel_shap uses our estimator with 1024 coalitions, which part 2
# shows is as accurate as shap.KernelExplainer at its default 2*d + 2048 (see the printout).
STUDY_METHODS: dict[str, dict[str, Any]] = {
    "lime": {},
    "kernel_shap": {"engine": "own", "nsamples": 1024},
    "tree_shap": {},
    "anchors": {},
    "random_attribution": {},
}
STUDY_CHECKS = ("deletion", "faithfulness", "randomisation")


@dataclass
class Scenario:
    name: str
    dataset: TabularDataset
    X_test: np.ndarray
    model: Any


def load() -> Scenario:
    """The Adult GBM scenario, or breast cancer + GBM while it does not exist yet."""
    try:
        from experiments.scenarios import load_scenario

        s = load_scenario("adult", model="gbm", random_state=0)
        assert isinstance(s.dataset, TabularDataset)
        return Scenario("adult/gbm", s.dataset, np.asarray(s.X_test, dtype=float), s.model)
    except Exception as error:  # the scenario is built by another helper; fall back loudly
        print(f"NOTE: Adult scenario unavailable ({error!r}); using breast_cancer + GBM")
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import GradientBoostingClassifier

        data = load_breast_cancer()
        features = tuple(Feature(str(n)) for n in data.feature_names)
        dataset = TabularDataset(data.data[:400], features, tuple(data.target_names),
                                 y=data.target[:400])
        model = GradientBoostingClassifier(random_state=0).fit(data.data[:400], data.target[:400])
        return Scenario("breast_cancer/gbm", dataset, data.data[400:], model)


SCENARIO: Scenario | None = None  # set before the worker processes fork


def explain_item(index: int) -> dict[str, Any]:
    """Every study method, with its quality metrics, for one item; per-method seconds."""
    assert SCENARIO is not None
    s = SCENARIO
    x = s.X_test[index]
    out: dict[str, Any] = {"seconds": {}, "cpu": {}, "metrics": {}}
    for method, params in STUDY_METHODS.items():
        start, cpu = time.perf_counter(), time.process_time()
        e = explain(method, s.model, x, dataset=s.dataset, random_state=index, **params)
        score_explanation(e, s.model, x, s.dataset, random_state=index, checks=STUDY_CHECKS)
        out["seconds"][method] = time.perf_counter() - start
        out["cpu"][method] = time.process_time() - cpu
        out["metrics"][method] = dict(e.metrics)
        e.to_json()  # what the prepare task stores; fails loudly on a non-JSON value
    return out


def robustness_item(index: int) -> dict[str, dict[str, float]]:
    """Seed agreement (5 seeds) and max-sensitivity (5 neighbours), per method, one item."""
    assert SCENARIO is not None
    s = SCENARIO
    x = s.X_test[index]
    scores = {}
    for method, params in STUDY_METHODS.items():
        e = explain(method, s.model, x, dataset=s.dataset, random_state=index, **params)
        checks = ("seeds",) if method == "anchors" else ("seeds", "stability")
        scores[method] = score_explanation(e, s.model, x, s.dataset, random_state=index,
                                           checks=checks, stability_samples=5)
    return scores


def summarise(rows: list[dict[str, float]]) -> str:
    keys = sorted({k for r in rows for k in r})
    return "  ".join(f"{k}={np.mean([r[k] for r in rows if k in r]):.3f}" for k in keys)


def part_one(items: int, workers: int) -> None:
    assert SCENARIO is not None
    n = min(items, len(SCENARIO.X_test))
    print(f"\n== Part 1: precompute a {n}-item study on {SCENARIO.name} with {workers} workers")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(explain_item, range(n), chunksize=4))
    wall = time.perf_counter() - start
    cpu_total = sum(sum(r["cpu"].values()) for r in results)
    print(f"wall time: {wall:.1f} s for {n} items x {len(STUDY_METHODS)} methods "
          f"(+ {', '.join(STUDY_CHECKS)}); CPU time {cpu_total:.1f} s, i.e. about "
          f"{cpu_total / workers:.1f} s wall on {workers} otherwise idle cores")
    per_method = defaultdict(list)
    cpu = defaultdict(list)
    metrics = defaultdict(list)
    for r in results:
        for method, seconds in r["seconds"].items():
            per_method[method].append(seconds)
            cpu[method].append(r["cpu"][method])
            metrics[method].append(r["metrics"][method])
    for method, seconds in per_method.items():
        print(f"  {method:<19} CPU {np.sum(cpu[method]):6.1f} s; per item wall "
              f"{1000 * np.median(seconds):5.0f} ms median, {1000 * np.max(seconds):5.0f} ms max")
    print("quality (mean over items):")
    for method, rows in metrics.items():
        print(f"  {method:<19} {summarise(rows)}")
    sub = list(range(min(20, n)))
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        robust = list(pool.map(robustness_item, sub))
    print(f"robustness on {len(sub)} items ({time.perf_counter() - start:.1f} s):")
    for method in STUDY_METHODS:
        print(f"  {method:<19} {summarise([r[method] for r in robust])}")


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def kernel_comparison(items: int = 8, background_size: int = 50) -> None:
    """Our KernelSHAP vs shap.KernelExplainer against exact Shapley values (full enumeration)."""
    assert SCENARIO is not None
    s = SCENARIO
    d = s.dataset.X.shape[1]
    rows = s.X_test[:items]
    print(f"\n== Part 2a: KernelSHAP, {items} items, {background_size} background rows, d={d}")
    if 2**d > 20000:
        print(f"  (d={d}: exact enumeration too costly; reference = ours with 20000 coalitions)")

    def run(engine: str, nsamples: int | str, x: np.ndarray) -> np.ndarray:
        e = explain("kernel_shap", s.model, x, dataset=s.dataset, random_state=1, engine=engine,
                    nsamples=nsamples, background_size=background_size)
        return attribution_vector(e)

    exact = [run("own", min(2**d, 20000), x) for x in rows]

    def measure(engine: str, nsamples: int | str) -> tuple[float, float]:
        values, seconds = timed(lambda: [run(engine, nsamples, x) for x in rows])
        error = float(np.mean([np.abs(v - t).mean() for v, t in zip(values, exact, strict=True)]))
        return error, seconds / items

    shap_error, shap_seconds = measure("shap", "auto")
    print(f"  shap.KernelExplainer (l1_reg=False, nsamples=2d+2048): "
          f"error {shap_error:.2e}, {1000 * shap_seconds:.0f} ms/item")
    chosen = None
    for nsamples in (128, 256, 512, 1024, 2 * d + 2048):
        error, seconds = measure("own", nsamples)
        print(f"  ours, nsamples={nsamples:<5}: error {error:.2e}, {1000 * seconds:.0f} ms/item")
        if chosen is None and error <= shap_error * 1.05 + 1e-6:
            chosen = (nsamples, seconds)
    if chosen:
        print(f"  equal accuracy: ours at nsamples={chosen[0]} is "
              f"{shap_seconds / chosen[1]:.1f}x faster than shap's default")
    _, same_seconds = measure("own", 2 * d + 2048)
    print(f"  equal budget (2d+2048): time ratio shap/ours = {shap_seconds / same_seconds:.1f}x")


def lime_comparison(items: int = 8, num_samples: int = 5000) -> None:
    """Our LIME vs the lime package: time, agreement, and seed-to-seed error of each."""
    from lime.lime_tabular import LimeTabularExplainer
    from scipy.stats import spearmanr

    assert SCENARIO is not None
    s = SCENARIO
    d = s.dataset.X.shape[1]
    rows = s.X_test[:items]
    print(f"\n== Part 2b: LIME, {items} items, {num_samples} samples, quartiles, "
          "width 0.75 sqrt(d)")
    package = LimeTabularExplainer(
        s.dataset.X, categorical_features=s.dataset.categorical_indices, discretizer="quartile",
        kernel_width=0.75 * np.sqrt(d), random_state=0,
    )

    def theirs(x: np.ndarray, target: int, seed: int) -> np.ndarray:
        package.random_state = np.random.RandomState(seed)
        e = package.explain_instance(x, s.model.predict_proba, labels=(target,),
                                     num_features=d, num_samples=num_samples)
        weights = dict(e.as_map()[target])
        return np.array([weights[j] for j in range(d)])

    def ours(x: np.ndarray, seed: int) -> np.ndarray:
        e = explain("lime", s.model, x, dataset=s.dataset, random_state=seed,
                    num_samples=num_samples)
        return attribution_vector(e)

    targets = [int(np.argmax(s.model.predict_proba(x[None, :]))) for x in rows]
    ours_a, t_ours = timed(lambda: [ours(x, 0) for x in rows])
    pairs = list(zip(rows, targets, strict=True))
    theirs_a, t_theirs = timed(lambda: [theirs(x, t, 0) for x, t in pairs])
    ours_b = [ours(x, 1) for x in rows]
    theirs_b = [theirs(x, t, 1) for x, t in zip(rows, targets, strict=True)]

    def spread(a: list[np.ndarray], b: list[np.ndarray]) -> float:
        return float(np.mean([np.abs(u - v).mean() for u, v in zip(a, b, strict=True)]))

    agreement = np.mean([spearmanr(u, v).statistic for u, v in zip(ours_a, theirs_a, strict=True)])
    print(f"  ours: {1000 * t_ours / items:.0f} ms/item, seed-to-seed error "
          f"{spread(ours_a, ours_b):.2e}")
    print(f"  lime: {1000 * t_theirs / items:.0f} ms/item, seed-to-seed error "
          f"{spread(theirs_a, theirs_b):.2e}")
    print(f"  rank agreement ours vs lime (Spearman): {agreement:.2f}; "
          f"time ratio lime/ours = {t_theirs / t_ours:.1f}x")


def main() -> None:
    global SCENARIO
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    SCENARIO, seconds = timed(load)
    print(f"loaded {SCENARIO.name}: {SCENARIO.dataset.X.shape[0]} background rows, "
          f"{SCENARIO.dataset.X.shape[1]} features ({seconds:.1f} s, not counted below)")
    explain("tree_shap", SCENARIO.model, SCENARIO.X_test[0], dataset=SCENARIO.dataset)  # imports
    part_one(args.items, args.workers)
    kernel_comparison()
    lime_comparison()


if __name__ == "__main__":
    main()
