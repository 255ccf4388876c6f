"""Withdrawal: a participant's data goes, a non-identifying record of the withdrawal stays.

The record keeps the CONSORT counts honest (the dashboard's Withdrawn column) and stops the
same person enrolling again; it holds their condition and how far they got, and a keyed hash
of their platform and id instead of the id. Analysis runs whose export contained them are
marked outdated and their files deleted; every other run is left alone.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import transaction

from studyapp.models import Participant, Study, Withdrawal
from studyapp.services.reports import analysis_runs_outdate


def withdrawn_person(study: Study, *, source: str, external_id: str) -> str:
    """The keyed hash that stands for a recruitment id in the withdrawal record: the same
    person (same platform, same canonical id) always gets the same one within a study, and
    without the server's and the study's secrets it names nobody."""
    key = f"{settings.SECRET_KEY}:withdrawal:{study.pseudonym_salt}".encode()
    return hmac.new(key, f"{source}:{external_id}".encode(), hashlib.sha256).hexdigest()


def has_withdrawn(study: Study, *, source: str, external_id: str) -> bool:
    person = withdrawn_person(study, source=source, external_id=external_id)
    return Withdrawal.objects.filter(study=study, person=person).exists()


@transaction.atomic
def participant_withdraw(*, participant: Participant) -> Withdrawal | None:
    """Delete every record of the participant (their row, and by cascade their trials,
    answers, questionnaire answers and events) and keep the withdrawal record. Previews leave
    no record: they are never counted or exported."""
    locked = (Participant.objects.select_for_update().select_related("condition")
              .filter(pk=participant.pk).first())
    if locked is None:  # withdrawn already (a second tab, a resent form)
        return None
    record = None
    if not locked.is_preview:
        study = participant.study
        record, _ = Withdrawal.objects.get_or_create(
            study=study, person=withdrawn_person(study, source=locked.source,
                                                 external_id=locked.external_id),
            defaults={"condition": locked.first_block_condition.name, "stage": locked.stage,
                      "is_bot": locked.is_bot})
        # Runs that finished before this person arrived never exported them.
        analysis_runs_outdate(study=study, containing_since=locked.started_at)
    Participant.objects.filter(pk=locked.pk).delete()
    return record
