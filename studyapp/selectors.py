"""Reads shared by several views, API classes, services and commands."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext

from experiments.designs import Exposure, Step, design
from experiments.languages import spec_languages
from experiments.study_spec import StudySpec
from studyapp.models import (
    Condition,
    Event,
    Explanation,
    Item,
    Participant,
    Response,
    Study,
    StudyAccess,
    StudyVersion,
    Trial,
    Withdrawal,
)
from studyapp.rows import JoinedRead, Part, table
from studyapp.services.errors import NotFoundError
from studyapp.translation import translated

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

Status = Participant.Status
# The CONSORT columns: each participant status, then those who withdrew. Withdrawal deletes
# the participant, so withdrawals are counted from their Withdrawal records, not a status.
WITHDRAWN = "withdrawn"
STATUS_ORDER = [*(s.value for s in Status), WITHDRAWN]
STATUS_LABELS = [*(s.label for s in Status), "Withdrawn"]


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
    """The study if this researcher may see it (or edit it); otherwise NotFoundError (a
    404), never a refusal, so outsiders cannot learn which slugs exist."""
    study = studies_for_user(user).filter(slug=slug).first()
    if study is None or (edit and not can_edit(user, study)):
        raise NotFoundError("No such study")
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
    # Withdrawn participants' rows are gone; their non-identifying records are counted.
    withdrawn = (Withdrawal.objects.filter(study=study).values("condition")
                 .annotate(n=Count("id")))
    for row in withdrawn:
        if row["condition"] in table:
            table[row["condition"]][WITHDRAWN] += row["n"]
    totals = {s: sum(table[c][s] for c in table) for s in STATUS_ORDER}
    # Someone tried to open a participant's session without the platform's session check.
    refused = Event.objects.filter(participant__study=study, kind="resume_refused").count()
    return {"statuses": STATUS_ORDER, "labels": STATUS_LABELS,
            "conditions": table, "totals": totals, "refused_resumes": refused}


# ----- versions of a study's spec -----------------------------------------------------------

def study_version(study: Study) -> StudyVersion | None:
    """The study's current version: the latest saved (None only before the first save)."""
    return study.versions.order_by("-number").first()


def study_source_text(study: Study) -> str:
    """The current spec's YAML as the researcher wrote it (comments, order, quoting)."""
    version = study_version(study)
    return version.source_text if version else ""


def participant_spec(participant: Participant) -> StudySpec:
    """The spec a participant reads: the version they enrolled under (its wording, even when
    the study has been reworded since), its texts in their language. Every participant-facing
    read of spec texts goes through here."""
    version = participant.version
    if version is None:  # enrolled before versions were kept and not migrated
        return participant.study.spec_in(participant.language)
    key = (version.pk, participant.language)
    cached = participant.__dict__.get("_version_spec")
    if cached is None or cached[0] != key:
        languages = spec_languages(version.spec)
        language = participant.language if participant.language in languages else None
        cached = (key, StudySpec.from_dict(version.spec, language))
        participant.__dict__["_version_spec"] = cached
    return cached[1]


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
    """The answers a trial asks for, by its study's design, phase and condition (and, last,
    the outcome feedback its plan gives it)."""
    return _steps(participant_spec(trial.participant), trial.condition, trial.phase,
                  attention=trial.kind == Trial.Kind.ATTENTION, feedback=trial.feedback)


def _steps(spec: StudySpec, condition: Condition, phase: str, *,
           attention: bool, feedback: bool = False) -> tuple[Step, ...]:
    task = design(spec.task.design)
    return task.steps(task.phase(phase), show_ai=condition.show_ai,
                      explained=bool(condition.explanation_method),
                      question=spec.task.question, attention=attention, feedback=feedback)


def trial_tutorial(trial: Trial) -> list[str]:
    """The paragraphs of the trial's condition tutorial, if this trial opens its block: a
    practice trial, or the block's first trial when the tutorial has no practice."""
    tutorial = participant_spec(trial.participant).condition(trial.condition.name).tutorial
    if tutorial is None:
        return []
    if trial.kind == Trial.Kind.PRACTICE:
        return list(tutorial.text)
    if tutorial.practice:
        return []
    earlier = Trial.objects.filter(participant_id=trial.participant_id, index__lt=trial.index,
                                   condition_id=trial.condition_id)
    return [] if earlier.exists() else list(tutorial.text)


@dataclass(frozen=True)
class Outcome:
    """What a feedback page says about the answer just stored (labels as the page showed
    them). ``right_answer`` is None when the answer was right; ``ai_said`` is None when the
    condition never showed the AI (a control group is not told what the AI said)."""

    right: bool
    answer: str
    right_answer: str | None
    right_answer_is_the_ais: bool  # simulation designs: the answer to match is the AI's
    ai_said: str | None
    ai_right: bool | None
    rates_ai: bool  # verification designs: the outcome is whether the AI was right


