"""A participant can withdraw from any page; withdrawal deletes their data everywhere.

Oracles: the rendered pages (the link, the confirmation, the code), a dump of every row of
every table and of every session (the participant's recruitment id and pk must be gone), the
export files (neither the id nor its pseudonym), the analysis folders on disk, and where the
next arrival is assigned (the slot is free again).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core import serializers
from django.test import Client

from studyapp.models import AnalysisRun, Event, Participant, QuestionnaireAnswer, Response, Trial
from studyapp.services import enrolment
from studyapp.services.errors import ParticipantError
from studyapp.services.exports import participant_pseudonym, study_export_files
from studyapp.sessions import participant_key
from tests.studyapp.helpers import Walker, prolific_id

pytestmark = pytest.mark.django_db

LEAVER = "5f0c0ffee0000000000000ff"


def _withdraw_url(study) -> str:
    return f"/s/{study.slug}/withdraw"


def _every_row_as_text() -> str:
    models = [m for m in apps.get_models() if m is not Session]
    return serializers.serialize("json", [row for m in models for row in m._default_manager.all()])


def _session_participants(slug: str) -> list[object]:
    return [s.get_decoded().get(participant_key(slug)) for s in Session.objects.all()]


def _answer_everything_but_the_questionnaire(walker: Walker) -> None:
    walker.to_trials()
    walker.finish_trials()
    walker.client.post("/api/events/", {"study": walker.study.slug, "kind": "page_hidden"},
                       content_type="application/json")


@pytest.mark.parametrize("stage", ["consent", "instructions", "trials", "questionnaire",
                                   "finished"])
def test_every_participant_page_links_to_withdrawal(study, stage):
    walker = Walker(study, pid=LEAVER)
    walker.enter()
    if stage != "consent":
        walker.post("consent", agree="yes")
    if stage in {"trials", "questionnaire", "finished"}:
        answers = {q["id"]: q["answer"] for q in study.spec["comprehension"]["questions"]}
        walker.post("instructions")
        walker.post("comprehension", **answers)
    if stage in {"questionnaire", "finished"}:
        walker.finish_trials()
    if stage == "finished":
        walker.finish_questionnaire()
    page = walker.page()
    assert page.status_code == 200
    assert f'href="{_withdraw_url(study)}"'.encode() in page.content


def test_the_link_asks_for_confirmation_and_deletes_nothing_yet(study):
    walker = Walker(study, pid=LEAVER)
    walker.to_trials()
    page = walker.client.get(_withdraw_url(study))
    assert page.status_code == 200 and b"Withdraw and delete my answers" in page.content
    assert b'method="post"' in page.content and b"csrfmiddlewaretoken" in page.content
    assert Participant.objects.filter(external_id=LEAVER).exists()


def test_withdrawing_deletes_every_record_and_shows_the_screen_out_code(study):
    stayer = Walker(study, pid="STAYER1")
    _answer_everything_but_the_questionnaire(stayer)
    walker = Walker(study, pid=LEAVER)
    _answer_everything_but_the_questionnaire(walker)
    pk = walker.participant.pk
    pseudonym = participant_pseudonym(study, LEAVER)
    assert LEAVER in _every_row_as_text() and pk in _session_participants(study.slug)

    response = walker.client.post(_withdraw_url(study))
    assert response.status_code == 303
    page = walker.client.get(response["Location"])
    assert b"You have withdrawn" in page.content
    assert study.screenout_code.encode() in page.content
    assert study.completion_code.encode() not in page.content

    assert LEAVER not in _every_row_as_text()
    assert pk not in _session_participants(study.slug)
    for model in (Trial, Event, QuestionnaireAnswer):
        assert not model.objects.filter(participant_id=pk).exists()
    assert not Response.objects.filter(trial__participant_id=pk).exists()
    files = study_export_files(study=study)
    raw = study_export_files(study=study, raw_ids=True)
    assert all(pseudonym not in text for text in files.values())
    assert all(LEAVER not in text for text in raw.values())
    assert stayer.pid in raw["participants.csv"]  # the others are untouched
    assert Response.objects.filter(trial__participant__external_id=stayer.pid).exists()


def test_after_withdrawing_the_study_page_starts_afresh(study):
    walker = Walker(study, pid=LEAVER)
    walker.to_trials()
    walker.client.post(_withdraw_url(study))
    again = walker.page()
    assert again.status_code == 200 and b"Start the study" in again.content  # a direct study


def test_withdrawal_frees_the_slot_for_the_next_arrival(study):
    """Oracle: with every condition capped at one, the study is full until someone leaves;
    the next arrival then gets exactly the condition that was freed."""
    study.conditions.update(cap=1)
    walkers = [Walker(study, pid=f"CAP{n}") for n in range(3)]
    for walker in walkers:
        walker.enter()
    with pytest.raises(ParticipantError, match="full"):
        enrolment.participant_enrol(
            study=study, recruitment=enrolment.Recruitment("prolific", prolific_id("LATE1")))
    freed = walkers[1].participant.condition.name
    walkers[1].client.post(_withdraw_url(study))
    newcomer, _ = enrolment.participant_enrol(
        study=study, recruitment=enrolment.Recruitment("prolific", prolific_id("LATE2")))
    assert newcomer.condition.name == freed


def test_analysis_runs_that_exported_the_participant_are_outdated_and_their_files_deleted(
        study, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path
    folder = tmp_path / "reports" / study.slug / "run-1"
    folder.mkdir(parents=True)
    walker = Walker(study, pid=LEAVER)
    walker.to_trials()
    (folder / "participants.csv").write_text(participant_pseudonym(study, LEAVER))
    AnalysisRun.objects.create(study=study, state=AnalysisRun.State.DONE, directory=str(folder))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    AnalysisRun.objects.create(study=study, state=AnalysisRun.State.DONE, directory=str(outside))
    with django_capture_on_commit_callbacks(execute=True):
        walker.client.post(_withdraw_url(study))
    runs = AnalysisRun.objects.all()
    assert runs.count() == 2 and all(r.outdated_at and not r.directory for r in runs)
    assert not folder.exists()
    assert outside.exists()  # only folders under VAR_DIR/reports are ever removed


def test_withdrawing_needs_the_csrf_token(study):
    walker = Walker(study, pid=LEAVER, client=Client(enforce_csrf_checks=True))
    walker.enter()
    assert walker.client.post(_withdraw_url(study)).status_code == 403
    assert Participant.objects.filter(external_id=LEAVER).exists()


def test_a_visitor_without_a_participant_session_withdraws_nobody(study):
    Walker(study, pid=LEAVER).to_trials()
    for method in ("get", "post"):
        response = getattr(Client(), method)(_withdraw_url(study))
        assert response.status_code == 303 and response["Location"] == f"/s/{study.slug}/"
    assert Participant.objects.filter(external_id=LEAVER).exists()
