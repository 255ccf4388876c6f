"""Reads shared by several views, API classes, services and commands."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from experiments.designs import Step, design
from studyapp.models import Participant, Study, StudyAccess, Trial

Status = Participant.Status
STATUS_ORDER = [s.value for s in Status]


# ----- researchers and their studies -------------------------------------------------------

def studies_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Study]:
    """Studies a researcher owns or was given access to (superusers: all)."""
    if not user.is_authenticated:
        return Study.objects.none()
    if getattr(user, "is_superuser", False):
        return Study.objects.all()
    return Study.objects.filter(Q(owner=user) | Q(access__user=user)).distinct()


def study_for_user(user: AbstractBaseUser | AnonymousUser, slug: str, *,
                   edit: bool = False) -> Study:
    """The study if this researcher may see it (or edit it); otherwise 404, never 403,
    so outsiders cannot learn which slugs exist."""
    study = studies_for_user(user).filter(slug=slug).first()
    if study is None or (edit and not can_edit(user, study)):
        raise Http404("No such study")
    return study


def can_edit(user: AbstractBaseUser | AnonymousUser, study: Study) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False) or study.owner_id == user.pk:
        return True
    return StudyAccess.objects.filter(study=study, user_id=user.pk,
                                      role=StudyAccess.Role.EDIT).exists()


def consort_counts(study: Study) -> dict[str, Any]:
    """Counts per condition x status (CONSORT-style), previews excluded."""
    rows = (Participant.objects.filter(study=study, is_preview=False)
            .values("condition__name", "status").annotate(n=Count("id")))
    table = {c.name: {s: 0 for s in STATUS_ORDER} for c in study.conditions.all()}
    for row in rows:
        table[row["condition__name"]][row["status"]] = row["n"]
    totals = {s: sum(table[c][s] for c in table) for s in STATUS_ORDER}
    return {"statuses": STATUS_ORDER, "labels": [s.label for s in Status],
            "conditions": table, "totals": totals}


# ----- assignment ------------------------------------------------------------------------

def condition_load(study: Study, *, now: datetime) -> dict[int, int]:
    """Per condition: completed participants plus those still active within the window.

    This is the count balanced assignment equalises: a dropout stops counting once their
    last activity is older than ``study.active_window_minutes``.
    """
    rows = (Participant.objects.filter(study=study, is_preview=False)
            .filter(_counting(study, now)).values("condition_id").annotate(n=Count("id")))
    return {row["condition_id"]: row["n"] for row in rows}


def _counting(study: Study, now: datetime) -> Q:
    """Participants who hold a slot: completed, or started and seen within the window."""
    window_start = now - timedelta(minutes=study.active_window_minutes)
    return Q(status=Status.COMPLETED) | Q(
        status__in=[Status.STARTED, Status.ACTIVE], last_seen_at__gte=window_start)


def sequence_load(study: Study, *, now: datetime) -> dict[int, int]:
    """Within subjects: the same count per Latin-square row (order of condition blocks)."""
    rows = (Participant.objects.filter(study=study, is_preview=False)
            .filter(_counting(study, now)).values("sequence").annotate(n=Count("id")))
    return {row["sequence"]: row["n"] for row in rows if row["sequence"] is not None}


# ----- the participant's position --------------------------------------------------------

def trial_steps(trial: Trial) -> tuple[Step, ...]:
    """The answers a trial asks for, by its study's design, phase and condition."""
    study = trial.participant.study
    task = design(study.task)
    return task.steps(task.phase(trial.phase), show_ai=trial.condition.show_ai,
                      explained=bool(trial.condition.explanation_method),
                      question=study.spec["task"]["question"],
                      attention=trial.kind == Trial.Kind.ATTENTION)


def next_step(trial: Trial, steps: tuple[Step, ...]) -> Step | None:
    answered = set(trial.responses.values_list("step", flat=True))
    return next((s for s in steps if s.name not in answered), None)


def current_trial(participant: Participant) -> Trial | None:
    return (Trial.objects.select_related("item", "condition", "explanation",
                                         "participant__study")
            .filter(participant=participant, index=participant.trial_pointer).first())


def participant_for_session(study: Study, participant_id: Any) -> Participant | None:
    if not isinstance(participant_id, int):
        return None
    return (Participant.objects.select_related("study", "condition")
            .filter(pk=participant_id, study=study).first())



def participant_saw_ai(participant: Participant) -> bool:
    """Whether any of the participant's trials showed the AI (in any block)."""
    return participant.trials.filter(condition__show_ai=True).exists()
