"""Researcher pages: their studies, live CONSORT counts, preview, preparation and export."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studyapp import selectors
from studyapp.models import AnalysisRun, Condition, Participant
from studyapp.services import (
    bonuses,
    enrolment,
    exports,
    gallery,
    preparation,
    reports,
    studies,
)
from studyapp.services.errors import NotFoundError, ServiceError
from studyapp.sessions import language_key, participant_key
from studyapp.translation import link_language


@login_required
@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    rows = [(study, selectors.consort_counts(study)["totals"])
            for study in selectors.studies_for_user(request.user).select_related("owner")]
    return render(request, "researcher/study_list.html", {"rows": rows})


@login_required
@require_GET
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = selectors.study_for_user(request.user, slug)
    counts = selectors.consort_counts(study)
    rows = [(c, [counts["conditions"][c.name][s] for s in counts["statuses"]])
            for c in study.conditions.all()]
    return render(request, "researcher/study_detail.html", {
        "study": study, "counts": counts, "rows": rows,
        "can_edit": selectors.can_edit(request.user, study),
        "analysis_runs": study.analysis_runs.all()[:5],
        "participant_link": request.build_absolute_uri(reverse("study", args=[study.slug])),
    })


@login_required
@require_GET
def study_counts(request: HttpRequest, slug: str) -> JsonResponse:
    """Live counts for the dashboard's auto-refresh."""
    study = selectors.study_for_user(request.user, slug)
    latest = study.analysis_runs.first()
    return JsonResponse({"counts": selectors.consort_counts(study),
                         "analysis": None if latest is None else {
                             "id": latest.pk, "state": latest.state, "step": latest.step,
                             "done": latest.steps_done, "total": latest.steps_total},
                         "preparation": {"state": study.preparation,
                                         "done": study.preparation_done,
                                         "total": study.preparation_total}})


@login_required
@require_POST
def study_status(request: HttpRequest, slug: str) -> HttpResponse:
    study = selectors.study_for_user(request.user, slug, edit=True)
    try:
        studies.study_set_status(study=study, status=request.POST.get("status", ""))
    except ServiceError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("researcher-study", args=[slug]))


@login_required
@require_POST
def study_prepare(request: HttpRequest, slug: str) -> HttpResponse:
    study = selectors.study_for_user(request.user, slug, edit=True)
    preparation.preparation_queue(study=study)
    messages.info(request, "Preparation started: items and explanations are being computed.")
    return HttpResponseRedirect(reverse("researcher-study", args=[slug]))


@login_required
@require_POST
def condition_toggle(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    study = selectors.study_for_user(request.user, slug, edit=True)
    condition = get_object_or_404(Condition, study=study, name=name)
    studies.condition_set_open(condition=condition, is_open=request.POST.get("open") == "1")
    return HttpResponseRedirect(reverse("researcher-study", args=[slug]))


@login_required
@require_POST
def study_preview(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """Walk through the study as a participant in one condition (flagged, not exported), in
    the language ``?lang=`` asks for like the participant link (one the study is not given
    in is refused with the same 400). It creates a participant record, so it takes editing
    rights like every other write."""
    study = selectors.study_for_user(request.user, slug, edit=True)
    condition = get_object_or_404(Condition, study=study, name=name)
    language = link_language(study, request.GET)
    if study.preparation != study.Preparation.DONE:
        messages.error(request, "Prepare the study before previewing it.")
        return HttpResponseRedirect(reverse("researcher-study", args=[slug]))
    participant = enrolment.preview_participant_create(study=study, condition=condition,
                                                       language=language)
    return _to_preview(request, study.slug, participant)


@login_required
@require_POST
def preview_language(request: HttpRequest, slug: str) -> HttpResponse:
    """The preview's language switcher: the same page of the same preview, in another of
    the study's languages (``?lang=``)."""
    study = selectors.study_for_user(request.user, slug, edit=True)
    language = link_language(study, request.GET)
    participant = selectors.participant_for_session(
        study, request.session.get(participant_key(slug)))
    if participant is None:
        raise NotFoundError("No preview is open in this browser.")
    participant = enrolment.preview_language_set(participant=participant, language=language)
    return _to_preview(request, study.slug, participant)


def _to_preview(request: HttpRequest, slug: str, participant: Participant) -> HttpResponse:
    request.session[participant_key(slug)] = participant.pk
    request.session[language_key(slug)] = participant.language
    return HttpResponseRedirect(reverse("study", args=[slug]))


@login_required
@require_POST
def analysis_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a build of the export plus notebook, R script and HTML report (a write: the
    run is stored with the study, so viewers cannot start one)."""
    study = selectors.study_for_user(request.user, slug, edit=True)
    reports.analysis_run_start(study=study, user=request.user)
    messages.info(request, "The analysis is being built; progress shows below.")
    return HttpResponseRedirect(reverse("researcher-study", args=[slug]))


@login_required
@require_GET
def analysis_download(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    study = selectors.study_for_user(request.user, slug)
    run = get_object_or_404(AnalysisRun, pk=run_id, study=study, state=AnalysisRun.State.DONE,
                            outdated_at__isnull=True)
    response = HttpResponse(reports.analysis_run_zip(run), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{slug}-analysis-{run.pk}.zip"'
    return response


@login_required
@require_GET
def analysis_report(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """The HTML report of a finished run, shown in the browser."""
    study = selectors.study_for_user(request.user, slug)
    run = get_object_or_404(AnalysisRun, pk=run_id, study=study, state=AnalysisRun.State.DONE,
                            outdated_at__isnull=True)
    html = (Path(run.directory) / "report.html").read_text(encoding="utf-8")
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@login_required
@require_GET
def study_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    study = selectors.study_for_user(request.user, slug)
    response = StreamingHttpResponse(exports.study_export_stream(study=study),
                                     content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-export.zip"'
    return response


@login_required
@require_GET
def payment_file(request: HttpRequest, slug: str, payment_file: str) -> HttpResponse:
    """Bonus and approval lists for Prolific / MTurk. They carry the platforms' own ids, so
    only the study's editors get them (others: 404, as for any study they cannot edit)."""
    study = selectors.study_for_user(request.user, slug, edit=True)
    build = bonuses.PAYMENT_FILES.get(payment_file)
    if build is None:
        raise NotFoundError("No such payment file")
    response = HttpResponse(build(study), content_type="text/csv; charset=utf-8")
    filename = f"{study.slug}-{payment_file}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def explanation_gallery(request: HttpRequest) -> HttpResponse:
    """Every explanation method rendered as participants see it; POST rebuilds it."""
    if request.method == "POST":
        # One gallery serves the whole site: rebuilding it is the site administrator's call.
        if not request.user.is_superuser:
            raise PermissionDenied("Only a site administrator can rebuild the gallery.")
        gallery.gallery_rebuild_queue()
        messages.info(request, "The gallery is being rebuilt (about half a minute).")
        return HttpResponseRedirect(reverse("researcher-gallery"))
    return render(request, "researcher/gallery.html", {"entries": gallery.gallery_entries(),
                                                       "controls": gallery.gallery_controls()})
