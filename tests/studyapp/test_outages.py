"""When a backing service is briefly gone: a 503 "please retry" page instead of a traceback,
a cache that degrades to empty, and bots that retry and misbehave without doubling answers.
(The same faults on real processes: tests/integration/test_faults.py.)"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from studyapp import tasks
from studyapp.bots.runner import run_bots, summarise
from studyapp.bots.transport import Retry, send_retrying
from studyapp.cache import ForgivingRedisCache
from studyapp.management.commands.runbots import bot_config
from studyapp.middleware import BROKER_DOWN, DATABASE_DOWN
from studyapp.models import Participant, Response
from studyapp.services.exports import participant_pseudonym, study_export_files
from studyapp.views import participant as participant_views
from tests.factories import make_study
from tests.faultkit.procs import free_port
from tests.faultkit.report import exported_answers, recovery_seconds, told_answers

ARRIVAL = {"PROLIFIC_PID": "0a7a6e000000000000000001", "STUDY_ID": "S", "SESSION_ID": "X"}


def _down(*args: object, **kwargs: object) -> None:
    raise OperationalError("server closed the connection unexpectedly")


def test_a_database_error_in_a_participant_page_is_a_503_asking_to_retry(client, study,
                                                                         monkeypatch):
    monkeypatch.setattr(participant_views, "get_object_or_404", _down)
    response = client.get(f"/s/{study.slug}/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert DATABASE_DOWN in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_a_database_error_while_the_session_is_saved_is_a_503_too(study, monkeypatch):
    # The view has finished; the session middleware fails on its way out.
    monkeypatch.setattr(SessionStore, "save", _down)
    response = Client(raise_request_exception=False).get(f"/s/{study.slug}/", ARRIVAL)
    assert response.status_code == 503
    assert DATABASE_DOWN in response.content.decode()


def test_the_api_reports_a_database_outage_as_json(client, owner, monkeypatch):
    client.force_login(owner)
    monkeypatch.setattr("studyapp.api.views.StudyViewSet.get_queryset", _down)
    response = client.get("/api/studies/")
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_DOWN}


def test_an_unreachable_broker_tells_the_researcher_nothing_was_started(client, owner, study,
                                                                       monkeypatch):
    def broker_down(*args: object, **kwargs: object) -> None:
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.prepare_study, "delay", broker_down)
    client.force_login(owner)
    response = client.post(f"/r/{study.slug}/prepare")
    assert response.status_code == 503
    assert BROKER_DOWN in response.content.decode()


def test_other_errors_are_still_errors(client, study, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(participant_views, "get_object_or_404", broken)
    with pytest.raises(ValueError):
        client.get(f"/s/{study.slug}/")


def _unreachable_redis() -> ForgivingRedisCache:
    return ForgivingRedisCache(f"redis://127.0.0.1:{free_port()}/0",
                               {"OPTIONS": {"socket_connect_timeout": 0.5}})


def test_the_cache_answers_like_an_empty_one_while_redis_is_unreachable():
    cache = _unreachable_redis()
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is False
    cache.set("k", 1)
    assert cache.get_many(["k"]) == {}
    assert cache.delete("k") is False
    with pytest.raises(ValueError):  # as for a missing key, which callers already handle
        cache.incr("k")


def test_participants_can_enrol_while_the_rate_limit_cache_is_down(client, study, settings):
    settings.ENROL_RATE_PER_MINUTE = 5
    settings.CACHES = {"default": {"BACKEND": "studyapp.cache.ForgivingRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    response = client.get(f"/s/{study.slug}/", ARRIVAL)
    assert response.status_code == 303
    assert Participant.objects.filter(external_id=ARRIVAL["PROLIFIC_PID"]).exists()


class _Flaky(requests.Session):
    """Answers 503, then drops the connection, then answers 200."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def request(self, method, url, *args, **kwargs):
        self.calls += 1
        if self.calls == 2:
            raise requests.ConnectionError("connection reset by peer")
        response = requests.Response()
        response.status_code = 503 if self.calls == 1 else 200
        return response


def test_a_bot_sends_a_request_again_until_the_server_answers(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    seen: list[Retry] = []
    answer = send_retrying(_Flaky(), "POST", "http://x/", retry_seconds=30, on_retry=seen.append)
    assert answer.status_code == 200
    assert [retry.reason for retry in seen] == ["503", "ConnectionError"]


def test_a_bot_that_may_not_retry_gets_the_503():
    answer = send_retrying(_Flaky(), "GET", "http://x/", retry_seconds=0,
                           on_retry=lambda retry: None)
    assert answer.status_code == 503


@pytest.fixture
def live_study(transactional_db, owner, settings):
    settings.ENROL_RATE_PER_MINUTE = 0
    return make_study(owner)


def test_bots_that_resend_every_post_or_come_back_late_store_each_answer_once(
        live_server, live_study):
    # Two tabs at once need a database with real concurrency: see test_faults.py.
    def come_back_late(external_id: str) -> None:
        Participant.objects.filter(external_id=external_id).update(
            deadline_at=timezone.now() - timedelta(seconds=1))

    config = bot_config(live_study, base_url=live_server.url, behaviour="random", seed=5,
                        mischief=True, retry_every_post=True, late_bots=1,
                        come_back_late=come_back_late)
    results = run_bots(config, 4, concurrency=1)
    summary = summarise(results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["timed_out"] == 1 and summary["completed"] == 3
    trials_csv = study_export_files(study=live_study)["trials.csv"]
    told = told_answers(live_study, results)
    assert exported_answers(live_study, results, trials_csv) == told and sum(told.values()) > 0
    assert set(Counter(Response.objects.values_list("trial_id", "step")).values()) == {1}
    late = Participant.objects.get(status=Participant.Status.TIMED_OUT)
    assert participant_pseudonym(live_study, late.external_id) not in {k[0] for k in told}
    assert not Response.objects.filter(trial__participant=late).exists()


def test_recovery_is_the_longest_outage_after_any_one_fault():
    # Faults at 0 s and 10 s; clients got through at 2 s and 11 s (the retry at 1 s failed).
    assert recovery_seconds([0.0, 10.0], [1.0, 2.0, 11.0]) == 2.0
    assert recovery_seconds([0.0], []) is None
    assert recovery_seconds([], [1.0]) is None
