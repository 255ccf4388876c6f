"""Every status a participant or study can hold is one the platform sets, and the dashboard's
counts have a column for each plus the withdrawals.

Oracle: the services' source (what they assign) and the models' defaults. "returned" and
"withdrawn" participants and "preparing" studies were listed, counted and documented but never
set: withdrawal deletes the participant, and Study.preparation records running preparation.
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.schema import PARTICIPANT_COLUMNS
from studyapp import selectors
from studyapp.models import Participant, Study

SERVICES = Path(__file__).resolve().parents[2] / "studyapp" / "services"


def assigned_participant_statuses() -> set[str]:
    source = "\n".join(path.read_text("utf-8") for path in SERVICES.glob("*.py"))
    return set(re.findall(r"participant\.status = Status\.(\w+)", source))


def test_every_participant_status_is_the_default_or_one_a_service_sets() -> None:
    default = Participant.Status(Participant._meta.get_field("status").default)
    assert {s.name for s in Participant.Status} == (
        assigned_participant_statuses() | {default.name})


def test_a_study_is_a_draft_or_open_or_closed_for_recruitment() -> None:
    assert Study.Status.values == ["draft", "open", "closed"]


def test_the_counts_have_a_column_per_status_then_the_withdrawals() -> None:
    assert [*Participant.Status.values, "withdrawn"] == selectors.STATUS_ORDER
    assert len(selectors.STATUS_LABELS) == len(selectors.STATUS_ORDER)


def test_the_codebook_lists_the_statuses_a_participant_can_have() -> None:
    (status,) = [c for c in PARTICIPANT_COLUMNS if c.name == "status"]
    listed = set(re.findall(r"[a-z_]+", status.description.split("(")[0])) - {"or"}
    assert listed == set(Participant.Status.values)
