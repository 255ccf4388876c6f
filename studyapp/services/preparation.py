"""Preparing a study: the item pool from its scenario and every explanation it needs.

Runs in a Celery task (eagerly in the embedded mode). Re-running it — a retried task after a
worker died — creates nothing twice: items are keyed by scenario row, explanations by
(item, method, parameters).

Two ways to run the explanation work: ``study_prepare`` computes it all in one process (the
command line, tests, the demo); ``preparation_begin`` / ``preparation_chunk_run`` /
``preparation_finish`` split it into chunks that the Celery chord in ``studyapp.tasks`` spreads
over every running worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import F, Q

from explainers import explain
from explainers.base import Explanation as ExplanationResult
from explainers.quality import ALL_CHECKS, DEFAULT_CHECKS, score_explanation
from studyapp.models import Condition, Explanation, Item, Study
from studyapp.services import pools
from studyapp.services.explanations import explanation_key, explanation_params, explanation_store

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


def preparation_queue(*, study: Study) -> None:
    """Queue the study's preparation (``tasks.prepare_study``) once the caller's transaction
    commits, so the worker reads what was committed. With the broker unreachable, kombu's
    OperationalError reaches the caller: nothing was started (the middleware says so)."""
    from studyapp import tasks  # the tasks call these services

    transaction.on_commit(lambda: tasks.prepare_study.delay(study.pk))


def study_prepare(*, study: Study, progress: Progress | None = None) -> Study:
    """Build the item pool (once) and compute the missing explanations, reporting progress."""
    _preparation_start(study)
    try:
        scenarios = pools.scenarios_load(study)
        _pool_ensure(study, scenarios)
        _explanations_create(study, scenarios, progress)
    except Exception as exc:
        _preparation_fail(study, exc)
        raise
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.DONE)
    study.refresh_from_db()
    return study


def _preparation_start(study: Study) -> None:
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.RUNNING,
                                             preparation_error="")


def _preparation_fail(study: Study, exc: BaseException) -> None:
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.FAILED,
                                             preparation_error=str(exc)[:2000])


def _pool_ensure(study: Study, scenarios: pools.Scenarios) -> None:
    if not study.items.exists():
        with transaction.atomic():
            pools.pool_create(study, scenarios)


def _explanations_create(study: Study, scenarios: dict[str, Any],
                         progress: Progress | None) -> None:
    work = _work_list(study)
    total = len(work)
    Study.objects.filter(pk=study.pk).update(preparation_total=total, preparation_done=0)
    for done, (condition, item, target) in enumerate(work, start=1):
        # Each item is explained with the model variant that made its prediction.
        _explain_item(study, scenarios, condition, item, target)
        Study.objects.filter(pk=study.pk).update(preparation_done=done)
        if progress is not None:
            progress(done, total)


def _work_list(study: Study) -> list[tuple[Condition, Item, int | None]]:
    """Every explanation the study needs, in a fixed order: (condition, item, class)."""
    conditions = [c for c in study.conditions.all().order_by("id") if c.explanation_method]
    items = list(study.items.filter(role__in=[Item.Role.POOL, Item.Role.PAIRED]).order_by("id"))
    # Feature-set designs: a condition's participants only see its own variant's items.
    return [(condition, item, target) for condition in conditions
            for item in _items_shown(study, condition, items)
            for target in pools.panel_targets(item)]


# ----- chunked preparation (a Celery chord over every running worker) ------------------------

#: One explanation to compute, as a chunk task carries it: [condition id, item id, class].
WorkUnit = tuple[int, int, "int | None"]


def preparation_begin(*, study: Study, chunk_size: int) -> list[list[WorkUnit]]:
    """Build the item pool (once) and split the explanations still missing into chunks.

    Progress starts at the number already stored (by an interrupted earlier run) and each chunk
    adds only the rows it creates, so it reaches the total exactly once whatever is retried.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    _preparation_start(study)
    try:
        _pool_ensure(study, _scenarios_cached(study))
        work = _work_list(study)
        missing = [(c.pk, i.pk, t) for c, i, t in _work_missing(study, work)]
    except Exception as exc:
        _preparation_fail(study, exc)
        raise
    Study.objects.filter(pk=study.pk).update(preparation_total=len(work),
                                             preparation_done=len(work) - len(missing))
    return [missing[start:start + chunk_size] for start in range(0, len(missing), chunk_size)]


