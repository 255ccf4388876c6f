"""Knowing someone's recruitment id is not enough to act as them.

Guards finding 2 of issue 11: a fresh browser with the victim's PROLIFIC_PID (and any
SESSION_ID) resumed the victim's trial, answered it and withdrew them. A new browser resumes
only when the platform's own session check passes (Prolific's SESSION_ID as stored at
enrolment, MTurk's assignmentId); otherwise it gets a clear page and the attempt is an event
the researcher sees in the export. Oracles: the victim's stored answers and position before
and after, the attacker's session, and the exported events.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from studyapp.models import Event, Participant, Response
from studyapp.services.exports import study_export_files
from studyapp.sessions import participant_key
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def _victim_at_trials(study) -> Walker:
    victim = Walker(study)  # enrols with SESSION_ID=se1
    victim.to_trials()
    return victim


@pytest.mark.parametrize("session", [{"SESSION_ID": "guessed"}, {}, {"SESSION_ID": "SE1"}],
                         ids=["wrong", "none", "other case"])
def test_a_fresh_browser_with_the_victims_pid_cannot_take_over(study, owner, session):
    victim = _victim_at_trials(study)
    before = victim.participant
    attacker = Walker(study, pid=victim.pid, client=Client())
    entry = attacker.client.get(attacker.url, {"PROLIFIC_PID": victim.pid, "STUDY_ID": "st1",
                                               **session})
    assert entry.status_code == 403
    assert b"already in progress for your ID" in entry.content
    assert participant_key(study.slug) not in attacker.client.session
    # Nothing the attacker posts reaches the victim: no answer, no withdrawal.
    attacker.post("answer", trial_index=0, step="final",
                  answer=study.answer_options[0]["value"], confidence=3, idempotency_key="x")
    attacker.client.post(f"/s/{study.slug}/withdraw")
    after = victim.participant
    assert (after.pk, after.stage, after.trial_pointer, after.status) == (
        before.pk, before.stage, before.trial_pointer, before.status)
    assert not Response.objects.exists()
    assert Event.objects.filter(participant=after, kind="resume_refused").count() == 1
    events = csv.DictReader(io.StringIO(study_export_files(study=study)["events.csv"]))
    assert "resume_refused" in {row["kind"] for row in events}
    researcher = Client()
    researcher.force_login(owner)
    assert b"1 attempt to open a participant" in researcher.get(f"/r/{study.slug}/").content


def test_the_right_session_id_resumes_in_a_new_browser(study):
    victim = _victim_at_trials(study)
    again = Walker(study, pid=victim.pid, client=Client())
    assert again.enter().status_code == 303  # same PID, STUDY_ID and SESSION_ID
    assert b'data-trial="0"' in again.page().content
    assert Participant.objects.count() == 1
    assert not Event.objects.filter(kind="resume_refused").exists()


def test_the_browser_that_started_resumes_whatever_the_link_says(study):
    victim = _victim_at_trials(study)
    response = victim.client.get(victim.url, {"PROLIFIC_PID": victim.pid})
    assert response.status_code == 303
    assert b'data-trial="0"' in victim.page().content


def test_mturk_resumes_only_with_the_same_assignment(study):
    worker = {"workerId": "A2WORKER0001", "hitId": "3HIT"}
    first = Client()
    assert first.get(f"/s/{study.slug}/", {**worker, "assignmentId": "3ASSIGN1"}
                     ).status_code == 303
    other = Client().get(f"/s/{study.slug}/", {**worker, "assignmentId": "3ASSIGN2"})
    assert other.status_code == 403
    same = Client().get(f"/s/{study.slug}/", {**worker, "assignmentId": "3assign1"})
    assert same.status_code == 303
    assert Participant.objects.count() == 1
