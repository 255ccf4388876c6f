"""Which template and context the participant's current position calls for."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest

from studyapp import selectors
from studyapp.models import Participant, Study, Trial
from studyapp.services.flow import trial_mark_shown
from studyapp.services.questionnaires import questionnaire_items

Stage = Participant.Stage
Status = Participant.Status


def page_context(request: HttpRequest, study: Study, participant: Participant,
                 error: str | None = None) -> tuple[str, dict[str, Any]]:
    base = {"study": study, "participant": participant, "error": error,
            "is_preview": participant.is_preview}
    if participant.is_finished:
        return "participant/finished.html", {**base, **_finished(study, participant)}
    if participant.stage == Stage.TRIALS:
        return "participant/trial.html", {**base, **_trial(participant)}
    if participant.stage == Stage.QUESTIONNAIRE:
        return "participant/questionnaire.html", {
            **base, "questions": questionnaire_items(study, saw_ai=participant.condition.show_ai),
            "saw_ai": participant.condition.show_ai}
    if participant.stage == Stage.COMPREHENSION:
        return "participant/comprehension.html", {
            **base, "questions": study.spec["comprehension"]["questions"],
            "attempts_left": study.comprehension_max_attempts
            - participant.comprehension_attempts}
    if participant.stage == Stage.INSTRUCTIONS:
        return "participant/instructions.html", {
            **base, "paragraphs": study.spec["instructions"], "task": study.spec["task"]}
    return "participant/consent.html", {**base, "consent": study.spec["consent"]}


def _finished(study: Study, participant: Participant) -> dict[str, Any]:
    if participant.status == Status.COMPLETED:
        return {"outcome": "completed", "code": study.completion_code,
                "redirect_url": study.completion_url}
    if participant.status == Status.TIMED_OUT:
        return {"outcome": "timed_out", "code": study.screenout_code,
                "redirect_url": study.screenout_url}
    return {"outcome": "screened_out", "code": study.screenout_code,
            "redirect_url": study.screenout_url}


def _trial(participant: Participant) -> dict[str, Any]:
    trial = selectors.current_trial(participant)
    assert trial is not None, "a participant in the trials stage always has a current trial"
    trial_mark_shown(trial=trial)
    steps = selectors.trial_steps(trial)
    step = selectors.next_step(trial, steps) or steps[-1]
    advice_visible = trial.condition.show_ai and trial.kind == Trial.Kind.MAIN and (
        step == "final")
    study = participant.study
    return {
        "trial": trial,
        "item": trial.item,
        "step": step,
        "two_step": len(steps) == 2,
        "initial_answer": _initial_answer(trial) if step == "final" and len(steps) == 2 else None,
        "show_ai": advice_visible,
        "explanation": trial.explanation if advice_visible else None,
        "options": study.answer_options,
        "confidence_points": list(range(1, study.spec["task"]["confidence_scale"] + 1))
        if step == "final" else [],
        "position": trial.index + 1,
        "total": participant.trials.count(),
        "idempotency_key": uuid.uuid4().hex,
    }


def _initial_answer(trial: Trial) -> str | None:
    response = trial.responses.filter(step="initial").first()
    return response.answer if response else None
