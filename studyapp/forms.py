"""Parsing participant form posts into typed service arguments."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext

from studyapp.models import Response
from studyapp.services.errors import ParticipantError
from studyapp.services.flow import MAX_RT_MS, Answer
from studyapp.services.questionnaires import ASCII_INTEGER


class AsciiIntegerField(forms.IntegerField):
    """An integer written with the digits 0-9 only. Python's int() also reads other scripts'
    digits ("٣" is 3), which no page of ours sends: such a value is a forged request."""

    def to_python(self, value: object) -> int | None:
        if value not in self.empty_values and not ASCII_INTEGER.fullmatch(str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AnswerForm(forms.Form):
    trial_index = AsciiIntegerField(min_value=0, max_value=100_000)
    step = forms.ChoiceField(choices=Response.Step.choices)
    answer = forms.CharField(max_length=200)
    confidence = AsciiIntegerField(required=False, min_value=1, max_value=10)
    rt_ms = AsciiIntegerField(required=False, min_value=0, max_value=MAX_RT_MS)
    explanation_visible_ms = AsciiIntegerField(required=False, min_value=0, max_value=MAX_RT_MS)
    idempotency_key = forms.CharField(max_length=64, required=False)


def parse_answer(form: AnswerForm) -> Answer:
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        if field == "answer":
            raise ParticipantError(gettext("Please choose one of the answers shown."))
        if field == "confidence":
            raise ParticipantError(gettext("Please say how confident you are."))
        raise ParticipantError(gettext("The form was not sent correctly ({field}: {error}).")
                               .format(field=field, error=errors[0]))
    data = form.cleaned_data
    return Answer(trial_index=data["trial_index"], step=data["step"], answer=data["answer"],
                  idempotency_key=data["idempotency_key"] or "",
                  confidence=data["confidence"], rt_ms=data["rt_ms"],
                  explanation_visible_ms=data["explanation_visible_ms"])