def trial_outcome(trial: Trial) -> Outcome:
    """The outcome of a trial's final answer, scored by the design's own rule."""
    study, item = trial.participant.study, trial.item
    task = design(study.task)
    steps = trial_steps(trial)
    final_step = next(s for s in steps if s.name == "final")
    answer = trial.responses.get(step="final").answer
    truth = task.truth(item_truth=item.truth, model_variant=item.model_variant)
    edited = item.edit.get("ai_prediction")
    right = bool(task.score(answer, truth=truth, ai_prediction=item.ai_prediction,
                            ai_correct=item.ai_correct, phase=trial.phase,
                            ai_prediction_edited=edited))
    labels = {c["value"]: c["label"] for c in answer_choices(study, final_step, trial)}
    expected = task.right_answer(truth=truth, ai_prediction=item.ai_prediction,
                                 ai_correct=item.ai_correct, ai_prediction_edited=edited)
    # What the AI said is told only where the trial showed it, and where it is a label to
    # compare with one's own (not a rating, not one of two models).
    shows_ai = task.decides_label and any(step.shows_ai for step in steps)
    return Outcome(
        right=right, answer=labels.get(answer, answer),
        right_answer=None if right or task.rates_ai else labels.get(expected, expected),
        right_answer_is_the_ais=task.scored_against == "ai", rates_ai=task.rates_ai,
        ai_said=labels.get(item.ai_prediction, item.ai_prediction) if shows_ai else None,
        ai_right=item.ai_correct if shows_ai or task.rates_ai else None)


# ----- the answers a step accepts: the page offers them, the service accepts only them ------

SEEN = "seen"  # the answer of a step that only asks to continue (learning pages)
NUMBER_MAX = 10**12  # a number step's largest answer when preparation set none


def answer_choices(study: Study, step: Step, trial: Trial) -> list[dict[str, str]]:
    """The answers a choice step offers (``value`` and ``label``): the points of its scale,
    'seen', the trial's panels, the step's own options, or the study's classes. A number
    step offers none: ``number_field`` says which numbers it accepts. Labels are in the
    active language (the participant's); values never change with it."""
    question = step.question
    if question.kind == "number":
        return []
    if question.kind == "likert":
        return [{"value": str(n), "label": translated(label)}
                for n, label in enumerate(question.scale_labels, start=1)]
    if question.kind == "continue":
        return [{"value": SEEN, "label": gettext("Continue")}]
    if question.from_panels and trial.item.panels:
        return [{"value": p["value"], "label": translated(p["label"])}
                for p in trial.item.panels]
    if question.options:
        return [{"value": option, "label": translated(option)} for option in question.options]
    return [{**option, "label": translated(option["label"])} for option in study.answer_options]


@dataclass(frozen=True)
class NumberField:
    """The numbers a number step accepts (set at preparation), and the unit they are in."""

    min: float
    max: float
    step: float
    unit: str


def number_field(study: Study) -> NumberField:
    option = study.answer_options[0] if study.answer_options else {}
    return NumberField(min=option.get("min", 0), max=option.get("max", NUMBER_MAX),
                       step=option.get("step", 1), unit=option.get("label", ""))


def trial_panels(trial: Trial) -> list[dict[str, Any]]:
    """The labelled views of a panel trial (distinction, model comparison), each with the
    stored explanation of its item for the trial's condition (None without one)."""
    from studyapp.services.explanations import explanation_key

    panels = trial.item.panels
    method = trial.condition.explanation_method
    if not method:
        return [{**panel, "explanation": None} for panel in panels]
    keys = [(p["item"], explanation_key(trial.condition, p["target"])) for p in panels]
    rows = Explanation.objects.filter(item_id__in=[k[0] for k in keys], method=method,
                                      params_key__in=[k[1] for k in keys])
    found = {(row.item_id, row.params_key): row for row in rows}
    return [{**panel, "explanation": found.get(key)}
            for panel, key in zip(panels, keys, strict=True)]


def next_step(trial: Trial, steps: tuple[Step, ...],
              answered: Iterable[str] | None = None) -> Step | None:
    """The first step not yet answered; ``answered`` (step names) when the caller has read
    the trial's responses already, else they are read here (unless the trial was read
    ``with_progress`` and has none)."""
    if answered is None:
        answered = (() if getattr(trial, "answer_count", None) == 0
                    else trial.responses.values_list("step", flat=True))
    done = set(answered)
    return next((s for s in steps if s.name not in done), None)


class Progress(TypedDict):
    answer_count: int
    trial_total: int


