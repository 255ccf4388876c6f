"""The participant's path: consent, instructions, comprehension, trials, questionnaire, done.

The server holds the position (``Participant.stage`` and ``trial_pointer``). Every service
here locks the participant's row, checks the submission is for the page the participant is
on, stores it once, and advances the position, all in one transaction: the answer is
committed before the next page is rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from experiments.designs import Step
from studyapp import selectors
from studyapp.models import Event, Participant, QuestionnaireAnswer, Response, Trial
from studyapp.rows import JoinedRead, Part, table
from studyapp.services import withdrawal
from studyapp.services.errors import ParticipantError, StaleSubmission
from studyapp.services.event_limits import event_check
from studyapp.services.questionnaires import (
    questionnaire_answers_validate,
    questionnaire_items,
)

Stage = Participant.Stage
Status = Participant.Status
MAX_RT_MS = 6 * 60 * 60 * 1000  # anything longer is a client clock problem
TOUCH_INTERVAL = timedelta(seconds=30)
_PLAIN_NUMBER = re.compile(r"-?(?=[0-9.])[0-9]{0,15}(\.[0-9]{1,6})?")


@dataclass(frozen=True)
class Answer:
    """One submitted answer to one step of a trial, as parsed from the form."""

    trial_index: int
    step: str
    answer: str
    idempotency_key: str
    confidence: int | None = None
    rt_ms: int | None = None
    explanation_visible_ms: int | None = None


# Every answer, consent and questionnaire locks the participant's row: its SQL is written once.
_LOCKED_PARTICIPANT = JoinedRead([Part(Participant, "p")], table(Participant, "p"),
                                 where='"p"."id" = %s', lock=True)


def _lock(participant: Participant) -> Participant:
    """The participant's row, locked for this transaction, with the caller's study.

    Only the participant's row: a FOR UPDATE over a join with the study would lock the
    study's row too, and queue every participant's submission (and every arrival, which
    locks the study to assign a condition) behind one another. The study is not re-read:
    its row is not locked either way, and the caller has usually read it already.
    """
    locked = _LOCKED_PARTICIPANT.one(participant.pk)
    if locked is None:
        raise Participant.DoesNotExist(f"participant {participant.pk} no longer exists")
    locked.study = participant.study
    locked.version = participant.version  # fixed at enrolment: the caller's copy serves
    return locked


def _event(participant: Participant, kind: str, page: str, **detail: Any) -> None:
    Event.objects.create(participant=participant, kind=kind, page=page, detail=detail)


def _expect_stage(participant: Participant, stage: str) -> None:
    if participant.is_finished:
        raise StaleSubmission(gettext("You have already finished this study."))
    if participant.stage != stage:
        raise StaleSubmission(gettext("That page has already been answered; here is where you "
                                       "are now."))


def participant_touch(*, participant: Participant) -> Participant:
    """Mark the participant as seen (for balance) and enforce the study's time limit."""
    now = timezone.now()
    if participant.is_finished:
        return participant
    if participant.deadline_at is not None and now > participant.deadline_at:
        return participant_time_out(participant=participant)
    if now - participant.last_seen_at > TOUCH_INTERVAL:
        Participant.objects.filter(pk=participant.pk).update(last_seen_at=now)
        participant.last_seen_at = now
    return participant


@transaction.atomic
def participant_time_out(*, participant: Participant) -> Participant:
    """Past the time limit: marked timed out; their slot no longer counts towards balance."""
    participant = _lock(participant)
    if not participant.is_finished:
        participant.status = Status.TIMED_OUT
        participant.stage = Stage.DONE
        participant.save(update_fields=["status", "stage"])
        _event(participant, "timed_out", "server")
    return participant


@transaction.atomic
def consent_record(*, participant: Participant, agreed: bool) -> Participant:
    participant = _lock(participant)
    _expect_stage(participant, Stage.CONSENT)
    if agreed:
        participant.stage = Stage.INSTRUCTIONS
        participant.save(update_fields=["stage"])
    else:
        _screen_out(participant, reason="declined_consent")
    _event(participant, "consent", "consent", agreed=agreed)
    return participant


@transaction.atomic
def instructions_done(*, participant: Participant) -> Participant:
    participant = _lock(participant)
    _expect_stage(participant, Stage.INSTRUCTIONS)
    if selectors.participant_spec(participant).comprehension.questions:
        participant.stage = Stage.COMPREHENSION
        participant.save(update_fields=["stage"])
    else:
        _start_trials(participant)
    return participant


