"""Preparation at scale: the same study prepared by 1 and by 2 Celery worker processes.

A synthetic 15-feature table (seeded; a gradient-boosting model trained on it by the
platform) and a pool of ``--items`` items, each explained by KernelSHAP. The chunks go through
real Celery workers on Redis against PostgreSQL; wall time runs from queueing the preparation
to the study showing "done" (so it includes each worker loading the scenario). Prints figures;
never asserts on time.

    .venv/bin/python benchmarks/bench_preparation.py                 # 1,000 items, 1 vs 2
    .venv/bin/python benchmarks/bench_preparation.py --items 100     # a quick check

The database is a fresh ``<name>_bench_preparation`` next to ``DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/explainlab), dropped afterwards; the broker is
``CELERY_BROKER_URL`` (default redis://127.0.0.1:6379/0). Worker logs: var/bench_preparation/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faultkit.procs import celery_worker_command  # noqa: E402
from tests.faultkit.stack import database_drop, database_recreate  # noqa: E402

FEATURES = 15
ROWS = 6000  # a quarter or more goes to the test split the pool is drawn from


def main() -> None:
    args = _arguments()
    logs = ROOT / "var" / "bench_preparation"
    logs.mkdir(parents=True, exist_ok=True)
    database_url = _bench_database(args.database_url)
    os.environ.update({"DATABASE_URL": database_url, "CELERY_BROKER_URL": args.broker_url,
                       "DJANGO_SETTINGS_MODULE": "studyapp.settings",
                       "CELERY_TASK_ALWAYS_EAGER": "0"})
    database_recreate(database_url)
    try:
        with tempfile.TemporaryDirectory() as material:
            spec_path = _synthetic_material(Path(material), args)
            times = {n: _prepare_with(n, spec_path, args, logs) for n in args.workers}
    finally:
        database_drop(database_url)
    _report(times, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk-size", type=int, default=20)
    parser.add_argument("--quality", choices=["basic", "full"], default="basic")
    parser.add_argument("--database-url", default=os.getenv(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/explainlab"))
    parser.add_argument("--broker-url", default=os.getenv("CELERY_BROKER_URL",
                                                          "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    if args.items < 16 or args.chunk_size < 1 or min(args.workers) < 1:
        parser.error("--items must be at least 16, --chunk-size and --workers at least 1")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL (workers share the database)")
    return args


def _bench_database(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "explainlab"
    return urlunsplit(parts._replace(path="/" + f"{name}_bench_preparation"[:63]))


def _synthetic_material(directory: Path, args: argparse.Namespace) -> Path:
    """A seeded table with 15 numeric features and a non-linear label, and its spec."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, FEATURES))
    logit = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + X[:, 3:8] @ rng.normal(size=5) \
        - 0.5 * X[:, 8] ** 2
    label = rng.random(ROWS) < 1 / (1 + np.exp(-logit))
    header = ",".join([f"x{j:02d}" for j in range(FEATURES)] + ["label"])
    rows = [",".join(f"{v:.5f}" for v in x) + f",{int(y)}" for x, y in zip(X, label, strict=True)]
    (directory / "synthetic15.csv").write_text("\n".join([header, *rows]) + "\n")
    spec = (ROOT / "examples" / "studies" / "own_material" / "tumours.yaml").read_text()
    spec = spec.replace("tumours/tumours.csv", "synthetic15.csv").replace(
        "  codebook: tumours/tumours.codebook.yaml\n", "").replace(
        "target: diagnosis", "target: label").replace("name: tumours", "name: synthetic15")
    spec = spec.replace("pool_size: 32", f"pool_size: {args.items}").replace(
        "{method: tree_shap, quality: basic}", f"{{method: kernel_shap, quality: {args.quality}}}")
    if "kernel_shap" not in spec or f"pool_size: {args.items}" not in spec:
        raise SystemExit("the tumours example spec changed shape; update this benchmark")
    path = directory / "bench.yaml"
    path.write_text(spec)
    return path


def _prepare_with(workers: int, spec_path: Path, args: argparse.Namespace, logs: Path) -> float:
    """Seconds from queueing the preparation to the study marked done, with ``workers``."""
    import django

    django.setup()
    from django.core.management import call_command

    from studyapp import tasks
    from studyapp.celery import app
    from studyapp.models import Study
    from studyapp.services import researchers, studies

    call_command("migrate", verbosity=0)
    owner = researchers.researcher_create(username=f"bench{workers}",
                                          password="bench-password-1")
    text = spec_path.read_text().replace("slug: own-tumours", f"slug: bench-{workers}-workers")
    study, _ = studies.study_load_spec(text=text, owner=owner, base_dir=spec_path.parent)
    app.control.purge()  # nothing left over from an interrupted run
    processes = _start_workers(workers, args, logs)
    try:
        start = time.perf_counter()
        tasks.prepare_study.delay(study.pk)
        while True:
            study.refresh_from_db()
            if study.preparation in (Study.Preparation.DONE, Study.Preparation.FAILED):
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - start
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    if study.preparation != Study.Preparation.DONE:
        raise SystemExit(f"{workers} worker(s): preparation failed: {study.preparation_error}")
    print(f"{workers} worker(s): {study.preparation_done} explanations in {seconds:.1f} s",
          flush=True)
    return seconds


def _start_workers(n: int, args: argparse.Namespace, logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "PREPARATION_CHUNK_SIZE": str(args.chunk_size),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    processes, paths = [], []
    for k in range(1, n + 1):
        path = logs / f"{n}-workers-{k}.log"
        with open(path, "wb") as log:
            processes.append(subprocess.Popen(
                celery_worker_command(hostname=f"bench{k}of{n}@%h"),
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        paths.append(path)
    deadline = time.monotonic() + 120
    while not all(" ready." in p.read_text(errors="replace") for p in paths):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise SystemExit(f"workers did not start; see {logs}")
        time.sleep(0.2)
    return processes


def _report(times: dict[int, float], args: argparse.Namespace) -> None:
    print(f"\n{args.items} items x KernelSHAP ({FEATURES} features, quality {args.quality}, "
          f"chunks of {args.chunk_size}), {os.cpu_count()} cores")
    base = times[min(times)]
    for workers, seconds in times.items():
        print(f"  {workers} worker(s): {seconds:7.1f} s   speed-up {base / seconds:4.2f}x")


if __name__ == "__main__":
    main()
