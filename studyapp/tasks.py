"""Celery tasks: thin; they take ids, load, and call one service."""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task
from django.conf import settings
from django.db import OperationalError

from studyapp.models import AnalysisRun, Study
from studyapp.services import flow, gallery, preparation, reports


# ignore_result: the pages that queue it must not wait on the result backend (with Redis down
# that is a 20-second hang and an unexplained error instead of "try again"); progress is read
# from the study.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True, ignore_result=True)
def prepare_study(study_id: int) -> dict[str, int]:
    """Build the item pool, then spread the missing explanations over every running worker as
    a chord of chunks and a finishing task (inline in the eager mode); safe to retry."""
    study = Study.objects.get(pk=study_id)
    chunks = preparation.preparation_begin(study=study,
                                           chunk_size=settings.PREPARATION_CHUNK_SIZE)
    finish = finish_preparation.si(study_id)
    if chunks:
        chord(prepare_chunk.s(study_id, units) for units in chunks)(finish)
    else:
        finish.delay()
    study.refresh_from_db()
    return {"items": study.items.count(), "chunks": len(chunks),
            "explanations": study.preparation_done}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def prepare_chunk(study_id: int, units: list[list[Any]]) -> int:
    """Compute one chunk of a study's explanations; a re-delivered chunk stores nothing twice."""
    return preparation.preparation_chunk_run(study=Study.objects.get(pk=study_id), units=units)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def finish_preparation(study_id: int) -> dict[str, int]:
    """After every chunk: mark the preparation done, with progress as actually stored."""
    study = preparation.preparation_finish(study=Study.objects.get(pk=study_id))
    return {"explanations": study.preparation_done, "total": study.preparation_total}


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
