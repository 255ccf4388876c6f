"""Performance bonuses: what a participant has earned so far, and the files that pay them.

The rule is the spec's ``incentives`` section (experiments.incentives); the answers it is
applied to are scored exactly as the export scores them (exports.scored_outcomes), on the
server, from the stored answers. Only completed, real participants are paid.

The payment files carry the recruitment platform's own ids (a payment cannot be made to a
pseudonym), so they are served to the study's editors only, never in the shareable export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from experiments.incentives import Incentives, money
from studyapp.models import Participant, Study
from studyapp.services.exports import scored_outcomes, spreadsheet_safe

Status = Participant.Status


@dataclass(frozen=True)
class Payment:
    """What one completed participant is owed, with the ids their platform pays by."""

    participant: Participant
    bonus: Decimal

    @property
    def assignment_id(self) -> str:
        return str(self.participant.recruitment.get("assignmentId", ""))


def page_incentives(study: Study, participant: Participant, page: str) -> dict[str, Any] | None:
    """What a participant's page says about the bonus: the rule in the instructions, the
    running total on trial pages (if the spec shows it), the amount on the final page."""
    rule = study.typed_spec.incentives
    if rule is None:
        return None
    language = participant.language
    context: dict[str, Any] = {"statement": rule.statement(gettext, language)}
    if page == "finished" and participant.status == Status.COMPLETED:
        context["earned"] = money(participant_bonus(rule, participant), rule.currency, language)
    elif page == "trial" and rule.show_running_total:
        context["so_far"] = money(participant_bonus(rule, participant), rule.currency, language)
    return context


def participant_bonus(rule: Incentives, participant: Participant) -> Decimal:
    """The bonus earned on the answers stored so far."""
    return rule.bonus(scored_outcomes(participant.study, [participant])[participant.pk])


def study_payments(study: Study, source: str) -> list[Payment]:
    """Completed real participants recruited from ``source`` (prolific, mturk), in enrolment
    order, with their bonus (zero when the study pays none)."""
    participants = list(Participant.objects.filter(
        study=study, source=source, status=Status.COMPLETED, is_bot=False, is_preview=False)
        .select_related("study").order_by("id"))
    rule = study.typed_spec.incentives
    if rule is None:
        return [Payment(p, Decimal(0)) for p in participants]
    outcomes = scored_outcomes(study, participants)
    return [Payment(p, rule.bonus(outcomes[p.pk])) for p in participants]


def prolific_bonuses(study: Study) -> str:
    """Prolific's bulk bonus list: ``participant id,amount`` a line, no header, bonuses > 0."""
    return _lines((p.participant.external_id, str(p.bonus))
                  for p in study_payments(study, "prolific") if p.bonus > 0)


def prolific_approvals(study: Study) -> str:
    """Prolific participant ids of completed submissions, one a line (bulk approve)."""
    return _lines((p.participant.external_id,) for p in study_payments(study, "prolific"))


def mturk_bonuses(study: Study) -> str:
    """A CSV for MTurk's SendBonus (CLI or boto3): worker, assignment, amount, reason."""
    reason = spreadsheet_safe(f"Performance bonus for the study '{study.title}'")
    return _lines([("WorkerId", "AssignmentId", "BonusAmount", "Reason")] + [
        (p.participant.external_id, p.assignment_id, str(p.bonus), reason)
        for p in study_payments(study, "mturk") if p.bonus > 0])


def mturk_approvals(study: Study) -> str:
    """MTurk assignment ids of completed assignments, one a line (ApproveAssignment)."""
    return _lines((p.assignment_id,) for p in study_payments(study, "mturk"))


PAYMENT_FILES: dict[str, Callable[[Study], str]] = {
    "prolific-bonuses": prolific_bonuses,
    "prolific-approvals": prolific_approvals,
    "mturk-bonuses": mturk_bonuses,
    "mturk-approvals": mturk_approvals,
}


def _lines(rows: Any) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
