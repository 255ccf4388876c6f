"""Bonuses on the server: stated, shown so far, exported, and the payment files.

Oracle: a hand-worked case. The rule pays 0.10 per correct answer, takes 0.05 per wrong one,
never goes below zero and stops at 0.25; each participant's right/wrong answers are chosen
below, so their amounts are worked out by hand in the comments.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from studyapp.models import Participant, StudyAccess
from studyapp.services import exports
from tests.factories import make_study, small_spec
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

RULE = {"currency": "GBP", "per_correct": 0.10, "per_incorrect": 0.05, "cap": 0.25,
        "show_running_total": True}


class MTurkWalker(Walker):
    """A worker arriving from MTurk (workerId / assignmentId / hitId, no Prolific id)."""

    def __init__(self, study: Any, worker: str, assignment: str) -> None:
        super().__init__(study)
        self.pid, self.assignment = worker, assignment

    def enter(self, **extra: str) -> Any:
        return self.client.get(self.url, {"workerId": self.pid, "assignmentId": self.assignment,
                                          "hitId": "HIT1", **extra})


@pytest.fixture
def paid_study(owner, colleague):  # type: ignore[no-untyped-def]
    study = make_study(owner, small_spec(incentives=RULE))
    StudyAccess.objects.create(study=study, user=colleague, role=StudyAccess.Role.VIEW)
    return study


def _wrong(study: Any, truth: str) -> str:
    return next(o["value"] for o in study.answer_options if o["value"] != truth)


def _play(walker: Walker, rights: list[bool], *, finish: bool = True) -> None:
    """Answer the main trials right or wrong in turn (attention checks as instructed)."""
    walker.to_trials()
    outcomes = iter(rights)
    while walker.participant.stage == "trials":
        participant = walker.participant
        trial = participant.trials.get(index=participant.trial_pointer)
        if trial.kind == "attention":
            answer = trial.item.expected_answer
        else:
            truth = trial.item.truth
            answer = truth if next(outcomes) else _wrong(walker.study, truth)
        walker.answer_current(answer)
    if finish:
        walker.finish_questionnaire()
        assert walker.participant.status == Participant.Status.COMPLETED


def _owner_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_instructions_state_the_rule(paid_study):
    walker = Walker(paid_study, pid="inst")
    walker.enter()
    walker.post("consent", agree="yes")
    page = walker.page().content.decode()
    assert "£0.10 for each correct answer" in page
    assert "£0.05 off your bonus" in page and "at most £0.25" in page


def test_trial_pages_show_the_bonus_earned_so_far(paid_study):
    walker = Walker(paid_study, pid="sofar")
    walker.to_trials()
    assert "Bonus so far: <strong>£0.00</strong>" in walker.page().content.decode()
    _answer_main(walker, right=True)
    assert "Bonus so far: <strong>£0.10</strong>" in walker.page().content.decode()


def _answer_main(walker: Walker, *, right: bool) -> None:
    while True:
        participant = walker.participant
        trial = participant.trials.get(index=participant.trial_pointer)
        if trial.kind == "main":
            truth = trial.item.truth
            walker.answer_current(truth if right else _wrong(walker.study, truth))
            return
        walker.answer_current(trial.item.expected_answer)


def test_a_study_without_incentives_says_nothing_of_a_bonus(study):
    walker = Walker(study, pid="nobonus")
    walker.to_trials()
    assert "Bonus" not in walker.page().content.decode()


def test_payment_files_and_the_export_match_the_hand_worked_amounts(paid_study, owner):
    a, b, c = (Walker(paid_study, pid=n) for n in ("A", "B", "C"))
    _play(a, [True] * 4)               # 0.40, capped: 0.25
    _play(b, [True, False, True, False])  # 0.20 - 0.10 = 0.10
    _play(c, [True, False, False, False])  # 0.10 - 0.15 < 0: 0.00
    d = Walker(paid_study, pid="D")
    _play(d, [True] * 4, finish=False)  # not completed: not paid
    worker = MTurkWalker(paid_study, "A1WORKER", "ASSIGN7")
    _play(worker, [True, True, True, False])  # 0.30 - 0.05 = 0.25 (the cap exactly)
    client = _owner_client(owner)

    def file(name: str) -> str:
        response = client.get(f"/r/{paid_study.slug}/payments/{name}.csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        return response.content.decode()

    assert file("prolific-bonuses") == f"{a.pid},0.25\n{b.pid},0.10\n"  # no zero bonuses
    assert file("prolific-approvals") == f"{a.pid}\n{b.pid}\n{c.pid}\n"
    rows = list(csv.DictReader(io.StringIO(file("mturk-bonuses"))))
    assert [(r["WorkerId"], r["AssignmentId"], r["BonusAmount"]) for r in rows] == [
        ("A1WORKER", "ASSIGN7", "0.25")]
    assert file("mturk-approvals") == "ASSIGN7\n"

    exported = exports.study_export_files(study=paid_study)
    bonuses = {r["participant"]: r for r in csv.DictReader(io.StringIO(exported["bonuses.csv"]))}
    pseudonym = exports.participant_pseudonym
    assert bonuses[pseudonym(paid_study, a.pid)]["bonus"] == "0.25"
    assert bonuses[pseudonym(paid_study, b.pid)]["correct"] == "2"
    assert bonuses[pseudonym(paid_study, b.pid)]["scored_trials"] == "4"
    assert bonuses[pseudonym(paid_study, d.pid)]["bonus"] == "0"  # started, not completed
    assert "bonuses" in exported["datapackage.json"]
    assert a.pid not in exported["bonuses.csv"]  # the export stays pseudonymous


def test_the_final_page_says_the_bonus_earned(paid_study):
    walker = Walker(paid_study, pid="final")
    _play(walker, [True, True, False, True])  # 0.30 - 0.05 = 0.25
    assert "Your bonus: <strong>£0.25</strong>" in walker.page().content.decode()


def test_payment_files_are_for_the_studys_editors_only(paid_study, colleague, outsider):
    for user in (colleague, outsider):  # a view-only colleague gets no platform ids
        response = _owner_client(user).get(f"/r/{paid_study.slug}/payments/prolific-bonuses.csv")
        assert response.status_code == 404
    assert Client().get(f"/r/{paid_study.slug}/payments/prolific-bonuses.csv").status_code == 302


def test_an_unknown_payment_file_is_not_found(paid_study, owner):
    response = _owner_client(owner).get(f"/r/{paid_study.slug}/payments/everything.csv")
    assert response.status_code == 404


def test_the_export_has_no_bonus_file_when_the_study_pays_none(study):
    assert "bonuses.csv" not in exports.study_export_files(study=study)


def test_the_dashboard_links_the_payment_files_for_editors_only(paid_study, owner, colleague):
    link = f"/r/{paid_study.slug}/payments/prolific-bonuses.csv"
    assert link in _owner_client(owner).get(f"/r/{paid_study.slug}/").content.decode()
    assert link not in _owner_client(colleague).get(f"/r/{paid_study.slug}/").content.decode()
