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
from studyapp.services import material
from studyapp.services.errors import MaterialRefused, StudyConfigError


class MaterialForm(forms.Form):
    name = forms.SlugField(max_length=64, help_text="Your name for the material in the spec "
                           "(letters, digits, - and _), e.g. loans.")
    table = forms.FileField(label="Data (CSV or Parquet)", allow_empty_file=True,
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.parquet"}))
    codebook = forms.FileField(label="Codebook (YAML, optional)", required=False,
                               allow_empty_file=True,
                               widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml"}))
    target = forms.CharField(max_length=200, help_text="The column the model predicts.")
    model = forms.ChoiceField(choices=[(m, m) for m in material.MODEL_FAMILIES],
                              initial="gbm", help_text="Trained here from the seed; linear "
                              "is for a numeric target, logistic for labels.")
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, initial=0)


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
            "min_rows": MIN_ROWS, "categories": MAX_CATEGORIES}
