"""Celery tasks: thin; they take ids, load, and call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from studyapp.models import AnalysisRun, Study
from studyapp.services import flow, gallery, preparation, reports


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def prepare_study(study_id: int) -> dict[str, int]:
    """Build the item pool and every explanation; safe to retry (nothing is made twice)."""
    study = preparation.study_prepare(study=Study.objects.get(pk=study_id))
    return {"items": study.items.count(), "explanations": study.preparation_done}


@shared_task
def release_stale_participants() -> int:
    """Periodic: mark participants past their time limit as timed out."""
    return flow.stale_participants_release()


@shared_task(acks_late=True)
def build_analysis(run_id: int) -> str:
    """Export a study and build its notebook, R script and HTML report."""
    run = reports.analysis_run_execute(run=AnalysisRun.objects.select_related("study")
                                       .get(pk=run_id))
    return run.directory


@shared_task(acks_late=True)
def build_gallery() -> dict[str, str]:
    """Recompute the explanation gallery (every method on the bundled scenarios)."""
    return gallery.gallery_build()