def preparation_chunk_run(*, study: Study, units: Sequence[Sequence[Any]]) -> int:
    """Compute and store one chunk's explanations; returns how many rows it created.

    Safe to run twice (a chunk re-delivered after its worker died): stored rows are skipped
    and not counted again. ``units`` as ``preparation_begin`` made them (lists after JSON).
    """
    units = [_work_unit(unit) for unit in units]
    conditions = {c.pk: c for c in study.conditions.filter(pk__in={u[0] for u in units})}
    items = {i.pk: i for i in study.items.filter(pk__in={u[1] for u in units})}
    unknown = [u for u in units if u[0] not in conditions or u[1] not in items]
    if unknown:
        raise ValueError(f"study {study.slug}: no condition/item for work units {unknown[:5]}")
    created = 0
    try:
        scenarios = _scenarios_cached(study)
        for condition_id, item_id, target in units:
            if _explain_item(study, scenarios, conditions[condition_id], items[item_id],
                             target):
                created += 1
                # F(): several workers advance the same counter at once.
                Study.objects.filter(pk=study.pk).update(
                    preparation_done=F("preparation_done") + 1)
    except OperationalError:
        raise  # the task retries a lost database; the study is not failed for that
    except Exception as exc:
        _preparation_fail(study, exc)
        raise
    # The chunk that stores the last explanation completes the preparation itself: a chunk
    # re-delivered after a worker died can make the chord finish early (or, its first run
    # recorded as lost, not at all) while another chunk still runs.
    unfinished = Q(preparation=Study.Preparation.RUNNING) | Q(
        preparation=Study.Preparation.FAILED, preparation_error__endswith=_MISSING_AFTER_CHUNKS)
    Study.objects.filter(unfinished, pk=study.pk,
                         preparation_done__gte=F("preparation_total")).update(
        preparation=Study.Preparation.DONE, preparation_error="")
    return created


def _work_unit(unit: Sequence[Any]) -> WorkUnit:
    if len(unit) != 3:
        raise ValueError(f"a work unit is [condition id, item id, class], not {unit!r}")
    condition_id, item_id, target = unit
    return int(condition_id), int(item_id), None if target is None else int(target)


def preparation_finish(*, study: Study) -> Study:
    """Mark the preparation done once every chunk has run, with progress as actually stored."""
    work = _work_list(study)
    done = len(work) - len(_work_missing(study, work))
    state = Study.Preparation.DONE if done == len(work) else Study.Preparation.FAILED
    error = "" if done == len(work) else f"{len(work) - done}{_MISSING_AFTER_CHUNKS}"
    Study.objects.filter(pk=study.pk).update(preparation=state, preparation_done=done,
                                             preparation_total=len(work),
                                             preparation_error=error)
    study.refresh_from_db()
    return study


def _work_missing(study: Study, work: list[tuple[Condition, Item, int | None]]
                  ) -> list[tuple[Condition, Item, int | None]]:
    stored = set(Explanation.objects.filter(item__study=study)
                 .values_list("item_id", "method", "params_key"))
    return [(c, i, t) for c, i, t in work
            if (i.pk, c.explanation_method, explanation_key(c, t)) not in stored]


_MISSING_AFTER_CHUNKS = " explanations missing after all chunks"
_SCENARIOS: dict[tuple[int, str], pools.Scenarios] = {}


def _scenarios_cached(study: Study) -> pools.Scenarios:
    """The study's scenarios, loaded once per worker process rather than once per chunk (a
    lab's own material trains its model on load)."""
    key = (study.pk, study.spec_hash)
    if key not in _SCENARIOS:
        _SCENARIOS.clear()  # one study at a time is plenty; keep a worker's memory flat
        _SCENARIOS[key] = pools.scenarios_load(study)
    return _SCENARIOS[key]


def _items_shown(study: Study, condition: Condition, items: list[Item]) -> list[Item]:
    variant = pools.condition_feature_variant(study, condition.name)
    return items if variant is None else [i for i in items if i.model_variant == variant]


def _explain_item(study: Study, scenarios: pools.Scenarios, condition: Condition, item: Item,
                  target: int | None) -> bool:
    """Compute and store one explanation; False when it was already there (nothing stored)."""
    key = explanation_key(condition, target)
    if item.explanations.filter(method=condition.explanation_method, params_key=key).exists():
        return False  # computed by an earlier (interrupted or retried) run
    result = explanation_compute(
        condition.explanation_method, pools.explained_scenario(condition, item, scenarios),
        pools.item_input(study, item, scenarios), params=explanation_params(condition, target),
        seed=study.typed_spec.scenario.seed, quality=_quality_level(study, condition))
    _, created = explanation_store(item=item, key=key, wording=condition.explanation_wording,
                                   result=result, languages=study.typed_spec.languages)
    return created


def _quality_level(study: Study, condition: Condition) -> str:
    for entry in study.typed_spec.conditions:
        if entry.name == condition.name and entry.explanation is not None:
            return entry.explanation.quality
    return "full"


def explanation_compute(method: str, scenario: Any, x: Any, *, params: dict[str, Any],
                        seed: int, quality: str = "full") -> ExplanationResult:
    """The explanation of the model's prediction for ``x`` with its quality metrics.

    A pure function of its arguments (same inputs and seed, same JSON). ``quality="full"``
    adds stability and seed-to-seed variation to the basic faithfulness checks.
    """
    result = explain(method, scenario.model, x, dataset=scenario.dataset, random_state=seed,
                     **params)
    if not hasattr(scenario.model, "predict_proba"):
        return result  # the quality checks score class probabilities; a regressor has none
    checks = ALL_CHECKS if quality == "full" else DEFAULT_CHECKS
    try:
        result.metrics.update(score_explanation(result, scenario.model, x, scenario.dataset,
                                                random_state=seed, checks=checks))
    except (ValueError, NotImplementedError) as exc:
        logger.info("no quality metrics for %s: %s", result.method, exc)
    return result
