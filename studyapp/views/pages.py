"""Which template and context the participant's current position calls for."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from experiments.designs import Step
from explainers.render.words import localised_number
from studyapp import selectors
from studyapp.models import Participant, Study, Trial
from studyapp.services.bonuses import page_incentives
from studyapp.services.flow import trial_mark_shown
from studyapp.services.pools import ATTENTION_INSTRUCTION, NUMBER_ATTENTION_INSTRUCTION
from studyapp.services.questionnaires import questionnaire_items
from studyapp.translation import localised_display, translated

Stage = Participant.Stage
Status = Participant.Status


def page_context(request: HttpRequest, study: Study, participant: Participant,
                 error: str | None = None) -> tuple[str, dict[str, Any]]:
    template, context = _page(study, participant, error)
    # The page's name (consent, trial, questionnaire, ...): events logged from it carry it.
    page_name = template.rsplit("/", 1)[-1].removesuffix(".html")
    return template, {**context, "page_name": page_name,
                      "incentives": page_incentives(study, participant, page_name)}


def _page(study: Study, participant: Participant,
          error: str | None) -> tuple[str, dict[str, Any]]:
    spec = selectors.participant_spec(participant)  # their version's texts, in their language
    base = {"study": study, "spec": spec, "participant": participant, "error": error,
            "is_preview": participant.is_preview}
    if participant.is_finished:
        return "participant/finished.html", {**base, **_finished(study, participant)}
    if participant.stage == Stage.TRIALS:
        return "participant/trial.html", {**base, **_trial(participant)}
    if participant.stage == Stage.QUESTIONNAIRE:
        questions = questionnaire_items(study, seen=selectors.participant_exposure(participant),
                                        spec=spec)
        return "participant/questionnaire.html", {
            **base, "questions": questions,
            "rates_the_ai": any(q.kind == "likert" for q in questions)}
    if participant.stage == Stage.COMPREHENSION:
        return "participant/comprehension.html", {
            **base, "questions": spec.comprehension.questions,
            "attempts_left": study.comprehension_max_attempts
            - participant.comprehension_attempts,
            "attempt": participant.comprehension_attempts + 1}
    if participant.stage == Stage.INSTRUCTIONS:
        return "participant/instructions.html", {
            **base, "paragraphs": spec.instructions, "task": spec.task,
            # After a wrong comprehension attempt: read again, then the check once more.
            "rereading": participant.comprehension_attempts > 0,
            "attempts_left": study.comprehension_max_attempts
            - participant.comprehension_attempts}
    return "participant/consent.html", {**base, "consent": spec.consent}


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
    study = participant.study
    question = step.question
    # What is on screen comes from the step's declaration (experiments.designs), not the item.
    panels = selectors.trial_panels(trial) if step.shows_candidates else []
    language = participant.language
    return {
        "trial": trial,
        "item": trial.item,
        "display": localised_display(trial.item.display, language),
        "instruction": _instruction(trial, language),
        "display_kind": _display_kind(trial.item.display),
        "step": step,
        "question": question,
        "two_step": steps[0].name == "initial",
        "initial_answer": _initial_answer(study, steps[0], trial) if steps[0].name == "initial"
        and step.name == "final" else None,
        "show_ai": step.shows_ai,
        "show_edit": step.shows_edit and bool(trial.item.edit),
        "explanation": trial.explanation if step.shows_explanation else None,
        # The right answer reaches the page only here, after the answer is stored.
        "outcome": selectors.trial_outcome(trial) if step.shows_outcome else None,
        "ai_prediction_text": _ai_output(study, trial.item.ai_prediction, language),
        "panels": [{**p, "explanation": p["explanation"] if step.shows_explanation else None,
                    "prediction": p["prediction"] if step.shows_ai else ""} for p in panels],
        "number": selectors.number_field(study) if question.kind == "number" else None,
        "options": selectors.answer_choices(study, step, trial),
        "confidence_points": list(range(
            1, selectors.participant_spec(participant).task.confidence_scale + 1))
        if question.asks_confidence else [],
        "phase_title": gettext("Practice: this one does not count")
        if trial.kind == Trial.Kind.PRACTICE else PHASE_TITLES.get(trial.phase, ""),
        "tutorial": selectors.trial_tutorial(trial),
        "position": trial.index + 1,
        "total": trial.trial_total,
        "idempotency_key": uuid.uuid4().hex,
    }


PHASE_TITLES = {
    "learning": gettext_lazy("Learning: see how the AI decides"),
    "pre": gettext_lazy("Test: predict what the AI will say"),
    "learning_explained": gettext_lazy("Learning again, now with explanations"),
    "post": gettext_lazy("Final test: predict what the AI will say"),
}


def _instruction(trial: Trial, language: str) -> str:
    """An attention check's instruction in the participant's language, naming the answer it
    asks for as the page's options name it (the stored English one is the record)."""
    item = trial.item
    if trial.kind != Trial.Kind.ATTENTION or not item.expected_answer:
        return item.instruction
    if item.instruction.startswith(NUMBER_ATTENTION_INSTRUCTION.split("{", 1)[0]):
        number = localised_number(f"{int(float(item.expected_answer)):,}", language)
        return gettext(NUMBER_ATTENTION_INSTRUCTION).format(label=number)
    return gettext(ATTENTION_INSTRUCTION).format(label=translated(item.expected_answer))


def _ai_output(study: Study, value: str, language: str) -> str:
    """The AI's output as a participant reads it: a class name, or a number with its unit."""
    if not study.answer_options or study.answer_options[0].get("value") != "number":
        return translated(value)
    try:
        number = float(value)
    except ValueError:
        return value
    unit = translated(study.answer_options[0].get("label", ""))
    return f"{localised_number(f'{number:,.0f}', language)} {unit}".strip()


def _display_kind(display: Any) -> str:
    """How to show an item: a profile table, a grey-level image, or a text."""
    if isinstance(display, dict) and set(display) == {"image"}:
        return "image"
    if isinstance(display, dict) and set(display) == {"text"}:
        return "text"
    return "table"


def _initial_answer(study: Study, initial: Step, trial: Trial) -> str | None:
    """The participant's first answer as its option read on the page (the stored value is the
    English class name: a German page echoed "Bad credit risk" under "Ihre erste Antwort")."""
    response = trial.responses.filter(step="initial").first()
    if response is None:
        return None
    labels = {c["value"]: c["label"] for c in selectors.answer_choices(study, initial, trial)}
    return labels.get(response.answer, response.answer)
