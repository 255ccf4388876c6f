"""Preparing a study: the item pool from its scenario and every explanation it needs.

Runs in a Celery task (eagerly in the embedded mode). Re-running it — a retried task after a
worker died — creates nothing twice: items are keyed by scenario row, explanations by
(item, method, parameters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from explainers import explain
from explainers.base import Explanation as ExplanationResult
from explainers.quality import ALL_CHECKS, DEFAULT_CHECKS, score_explanation
from studyapp.models import Condition, Item, Study
from studyapp.services import pools
from studyapp.services.explanations import explanation_key, explanation_params, explanation_store

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


def study_prepare(*, study: Study, progress: Progress | None = None) -> Study:
    """Build the item pool (once) and compute the missing explanations, reporting progress."""
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.RUNNING,
                                             preparation_error="")
    try:
        scenarios = pools.scenarios_load(study)
        if not study.items.exists():
            with transaction.atomic():
                pools.pool_create(study, scenarios)
        _explanations_create(study, scenarios, progress)
    except Exception as exc:
        Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.FAILED,
                                                 preparation_error=str(exc)[:2000])
        raise
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.DONE)
    study.refresh_from_db()
    return study


def _explanations_create(study: Study, scenarios: dict[str, Any],
                         progress: Progress | None) -> None:
    conditions = [c for c in study.conditions.all() if c.explanation_method]
    items = list(study.items.filter(role__in=[Item.Role.POOL, Item.Role.PAIRED]).order_by("id"))
    # Feature-set designs: a condition's participants only see its own variant's items.
    shown = {condition.pk: _items_shown(study, condition, items) for condition in conditions}
    total = sum(len(pools.panel_targets(item)) for c in conditions for item in shown[c.pk])
    Study.objects.filter(pk=study.pk).update(preparation_total=total, preparation_done=0)
    done = 0
    for condition in conditions:
        for item in shown[condition.pk]:
            for target in pools.panel_targets(item):
                # Each item is explained with the model variant that made its prediction.
                _explain_item(study, scenarios, condition, item, target)
                done += 1
                Study.objects.filter(pk=study.pk).update(preparation_done=done)
                if progress is not None:
                    progress(done, total)


def _items_shown(study: Study, condition: Condition, items: list[Item]) -> list[Item]:
    variant = pools.condition_feature_variant(study, condition.name)
    return items if variant is None else [i for i in items if i.model_variant == variant]


def _explain_item(study: Study, scenarios: pools.Scenarios, condition: Condition, item: Item,
                  target: int | None) -> None:
    key = explanation_key(condition, target)
    if item.explanations.filter(method=condition.explanation_method, params_key=key).exists():
        return  # computed by an earlier (interrupted or retried) run
    result = explanation_compute(
        condition.explanation_method, pools.explained_scenario(condition, item, scenarios),
        pools.item_input(study, item, scenarios), params=explanation_params(condition, target),
        seed=study.spec["scenario"]["seed"], quality=_quality_level(study, condition))
    explanation_store(item=item, key=key, wording=condition.explanation_wording, result=result)


def _quality_level(study: Study, condition: Condition) -> str:
    for entry in study.spec["conditions"]:
        if entry["name"] == condition.name and "explanation" in entry:
            return str(entry["explanation"].get("quality", "full"))
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
