"""python manage.py export_study SLUG --out DIR [--raw-ids]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp.models import Study
from studyapp.services import exports, reports


class Command(BaseCommand):
    help = "Write trials.csv, participants.csv, events.csv, datapackage.json and study.yaml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--raw-ids", action="store_true",
                            help="write raw recruitment ids instead of pseudonyms")
        parser.add_argument("--no-reports", action="store_true",
                            help="only the CSVs and codebook, without analysis.ipynb, "
                                 "analysis.R and report.html")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study {options['slug']!r}")
        raw_ids = True if options["raw_ids"] else None
        if options["no_reports"]:
            written = exports.study_export(study=study, out_dir=options["out"], raw_ids=raw_ids)
        else:
            written = reports.study_reports_write(study=study, out_dir=options["out"],
                                                  raw_ids=raw_ids, progress=self._progress)
        for path in written:
            self.stdout.write(str(path))

    def _progress(self, step: str, done: int, total: int) -> None:
        self.stderr.write(f"  [{done}/{total}] {step}")