@transaction.atomic
def comprehension_submit(*, participant: Participant, answers: dict[str, str],
                         attempt: int | None = None) -> list[str]:
    """Score one attempt; returns the ids of wrongly answered questions (empty = passed).

    The server counts attempts. ``attempt`` is the number of the attempt the page was
    rendered for, and serves only to recognise a resent form: the very same wrong answers
    sent again for the attempt just scored (a double click, a browser retry) get their
    verdict and count nothing. Any other number (0, an earlier one, a made-up one) or any
    other answers count as a new attempt, so the limit cannot be dodged from the client.
    A right attempt passes whatever page it came from.
    """
    participant = _lock(participant)
    if not (participant.stage == Stage.INSTRUCTIONS and participant.comprehension_attempts):
        # Re-reading the instructions after a wrong attempt, an answer still counts: a
        # re-sent wrong one is recognised below, a right one from the old tab passes.
        _expect_stage(participant, Stage.COMPREHENSION)
    questions = selectors.participant_spec(participant).comprehension.questions
    given = {q.id: str(answers.get(q.id, ""))[:200] for q in questions}
    wrong = [q.id for q in questions if given[q.id] != q.answer]
    if wrong and _resent(participant, attempt, given):
        _event(participant, "duplicate_comprehension", "comprehension", attempt=attempt)
        return wrong
    participant.comprehension_attempts += 1
    participant.save(update_fields=["comprehension_attempts"])
    _event(participant, "comprehension", "comprehension",
           attempt=participant.comprehension_attempts, wrong=wrong, answers=given)
    if not wrong:
        _start_trials(participant)
    elif participant.comprehension_attempts >= participant.study.comprehension_max_attempts:
        _screen_out(participant, reason="failed_comprehension")
    else:
        # Back to the instructions, then the check again: the participant is told to re-read
        # them, so they must be able to.
        participant.stage = Stage.INSTRUCTIONS
        participant.save(update_fields=["stage"])
    return wrong


def _resent(participant: Participant, attempt: int | None, given: dict[str, str]) -> bool:
    """Is this the last scored attempt's form again (same number, same answers)?"""
    if attempt is None or attempt < 1 or attempt != participant.comprehension_attempts:
        return False
    last = (Event.objects.filter(participant=participant, kind="comprehension")
            .order_by("-id").values_list("detail", flat=True).first())
    return last is not None and last.get("answers") == given


def _start_trials(participant: Participant) -> None:
    participant.stage = Stage.TRIALS
    participant.status = Status.ACTIVE
    participant.save(update_fields=["stage", "status"])


def _screen_out(participant: Participant, *, reason: str) -> None:
    participant.status = Status.SCREENED_OUT
    participant.stage = Stage.DONE
    participant.completed_at = timezone.now()
    participant.save(update_fields=["status", "stage", "completed_at"])
    _event(participant, "screened_out", "server", reason=reason)


def response_record(*, participant: Participant, answer: Answer) -> tuple[Response, bool]:
    """Store one answer exactly once and advance; returns ``(response, created)``.

    A repeat of an answer already stored (double click, retried POST, second tab) returns the
    stored one unchanged with ``created=False``. An answer for any other trial or step than the
    current one is refused.
    """
    try:
        with transaction.atomic():
            return _response_record(participant, answer)
    except IntegrityError:
        # Two requests raced past the lock-free check on a database without row locks.
        stored = Response.objects.get(trial__participant=participant,
                                      trial__index=answer.trial_index, step=answer.step)
        return stored, False


def _response_record(participant: Participant, answer: Answer) -> tuple[Response, bool]:
    participant = _lock(participant)
    # With the locked row and its study attached: neither is read again.
    trial = selectors.participant_trial(participant, answer.trial_index)
    if trial is None:
        raise ParticipantError(gettext("That trial does not exist."))
    # The trial's answers, read only if it has any, serve the repeat check and the next step.
    answered = {r.step: r for r in trial.responses.all()} if trial.answer_count else {}
    stored = answered.get(answer.step)
    if stored is not None:
        _event(participant, "duplicate_answer", "trial", trial_index=trial.index,
               step=answer.step, same=stored.answer == answer.answer)
        return stored, False
    _expect_stage(participant, Stage.TRIALS)
    if trial.index != participant.trial_pointer:
        raise StaleSubmission(gettext("That trial has already been answered; here is where "
                                       "you are now."))
    steps = selectors.trial_steps(trial)
    expected = selectors.next_step(trial, steps, answered)
    if expected is None or answer.step != expected.name:
        raise StaleSubmission(gettext("That step has already been answered; here is where you "
                                       "are now."))
    answer = _validate_answer(participant, trial, expected, answer)
    response = Response.objects.create(
        trial=trial, step=answer.step, answer=answer.answer, confidence=answer.confidence,
        rt_ms=answer.rt_ms, explanation_visible_ms=answer.explanation_visible_ms,
        idempotency_key=answer.idempotency_key[:64])
    if expected == steps[-1]:
        _advance(participant, trial_total=trial.trial_total)
    return response, True


