"""The fault scenarios. Each starts the real processes, breaks one thing while bots play a
study (or while a study is being prepared), and reports what the data looks like afterwards.

Needs Django set up on the run's own database (``benchmarks/faults.py`` does that).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from studyapp import tasks
from studyapp.bots.runner import BotConfig, BotResult, run_bots
from studyapp.celery import app as celery_app
from studyapp.management.commands.runbots import bot_config
from studyapp.middleware import BROKER_DOWN
from studyapp.models import Event, Participant, Response, Study
from studyapp.services import preparation, researchers, studies
from tests.factories import small_spec, to_yaml
from tests.faultkit.procs import (
    CeleryWorker,
    Gunicorn,
    PrivatePostgres,
    PrivateRedis,
    running,
    wait_until,
)
from tests.faultkit.report import FaultReport, bots_report, explanations_check
from tests.faultkit.stack import SCENARIOS

RESEARCHER = ("faults", "fault-runs-password-1")
# Preparation runs as chunk tasks spread over the workers: the kills hit a chunk.
PREPARE_TASK = "studyapp.tasks.prepare_chunk"
TRIALS_PER_BOT = 5  # small_spec: 4 trials and 1 attention check


@dataclass
class Run:
    """What a scenario is given: its size, where to log, its environment and services."""

    bots: int
    concurrency: int
    logs: Path
    env: dict[str, str]
    postgres: PrivatePostgres | None = None
    redis: PrivateRedis | None = None
    seed: int = 1
    down_seconds: float = 2.0


# ----- studies and bots ----------------------------------------------------------------------

def _owner() -> User:
    return researchers.researcher_create(username=RESEARCHER[0], password=RESEARCHER[1])


def _study(slug: str, spec: dict[str, Any] | None = None, *, ready: bool = True) -> Study:
    """A study from ``spec`` (small_spec by default); ``ready``: prepared here and open."""
    study, _ = studies.study_load_spec(text=to_yaml({**(spec or small_spec()), "slug": slug}),
                                       owner=_owner())
    if ready:
        preparation.study_prepare(study=study)
        studies.study_set_status(study=study, status="open")
    return study


def slow_spec() -> dict[str, Any]:
    """A study whose preparation lasts long enough to be interrupted: 32 items explained by
    LIME (with the full quality checks) and by TreeSHAP."""
    return small_spec(
        trials={"count": 4, "pool_size": 32, "attention_checks": 1},
        conditions=[{"name": "no_ai", "label": "No AI", "show_ai": False},
                    {"name": "ai_lime", "label": "AI + LIME",
                     "explanation": {"method": "lime", "quality": "full"}},
                    {"name": "ai_shap", "label": "AI + SHAP",
                     "explanation": {"method": "tree_shap"}}])


def _config(study: Study, base_url: str, run: Run, **extra: Any) -> BotConfig:
    return bot_config(study, base_url=base_url, behaviour="random", seed=run.seed,
                      dropout=0.0, mischief=True, **extra)


def _bots_during(config: BotConfig, run: Run, fault: Callable[[Future[Any]], None]
                 ) -> list[BotResult]:
    """Bots play in the background while ``fault`` (given their future) breaks something."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        bots = pool.submit(run_bots, config, run.bots, concurrency=run.concurrency)
        fault(bots)
        return bots.result()


def _answers(study: Study) -> int:
    return Response.objects.filter(trial__participant__study=study).count()


def _when_under_way(study: Study, run: Run, bots: Future[Any], share: float = 0.2) -> None:
    """Wait until bots have stored ``share`` of their answers (or have all finished)."""
    target = share * run.bots * TRIALS_PER_BOT
    wait_until(lambda: bots.done() or _answers(study) >= target, timeout=300,
               what=f"{share:.0%} of the bots' answers")


