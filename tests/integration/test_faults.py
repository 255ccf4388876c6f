"""Fault runs, small: each breaks one real process while bots play a study (or while a study
is prepared), then reconciles — every answer a bot was told was saved is in the export exactly
once, conditions stay balanced within one, explanations exist once each.

Each test runs one scenario of ``benchmarks/faults.py`` (``make faults`` runs them at launch
size) in its own process, on a database of its own next to ``DATABASE_URL``, and with a
private PostgreSQL cluster or Redis where the fault needs one: nothing here restarts or kills
the machine's shared services.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.faultkit.procs import missing_programs
from tests.layers import required

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BOTS = 20


def _run(scenario: str, *, postgres: bool = False, redis: bool = False) -> dict[str, Any]:
    """The scenario's report (its figures, notes and problems), run in a fresh process."""
    why = missing_programs(postgres=postgres, redis=redis)
    if why and required("REQUIRE_SERVICES"):
        pytest.fail(f"{scenario} is required here but {why}", pytrace=False)
    if why:
        pytest.skip(why)
    run = subprocess.Popen(
        [sys.executable, "benchmarks/faults.py", scenario, "--bots", str(BOTS), "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = run.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        run.terminate()  # the harness then stops its servers and drops its database
        stdout, stderr = run.communicate(timeout=120)
    lines = stdout.strip().splitlines()
    assert run.returncode in (0, 1) and lines, stderr[-4000:]
    return dict(json.loads(lines[-1]))


def _assert_reconciled(report: dict[str, Any]) -> None:
    assert report["problems"] == [], report
    assert report["bot_errors"] == [], report["bot_errors"]
    assert report["told_saved"] > 0
    assert report["in_export"] == report["told_saved"]
    assert report["duplicates"] == report["missing"] == report["unconfirmed"] == 0
    assert report["max_balance_diff"] <= 1


def test_killing_gunicorn_workers_mid_run_loses_and_repeats_no_answer():
    report = _run("gunicorn_kill")
    _assert_reconciled(report)
    assert report["completed"] == BOTS
    assert report["notes"]["workers_killed"] >= 1  # one a second while the bots played
    # Each kill waits for a worker serving a request (a random one is often idle between
    # requests of a few milliseconds), so the kills do land on requests in flight.
    assert report["notes"]["killed_while_idle"] < report["notes"]["workers_killed"]
    assert report["client_retries"] >= 1


def test_a_postgresql_restart_mid_run_shows_503s_that_retried_answers_survive():
    report = _run("pg_restart", postgres=True)
    _assert_reconciled(report)
    assert report["completed"] == BOTS
    assert report["retry_reasons"].get("503", 0) >= 1  # clients saw the outage as a 503


def test_redis_down_spares_pages_and_preparation_and_tells_the_researcher():
    report = _run("redis_down", redis=True)
    _assert_reconciled(report)  # includes: the interrupted preparation finished, no repeats
    assert report["client_retries"] == 0  # the cache outage is invisible to participants
    assert report["notes"]["researcher_prepare"]["status"] == 503
    assert report["notes"]["researcher_prepare"]["clear"]
    done, total = report["notes"]["preparation_at_kill"]
    assert 0 < done < total  # Redis went down mid-preparation ...
    assert report["notes"]["bots_running_at_kill"]  # ... and mid-run
    assert report["notes"]["worker_alive"] and report["notes"]["next_task_done"]


def test_a_celery_worker_killed_mid_preparation_leaves_each_explanation_once():
    report = _run("celery_kill", redis=True)
    assert report["problems"] == [], report
    explanations = report["notes"]["explanations"]
    assert explanations["preparation"] == "done"
    assert explanations["stored"] == explanations["expected"] > 0  # conditions x items
    assert explanations["repeated"] == 0
    assert [kill["killed"] for kill in report["notes"]["kills"]] == ["pool process",
                                                                      "whole worker"]
    assert report["notes"]["deliveries"] >= 3  # the first, after each kill


def test_clients_that_resend_double_submit_use_two_tabs_or_come_back_late_store_once():
    report = _run("client_misbehaviour")
    _assert_reconciled(report)
    notes = report["notes"]
    assert notes["told_timed_out"] == notes["timed_out_in_database"] == notes["late_bots"]
    assert notes["late_answers_stored"] == 0
    assert notes["repeated_answers_absorbed"] > BOTS  # the server did see the repeats