def with_progress(trials: QuerySet[Trial]) -> QuerySet[WithAnnotations[Trial, Progress]]:
    """Trials annotated, in the same query, with how many answers each has (``answer_count``)
    and how many trials its participant has (``trial_total``): what every trial page and
    every answer needs to know, without a round trip to the database for each.

    Plain correlated subqueries (the same SQL on SQLite and PostgreSQL): Django's
    ``Subquery(...annotate(Count(...)))`` takes more CPU to compile than the two separate
    queries it would replace, and this is on every participant's every page.
    """
    progress = _progress_sql(f'"{Trial._meta.db_table}"')
    return trials.annotate(answer_count=RawSQL(progress["answer_count"], ()),
                           trial_total=RawSQL(progress["trial_total"], ()))


def _progress_sql(trial: str) -> dict[str, str]:
    """The two counts of ``with_progress`` for the trial table or alias ``trial``."""
    return {"answer_count": f'SELECT COUNT(*) FROM "{Response._meta.db_table}" r '
                            f'WHERE r.trial_id = {trial}."id"',
            "trial_total": f'SELECT COUNT(*) FROM "{Trial._meta.db_table}" t2 '
                           f'WHERE t2.participant_id = {trial}."participant_id"'}


# A trial with what its page shows (item, condition, explanation) and its progress.
_TRIAL_READ = JoinedRead(
    parts=[Part(Trial, "t"), Part(Item, "i", "t", "item"), Part(Condition, "c", "t", "condition"),
           Part(Explanation, "e", "t", "explanation")],
    tables=(f'{table(Trial, "t")} JOIN {table(Item, "i")} ON "i"."id" = "t"."item_id" '
            f'JOIN {table(Condition, "c")} ON "c"."id" = "t"."condition_id" '
            f'LEFT JOIN {table(Explanation, "e")} ON "e"."id" = "t"."explanation_id"'),
    where='"t"."participant_id" = %s AND "t"."index" = %s',
    extra=_progress_sql('"t"'))


def participant_trial(participant: Participant,
                      index: int) -> WithAnnotations[Trial, Progress] | None:
    """The participant's trial at ``index`` with its item, condition, explanation and
    progress (``with_progress``), in one read whose SQL is written once (studyapp.rows)."""
    trial = _TRIAL_READ.one(participant.pk, index)
    if trial is not None:
        trial.participant = participant  # with its study: no second read of either
    return trial


def current_trial(participant: Participant) -> WithAnnotations[Trial, Progress] | None:
    return participant_trial(participant, participant.trial_pointer)


_PARTICIPANT_PARTS = [Part(Participant, "p"), Part(Study, "s", "p", "study"),
                      Part(StudyVersion, "v", "p", "version")]
_PARTICIPANT_TABLES = (f'{table(Participant, "p")} '
                       f'JOIN {table(Study, "s")} ON "s"."id" = "p"."study_id" '
                       f'LEFT JOIN {table(StudyVersion, "v")} ON "v"."id" = "p"."version_id"')
_PARTICIPANT_BY_SLUG = JoinedRead(_PARTICIPANT_PARTS, _PARTICIPANT_TABLES,
                                  where='"p"."id" = %s AND "s"."slug" = %s')
_PARTICIPANT_IN_STUDY = JoinedRead(_PARTICIPANT_PARTS, _PARTICIPANT_TABLES,
                                   where='"p"."id" = %s AND "p"."study_id" = %s')


def participant_for_session(study: Study | str, participant_id: Any) -> Participant | None:
    """The participant a browser session holds in a study, with the study and version read
    with them (one query, written once: studyapp.rows). Given the study's slug instead of
    the study, it finds the study by it (pages use their trial's condition, not this one)."""
    if not isinstance(participant_id, int):
        return None
    if isinstance(study, str):
        return _PARTICIPANT_BY_SLUG.one(participant_id, study)
    return _PARTICIPANT_IN_STUDY.one(participant_id, study.pk)


def exposures(study: Study, participant_ids: Iterable[int]) -> dict[int, Exposure]:
    """Per participant: what their trials put on screen, in every block (condition) and phase,
    by the design's own declaration of each step. One query for any number of participants;
    a participant without trials saw nothing."""
    ids = list(participant_ids)
    kinds = (Trial.objects.filter(participant_id__in=ids)
             .values_list("participant_id", "condition_id", "phase", "kind").distinct())
    conditions = {c.pk: c for c in study.conditions.all()}
    seen = {pid: Exposure() for pid in ids}
    for pid, condition_id, phase, kind in kinds:
        steps = _steps(study.typed_spec, conditions[condition_id], phase,
                       attention=kind == Trial.Kind.ATTENTION)
        seen[pid] = seen[pid] | Exposure.of_steps(steps)
    return seen


def participant_exposure(participant: Participant) -> Exposure:
    """What the participant's trials showed them (the AI, an explanation), in any block."""
    return exposures(participant.study, [participant.pk])[participant.pk]
