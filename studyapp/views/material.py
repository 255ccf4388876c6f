"""The researcher's page for bringing their own table: upload, see what it becomes, get the
spec block. The work (checks, storage, training) is in :mod:`studyapp.services.material`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from experiments.scenarios.own import MAX_CATEGORIES, MAX_CODEBOOK_BYTES, MAX_COLUMNS, MIN_ROWS
from experiments.scenarios.own_images import IMAGE_SIDE, MAX_IMAGES
from experiments.scenarios.own_texts import MAX_TEXT_CHARS
from studyapp.services import material, material_archive
from studyapp.services.errors import MaterialRefused, StudyConfigError


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of material", initial="table", widget=forms.RadioSelect, required=False,
        choices=[("table", "A table (one row per case, one column per feature)"),
                 ("texts", "Texts (a table with a column of short texts)"),
                 ("pictures", "Pictures (a .zip of a table and the pictures it names)")])
    name = forms.SlugField(max_length=64, help_text="Your name for the material in the spec "
                           "(letters, digits, - and _), e.g. loans.")
    table = forms.FileField(label="Data (CSV or Parquet; for pictures a .zip)",
                            allow_empty_file=True, widget=forms.ClearableFileInput(
                                attrs={"accept": ".csv,.parquet,.zip"}),
                            help_text="For pictures: the table at the top of the zip, the "
                            "pictures (PNG or JPEG) named in it relative to the table.")
    codebook = forms.FileField(label="Codebook (YAML, optional)", required=False,
                               allow_empty_file=True,
                               widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml"}))
    target = forms.CharField(max_length=200, help_text="The column the model predicts.")
    text = forms.CharField(label="Text column", max_length=200, required=False,
                           help_text="Texts only: the column that holds the texts.")
    image = forms.CharField(label="Image column", max_length=200, required=False,
                            help_text="Pictures only: the column of the pictures' file names.")
    model_file = forms.FileField(
        label="Your fitted model (.skops or .onnx, optional)", required=False,
        allow_empty_file=True, widget=forms.ClearableFileInput(attrs={"accept": ".skops,.onnx"}),
        help_text="Tables only. Then the model is yours and the model family below is not "
        "used; pickle and joblib files are refused.")
    model = forms.ChoiceField(
        required=False, initial="", help_text="Trained here from the seed; linear is for a "
        "numeric target, logistic for labels.",
        choices=[("", "The usual one for the material"),
                 *((kind.capitalize(), [(m, m) for m in models])
                   for kind, models in material.KIND_MODELS.items())])
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, initial=0)

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or "table"  # what the page took before it asked

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The column of texts or pictures is what such material is: ask for it by its field.
        for kind, field in (("texts", "text"), ("pictures", "image")):
            if cleaned.get("kind") == kind and not cleaned.get(field):
                self.add_error(field, f"Name the column of {kind}.")
        return cleaned


@login_required
@require_http_methods(["GET", "POST"])
def material_new(request: HttpRequest) -> HttpResponse:
    # The upload stores files and trains a model: researchers (staff) only.
    if not request.user.is_staff:
        raise PermissionDenied("Only researchers can bring material.")
    posted = request.method == "POST"
    form = MaterialForm(request.POST, request.FILES) if posted else MaterialForm()
    report, draft = None, ""
    if posted and form.is_valid():
        try:
            fields = dict(form.cleaned_data)
            report = material.material_upload(data=fields.pop("table"), **fields)
        except MaterialRefused as exc:
            form.add_error(None, str(exc))
            draft = exc.draft
        except StudyConfigError as exc:
            form.add_error(None, str(exc))
    return render(request, "researcher/material.html",
                  {"form": form, "report": report, "draft": draft, "limits": _limits()})


def _limits() -> dict[str, Any]:
    return {"data_mib": material.UPLOAD_MAX_BYTES // 2**20,
            "codebook_kib": MAX_CODEBOOK_BYTES // 2**10, "columns": MAX_COLUMNS,
            "min_rows": MIN_ROWS, "categories": MAX_CATEGORIES,
            "unpacked_mib": material_archive.MAX_UNPACKED_BYTES // 2**20,
            "pictures": MAX_IMAGES, "side": IMAGE_SIDE, "text_chars": MAX_TEXT_CHARS}