def number_answer_clean(study: Any, text: str) -> str:
    """A numeric answer in canonical form ("183000", "2.5"), or ParticipantError."""
    cleaned = text.replace(",", "").strip()
    # float() also reads "1_000", "1e5", "nan" and other scripts' digits; people type none.
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        raise ParticipantError(gettext("Please enter a number."))
    value = float(cleaned)
    field = selectors.number_field(study)
    low, high = float(field.min), float(field.max)
    if not low <= value <= high:  # also refuses nan and infinities
        raise ParticipantError(gettext("Please enter a number between {low} and {high}.").format(
            low=f"{low:,.0f}", high=f"{high:,.0f}"))
    return f"{value:.0f}" if value == int(value) else f"{value:g}"


def _validate_answer(participant: Participant, trial: Trial, step: Step,
                     answer: Answer) -> Answer:
    """The answer as it will be stored (numbers canonical), or ParticipantError."""
    if step.question.kind == "number":
        answer = replace(answer, answer=number_answer_clean(participant.study, answer.answer))
    elif answer.answer not in {choice["value"] for choice in
                               selectors.answer_choices(participant.study, step, trial)}:
        raise ParticipantError(gettext("Please choose one of the answers shown."))
    scale = selectors.participant_spec(participant).task.confidence_scale
    if scale and step.question.asks_confidence and (
            answer.confidence is None or not 1 <= answer.confidence <= scale):
        raise ParticipantError(gettext("Please say how confident you are (1 to {scale}).")
                               .format(scale=scale))
    for name in ("rt_ms", "explanation_visible_ms"):
        value = getattr(answer, name)
        if value is not None and not 0 <= value <= MAX_RT_MS:
            raise ParticipantError(f"{name} is out of range.")
    return answer


def _advance(participant: Participant, *, trial_total: int) -> None:
    participant.trial_pointer += 1
    fields = ["trial_pointer"]
    if participant.trial_pointer >= trial_total:
        # A questionnaire whose every scale rates what this participant never saw (a control
        # group and an explanation scale) is not shown at all.
        if questionnaire_items(participant.study,
                               seen=selectors.participant_exposure(participant),
                               spec=selectors.participant_spec(participant)):
            participant.stage = Stage.QUESTIONNAIRE
        else:
            _complete(participant)
        fields += ["stage", "status", "completed_at"]
    participant.save(update_fields=fields)


def _complete(participant: Participant) -> None:
    participant.stage = Stage.DONE
    participant.status = Status.COMPLETED
    participant.completed_at = timezone.now()


@transaction.atomic
def questionnaire_submit(*, participant: Participant, answers: Any) -> Participant:
    """Validate and store every questionnaire answer, then complete the participant."""
    participant = _lock(participant)
    _expect_stage(participant, Stage.QUESTIONNAIRE)
    rows = questionnaire_answers_validate(participant.study, answers,
                                          seen=selectors.participant_exposure(participant),
                                          spec=selectors.participant_spec(participant))
    QuestionnaireAnswer.objects.bulk_create([
        QuestionnaireAnswer(participant=participant, questionnaire=q, item=i, value=v)
        for q, i, v in rows])
    _complete(participant)
    participant.save(update_fields=["stage", "status", "completed_at"])
    _event(participant, "completed", "questionnaire")
    return participant


def participant_withdraw(*, participant: Participant) -> None:
    """Withdrawal (``services.withdrawal``): the participant's data goes, a record stays."""
    withdrawal.participant_withdraw(participant=participant)


def stale_participants_release(*, now: Any = None) -> int:
    """Mark participants past their deadline as timed out (the periodic sweep)."""
    now = now or timezone.now()
    late = Participant.objects.select_related("study").filter(
        deadline_at__lt=now, status__in=[Status.STARTED, Status.ACTIVE])
    count = 0
    for participant in late.iterator():
        participant_time_out(participant=participant)
        count += 1
    return count


def trial_mark_shown(*, trial: Trial) -> None:
    """Record when a trial page was first sent (a refresh keeps the first time)."""
    if trial.shown_at is None:
        now = timezone.now()
        Trial.objects.filter(pk=trial.pk, shown_at__isnull=True).update(shown_at=now)
        trial.shown_at = now


def event_record(*, participant: Participant, kind: str, page: str = "",
                 trial_index: int | None = None, client_ms: int | None = None,
                 detail: dict[str, Any] | None = None) -> Event:
    """A client-side event (explanation shown, tab hidden, ...) from the participant's page,
    within the participant's limits (``event_limits``)."""
    event_check(participant=participant, trial_index=trial_index)
    return Event.objects.create(participant=participant, kind=kind, page=page,
                                trial_index=trial_index, client_ms=client_ms,
                                detail=detail or {})
