"""One person, one participant: recruitment ids are validated and normalised per platform,
and the platforms are kept apart.

Guards finding 3 of issue 11: the PID in upper case, or with ``_`` appended, enrolled new
participants (in other conditions); a workerId equal to a Prolific PID resumed the Prolific
participant. Oracles: the platforms' published formats — Prolific ids are 24 hex digits;
MTurk's Requester API (2017-01-17) gives worker ids the pattern ``^A[A-Z0-9]+$`` and
assignment/HIT ids ``^[A-Z0-9]+$``, 1 to 64 characters — and a count of Participant rows.
"""

from __future__ import annotations

import pytest
from django.test import Client

from studyapp.models import Participant
from studyapp.services.enrolment import recruitment_from_query
from studyapp.services.errors import ParticipantError
from studyapp.sessions import participant_key

pytestmark = pytest.mark.django_db

PID = "a5f0c0ffee00000000000e0a"


def _arrive(study, **query: str) -> tuple[Client, int]:
    client = Client()
    status = client.get(f"/s/{study.slug}/", {"STUDY_ID": "st1", "SESSION_ID": "se1", **query}
                        if "PROLIFIC_PID" in query else query).status_code
    return client, status


def test_the_pid_in_upper_case_is_the_same_participant(study):
    _arrive(study, PROLIFIC_PID=PID)
    _, status = _arrive(study, PROLIFIC_PID=PID.upper())
    assert status == 303
    assert Participant.objects.count() == 1
    assert Participant.objects.get().external_id == PID


@pytest.mark.parametrize("variant", [PID + "_", PID + "-", PID[:-1], PID + "0", "_" + PID,
                                     PID.replace("e", "g"), "P1", "direct-1234"])
def test_a_pid_that_is_not_24_hex_digits_is_refused_and_enrols_nobody(study, variant):
    _, status = _arrive(study, PROLIFIC_PID=variant)
    assert status == 400
    assert not Participant.objects.exists()


def test_a_worker_id_equal_to_a_prolific_pid_is_someone_else(study):
    prolific, _ = _arrive(study, PROLIFIC_PID=PID)
    prolific.post(f"/s/{study.slug}/", {"action": "consent", "agree": "yes"})
    mturk, status = _arrive(study, workerId=PID.upper(), assignmentId="3ASSIGN", hitId="3HIT")
    assert status == 303
    people = {p.source: p for p in Participant.objects.all()}
    assert set(people) == {"prolific", "mturk"}
    assert people["prolific"].stage == "instructions" and people["mturk"].stage == "consent"
    assert mturk.session[participant_key(study.slug)] == people["mturk"].pk


def test_a_worker_id_in_lower_case_resumes_the_same_worker(study):
    _arrive(study, workerId="A1B2C3D4E5F6G7", assignmentId="3ASSIGN", hitId="3HIT")
    _, status = _arrive(study, workerId="a1b2c3d4e5f6g7", assignmentId="3assign", hitId="3hit")
    assert status == 303
    assert Participant.objects.get().external_id == "A1B2C3D4E5F6G7"


@pytest.mark.parametrize("query", [
    {"workerId": "B1234567"},                      # not starting with A
    {"workerId": "A12_345"},                       # not alphanumeric
    {"workerId": "A" + "1" * 64},                  # longer than 64
    {"workerId": "A1234567", "assignmentId": "3-X"},
    {"workerId": "A1234567", "hitId": "3 X"},
])
def test_malformed_mturk_ids_are_refused(query):
    with pytest.raises(ParticipantError, match="invalid"):
        recruitment_from_query(query)


def test_ids_are_stored_in_their_platforms_canonical_case():
    prolific = recruitment_from_query({"PROLIFIC_PID": f" {PID.upper()} ", "SESSION_ID": "S1"})
    assert prolific is not None and prolific.external_id == PID
    assert prolific.details == {"PROLIFIC_PID": PID, "SESSION_ID": "S1"}
    mturk = recruitment_from_query({"workerId": "a9z", "assignmentId": "3ab", "hitId": "3cd"})
    assert mturk is not None and mturk.external_id == "A9Z"
    assert mturk.details == {"workerId": "A9Z", "assignmentId": "3AB", "hitId": "3CD"}
