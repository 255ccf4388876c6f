"""Serializers: shape data for the API; no business logic here."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from studyapp import selectors
from studyapp.models import Condition, Participant, Study


class ConditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Condition
        fields = ["name", "label", "show_ai", "explanation_method", "explanation_params", "cap",
                  "is_open"]
        read_only_fields = ["name", "label", "show_ai", "explanation_method",
                            "explanation_params", "cap"]


class StudySerializer(serializers.ModelSerializer):
    conditions = ConditionSerializer(many=True, read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = ["slug", "title", "status", "task", "spec_hash", "preparation",
                  "preparation_done", "preparation_total", "conditions", "counts", "created_at"]
        read_only_fields = fields

    def get_counts(self, study: Study) -> dict[str, Any]:
        return selectors.consort_counts(study)


class StudyStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Study.Status.choices)


class ParticipantSerializer(serializers.Serializer):
    participant = serializers.CharField()
    condition = serializers.CharField()
    status = serializers.ChoiceField(choices=Participant.Status.choices)
    is_bot = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class TrialRowSerializer(serializers.Serializer):
    """One row of trials.csv (same columns, same meaning)."""

    participant = serializers.CharField()
    condition = serializers.CharField()
    trial_index = serializers.IntegerField()
    item_id = serializers.CharField()
    trial_kind = serializers.CharField()
    ai_prediction = serializers.CharField(allow_null=True)
    ai_correct = serializers.BooleanField(allow_null=True)
    final_response = serializers.CharField(allow_null=True)
    correct = serializers.BooleanField(allow_null=True)
    rt_ms = serializers.IntegerField(allow_null=True)


class EventSerializer(serializers.Serializer):
    study = serializers.SlugField(max_length=64)
    kind = serializers.ChoiceField(choices=[
        "explanation_shown", "page_hidden", "page_visible", "page_view", "blur", "focus"])
    page = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    trial_index = serializers.IntegerField(min_value=0, max_value=100_000, required=False,
                                           allow_null=True)
    client_ms = serializers.IntegerField(min_value=0, max_value=10**10, required=False,
                                         allow_null=True)
    detail = serializers.DictField(required=False, default=dict)

    def validate_detail(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(str(value)) > 2000:
            raise serializers.ValidationError("detail is too large")
        return value
