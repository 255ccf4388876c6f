"""Launch-day load test: bots over real HTTP against gunicorn and PostgreSQL.

    .venv/bin/python benchmarks/loadtest.py [--participants 300] [--ramp 30] [--think 2 8]
        [--workers 4] [--threads 4] [--client-processes 4] [--port 8731] [--profile DIR]
        [--json PATH]                                                    # `make loadtest`

Takes ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/h_load), DROPS and
creates that database (refusing if it holds participants who are not bots, unless --force),
migrates it, and loads and prepares the demo study. Starts gunicorn (gthread workers, DEBUG
off), warms it up, runs one participant at a time alone (the floor), then N participants at
once: arriving over ``--ramp`` seconds and pausing ``--think`` seconds on each page. By
default a bot finishes the demo in about two minutes where a person takes about ten, so N
bots send the requests of about 5N people; ``--think 10 50`` is a person's pace (about 30 s a
page, ten minutes for the demo's 19 pages).

Prints per page type the count and p50/p95/p99 latency as the client saw it and as gunicorn
timed it, answers stored per second, the latency and the machine's load every 10 s, where
the CPU went (the machine may be shared: other work is named), and whether the export holds
every answer the bots were told was saved exactly once, with the conditions balanced within
one. A benchmark: it exits non-zero on lost answers, 5xx, retried requests or bot errors,
never on time. The machinery (database, gunicorn, CPU accounting, py-spy) is in
``loadserver.py``; the timed bots in ``studyapp/bots/load.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.loadserver import (  # noqa: E402 (after the path is set)
    CpuSnapshot,
    MachineSampler,
    Server,
    cpu_used,
    database_prepare,
    gunicorn,
    profiled,
    server_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/h_load"


# ----- the runs ----------------------------------------------------------------------------

def bot_config_for(study: Any, base_url: str, *, seed: int, think: tuple[float, float]) -> Any:
    """Planted-behaviour bots that behave (no mischief: a burst is people doing the study)
    and, like the page's script, log each explanation they are shown to the event API."""
    from dataclasses import replace

    from studyapp.management.commands.runbots import bot_config

    config = bot_config(study, base_url=base_url, behaviour="planted", seed=seed,
                        dropout=0.0, mischief=False)
    return replace(config, think_seconds=think, log_events=True, timeout=120.0)


def warm_up(config: Any, participants: int) -> list[Any]:
    """Untimed participants all at once, so that every worker thread has loaded its
    templates and opened its database connection before anything is timed."""
    from dataclasses import replace

    from studyapp.bots.runner import run_bots

    return run_bots(replace(config, think_seconds=(0.0, 0.0)), participants,
                    concurrency=participants, first=800_000)


def floor_run(config: Any, participants: int) -> Any:
    """The floor: participants one after another, each alone on the server, no pauses;
    None for none (``--floor 0``)."""
    from dataclasses import replace

    from studyapp.bots.load import load_run

    runs = [load_run(replace(config, think_seconds=(0.0, 0.0)), 1, first=900_000 + k)
            for k in range(participants)]
    if not runs:
        return None
    merged = runs[0]
    for run in runs[1:]:
        merged.results += run.results
        merged.samples += run.samples
        merged.wall_seconds += run.wall_seconds
        merged.client_cpu_seconds += run.client_cpu_seconds
    return merged


# ----- the report --------------------------------------------------------------------------

