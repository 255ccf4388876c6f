"""Only the server's own bots are flagged as bots; a header anyone can send flags nobody.

Guards finding 6 of issue 11: a participant who sent ``X-Bot: 1`` was stored as a bot and so
dropped out of the report. Oracles: the stored ``is_bot`` flag and the export's ``is_bot``
column, for a person sending the old header, a made-up token, and the token that
``enrolment.bot_token`` derives from the server's secret (what ``runbots`` sends).
"""

from __future__ import annotations

import csv
import io

import pytest

from studyapp.management.commands.runbots import bot_config
from studyapp.services import enrolment
from studyapp.services.exports import study_export_files
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db


def _enter_with(study, pid: str, **headers: str):
    walker = Walker(study, pid=pid)
    walker.client.get(walker.url, {"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": "se1"},
                      headers=headers)
    return walker.participant


@pytest.mark.parametrize("headers", [{"X-Bot": "1"}, {"X-Bot-Token": "1"},
                                     {"X-Bot-Token": "0" * 64}, {"X-Bot-Token": ""}],
                         ids=["old header", "one", "forged", "empty"])
def test_a_participant_cannot_flag_themselves_as_a_bot(study, headers):
    participant = _enter_with(study, "5f0c0ffee0000000000000b1", **headers)
    assert participant.is_bot is False
    row = next(csv.DictReader(io.StringIO(study_export_files(study=study)["participants.csv"])))
    assert row["is_bot"] == "false"


def test_the_servers_bot_token_flags_a_bot(study):
    participant = _enter_with(study, "5f0c0ffee0000000000000b2",
                              **{"X-Bot-Token": enrolment.bot_token(study)})
    assert participant.is_bot is True


def test_the_token_is_per_study_and_what_runbots_sends(study, owner):
    from tests.factories import make_study, small_spec

    other = make_study(owner, small_spec(slug="other"))
    assert enrolment.bot_token(study) != enrolment.bot_token(other)
    assert not enrolment.is_bot_token(other, enrolment.bot_token(study))
    config = bot_config(study, base_url="http://127.0.0.1:1", behaviour="random")
    assert config.bot_token == enrolment.bot_token(study)
