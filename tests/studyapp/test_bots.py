"""Bots play whole participants over real HTTP (Django's live server) and the export
reconciles with what they were told was saved."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from studyapp.bots.behaviours import FollowsAI, make_behaviour
from studyapp.bots.pages import parse_page
from studyapp.bots.reconcile import reconcile
from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.models import Participant, Response
from studyapp.services.exports import participant_pseudonym, study_export_files
from tests.factories import make_study


@pytest.fixture
def live_study(transactional_db, owner, settings):  # type: ignore[no-untyped-def]
    settings.ENROL_RATE_PER_MINUTE = 0
    return make_study(owner)


def test_bots_complete_the_study_and_the_export_reconciles(live_server, live_study):
    config = bot_config(live_study, base_url=live_server.url, behaviour="planted", seed=1,
                        dropout=0.25, mischief=True)
    results = run_bots(config, 8, concurrency=1)
    summary = summarise(results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] + summary["dropped_out"] == 8 and summary["completed"] >= 3
    trials_csv = study_export_files(study=live_study)["trials.csv"]
    assert reconcile(results, trials_csv,
                     lambda pid: participant_pseudonym(live_study, pid)) == []
    assert Participant.objects.filter(is_bot=True).count() == 8
    codes = {r.code for r in results if r.completed}
    assert codes == {live_study.completion_code}


def test_bot_mischief_never_creates_a_second_answer(live_server, live_study):
    config = bot_config(live_study, base_url=live_server.url, behaviour="random", seed=2,
                        mischief=True)
    results = run_bots(config, 2, concurrency=1)
    assert summarise(results)["with_errors"] == 0
    per_step = Counter(Response.objects.values_list("trial_id", "step"))
    assert set(per_step.values()) == {1}


def test_the_reconciliation_catches_a_lost_and_a_doubled_answer(live_server, live_study):
    config = bot_config(live_study, base_url=live_server.url, behaviour="random", seed=3,
                        mischief=False)
    results = run_bots(config, 1, concurrency=1)
    text = study_export_files(study=live_study)["trials.csv"]
    rows = list(csv.DictReader(io.StringIO(text)))
    doubled = io.StringIO()
    writer = csv.DictWriter(doubled, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([*rows[1:], rows[1]])  # first answer lost, second doubled
    problems = reconcile(results, doubled.getvalue(),
                         lambda pid: participant_pseudonym(live_study, pid))
    assert len(problems) == 2


def test_the_follows_ai_behaviour_takes_the_advice_it_is_shown():
    html = ('<form><input type="hidden" name="action" value="answer">'
            '<input type="radio" name="answer" value="A"><input type="radio" name="answer" '
            'value="B"></form><p class="ai-prediction"><strong>B</strong></p>')
    page = parse_page(200, "/", html)
    import numpy as np

    answers = {FollowsAI(p_follow=1.0).answer(page, ["A", "B"], np.random.default_rng(0))[0]
               for _ in range(5)}
    assert answers == {"B"}


def test_an_unknown_behaviour_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown bot behaviour"):
        make_behaviour("psychic")