def _pause(seconds: float, bots: Future[Any] | None = None) -> None:
    """Sleep, but no longer than the bots take to finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (bots is not None and bots.done()):
        time.sleep(0.05)


# ----- a. gunicorn workers killed ----------------------------------------------------------

def gunicorn_kill(run: Run) -> FaultReport:
    """SIGKILL a gunicorn worker that is serving a request, about every second from a fifth
    of the way through the run until the bots finish (at most 30). The kill waits for a busy
    worker: a worker picked at random is often idle between requests of a few milliseconds
    (one CI run's random kills all missed), and a kill that lands on no request tests no
    retry."""
    study = _study("fault-gunicorn")
    kills: list[float] = []
    idle_kills = 0

    def fault(bots: Future[Any]) -> None:
        nonlocal idle_kills
        _when_under_way(study, run, bots)
        while not bots.done() and len(kills) < 30:
            pid = server.busy_worker(within=1.0)
            if pid is None:  # no request came in a whole second: kill one anyway
                pid = next(iter(server.worker_pids()), None)
                idle_kills += pid is not None
            if pid is not None:
                server.kill_worker(pid)
                kills.append(time.monotonic())
            _pause(1.0, bots)

    with Gunicorn(run.env, run.logs, workers=3) as server:
        results = _bots_during(_config(study, server.url, run), run, fault)
    report = bots_report("gunicorn_kill", study, results, faults=kills)
    report.notes["workers_killed"] = len(kills)
    report.notes["killed_while_idle"] = idle_kills
    return report


# ----- b. PostgreSQL restarted -------------------------------------------------------------

def pg_restart(run: Run) -> FaultReport:
    """Stop PostgreSQL (fast: sessions end, open transactions roll back) mid-run, keep it
    down a moment, start it again."""
    postgres = run.postgres
    assert postgres is not None, "pg_restart runs on a private cluster"
    study = _study("fault-postgres")
    times: dict[str, float] = {}

    def fault(bots: Future[Any]) -> None:
        _when_under_way(study, run, bots)
        times["stopped"] = time.monotonic()
        postgres.stop("fast")
        _pause(run.down_seconds)
        postgres.start()
        times["started"] = time.monotonic()

    with Gunicorn(run.env, run.logs, workers=3) as server:
        results = _bots_during(_config(study, server.url, run), run, fault)
    connection.close()  # this process's own connection went down with the server
    report = bots_report("pg_restart", study, results, faults=[times["stopped"]])
    if "started" in times:
        report.notes["database_down_seconds"] = round(times["started"] - times["stopped"], 2)
    return report


# ----- c. Redis down -----------------------------------------------------------------------

def redis_down(run: Run) -> FaultReport:
    """Kill Redis (the pages' cache and the task broker) while a worker prepares one study
    and bots play another; a researcher asks for a preparation meanwhile; then Redis comes
    back and the next task must run."""
    redis = run.redis
    assert redis is not None
    study, slow = _study("fault-redis"), _study("fault-redis-prepare", slow_spec(), ready=False)
    times: dict[str, float] = {}
    notes: dict[str, Any] = {}

    def fault(bots: Future[Any]) -> None:
        _when_under_way(study, run, bots, share=0.05)  # early: the preparation is running
        slow.refresh_from_db()
        notes["preparation_at_kill"] = [slow.preparation_done, slow.preparation_total]
        notes["bots_running_at_kill"] = not bots.done()
        times["killed"] = time.monotonic()
        redis.kill()
        notes["researcher_prepare"] = _researcher_prepares(server.url, slow)
        _pause(run.down_seconds, bots)
        redis.start()
        times["back"] = time.monotonic()
        wait_until(lambda: bool(celery_app.control.ping(timeout=0.5)), timeout=120,
                   what="the worker to reconnect to the broker")
        times["reconnected"] = time.monotonic()

    server, worker = Gunicorn(run.env, run.logs), CeleryWorker(run.env, run.logs, "worker")
    with running(server, worker):
        tasks.prepare_study.delay(slow.pk)
        wait_until(lambda: _preparing(slow), timeout=300, what="the preparation to start")
        results = _bots_during(_config(study, server.url, run), run, fault)
        # Chunks still queued died with Redis (it keeps nothing on disk here); the researcher,
        # told "try again" during the outage, presses Prepare again: only what is missing runs.
        if not _settles(lambda: _prepared(slow), seconds=30):
            notes["prepared_again"] = True
            tasks.prepare_study.delay(slow.pk)
        wait_until(lambda: _prepared(slow), timeout=600, what="the interrupted preparation")
        after = _study("fault-redis-after", ready=False)
        tasks.prepare_study.delay(after.pk)
        wait_until(lambda: _prepared(after), timeout=300, what="a task queued after Redis")
        notes["next_task_done"] = True
        notes["worker_alive"] = worker.process is not None and worker.process.poll() is None
    report = bots_report("redis_down", study, results, faults=[times["killed"]])
    report.notes.update(notes, interrupted_preparation=explanations_check(slow))
    # Participants saw nothing; recovery is the worker back on the broker after Redis is.
    report.recovery_seconds = round(times["reconnected"] - times["back"], 2)
    report.problems += _preparation_problems(explanations_check(slow)) + _outage_problems(notes)
    return report


def _outage_problems(notes: dict[str, Any]) -> list[str]:
    """Whether Redis really went down mid-run and mid-preparation, and what the researcher
    who pressed "prepare" meanwhile was told."""
    problems = []
    done, total = notes["preparation_at_kill"]
    if not 0 < done < total:
        problems.append(f"Redis went down outside the preparation ({done}/{total})")
    if not notes["bots_running_at_kill"]:
        problems.append("Redis went down after the bots had finished")
    if notes["researcher_prepare"]["status"] != 503 or not notes["researcher_prepare"]["clear"]:
        problems.append(f"broker down: the researcher saw {notes['researcher_prepare']}")
    return problems


def _preparing(study: Study) -> bool:
    study.refresh_from_db()
    return study.preparation_done >= 1


def _prepared(study: Study) -> bool:
    study.refresh_from_db()
    if study.preparation == Study.Preparation.FAILED:
        raise RuntimeError(f"preparation of {study.slug} failed: {study.preparation_error}")
    return study.preparation == Study.Preparation.DONE


def _researcher_prepares(base_url: str, study: Study) -> dict[str, Any]:
    """Log in as the researcher and press "prepare": what status and message come back."""
    browser = requests.Session()
    login = f"{base_url}/accounts/login/"
    browser.get(login, timeout=30)
    browser.post(login, data={"username": RESEARCHER[0], "password": RESEARCHER[1],
                              "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                 timeout=30)
    started = time.monotonic()
    answer = browser.post(f"{base_url}/r/{study.slug}/prepare",
                          data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                          timeout=60)
    return {"status": answer.status_code, "clear": BROKER_DOWN in answer.text,
            "seconds": round(time.monotonic() - started, 2)}


def _preparation_problems(check: dict[str, Any]) -> list[str]:
    problems = []
    if check["preparation"] != Study.Preparation.DONE:
        problems.append(f"preparation ended {check['preparation']}")
    if check["stored"] != check["expected"] or check["repeated"]:
        problems.append(f"explanations: {check}")
    return problems


# ----- d. Celery worker killed -------------------------------------------------------------

def celery_kill(run: Run) -> FaultReport:
    """Two workers; the one holding a preparation chunk loses its pool process (SIGKILL: the
    chunk is rejected and requeued at once), then whichever took it over is killed whole (it
    can hand nothing back: the chunk returns after the visibility timeout). The survivor must
    finish the preparation."""
    study = _study("fault-celery", slow_spec(), ready=False)
    kills: list[dict[str, Any]] = []
    workers = [CeleryWorker(run.env, run.logs, name) for name in ("a", "b")]
    with running(*workers):
        before = _deliveries(workers)
        tasks.prepare_study.delay(study.pk)
        holder = _next_holder(workers, before)
        wait_until(lambda: _explained(study) >= 1, timeout=300, what="a first explanation")
        before = _deliveries(workers)
        killed_at = time.monotonic()
        kills.append({"worker": holder.name, "killed": "pool process",
                      "pids": holder.kill_pool_process()})
        holder = _next_holder(workers, before)
        stored = _explained(study)
        wait_until(lambda: _explained(study) > stored, timeout=300,
                   what="the redelivered task to make progress")
        holder.kill()
        kills.append({"worker": holder.name, "killed": "whole worker"})
        wait_until(lambda: _prepared(study), timeout=600, what="the preparation to finish")
        deliveries = sum(_deliveries(workers).values())
    # Recovery: from the first kill until the preparation is complete.
    report = FaultReport(scenario="celery_kill",
                         recovery_seconds=round(time.monotonic() - killed_at, 2))
    check = explanations_check(study)
    report.notes.update(kills=kills, deliveries=deliveries, explanations=check)
    report.problems += _preparation_problems(check)
    if deliveries < 3:
        report.problems.append(f"the task was delivered {deliveries} times, expected 3")
    return report


def _settles(condition: Callable[[], bool], *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def _explained(study: Study) -> int:
    return int(explanations_check(study)["stored"])


def _deliveries(workers: list[CeleryWorker]) -> dict[str, int]:
    return {worker.name: worker.received(PREPARE_TASK) for worker in workers}


def _next_holder(workers: list[CeleryWorker], before: dict[str, int]) -> CeleryWorker:
    """Wait for the task's next delivery: the worker whose log shows it now holds the task."""
    def took_it() -> list[CeleryWorker]:
        return [w for w in workers if w.received(PREPARE_TASK) > before[w.name]]

    wait_until(lambda: bool(took_it()), timeout=300, what="the task's next delivery")
    return took_it()[0]


# ----- e. clients that misbehave -----------------------------------------------------------

def client_misbehaviour(run: Run) -> FaultReport:
    """Every POST sent twice, each trial answered in two tabs, the back button, double
    clicks; the first bots leave and come back after the time limit."""
    study = _study("fault-clients")
    late = max(2, run.bots // 10)
    with Gunicorn(run.env, run.logs, workers=3) as server:
        config = _config(study, server.url, run, retry_every_post=True, two_tabs=True,
                         late_bots=late, come_back_late=_time_limit_passes(study))
        results = run_bots(config, run.bots, concurrency=run.concurrency)
    report = bots_report("client_misbehaviour", study, results, faults=[])
    timed_out = Participant.objects.filter(study=study, status=Participant.Status.TIMED_OUT)
    report.notes.update(
        late_bots=late, told_timed_out=sum(r.timed_out for r in results),
        timed_out_in_database=timed_out.count(),
        late_answers_stored=Response.objects.filter(trial__participant__in=timed_out).count(),
        repeated_answers_absorbed=Event.objects.filter(participant__study=study,
                                                       kind="duplicate_answer").count())
    if report.notes["told_timed_out"] != late or report.notes["timed_out_in_database"] != late:
        report.problems.append(f"expected {late} timed-out participants: {report.notes}")
    if report.notes["late_answers_stored"]:
        report.problems.append("an answer sent after the time limit was stored")
    return report


def _time_limit_passes(study: Study) -> Callable[[str], None]:
    """Make a participant's time limit run out now (instead of waiting an hour)."""
    def come_back_late(external_id: str) -> None:
        Participant.objects.filter(study=study, external_id=external_id).update(
            deadline_at=timezone.now() - timedelta(seconds=1))
    return come_back_late


RUNNERS: dict[str, Callable[[Run], FaultReport]] = {
    "gunicorn_kill": gunicorn_kill,
    "pg_restart": pg_restart,
    "redis_down": redis_down,
    "celery_kill": celery_kill,
    "client_misbehaviour": client_misbehaviour,
}
assert set(RUNNERS) == set(SCENARIOS), "every scenario has a runner and a list of needs"
