"""Serializers: shape data for the API; no business logic here."""

from __future__ import annotations

import math
import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
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


class _JSONTyped:
    """Refuse values of the wrong JSON type instead of coercing them: DRF turns ``0`` into
    ``"0"`` and ``"5"`` into ``5``, accepting input the OpenAPI schema says is invalid."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, self.json_types):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class _Untrimmed:
    """Text is checked as sent: trimming " small" to "small" (or a 41-character page name
    to 40) would accept what the schema's pattern and maxLength refuse."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class StrictCharField(_JSONTyped, _Untrimmed, serializers.CharField):
    json_types = (str,)


class StrictSlugField(_JSONTyped, _Untrimmed, serializers.SlugField):
    json_types = (str,)


class StrictIntegerField(_JSONTyped, serializers.IntegerField):
    json_types = (int,)  # not 5.0 either: the schema says integer (as study specs do)


# What no database column can hold: NUL (PostgreSQL refuses it in text and jsonb) and lone
# UTF-16 surrogates (from JSON escapes such as "\udc00"; not encodable as UTF-8). A valid pair is
# already one code point once parsed, so any surrogate left in a str is a lone one.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """Telemetry text with unstorable characters replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


class StorableCharField(StrictCharField):
    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(storable_text(data) if isinstance(data, str) else data)


# Keys are not limited on their own (OpenAPI 3.0 cannot say so); the body limit bounds them.
EVENT_DETAIL_ENTRIES, EVENT_DETAIL_TEXT = 10, 200


@extend_schema_field({
    "type": "object", "maxProperties": EVENT_DETAIL_ENTRIES,
    "additionalProperties": {"nullable": True, "oneOf": [
        {"type": "string", "maxLength": EVENT_DETAIL_TEXT}, {"type": "number"},
        {"type": "boolean"}]},
    "description": f"Up to {EVENT_DETAIL_ENTRIES} flat entries: text (at most "
                   f"{EVENT_DETAIL_TEXT} characters), numbers, true/false or null.",
})
class EventDetailField(serializers.DictField):
    """A few flat key -> scalar entries; what the participant page sends is ``{}``."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        if len(data) > EVENT_DETAIL_ENTRIES:
            raise serializers.ValidationError(f"at most {EVENT_DETAIL_ENTRIES} entries")
        return {storable_text(key): self._value(key, value) for key, value in data.items()}

    def _value(self, key: str, value: Any) -> Any:
        if isinstance(value, str):
            if len(value) > EVENT_DETAIL_TEXT:
                raise serializers.ValidationError(
                    f"{key}: at most {EVENT_DETAIL_TEXT} characters")
            return storable_text(value)
        if isinstance(value, float) and not math.isfinite(value):
            # JSON has no infinity: 1e999 parses to inf, which no JSON column can store.
            raise serializers.ValidationError(f"{key}: expected a finite number")
        if value is None or isinstance(value, bool | int | float):
            return value
        raise serializers.ValidationError(f"{key}: expected text, a number, true/false or null")


class EventSerializer(serializers.Serializer):
    study = StrictSlugField(max_length=64)
    kind = serializers.ChoiceField(choices=[
        "explanation_shown", "page_hidden", "page_visible", "page_view", "blur", "focus"])
    page = StorableCharField(max_length=40, required=False, allow_blank=True, default="")
    trial_index = StrictIntegerField(min_value=0, max_value=100_000, required=False,
                                     allow_null=True)
    client_ms = StrictIntegerField(min_value=0, max_value=10**10, required=False,
                                   allow_null=True)
    detail = EventDetailField(required=False, default=dict)
