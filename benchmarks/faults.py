"""Fault runs: break one thing while bots play a study, then reconcile the data.

Each scenario starts the real processes — gunicorn (sync workers, DEBUG off), Celery workers,
and, where the fault needs it, a private PostgreSQL cluster or Redis on free ports — breaks
one of them mid-run, and prints what the export looks like afterwards: every answer a bot was
told was saved must be there exactly once, conditions must stay balanced within one, and a
prepared study must hold each explanation once. Prints figures; never asserts on time.

    .venv/bin/python benchmarks/faults.py all --bots 100        # `make faults`
    .venv/bin/python benchmarks/faults.py pg_restart --bots 20 --json

Scenarios: gunicorn_kill, pg_restart, redis_down, celery_kill, client_misbehaviour. The
database is a fresh ``<name>_faults_<scenario>`` next to ``DATABASE_URL`` (dropped afterwards),
or a private cluster when ``DATABASE_URL`` is unset and always for pg_restart. Logs go to
``var/faults/<scenario>/``. Exit status 1 when a run did not reconcile.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faultkit.procs import PrivatePostgres, PrivateRedis, missing_programs  # noqa: E402
from tests.faultkit.stack import (  # noqa: E402
    SCENARIOS,
    Needs,
    database_drop,
    database_recreate,
    database_url_for,
    server_env,
)

ROWS = [("bots", "bots"), ("completed", "bots completed"),
        ("told_saved", "answers told saved"), ("in_export", "answers in export"),
        ("duplicates", "duplicates"), ("missing", "missing"),
        ("unconfirmed", "exported, never confirmed"),
        ("max_balance_diff", "max balance difference"),
        ("client_retries", "client errors retried"), ("recovery_seconds", "recovery (s)")]


def run_here(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One scenario in this process: its database, services and Django, then the run."""
    needs = SCENARIOS[name]
    private = needs.private_postgres or not args.database_url.startswith(
        ("postgres://", "postgresql://"))
    why = missing_programs(postgres=private, redis=needs.redis)
    if why:
        raise SystemExit(f"{name}: cannot run here: {why}")
    logs = ROOT / "var" / "faults" / name
    shutil.rmtree(logs, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"faults-{name}-") as tmp, \
            contextlib.ExitStack() as stack:
        postgres = None
        if private:
            postgres = stack.enter_context(PrivatePostgres())
            database_url = postgres.url("explainlab")
        else:
            database_url = database_url_for(args.database_url, name)
        database_recreate(database_url)
        stack.callback(database_drop, database_url)
        redis = stack.enter_context(PrivateRedis(Path(tmp) / "redis")) if needs.redis else None
        env = _environment(needs, database_url, redis)
        report = _run_with_django(name, args, env, logs, postgres, redis, stack)
    report["title"] = needs.title
    report["logs"] = str(logs.relative_to(ROOT))
    return report


def _environment(needs: Needs, database_url: str, redis: PrivateRedis | None
                 ) -> dict[str, str]:
    return server_env(database_url=database_url,
                      broker_url=redis.url(0) if redis is not None else "",
                      cache_url=redis.url(1) if redis is not None and needs.cache else "",
                      # With the cache in play, every enrolment touches it (never limiting).
                      enrol_rate=1_000_000 if needs.cache else 0,
                      visibility_timeout=needs.visibility_timeout)


def _run_with_django(name: str, args: argparse.Namespace, env: dict[str, str], logs: Path,
                     postgres: PrivatePostgres | None, redis: PrivateRedis | None,
                     stack: contextlib.ExitStack) -> dict[str, Any]:
    os.environ.update(env)
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    stack.callback(connections.close_all)  # before the database is dropped
    from tests.faultkit.scenarios import RUNNERS, Run

    run = Run(bots=args.bots, concurrency=args.concurrency, logs=logs, env=env,
              postgres=postgres, redis=redis, seed=args.seed,
              down_seconds=args.down_seconds)
    return dataclasses.asdict(RUNNERS[name](run))


def run_each(names: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every scenario in a process of its own (Django's settings are fixed per process)."""
    reports = []
    for name in names:
        command = [sys.executable, str(Path(__file__).resolve()), name, "--json",
                   "--bots", str(args.bots), "--concurrency", str(args.concurrency),
                   "--seed", str(args.seed), "--down-seconds", str(args.down_seconds)]
        print(f"running {name} ...", file=sys.stderr, flush=True)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        try:
            reports.append(json.loads(done.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            reports.append({"scenario": name, "title": SCENARIOS[name].title,
                            "problems": [f"the run failed (exit {done.returncode}): "
                                         f"{done.stderr.strip()[-2000:]}"]})
    return reports


def print_report(report: dict[str, Any]) -> None:
    print(f"\n{report['scenario']}: {report.get('title', '')}")
    for key, label in ROWS:
        value = report.get(key)
        if value is not None and (report.get("bots") or key == "recovery_seconds"):
            print(f"  {label:<28} {value}")
    if report.get("retry_reasons"):
        print(f"  {'retried because':<28} {report['retry_reasons']}")
    for key, value in report.get("notes", {}).items():
        print(f"  {key:<28} {value}")
    verdict = "reconciled" if not report.get("problems") else "PROBLEMS"
    print(f"  {'verdict':<28} {verdict}")
    for problem in report.get("problems", []) + report.get("bot_errors", [])[:5]:
        print(f"    - {problem}")


def print_summary(reports: list[dict[str, Any]]) -> None:
    """One table for the README: scenarios as columns."""
    print("\n| | " + " | ".join(r["scenario"] for r in reports) + " |")
    print("|---" * (len(reports) + 1) + "|")
    for key, label in ROWS:
        cells = [_cell(r.get(key) if r.get("bots") or key == "recovery_seconds" else None)
                 for r in reports]
        print(f"| {label} | " + " | ".join(cells) + " |")
    cells = [_explanations(r.get("notes", {})) for r in reports]
    print("| explanations stored / needed (twice) | " + " | ".join(cells) + " |")


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def _explanations(notes: dict[str, Any]) -> str:
    """A preparation interrupted by the fault: what it stored against what it needed."""
    check = notes.get("explanations") or notes.get("interrupted_preparation")
    if not check:
        return "—"
    return f"{check['stored']} / {check['expected']} ({check['repeated']})"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=[*SCENARIOS, "all"])
    parser.add_argument("--bots", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--down-seconds", type=float, default=2.0,
                        help="how long PostgreSQL / Redis stay down")
    parser.add_argument("--database-url", default=os.getenv("DATABASE_URL", ""),
                        help="server for the run's databases (default: $DATABASE_URL; "
                             "unset: a private cluster)")
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Stopped from outside (a CI timeout): still stop the servers and drop the database.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(f"stopped by signal {number}"))
    if args.scenario == "all":
        reports = run_each(list(SCENARIOS), args)
        for report in reports:
            print_report(report)
        print_summary(reports)
    else:
        reports = [run_here(args.scenario, args)]
        if args.json:
            print(json.dumps(reports[0]))
        else:
            print_report(reports[0])
    return 1 if any(r.get("problems") for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
