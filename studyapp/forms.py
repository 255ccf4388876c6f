"""Parsing participant form posts into typed service arguments."""

from __future__ import annotations

from django import forms

from studyapp.models import Response
from studyapp.services.errors import ParticipantError
from studyapp.services.flow import MAX_RT_MS, Answer


class AnswerForm(forms.Form):
    trial_index = forms.IntegerField(min_value=0, max_value=100_000)
    step = forms.ChoiceField(choices=Response.Step.choices)
    answer = forms.CharField(max_length=200)
    confidence = forms.IntegerField(required=False, min_value=1, max_value=10)
    rt_ms = forms.IntegerField(required=False, min_value=0, max_value=MAX_RT_MS)
    explanation_visible_ms = forms.IntegerField(required=False, min_value=0, max_value=MAX_RT_MS)
    idempotency_key = forms.CharField(max_length=64, required=False)


def parse_answer(form: AnswerForm) -> Answer:
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        if field == "answer":
            raise ParticipantError("Please choose one of the answers shown.")
        if field == "confidence":
            raise ParticipantError("Please say how confident you are.")
        raise ParticipantError(f"The form was not sent correctly ({field}: {errors[0]}).")
    data = form.cleaned_data
    return Answer(trial_index=data["trial_index"], step=data["step"], answer=data["answer"],
                  idempotency_key=data["idempotency_key"] or "",
                  confidence=data["confidence"], rt_ms=data["rt_ms"],
                  explanation_visible_ms=data["explanation_visible_ms"])
