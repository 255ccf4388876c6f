"""python manage.py load_study PATH [--owner USER] [--prepare] [--open]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from experiments.spec import MAX_SPEC_BYTES
from studyapp.services import preparation, studies
from studyapp.services.errors import ServiceError


class Command(BaseCommand):
    help = "Create or update a study from a YAML spec (nothing is written if the spec is bad)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--owner", default="", help="researcher username (default: the "
                            "first superuser, else the only researcher account)")
        parser.add_argument("--prepare", action="store_true", help="also build items and "
                            "explanations now")
        parser.add_argument("--open", action="store_true", help="also open recruitment")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        text = _read_spec(path)
        owner = _owner(options["owner"])
        try:
            study, created = studies.study_load_spec(text=text, owner=owner,
                                                     base_dir=path.resolve().parent)
            if options["prepare"] or options["open"]:
                preparation.study_prepare(study=study, progress=self._progress)
            if options["open"]:
                studies.study_set_status(study=study, status="open")
        except ServiceError as exc:
            raise CommandError(f"{path}: {exc}") from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} study {study.slug} (spec {study.spec_hash[:12]})")

    def _progress(self, done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            self.stderr.write(f"  explanations {done}/{total}")


def _read_spec(path: Path) -> str:
    """The spec's text; a huge or binary file is refused before it is read into memory."""
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise CommandError(f"{path}: spec: larger than {MAX_SPEC_BYTES // 1024} KiB")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: spec: not UTF-8 text (byte {data[exc.start]:#04x} at "
                           f"offset {exc.start})") from None


def _owner(username: str) -> User:
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--owner: no user {username!r}")
        return user
    user = User.objects.filter(is_superuser=True).order_by("id").first()
    if user is not None:
        return user
    # After `make demo` the one account is the demo's researcher: the README's command
    # (no --owner) must work for a newcomer as written.
    researchers = list(User.objects.filter(is_active=True).order_by("id")[:6])
    if len(researchers) == 1:
        return researchers[0]
    if not researchers:
        raise CommandError("no researcher account yet: run `make demo` once (it creates one) "
                           "or `python manage.py createsuperuser`, or pass --owner USER")
    names = ", ".join(u.username for u in researchers[:5]) + (", ..." if len(researchers) > 5
                                                              else "")
    raise CommandError(f"several researcher accounts ({names}): say whose study this is with "
                       f"--owner USER")
