"""Withdrawal removes one person's data and nothing else, is counted, and is final.

Guards finding 5 of issue 11: a withdrawal — even from a participant who had just enrolled and
answered nothing — deleted every analysis run of the study; the dashboard's Withdrawn column
stayed 0; the same PID could then take the study again. Oracles: which runs finished before
the person arrived (those never exported them and must stay, files and all), the dashboard's
counts by hand (one withdrawal in their condition), and a second arrival with the same id in
another case (refused, nothing created).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from studyapp import selectors
from studyapp.models import AnalysisRun, Participant, Withdrawal
from studyapp.services import reports
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

LEAVER = "5f0c0ffee00000000000dead"


def _run(study, folder, *, finished_at) -> AnalysisRun:
    folder.mkdir(parents=True)
    (folder / "participants.csv").write_text("participant\n")
    (folder / "report.html").write_text("<h1>report</h1>")
    return AnalysisRun.objects.create(study=study, state=AnalysisRun.State.DONE,
                                      directory=str(folder), finished_at=finished_at)


def test_a_newcomer_withdrawing_leaves_earlier_runs_alone(
        study, owner, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path
    root = tmp_path / "reports" / study.slug
    earlier = _run(study, root / "earlier", finished_at=timezone.now() - timedelta(hours=1))
    walker = Walker(study, pid=LEAVER)
    walker.enter()  # enrolled, answered nothing
    later = _run(study, root / "later", finished_at=timezone.now() + timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        walker.client.post(f"/s/{study.slug}/withdraw")
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.outdated_at is None and (root / "earlier" / "participants.csv").exists()
    assert later.outdated_at is not None and not (root / "later").exists()
    researcher = Client()
    researcher.force_login(owner)
    page = researcher.get(f"/r/{study.slug}/").content.decode()
    assert "Outdated" in page and "Rebuild" in page
    assert researcher.get(f"/r/{study.slug}/analysis/{later.pk}/report").status_code == 404
    assert researcher.get(f"/r/{study.slug}/analysis/{earlier.pk}/report").status_code == 200


def test_the_dashboard_counts_the_withdrawal_in_the_persons_condition(study, owner):
    walker = Walker(study, pid=LEAVER)
    walker.to_trials()
    condition = walker.participant.condition.name
    walker.client.post(f"/s/{study.slug}/withdraw")
    counts = selectors.consort_counts(study)
    assert counts["conditions"][condition]["withdrawn"] == 1
    assert counts["totals"]["withdrawn"] == 1
    record = Withdrawal.objects.get()
    assert LEAVER not in record.person and record.condition == condition


@pytest.mark.parametrize("again", [LEAVER, LEAVER.upper()])
def test_the_same_person_cannot_enrol_again(study, again):
    walker = Walker(study, pid=LEAVER)
    walker.enter()
    walker.client.post(f"/s/{study.slug}/withdraw")
    response = Client().get(f"/s/{study.slug}/", {"PROLIFIC_PID": again, "SESSION_ID": "se1"})
    assert response.status_code == 400 and b"withdrawn from this study" in response.content
    assert not Participant.objects.exists()


def test_a_run_building_while_someone_withdraws_drops_its_files(study, settings, tmp_path,
                                                                monkeypatch):
    settings.VAR_DIR = tmp_path
    walker = Walker(study, pid=LEAVER)
    walker.enter()
    run = reports.analysis_run_create(study=study, user=None)

    def build_then_withdraw(*, study, out_dir, progress=None, **kwargs):  # type: ignore
        out_dir.mkdir(parents=True)
        (out_dir / "participants.csv").write_text(LEAVER)
        walker.client.post(f"/s/{study.slug}/withdraw")  # while the export is written
        return [out_dir / "participants.csv"]

    monkeypatch.setattr(reports, "study_reports_write", build_then_withdraw)
    run = reports.analysis_run_execute(run=run)
    assert run.outdated_at is not None and not run.directory
    assert not any((tmp_path / "reports").rglob("participants.csv"))
