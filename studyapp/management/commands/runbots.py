"""python manage.py runbots SLUG --participants N [--seed S] [--dropout P] [--concurrency K]"""

from __future__ import annotations

import json
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from experiments.designs import Design, design
from studyapp.bots.behaviours import make_behaviour
from studyapp.bots.reconcile import reconcile
from studyapp.bots.runner import BotConfig, run_bots, summarise
from studyapp.models import Item, Study
from studyapp.services import enrolment, exports
from studyapp.tokens import public_id


class Command(BaseCommand):
    help = "Play whole participants over HTTP against a running server; check the export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--participants", type=int, default=10)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--dropout", type=float, default=0.0)
        parser.add_argument("--concurrency", type=int, default=4)
        parser.add_argument("--behaviour", default="planted",
                            choices=["random", "follows_ai", "planted"])
        parser.add_argument("--base-url", default=settings.SITE_URL)
        parser.add_argument("--no-mischief", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["slug"]).first()
        if study is None:
            raise CommandError(f"no study {options['slug']!r}")
        if not 0 <= options["dropout"] < 1:
            raise CommandError("--dropout must be in [0, 1)")
        server_check(options["base_url"])
        config = bot_config(study, base_url=options["base_url"], behaviour=options["behaviour"],
                            seed=options["seed"], dropout=options["dropout"],
                            mischief=not options["no_mischief"])
        results = run_bots(config, options["participants"], concurrency=options["concurrency"])
        summary = summarise(results)
        trials_csv = exports.study_export_files(study=study)["trials.csv"]
        summary["reconciliation_problems"] = reconcile(
            results, trials_csv, lambda pid: exports.participant_pseudonym(study, pid))
        self.stdout.write(json.dumps(summary, indent=2))
        if summary["with_errors"] or summary["reconciliation_problems"]:
            raise CommandError("bots found problems (see above)")


def server_check(base_url: str) -> None:
    """Fail at once, saying what to do, when nothing answers at ``base_url``: the bots would
    otherwise retry each request through what looks like an outage, for minutes."""
    url = base_url.rstrip("/") + "/healthz"
    try:
        answer = requests.get(url, timeout=5)
    except requests.RequestException as exc:
        raise CommandError(
            f"Nothing answers at {base_url} ({type(exc).__name__}). Start the server first, "
            f"e.g. `python manage.py runserver` (or `make demo`) in another terminal, or point "
            f"--base-url at a running one.") from None
    if answer.status_code != 200:
        raise CommandError(f"{url} answered {answer.status_code}, not 200: is this an "
                           f"ExplainLab server?")


def bot_config(study: Study, **options: Any) -> BotConfig:
    """A bot configuration that knows the study's comprehension answers and, per item, the
    answer its design scores as right (what a perfectly skilled participant would give)."""
    task = design(study.task)
    targets = {public_id(study, item): _right_answer(task, item)
               for item in study.items.all()}
    behaviour = make_behaviour(options.pop("behaviour"), oracle=targets.get)
    answers = {q.id: q.answer for q in study.typed_spec.comprehension.questions}
    return BotConfig(slug=study.slug, behaviour=behaviour, comprehension_answers=answers,
                     bot_token=enrolment.bot_token(study), **options)


def _right_answer(task: Design, item: Item) -> str:
    edited = item.edit.get("ai_prediction") if item.edit else None
    return task.right_answer(
        truth=task.truth(item_truth=item.truth, model_variant=item.model_variant),
        ai_prediction=item.ai_prediction, ai_correct=item.ai_correct,
        ai_prediction_edited=None if edited is None else str(edited))
