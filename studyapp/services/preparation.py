"""Preparing a study: the item pool from its scenario and every explanation it needs.

Runs in a Celery task (eagerly in the embedded mode). Re-running it — a retried task after a
worker died — creates nothing twice: items are keyed by scenario row, explanations by
(item, method, parameters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import transaction

from experiments.designs import CLEAN_MODEL
from experiments.perturb import one_feature_edit
from experiments.randomisation import balanced_items
from explainers import explain
from explainers.base import Explanation as ExplanationResult
from explainers.quality import ALL_CHECKS, DEFAULT_CHECKS, score_explanation
from studyapp.models import Condition, Item, Study
from studyapp.services.explanations import explanation_store, params_key

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
ATTENTION_INSTRUCTION = ("Attention check: to show that you are reading carefully, please "
                         "answer “{label}” on this page, whatever the profile says.")


def study_prepare(*, study: Study, progress: Progress | None = None) -> Study:
    """Build the item pool (once) and compute the missing explanations, reporting progress."""
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.RUNNING,
                                             preparation_error="")
    try:
        scenarios = _load_scenarios(study)
        if not study.items.exists():
            _pool_create(study, scenarios)
        _explanations_create(study, scenarios, progress)
    except Exception as exc:
        Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.FAILED,
                                                 preparation_error=str(exc)[:2000])
        raise
    Study.objects.filter(pk=study.pk).update(preparation=Study.Preparation.DONE)
    study.refresh_from_db()
    return study


def _load_scenarios(study: Study) -> dict[str, Any]:
    """The study's model variants by name: one ("" ) for most studies; for a debugging study
    the clean model and one per planted bug."""
    from experiments.scenarios import load_scenario

    s = study.spec["scenario"]
    if "bugs" not in s:
        return {"": load_scenario(s["name"], model=s["model"], bug=s["bug"],
                                  random_state=s["seed"])}
    variants: list[str | None] = [None, *s["bugs"]]
    return {bug or CLEAN_MODEL: load_scenario(s["name"], model=s["model"], bug=bug,
                                              random_state=s["seed"]) for bug in variants}


def _class_names(scenario: Any) -> list[str]:
    return [str(name) for name in scenario.dataset.class_names]


@transaction.atomic
def _pool_create(study: Study, scenarios: dict[str, Any]) -> None:
    """Pool items balanced on AI correct x predicted class (an equal share from each model
    variant in a debugging study), plus attention-check items."""
    rng = np.random.default_rng(study.spec["scenario"]["seed"])
    share = study.spec["trials"]["pool_size"] // len(scenarios)
    for variant, scenario in scenarios.items():
        _variant_pool_create(study, variant, scenario, share, rng)
    scenario = next(iter(scenarios.values()))
    names = _class_names(scenario)
    proba = np.asarray(scenario.model.predict_proba(scenario.X_test))
    taken = [i for i in study.items.filter(model_variant__in=["", CLEAN_MODEL])
             .values_list("source_index", flat=True) if i is not None]
    n_checks = study.spec["trials"]["attention_checks"]
    rest = np.setdiff1d(np.arange(len(proba)), taken)
    for n, index in enumerate(rng.choice(rest, size=max(n_checks, 0) * 2, replace=False)):
        expected = names[n % len(names)]
        _item_create(study, scenario, int(index), proba[index], names, Item.Role.ATTENTION,
                     expected=expected)
    study.answer_options = [{"value": name, "label": name} for name in names]
    study.save(update_fields=["answer_options"])


def _variant_pool_create(study: Study, variant: str, scenario: Any, size: int,
                         rng: np.random.Generator) -> None:
    names = _class_names(scenario)
    proba = np.asarray(scenario.model.predict_proba(scenario.X_test))
    predicted = proba.argmax(axis=1)
    correct = predicted == np.asarray(scenario.y_test)
    balance = study.spec["trials"]["balance"]
    chosen = balanced_items(correct if "ai_correct" in balance else np.ones_like(correct),
                            predicted if "predicted_class" in balance
                            else np.zeros_like(predicted), size, rng=rng)
    for index in chosen:
        item = _item_create(study, scenario, int(index), proba[index], names, Item.Role.POOL,
                            variant=variant)
        if study.task == "counterfactual_simulation":
            _edit_create(item, scenario, names, rng)


def _item_create(study: Study, scenario: Any, index: int, proba: np.ndarray,
                 names: list[str], role: str, expected: str = "", variant: str = "") -> Item:
    predicted = int(np.argmax(proba))
    truth = int(scenario.y_test[index])
    key = f"{scenario.name}-{variant}-test-{index}" if variant else f"{scenario.name}-test-{index}"
    return Item.objects.create(
        study=study, key=key, role=role, source_index=index, model_variant=variant,
        display=scenario.item(index),
        features=_features(scenario.X_test[index]),
        truth=names[truth], ai_prediction=names[predicted], ai_class_index=predicted,
        ai_confidence=float(proba[predicted]), ai_correct=predicted == truth,
        expected_answer=expected,
        instruction=ATTENTION_INSTRUCTION.format(label=expected) if expected else "",
    )


def _edit_create(item: Item, scenario: Any, names: list[str], rng: np.random.Generator) -> None:
    """The one-feature change a counterfactual-simulation trial asks about, and the AI's
    output on the changed input (the answer a participant who simulates well gives)."""
    edit = one_feature_edit(np.asarray(scenario.X_test[item.source_index], dtype=float),
                            scenario.dataset, rng=rng)
    predicted = int(np.argmax(scenario.model.predict_proba(edit.row.reshape(1, -1))[0]))
    item.edit = {"label": edit.label, "before": edit.before, "after": edit.after,
                 "features": edit.row.tolist(), "ai_prediction": names[predicted]}
    item.save(update_fields=["edit"])


def _features(row: Any) -> list[float]:
    """The numeric model input of a tabular or image item (texts keep only their display)."""
    if isinstance(row, str):
        return []
    return np.asarray(row, dtype=float).ravel().tolist()


def _explanations_create(study: Study, scenarios: dict[str, Any],
                         progress: Progress | None) -> None:
    conditions = [c for c in study.conditions.all() if c.explanation_method]
    items = list(study.items.filter(role=Item.Role.POOL).order_by("id"))
    total = len(conditions) * len(items)
    Study.objects.filter(pk=study.pk).update(preparation_total=total, preparation_done=0)
    done = 0
    for condition in conditions:
        for item in items:
            # Each item is explained with the model variant that made its prediction.
            _explain_item(study, scenarios[item.model_variant], condition, item)
            done += 1
            Study.objects.filter(pk=study.pk).update(preparation_done=done)
            if progress is not None:
                progress(done, total)


def _explain_item(study: Study, scenario: Any, condition: Condition, item: Item) -> None:
    if item.explanations.filter(method=condition.explanation_method,
                                params_key=params_key(condition.explanation_params)).exists():
        return  # computed by an earlier (interrupted or retried) run
    # The scenario's own test row is the model input (a vector, an image or a text).
    result = explanation_compute(
        condition.explanation_method, scenario, scenario.X_test[item.source_index],
        params=condition.explanation_params, seed=study.spec["scenario"]["seed"],
        quality=_quality_level(study, condition))
    explanation_store(item=item, params=condition.explanation_params, result=result)


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
    checks = ALL_CHECKS if quality == "full" else DEFAULT_CHECKS
    try:
        result.metrics.update(score_explanation(result, scenario.model, x, scenario.dataset,
                                                random_state=seed, checks=checks))
    except (ValueError, NotImplementedError) as exc:
        logger.info("no quality metrics for %s: %s", result.method, exc)
    return result