def report(title: str, run: Any, server: Server, cpu: dict[str, float],
           machine: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """Print one run's table and figures; return them for the JSON record."""
    from studyapp.bots.load import format_table

    stats = run.stats(server.server_seconds())
    print(f"\n== {title}")
    print(format_table(stats))
    print(f"answers stored: {run.answers} in {run.wall_seconds:.1f} s = "
          f"{run.answers_per_second:.1f} answers/s (peak over 5 s: "
          f"{run.peak_answers_per_second():.1f}/s); peak concurrency {run.peak_concurrency}")
    if machine is not None:
        _print_over_time(run, machine)
    if cpu:
        print("CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    return {"participants": run.participants, "wall_seconds": run.wall_seconds,
            "answers": run.answers, "answers_per_second": run.answers_per_second,
            "peak_answers_per_second": run.peak_answers_per_second(),
            "peak_concurrency": run.peak_concurrency, "cpu_seconds": cpu,
            "pages": [asdict(s) for s in stats]}


def _print_over_time(run: Any, machine: list[tuple[float, float]]) -> None:
    """Per 10 s of the run: trial page and answer p95, and how busy the machine was (and
    how much of it was gunicorn), so a slow moment can be told from a slow server."""
    print(f"{'every 10 s':<20}" + "".join(f"{t:>6.0f}s" for t, _, _ in
                                          run.p95_over_time(("trial GET", "answer POST"))))
    print(f"{'trial+answer p95 ms':<20}" + "".join(
        f"{p95:>7.0f}" for _, _, p95 in run.p95_over_time(("trial GET", "answer POST"))))
    print(f"{'machine busy %':<20}" + "".join(f"{100 * b:>7.0f}" for b, _ in machine))
    print(f"{'  of it gunicorn %':<20}" + "".join(f"{100 * g:>7.0f}" for _, g in machine))


def verdict(figures: dict[str, Any], target_ms: float) -> str:
    """The launch target, as the participants would feel it (client-side p95)."""
    p95 = {p["page_type"]: p["client"]["p95"] for p in figures["pages"]}
    parts = [f"{name} p95 {p95[name]:.0f} ms" for name in ("trial GET", "answer POST")
             if name in p95]
    met = all(p95.get(name, 0) < target_ms for name in ("trial GET", "answer POST"))
    return f"target p95 < {target_ms:.0f} ms: {'met' if met else 'NOT met'} ({', '.join(parts)})"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    database_url = os.getenv("DATABASE_URL") or DEFAULT_DATABASE_URL
    enrol_rate = max(120, 4 * args.participants)
    os.environ.update(server_env(database_url, enrol_rate=enrol_rate))
    import django

    django.setup()
    from django.conf import settings

    from studyapp.bots.load import load_run
    from studyapp.models import Study

    print(f"database {database_url}: drop, create, migrate, load and prepare the demo study")
    database_prepare(database_url, force=args.force)
    study = Study.objects.get(slug="demo")
    log_dir = ROOT / "var" / "loadtest"  # the last run's logs (gunicorn access and errors)
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    _print_setup(args, enrol_rate, log_dir)
    figures: dict[str, Any] = {"participants": args.participants, "ramp": args.ramp,
                               "think": args.think, "workers": args.workers,
                               "threads": args.threads}
    with gunicorn(dict(os.environ), port=args.port, workers=args.workers,
                  threads=args.threads, log_dir=log_dir) as server:
        config = bot_config_for(study, server.base_url, seed=args.seed,
                                think=tuple(args.think))
        warm = warm_up(config, args.workers * args.threads)
        print(f"warm-up: {len(warm)} participants at once, not timed")
        floor = floor_run(config, args.floor)
        if floor is not None:
            figures["floor"] = report(f"floor: {args.floor} participants, one at a time, "
                                      "alone", floor, server, {})
        before = CpuSnapshot.take()
        with profiled(server, args.profile), MachineSampler(server) as machine:
            load = load_run(config, args.participants, ramp_seconds=args.ramp,
                            processes=args.client_processes)
        cpu, others = cpu_used(before, CpuSnapshot.take(), server=server,
                               database=str(settings.DATABASES["default"]["NAME"]),
                               client=load.client_cpu_seconds)
        figures["load"] = report(f"load: {args.participants} participants at once", load,
                                 server, cpu, machine.shares)
        _warn_if_shared(cpu, others)
        server_errors = server.server_errors()
    floor_results = floor.results if floor is not None else []
    return _check(study, warm + floor_results + load.results, server_errors, figures, args)


def _print_setup(args: argparse.Namespace, enrol_rate: int, log_dir: Path) -> None:
    print(f"gunicorn gthread {args.workers} workers x {args.threads} threads, DEBUG off, "
          f"port {args.port}; logs in {log_dir}")
    print(f"enrolment rate limit raised to {enrol_rate}/min per address (one address sends "
          f"the burst); cache {os.getenv('CACHE_URL') or 'local memory (per worker)'}")
    print(f"bots: planted answers, no mischief, no dropout, explanation views logged; "
          f"{args.participants} arriving over {args.ramp:g} s, pausing "
          f"{args.think[0]:g}-{args.think[1]:g} s per page; threads in "
          f"{args.client_processes} client processes")


def _warn_if_shared(cpu: dict[str, float], others: list[tuple[float, str]]) -> None:
    """Say so when other work took a noticeable share of the machine during the run: the
    figures under load are then pessimistic for a server of its own."""
    share = cpu["everything else"] / max(cpu["machine capacity"], 1e-9)
    if share > 0.1:
        print(f"NOTE: {100 * share:.0f}% of the machine went to other work during the run; "
              "busiest other processes: "
              + ("; ".join(f"{t} ({c:.0f} s)" for c, t in others) or "ended before the end"))


def _check(study: Any, results: list[Any], server_errors: int, figures: dict[str, Any],
           args: argparse.Namespace) -> int:
    """Print and record correctness (the run fails on these, never on time)."""
    from studyapp.bots.load import condition_counts, export_problems
    from studyapp.bots.runner import summarise

    summary = summarise(results)
    problems = export_problems(study, results)
    retries = sum(len(r.retries) for r in results)  # warm-up, floor and load
    print(f"\n{verdict(figures['load'], 100.0)}")
    print(f"bots: {summary['completed']}/{summary['bots']} completed, "
          f"{summary['with_errors']} with errors, {summary['answers']} answers confirmed; "
          f"5xx sent by the server: {server_errors}; requests sent again: {retries}")
    print(f"export: {'every confirmed answer exactly once' if not problems else problems[:10]}"
          f"; conditions {condition_counts(study)}")
    figures.update(summary=summary, export_problems=problems, server_errors=server_errors,
                   retries=retries)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    failed = problems or summary["with_errors"] or server_errors or retries
    return 1 if failed else 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which they arrive")
    parser.add_argument("--think", type=float, nargs=2, default=[2.0, 8.0],
                        metavar=("MIN", "MAX"), help="seconds a bot pauses on each page")
    parser.add_argument("--floor", type=int, default=5,
                        help="participants run one at a time first (the floor)")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="client processes the bots are shared among")
    # 4 x 4 on 2 cores: processes share the CPUs through the kernel's scheduler, while the
    # threads of one process queue for its interpreter lock after every database round trip
    # (measured here: trial page p95 about 50 ms with 4 x 4, 65-120 ms with 2 x 8).
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of the workers here")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--force", action="store_true",
                        help="drop the database even if it holds non-bot participants")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
