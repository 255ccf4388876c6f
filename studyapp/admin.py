"""Django admin: researchers configure their own studies here (and only see their own)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from experiments.spec import dump_spec
from studyapp import selectors
from studyapp.models import (
    Condition,
    Event,
    Explanation,
    Item,
    Participant,
    Study,
    StudyAccess,
    Trial,
)


class OwnStudiesMixin:
    """Limits every list and object to the studies the user may see."""

    study_path = "study"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        visible = selectors.studies_for_user(request.user)
        if self.study_path == "":
            return queryset.filter(pk__in=visible.values("pk"))
        return queryset.filter(**{f"{self.study_path}__in": visible})

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)  # type: ignore[misc]
        if obj is None or not allowed:
            return bool(allowed)
        study = obj if isinstance(obj, Study) else obj.study
        return selectors.can_edit(request.user, study)


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0
    fields = ["name", "label", "position", "show_ai", "explanation_method",
              "explanation_params", "cap", "is_open"]


class StudyAccessInline(admin.TabularInline):
    model = StudyAccess
    extra = 0


@admin.register(Study)
class StudyAdmin(OwnStudiesMixin, admin.ModelAdmin):
    study_path = ""
    list_display = ["slug", "title", "status", "task", "preparation", "created_at"]
    list_filter = ["status", "task"]
    search_fields = ["slug", "title"]
    readonly_fields = ["spec_hash", "preparation", "preparation_done", "preparation_total",
                       "preparation_error", "created_at", "updated_at"]
    inlines = [ConditionInline, StudyAccessInline]
    actions = ["export_yaml"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: Study, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["owner"] if not getattr(request.user, "is_superuser", False) else []

    @admin.action(description="Export the selected study as a YAML spec")
    def export_yaml(self, request: HttpRequest, queryset: QuerySet[Study]) -> HttpResponse:
        text = "\n---\n".join(dump_spec(study.spec) for study in queryset)
        response = HttpResponse(text, content_type="application/x-yaml")
        name = queryset.first().slug if queryset.count() == 1 else "studies"  # type: ignore
        response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
        return response


class ReadOnlyAdmin(OwnStudiesMixin, admin.ModelAdmin):
    """Collected data is never edited by hand: it is what participants did."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ["key", "study", "role", "truth", "ai_prediction", "ai_correct"]
    list_filter = ["role", "ai_correct"]


@admin.register(Explanation)
class ExplanationAdmin(ReadOnlyAdmin):
    study_path = "item__study"
    list_display = ["item", "method", "kind", "fingerprint", "created_at"]
    list_filter = ["method", "kind"]


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ["pk", "study", "condition", "status", "stage", "is_bot", "is_preview",
                    "started_at"]
    list_filter = ["status", "is_bot", "is_preview"]


@admin.register(Trial)
class TrialAdmin(ReadOnlyAdmin):
    study_path = "participant__study"
    list_display = ["participant", "index", "item", "condition", "kind", "shown_at"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    study_path = "participant__study"
    list_display = ["participant", "kind", "page", "trial_index", "server_at"]
    list_filter = ["kind"]
