"""What an attacker sends that no page would: floods of events, numbers JSON cannot store,
other scripts' digits, oversized uploads, password guessing, and pages that must run no
inline script under the Content-Security-Policy.

Oracles: the status codes the limits promise (400, 409, 413, 429), the database before and after
each refused request (nothing stored), and the pages' own HTML (no inline scripts).
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client

from studyapp.models import Event, QuestionnaireAnswer, Response
from studyapp.services.questionnaires import questionnaire_items
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def _event(walker: Walker, **fields: Any) -> Any:
    return walker.client.post("/api/events/", {"study": walker.study.slug, "kind": "blur",
                                               **fields}, content_type="application/json")


# ----- the event log ----------------------------------------------------------------------

def test_a_number_json_cannot_store_is_refused_not_a_server_error(study):
    walker = Walker(study)
    walker.to_trials()
    response = walker.client.post(
        "/api/events/", data=b'{"study": "%s", "kind": "blur", "detail": {"x": 1e999}}'
        % study.slug.encode(), content_type="application/json")
    assert response.status_code == 400
    assert Event.objects.filter(kind="blur").count() == 0


def test_an_event_about_a_trial_not_yet_reached_is_refused(study):
    walker = Walker(study)
    walker.to_trials()
    assert _event(walker, trial_index=0).status_code == 201
    assert _event(walker, trial_index=5).status_code == 409
    assert Event.objects.filter(kind="blur").count() == 1


def test_events_are_capped_per_participant(study, settings):
    settings.EVENTS_PER_PARTICIPANT, settings.EVENTS_PER_MINUTE = 5, 1000
    walker = Walker(study)
    walker.to_trials()
    statuses = [_event(walker).status_code for _ in range(8)]
    assert statuses == [201] * 5 + [429] * 3
    assert Event.objects.filter(kind="blur").count() == 5


def test_events_are_rate_limited_per_minute(study, settings):
    settings.EVENTS_PER_PARTICIPANT, settings.EVENTS_PER_MINUTE = 1000, 3
    walker = Walker(study)
    walker.to_trials()
    statuses = [_event(walker).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    other = Walker(study, pid="5f0c0ffee0000000000000b2")
    other.to_trials()
    assert _event(other).status_code == 201  # one participant's flood limits only them


# ----- digits of other scripts ------------------------------------------------------------

def test_a_likert_answer_in_arabic_indic_digits_is_refused(study):
    """int("٣") is 3 in Python; no page sends it, so it is a forged answer."""
    walker = Walker(study)
    walker.to_trials()
    walker.finish_trials()
    data = {q.field: ("\u0663" if q.kind == "likert" else "fine")
            for q in questionnaire_items(study)}
    response = walker.post("questionnaire", **data)
    assert response.status_code == 400
    assert QuestionnaireAnswer.objects.count() == 0


def test_a_confidence_in_arabic_indic_digits_is_refused(study):
    walker = Walker(study)
    walker.to_trials()
    trial = walker.participant.trials.get(index=0)
    response = walker.post("answer", trial_index=0, step="final",
                           answer=study.answer_options[0]["value"], confidence="\u0663",
                           rt_ms=1500, idempotency_key="k", trial=trial.pk)
    assert response.status_code == 400
    assert Response.objects.count() == 0


@pytest.mark.parametrize("text", ["\u0661\u0662", "1_000", "1e5", "nan", "-"])
def test_a_number_answer_must_be_written_as_people_write_numbers(text):
    from studyapp.services.errors import ParticipantError
    from studyapp.services.flow import number_answer_clean

    class _Study:
        answer_options = [{"min": 0, "max": 10**6}]

    with pytest.raises(ParticipantError):
        number_answer_clean(_Study(), text)
    assert number_answer_clean(_Study(), "1,250.5") == "1250.5"


# ----- uploads ----------------------------------------------------------------------------

class _Unreadable(BytesIO):
    """A request body that fails the test if anything reads it."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the oversized body was read")

    readline = read


def test_an_oversized_upload_is_refused_before_its_body_is_read(owner, settings):
    settings.MAX_REQUEST_BYTES = 1000
    client = Client()
    client.force_login(owner)
    response = client.generic("POST", "/admin/studyapp/study/add/", b"",
                              content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH="300000000", **{"wsgi.input": _Unreadable()})
    assert response.status_code == 413
    assert response["Connection"] == "close"


def test_an_oversized_api_body_gets_a_json_413(study, settings):
    walker = Walker(study)
    walker.to_trials()
    settings.MAX_REQUEST_BYTES = 100
    response = _event(walker, page="x" * 200)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


# ----- sign-in ----------------------------------------------------------------------------

@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_password_guessing_locks_the_account_out(owner, settings, login_url):
    """60 wrong passwords and then the right one got in; now the lockout holds."""
    settings.LOGIN_FAILURES_ALLOWED = 10
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(60):
        guesser.post(login_url, {"username": "owner", "password": f"guess-{n}"})
    right = guesser.post(login_url, {"username": "owner", "password": "owner-password-1"})
    assert right.status_code == 200  # the form again, not the redirect of a sign-in
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert "_auth_user_id" not in guesser.session
    # From elsewhere, the account is locked too (the guesser may rotate addresses) ...
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert elsewhere.post(login_url, {"username": "owner",
                                      "password": "owner-password-1"}).status_code == 200
    # ... and once the window has passed (the counters expire), the owner gets in.
    cache.clear()
    assert elsewhere.post(login_url, {"username": "owner",
                                      "password": "owner-password-1"}).status_code == 302


