"""Django admin: researchers configure their own studies here (and only see their own)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from experiments.study_spec import StudySpec
from studyapp import selectors
from studyapp.auth import ThrottledAdminAuthenticationForm
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
from studyapp.services import flow, preparation, studies
from studyapp.services.errors import StudyConfigError


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
    """Conditions come from the spec; the one live switch is whether each one recruits."""

    model = Condition
    extra = 0
    can_delete = False
    fields = ["name", "label", "show_ai", "explanation_method", "explanation_wording",
              "model_variant", "cap", "is_open"]
    readonly_fields = ["name", "label", "show_ai", "explanation_method", "explanation_wording",
                       "model_variant", "cap"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StudyAccessInline(admin.TabularInline):
    model = StudyAccess
    extra = 0


class StudyForm(forms.ModelForm):
    """A study is edited as its YAML spec (study-as-code); validation names the field."""

    spec_yaml = forms.CharField(
        label="Specification (YAML)",
        widget=forms.Textarea(attrs={"rows": 36, "cols": 110, "spellcheck": "false",
                                     "style": "font-family: monospace"}),
        help_text="The whole study: scenario, task, conditions, trials, questionnaires, "
                  "recruitment codes and links. See examples/studies/ for complete specs.")

    class Meta:
        model = Study
        fields = ["raw_ids_in_export"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The YAML as the researcher wrote it, comments and all (the current version's).
        self.fields["spec_yaml"].initial = (selectors.study_source_text(self.instance)
                                            if self.instance.pk else _example_spec())

    def clean_spec_yaml(self) -> str:
        # Kept as written (studies.study_load_spec): browsers send a textarea's lines with
        # CRLF and the field strips the final newline, neither of which the researcher wrote.
        text: str = self.cleaned_data["spec_yaml"].replace("\r\n", "\n") + "\n"
        try:
            spec = studies.spec_parse(text)
        except StudyConfigError as exc:
            raise forms.ValidationError(str(exc)) from None
        slug = StudySpec.from_dict(spec).slug
        if self.instance.pk and slug != self.instance.slug:
            raise forms.ValidationError(f"slug: a study's slug cannot change "
                                        f"(it is {self.instance.slug!r})")
        if not self.instance.pk and Study.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"slug: {slug!r} is taken")
        if self.instance.pk:
            try:
                studies.study_check_change(study=self.instance, spec=spec)
            except StudyConfigError as exc:
                raise forms.ValidationError(str(exc)) from None
        return text


def _example_spec() -> str:
    from django.conf import settings

    path = settings.BASE_DIR / "examples" / "studies" / "demo.yaml"
    return studies.spec_with_slug(path.read_text(encoding="utf-8"), "my-study")


@admin.register(Study)
class StudyAdmin(OwnStudiesMixin, admin.ModelAdmin):
    study_path = ""
    form = StudyForm
    list_display = ["slug", "title", "status", "task", "preparation", "created_at"]
    list_filter = ["status", "task"]
    search_fields = ["slug", "title"]
    readonly_fields = ["slug", "title", "status", "spec_hash", "preparation",
                       "preparation_done", "preparation_total", "preparation_error",
                       "version_history", "created_at", "updated_at"]
    actions = ["export_yaml", "copy_study", "prepare", "open_recruitment", "close_recruitment"]

    @admin.display(description="Versions")
    def version_history(self, obj: Study) -> str:
        """Every saved version, newest first: what participants' ``version`` refers to."""
        return "; ".join(
            f"v{v.number} {v.spec_hash[:12]} {v.created_at:%Y-%m-%d %H:%M}"
            + (f" by {v.created_by}" if v.created_by else "")
            for v in obj.versions.select_related("created_by").order_by("-number"))

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [ConditionInline, StudyAccessInline] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Only a study's owner may delete it (a colleague, even with edit rights, may not)."""
        allowed = bool(super().has_delete_permission(request, obj))
        if obj is None or not allowed:
            return allowed
        return bool(getattr(request.user, "is_superuser", False)) or obj.owner_id == (
            request.user.pk)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["spec_yaml", "raw_ids_in_export"]
        return [*self.readonly_fields, "raw_ids_in_export", "spec_yaml"]

    def save_model(self, request: HttpRequest, obj: Study, form: Any, change: bool) -> None:
        owner = obj.owner if change else request.user
        study, _ = studies.study_load_spec(text=form.cleaned_data["spec_yaml"],
                                           owner=owner,  # type: ignore[arg-type]
                                           author=request.user)  # type: ignore[arg-type]
        studies.study_set_raw_ids(study=study, raw_ids=form.cleaned_data["raw_ids_in_export"])
        obj.pk = study.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any,
                     change: bool) -> None:
        if formset.model is not Condition:
            super().save_formset(request, form, formset, change)
            return
        # The admin's change message reads these lists; only is_open can change here.
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for condition_form in formset.forms:
            if "is_open" in condition_form.changed_data:
                studies.condition_set_open(condition=condition_form.instance,
                                           is_open=condition_form.cleaned_data["is_open"])
                formset.changed_objects.append((condition_form.instance, ["is_open"]))

    @admin.action(description="Export the selected study as a YAML spec")
    def export_yaml(self, request: HttpRequest, queryset: QuerySet[Study]) -> HttpResponse:
        text = "\n---\n".join(selectors.study_source_text(study) for study in queryset)
        response = HttpResponse(text, content_type="application/x-yaml")
        name = queryset.first().slug if queryset.count() == 1 else "studies"  # type: ignore
        response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
        return response

    @admin.action(description="Copy as a new study (new slug, draft, no participants)")
    def copy_study(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            if not selectors.can_edit(request.user, study):
                continue
            try:
                copy = studies.study_copy(study=study,
                                          author=request.user)  # type: ignore[arg-type]
            except StudyConfigError as exc:
                self.message_user(request, f"{study.slug}: {exc}", level=messages.ERROR)
                continue
            self.message_user(request, f"{study.slug} copied as {copy.slug} (a draft: change "
                              "it, then prepare and open it).")

    @admin.action(description="Prepare items and explanations (background task)")
    def prepare(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        for study in queryset:
            if selectors.can_edit(request.user, study):
                preparation.preparation_queue(study=study)
        self.message_user(request, "Preparation started; progress shows on the study page.")

    @admin.action(description="Open recruitment")
    def open_recruitment(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        self._set_status(request, queryset, Study.Status.OPEN)

    @admin.action(description="Close recruitment")
    def close_recruitment(self, request: HttpRequest, queryset: QuerySet[Study]) -> None:
        self._set_status(request, queryset, Study.Status.CLOSED)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Study], status: str) -> None:
        for study in queryset:
            if not selectors.can_edit(request.user, study):
                continue
            try:
                studies.study_set_status(study=study, status=status)
            except StudyConfigError as exc:
                self.message_user(request, f"{study.slug}: {exc}", level=messages.ERROR)


class ReadOnlyAdmin(OwnStudiesMixin, admin.ModelAdmin):
    """Collected data is never edited by hand: it is what participants did."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a participant's data leaves only by withdrawal, which removes it all


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
    search_fields = ["external_id"]
    actions = ["withdraw"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # removal goes through withdrawal, which deletes every record

    @admin.action(description="Withdraw: delete every record of the selected participants")
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Participant]) -> None:
        withdrawn = 0
        for participant in queryset.select_related("study"):
            if selectors.can_edit(request.user, participant.study):
                flow.participant_withdraw(participant=participant)
                withdrawn += 1
        self.message_user(request, f"Withdrew {withdrawn} participant(s); their data is gone.")


@admin.register(Trial)
class TrialAdmin(ReadOnlyAdmin):
    study_path = "participant__study"
    list_display = ["participant", "index", "item", "condition", "kind", "shown_at"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    study_path = "participant__study"
    list_display = ["participant", "kind", "page", "trial_index", "server_at"]
    list_filter = ["kind"]


# The admin's sign-in counts failures and locks out like the site's (studyapp/auth.py).
admin.site.login_form = ThrottledAdminAuthenticationForm
