"""Analysis reports from a study's export: executed notebook, R script and HTML report.

The export (CSVs + codebook) is written first; the reports are built from those files alone,
exactly as a researcher reproducing the analysis elsewhere would.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analysis.report import ReportOptions, build_html_report, build_notebook, build_r_script
from analysis.report.environment import write_environment
from experiments.designs import design
from studyapp.models import AnalysisRun, Participant, Study
from studyapp.services.exports import study_export

Progress = Callable[[str, int, int], None]
REPORT_FILES = ("analysis.ipynb", "analysis.R", "report.html", "requirements.txt")


def report_options(study: Study) -> ReportOptions:
    """Analysis options that follow from the study's design."""
    spec = study.typed_spec
    scale, fairness = spec.task.confidence_scale, spec.task.fairness
    human_alone = next((c.name for c in study.conditions.all() if not c.show_ai), None)
    # A study only bots have played is a rehearsal: analyse the bots, or nothing is left.
    people = Participant.objects.filter(study=study, is_preview=False, is_bot=False)
    return ReportOptions(confidence_scale=(1, scale) if scale else None,
                         speeder_fraction=spec.exclusions.speeder_fraction,
                         min_seconds_per_trial=spec.exclusions.min_seconds_per_trial,
                         human_alone=human_alone, reference_condition=human_alone,
                         include_bots=not people.exists(),
                         fairness_group="group" if fairness else None,
                         positive_label=fairness.positive if fairness else None,
                         ready_threshold=design(study.task).ready_from)


def study_reports_write(*, study: Study, out_dir: Path, progress: Progress | None = None,
                        execute_notebook: bool = True, raw_ids: bool | None = None
                        ) -> list[Path]:
    """Export the study into ``out_dir`` and build the three reports beside the CSVs, with the
    analysis wheel and pinned ``requirements.txt`` that let the notebook run elsewhere."""
    steps = [("export", lambda: study_export(study=study, out_dir=out_dir, raw_ids=raw_ids)),
             ("environment", lambda: write_environment(out_dir)),
             ("notebook", lambda: [build_notebook(out_dir, out_dir / "analysis.ipynb",
                                                  execute=execute_notebook,
                                                  options=report_options(study))]),
             ("R script", lambda: [build_r_script(out_dir, out_dir / "analysis.R",
                                                  options=report_options(study))]),
             ("HTML report", lambda: [build_html_report(out_dir, out_dir / "report.html",
                                                        options=report_options(study))])]
    written: list[Path] = []
    for done, (name, step) in enumerate(steps):
        if progress is not None:
            progress(name, done, len(steps))
        written.extend(Path(p) for p in step())
    if progress is not None:
        progress("done", len(steps), len(steps))
    return written


def analysis_run_create(*, study: Study, user: object | None) -> AnalysisRun:
    return AnalysisRun.objects.create(study=study, requested_by=user)  # type: ignore[misc]


def analysis_run_start(*, study: Study, user: object | None) -> AnalysisRun:
    """Store a run and queue its build (``tasks.build_analysis``) once the run is committed."""
    from studyapp import tasks  # the tasks call these services

    run = analysis_run_create(study=study, user=user)
    transaction.on_commit(lambda: tasks.build_analysis.delay(run.pk))
    return run


def analysis_run_execute(*, run: AnalysisRun) -> AnalysisRun:
    """Build the reports for a queued run, recording progress on the run's row."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    out_dir = Path(settings.VAR_DIR) / "reports" / run.study.slug / f"{stamp}-{run.pk}"

    def progress(step: str, done: int, total: int) -> None:
        AnalysisRun.objects.filter(pk=run.pk).update(
            state=AnalysisRun.State.RUNNING, step=step, steps_done=done, steps_total=total)

    try:
        study_reports_write(study=run.study, out_dir=out_dir, progress=progress)
    except Exception as exc:
        AnalysisRun.objects.filter(pk=run.pk).update(
            state=AnalysisRun.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now())
        raise
    finished = AnalysisRun.objects.filter(pk=run.pk, outdated_at__isnull=True).update(
        state=AnalysisRun.State.DONE, directory=str(out_dir), finished_at=timezone.now())
    if not finished:
        # Someone withdrew while the run was building: its files may hold their data.
        _remove_report_folders([out_dir])
        AnalysisRun.objects.filter(pk=run.pk).update(state=AnalysisRun.State.DONE,
                                                     finished_at=timezone.now())
    run.refresh_from_db()
    return run


def analysis_run_zip(run: AnalysisRun) -> bytes:
    """Everything a finished run wrote, as one archive."""
    directory = Path(run.directory)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.iterdir()):
            archive.write(path, f"{run.study.slug}-analysis/{path.name}")
    return buffer.getvalue()


def analysis_runs_outdate(*, study: Study, containing_since: datetime) -> int:
    """Mark outdated the runs whose export may hold data from ``containing_since`` on, and
    delete their files once the transaction commits.

    Called when a participant who arrived at ``containing_since`` withdraws: a run that
    finished before then never exported them and is left alone; one finished later, or
    still queued or running, did or will. Only folders under ``VAR_DIR/reports`` (where
    runs write) are removed. Returns how many runs were marked.
    """
    runs = (AnalysisRun.objects.filter(study=study, outdated_at__isnull=True)
            .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=containing_since)))
    folders = [Path(run.directory) for run in runs if run.directory]
    count = runs.update(outdated_at=timezone.now(), directory="")
    transaction.on_commit(lambda: _remove_report_folders(folders))
    return count


def _remove_report_folders(folders: list[Path]) -> None:
    root = (Path(settings.VAR_DIR) / "reports").resolve()
    for folder in folders:
        if folder.resolve().is_relative_to(root) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