def test_a_few_typos_do_not_lock_anyone_out(owner, settings):
    settings.LOGIN_FAILURES_ALLOWED = 10
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "owner", "password": "typo"})
    assert client.post("/accounts/login/", {"username": "owner",
                                            "password": "owner-password-1"}).status_code == 302


# ----- the gallery ------------------------------------------------------------------------

def test_only_a_site_administrator_rebuilds_the_gallery(owner, django_user_model, monkeypatch):
    from studyapp import tasks

    rebuilt: list[bool] = []
    monkeypatch.setattr(tasks.build_gallery, "delay", lambda *a, **k: rebuilt.append(True))
    researcher = Client()
    researcher.force_login(owner)
    assert researcher.post("/r/gallery/").status_code == 403
    assert "Rebuild" not in researcher.get("/r/gallery/").content.decode()
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("root", "", "root-pass-123"))
    assert admin.post("/r/gallery/").status_code == 302
    assert rebuilt == [True]


# ----- the Content-Security-Policy --------------------------------------------------------

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
_HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+=", re.IGNORECASE)


def test_pages_run_no_inline_script_that_the_policy_would_block(study, owner):
    """script-src 'self' blocks inline scripts and on* attributes: every page must work
    without them. Oracle: the rendered HTML of the participant path and researcher pages."""
    walker = Walker(study)
    pages = [walker.enter()]
    walker.to_trials()
    pages.append(walker.page())
    researcher = Client()
    researcher.force_login(owner)
    pages += [researcher.get(url) for url in (f"/r/{study.slug}/", "/r/", "/r/gallery/")]
    for response in pages:
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "camera=()" in response["Permissions-Policy"]
        assert not _INLINE_SCRIPT.search(html), _INLINE_SCRIPT.search(html)
        assert not _HANDLER_ATTRIBUTE.search(html)


# ----- runbots ----------------------------------------------------------------------------

def test_runbots_says_at_once_that_no_server_answers(study):
    """It used to retry every request for 30 s per bot before failing."""
    with pytest.raises(CommandError, match=r"Nothing answers at http://127\.0\.0\.1:9"):
        call_command("runbots", study.slug, "--participants", "1",
                     "--base-url", "http://127.0.0.1:9")


# ----- API pages --------------------------------------------------------------------------

@pytest.mark.parametrize("resource", ["participants", "trials"])
def test_an_api_page_reads_only_its_own_rows_never_the_event_log(study, owner, resource):
    """Every API page rebuilt the whole export, events included (?limit=1 took 8 s with 100k
    events). Oracle: the SQL the page runs, and its rows equal the export's CSV rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studyapp.services.exports import study_export_files

    for pid in ("5f0c0ffee0000000000000c1", "5f0c0ffee0000000000000c2"):
        walker = Walker(study, pid=pid)
        walker.to_trials()
        walker.answer_current()
        _event(walker)
    client = Client()
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/api/studies/{study.slug}/{resource}/", {"limit": 1, "offset": 1})
    assert page.status_code == 200
    assert not [q["sql"] for q in queries if "studyapp_event" in q["sql"]]
    body = page.json()
    csv_lines = study_export_files(study=study)[f"{resource}.csv"].splitlines()
    assert body["count"] == len(csv_lines) - 1 and len(body["results"]) == 1
    assert body["results"][0]["participant"] in csv_lines[2]  # the second row, as offset=1


# ----- the export -------------------------------------------------------------------------

def _peak_streaming(study: Any, owner: Any) -> tuple[int, int]:
    import tracemalloc

    client = Client()
    client.force_login(owner)
    response = client.get(f"/r/{study.slug}/export.zip")
    assert response.streaming
    tracemalloc.start()
    total = 0
    for chunk in response.streaming_content:
        total += len(chunk)  # sent on, as a server does; nothing kept
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, total


def test_the_export_streams_with_memory_that_does_not_grow_with_the_event_log(study, owner):
    """100k events made the export build everything in memory (a worker grew to 937 MB).
    Oracle: tracemalloc's peak while the download is consumed, for 10x more events, and the
    streamed archive read back equals the export's files."""
    import io
    import zipfile

    from studyapp.services.exports import study_export_files

    walker = Walker(study)
    walker.to_trials()
    participant = walker.participant

    def add_events(n: int) -> None:
        Event.objects.bulk_create(Event(participant=participant, kind="blur", page="trial",
                                        detail={"note": "x" * 100}) for _ in range(n))

    # Both sizes beyond one database fetch (2,000 rows), the larger ten times the smaller.
    add_events(4000)
    small_peak, _ = _peak_streaming(study, owner)
    add_events(36000)
    large_peak, _ = _peak_streaming(study, owner)
    assert large_peak < 2 * small_peak, (small_peak, large_peak)

    client = Client()
    client.force_login(owner)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(
        client.get(f"/r/{study.slug}/export.zip").streaming_content)))
    files = study_export_files(study=study)
    for name, text in files.items():
        streamed = archive.read(f"{study.slug}/{name}").decode()
        if name == "datapackage.json":  # stamped with the time it was written
            streamed, text = (re.sub(r'"created": "[^"]+"', "", t) for t in (streamed, text))
        assert streamed == text, name
    assert files["events.csv"].count(",blur,") == 40000
