"""python manage.py prepare_study SLUG [--async]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studyapp import tasks
from studyapp.models import Study


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
        result = tasks.prepare_study.delay(study.pk)
        if options["run_async"]:
            self.stdout.write(f"queued task {result.id}")
            return
        self.stdout.write(f"prepared: {result.get(timeout=3600)}")
