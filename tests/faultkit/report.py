"""What a fault run found: the export reconciled with what bots were told, balance, retries,
and preparation left without duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from studyapp.bots.reconcile import AnswerKey, confirmed_answers, reconcile
from studyapp.bots.reconcile import exported_answers as reconciled_export
from studyapp.bots.runner import BotResult
from studyapp.models import Explanation, Item, Study
from studyapp.selectors import condition_load
from studyapp.services.exports import participant_pseudonym, study_export_files


@dataclass
class FaultReport:
    """One run's figures; ``problems`` empty means it reconciled."""

    scenario: str
    title: str = ""
    bots: int = 0
    completed: int = 0
    told_saved: int = 0  # final answers the server confirmed to a bot
    in_export: int = 0  # final answers of these bots in trials.csv
    duplicates: int = 0  # export rows beyond the first for one confirmed answer
    missing: int = 0  # confirmed answers absent from the export
    unconfirmed: int = 0  # exported answers no bot was told were saved
    max_balance_diff: int = 0  # over conditions, of what assignment balances
    client_retries: int = 0  # requests bots sent again (connection lost, 502/503/504)
    retry_reasons: dict[str, int] = field(default_factory=dict)
    recovery_seconds: float | None = None
    bot_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def told_answers(study: Study, results: list[BotResult]) -> Counter[AnswerKey]:
    """(participant pseudonym, trial, final answer) the server confirmed to the bots."""
    return confirmed_answers(results, _pseudonym(study))


def exported_answers(study: Study, results: list[BotResult],
                     trials_csv: str) -> Counter[AnswerKey]:
    """The same keys, counted in the export (only these bots' participants)."""
    return reconciled_export(results, trials_csv, _pseudonym(study))


def _pseudonym(study: Study) -> Callable[[str], str]:
    return lambda external_id: participant_pseudonym(study, external_id)


def balance_difference(study: Study) -> int:
    """Max minus min over open conditions of completed + recently active participants."""
    load = condition_load(study, now=timezone.now())
    counts = [load.get(pk, 0) for pk in study.conditions.filter(is_open=True)
              .values_list("pk", flat=True)]
    return max(counts) - min(counts) if counts else 0


def recovery_seconds(faults: list[float], retries: list[float]) -> float | None:
    """The longest outage clients saw after any one fault: from the fault to the last retry
    before the next fault (that retry is the request that got through)."""
    ends = [*faults[1:], float("inf")][:len(faults)]
    outages = [max(seen) - start for start, end in zip(faults, ends, strict=True)
               if (seen := [t for t in retries if start <= t < end])]
    return round(max(outages), 2) if outages else None


def bots_report(scenario: str, study: Study, results: list[BotResult], *,
                faults: list[float]) -> FaultReport:
    """Reconcile the study's export with the bots' results (``reconcile`` names each
    problem; the counts here are the figures a table shows)."""
    trials_csv = study_export_files(study=study)["trials.csv"]
    told = told_answers(study, results)
    exported = exported_answers(study, results, trials_csv)
    retries = [retry for r in results for retry in r.retries]
    report = FaultReport(
        scenario=scenario, bots=len(results), completed=sum(r.completed for r in results),
        told_saved=sum(told.values()), in_export=sum(exported.values()),
        duplicates=sum(exported[k] - 1 for k in told if exported[k] > 1),
        missing=sum(1 for k in told if exported[k] == 0),
        unconfirmed=sum(n for k, n in exported.items() if k not in told),
        max_balance_diff=balance_difference(study), client_retries=len(retries),
        retry_reasons=dict(Counter(retry.reason for retry in retries)),
        recovery_seconds=recovery_seconds(faults, [retry.at for retry in retries]),
        bot_errors=[e for r in results for e in r.errors][:20])
    report.problems = reconcile(results, trials_csv, _pseudonym(study))[:20]
    if report.max_balance_diff > 1:
        report.problems.append(f"conditions differ by {report.max_balance_diff} participants")
    return report


def explanations_check(study: Study) -> dict[str, Any]:
    """Explanations a prepared study holds against what it needs: one per explaining
    condition and pool item, none twice."""
    study.refresh_from_db()
    conditions = study.conditions.exclude(explanation_method="").count()
    expected = conditions * study.items.filter(role=Item.Role.POOL).count()
    rows = Explanation.objects.filter(item__study=study)
    repeated = (rows.values("item", "method", "params_key").annotate(n=Count("id"))
                .filter(n__gt=1).count())
    return {"preparation": study.preparation, "expected": expected, "stored": rows.count(),
            "reported_total": study.preparation_total, "repeated": repeated}
