"""The comprehension limit holds whatever attempt number the client sends.

Guards finding 4 of issue 11: sending ``attempt=0``, or replaying an earlier attempt number
with new answers, gave unlimited tries (10 wrong, never screened out, the export said 2).
Oracle: the study's own limit (2 attempts) counted by hand — each post with new wrong answers
is one attempt, whatever number it carries — and the export's ``comprehension_attempts``.
"""

from __future__ import annotations

import csv
import io

import pytest

from studyapp.services.exports import study_export_files
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

# Three different wrong answer sets (the demo's questions: task, ai_right).
WRONG = [{"task": "The person's age", "ai_right": "Yes"},
         {"task": "Whether the AI is switched on", "ai_right": "Yes"},
         {"task": "The person's age", "ai_right": "No"}]


def _at_comprehension(study) -> Walker:
    walker = Walker(study)
    walker.enter()
    walker.post("consent", agree="yes")
    walker.post("instructions")
    assert study.comprehension_max_attempts == 2
    return walker


def _exported_attempts(study) -> str:
    rows = csv.DictReader(io.StringIO(study_export_files(study=study)["participants.csv"]))
    return next(rows)["comprehension_attempts"]


@pytest.mark.parametrize("numbers", [["0", "0"], ["1", "1"], ["2", "1"], ["", "7"]],
                         ids=["zero", "replayed", "earlier", "made-up"])
def test_new_wrong_answers_count_whatever_attempt_number_they_carry(study, numbers):
    walker = _at_comprehension(study)
    for number, wrong in zip(numbers, WRONG, strict=False):
        walker.post("comprehension", attempt=number, **wrong)
    participant = walker.participant
    assert participant.status == "screened_out"
    assert participant.comprehension_attempts == 2
    assert _exported_attempts(study) == "2"


def test_ten_replayed_wrong_tries_end_in_a_screen_out_after_the_limit(study):
    walker = _at_comprehension(study)
    for n in range(10):
        walker.post("comprehension", attempt="1", **WRONG[n % 3])
    assert walker.participant.status == "screened_out"
    assert walker.participant.comprehension_attempts == 2


def test_the_same_form_resent_still_counts_once(study):
    walker = _at_comprehension(study)
    for _ in range(3):
        walker.post("comprehension", attempt="1", **WRONG[0])
    # Not screened out: back at the instructions to read them again, one attempt counted.
    assert walker.participant.stage == "instructions"
    assert walker.participant.comprehension_attempts == 1
