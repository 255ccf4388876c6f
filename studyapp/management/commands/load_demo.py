"""python manage.py load_demo: the demo study, prepared and open, with a researcher login."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser

from studyapp.models import Study
from studyapp.services import preparation, researchers, studies

DEMO_SPEC = Path(settings.BASE_DIR) / "examples" / "studies" / "demo.yaml"


class Command(BaseCommand):
    help = "Load, prepare and open the demo study; create the researcher login if missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=os.getenv("EXPLAINLAB_RESEARCHER", "researcher"))

    def handle(self, *args: Any, **options: Any) -> None:
        owner = self._researcher(options["username"])
        study, _ = studies.study_load_spec(text=DEMO_SPEC.read_text(encoding="utf-8"),
                                           owner=owner)
        if study.preparation != Study.Preparation.DONE:
            self.stderr.write("Preparing the demo study (model, items, explanations)...")
            preparation.study_prepare(study=study, progress=self._progress)
        studies.study_set_status(study=study, status=Study.Status.OPEN)
        self.stdout.write(f"Demo study '{study.slug}' is open.")

    def _researcher(self, username: str) -> User:
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            return existing
        password = os.getenv("EXPLAINLAB_RESEARCHER_PASSWORD") or secrets.token_urlsafe(12)
        user = researchers.researcher_create(username=username, password=password)
        self.stdout.write(f"Researcher login (shown once): {username} / {password}")
        return user

    def _progress(self, done: int, total: int) -> None:
        if done == total or done % 24 == 0:
            self.stderr.write(f"  explanations {done}/{total}")
