"""python manage.py prepare_study SLUG [--async]"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp.models import Study
from studyapp.services import preparation


class Command(BaseCommand):
    help = "Build a study's item pool and explanations (via the Celery task)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--async", dest="run_async", action="store_true",
                            help="queue the task on the broker instead of waiting")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study {options['slug']!r}")
        preparation.preparation_queue(study=study)
        if options["run_async"]:
            self.stdout.write(f"queued the preparation of {study.slug}")
            return
        # The task only queues the chunks (a chord over every worker); wait for the study.
        deadline = time.monotonic() + 3600
        study.refresh_from_db()
        while study.preparation not in (Study.Preparation.DONE, Study.Preparation.FAILED):
            if time.monotonic() > deadline:
                raise CommandError(f"still preparing after an hour ({study.preparation_done}/"
                                   f"{study.preparation_total})")
            time.sleep(1)
            study.refresh_from_db()
        if study.preparation == Study.Preparation.FAILED:
            raise CommandError(f"preparation failed: {study.preparation_error}")
        self.stdout.write(f"prepared: {study.items.count()} items, "
                          f"{study.preparation_done}/{study.preparation_total} explanations")
