"""On PostgreSQL through real HTTP: simultaneous arrivals balance, races store one answer,
and 200 bots with dropouts reconcile exactly with the export."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from studyapp.bots.reconcile import reconcile
from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.models import Participant, Response
from studyapp.services.exports import participant_pseudonym, study_export_files
from tests.factories import make_study

pytestmark = pytest.mark.integration


@pytest.fixture
def live_study(transactional_db, owner, settings):  # type: ignore[no-untyped-def]
    settings.ENROL_RATE_PER_MINUTE = 0
    return make_study(owner)


def _arrive_together(url: str, pids: list[str], workers: int) -> list[int]:
    barrier = threading.Barrier(min(workers, len(pids)))

    def arrive(pid: str) -> int:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        response = requests.get(url, params={"PROLIFIC_PID": pid, "STUDY_ID": "S",
                                             "SESSION_ID": "X"}, timeout=60)
        return response.status_code

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(arrive, pids))


def test_300_simultaneous_arrivals_end_balanced_within_one(live_server, live_study):
    url = f"{live_server.url}/s/{live_study.slug}/"
    statuses = _arrive_together(url, [f"{n:024x}" for n in range(300)], workers=48)
    assert Counter(statuses) == {200: 300}
    counts = Counter(Participant.objects.values_list("condition__name", flat=True))
    assert sum(counts.values()) == 300
    assert max(counts.values()) - min(counts.values()) <= 1, counts


def test_the_same_pid_arriving_twenty_times_at_once_is_one_participant(live_server,
                                                                       live_study):
    url = f"{live_server.url}/s/{live_study.slug}/"
    statuses = _arrive_together(url, ["5a3e00000000000000000001"] * 20, workers=20)
    assert set(statuses) == {200}
    assert Participant.objects.filter(external_id="5a3e00000000000000000001").count() == 1


def test_two_tabs_racing_the_same_answer_store_it_once(live_server, live_study):
    session = requests.Session()
    url = f"{live_server.url}/s/{live_study.slug}/"
    session.get(url, params={"PROLIFIC_PID": "4ace00000000000000000001", "STUDY_ID": "S",
                             "SESSION_ID": "X"})
    token = session.cookies["csrftoken"]
    for action, extra in [("consent", {"agree": "yes"}), ("instructions", {}),
                          ("comprehension", {q["id"]: q["answer"] for q in
                                             live_study.spec["comprehension"]["questions"]})]:
        session.post(url, data={"csrfmiddlewaretoken": token, "action": action, **extra},
                     headers={"Referer": url})
    answer = {"csrfmiddlewaretoken": token, "action": "answer", "trial_index": "0",
              "step": "final", "answer": live_study.answer_options[0]["value"],
              "confidence": "3"}
    barrier = threading.Barrier(10)

    def post(_: int) -> int:
        barrier.wait(timeout=5)
        return session.post(url, data=answer, headers={"Referer": url}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(post, range(10)))
    assert set(statuses) == {200}  # every tab lands on the next page
    racer = Participant.objects.get(external_id="4ace00000000000000000001")
    assert Response.objects.filter(trial__participant=racer).count() == 1
    assert racer.trial_pointer == 1


def test_200_bots_with_20_percent_dropout_reconcile_exactly_and_balance(live_server,
                                                                        live_study):
    config = bot_config(live_study, base_url=live_server.url, behaviour="planted", seed=7,
                        dropout=0.2, mischief=True)
    results = run_bots(config, 200, concurrency=8)
    summary = summarise(results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] + summary["dropped_out"] == 200
    assert 120 <= summary["completed"] <= 185
    trials_csv = study_export_files(study=live_study)["trials.csv"]
    assert reconcile(results, trials_csv,
                     lambda pid: participant_pseudonym(live_study, pid)) == []
    counts = Counter(Participant.objects.values_list("condition__name", flat=True))
    assert max(counts.values()) - min(counts.values()) <= 1, counts
